//! Integration tests against the in-process OpenText simulator, over real HTTP.

mod common;
mod identity;
mod nodes;
mod resilience;
mod rm;
mod upload;
mod versions;
