//! The intake Lambda: OpenText event callbacks arriving at a Function URL, mapped onto
//! [`records_workflows::intake`] (the checks, the replay guard, the lifecycle queue):
//! - [`url`]: the Function URL request and response;
//! - [`config`]: the environment.

pub mod config;
pub mod url;
