//! The P1 Lambda: S3 `ObjectCreated:*`, `ObjectTagging:Put` and delete-marker notifications,
//! via SQS, mapped onto [`records_workflows::declare`].
//!
//! - [`event`]: S3 notification bodies (real S3 and moto shapes) → object events;
//! - [`handler`]: the SQS batch with partial failures;
//! - [`config`]: the environment, checked at cold start.

pub mod config;
pub mod event;
pub mod handler;
