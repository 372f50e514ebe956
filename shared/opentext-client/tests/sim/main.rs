//! Integration tests against the in-process OpenText simulator, over real HTTP.

mod common;
mod disposition;
mod identity;
mod nodes;
mod resilience;
mod rm;
mod search;
mod upload;
mod versions;
