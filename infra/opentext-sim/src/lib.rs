//! opentext-sim
