//! HTTP tests of the simulator, one binary (fast to link on small machines).
#![allow(dead_code)]

mod auth;
mod cli;
mod common;
mod content;
mod disposition;
mod faults;
mod holds;
mod nodes;
mod rm;
mod search;
