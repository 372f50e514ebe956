//! records-domain
