//! The signed intake of OpenText event callbacks, behind a Lambda Function URL:
//! - [`request`]: the pure checks (method, size, signature, window, contract);
//! - [`keys`]: the signing keys from Secrets Manager, re-read so rotation needs no redeploy;
//! - [`intake`]: the handler (replay guard, enqueue, HTTP answer);
//! - [`config`]: the environment.

pub mod config;
pub mod intake;
pub mod keys;
pub mod request;
