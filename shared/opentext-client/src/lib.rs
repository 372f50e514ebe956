//! opentext-client
