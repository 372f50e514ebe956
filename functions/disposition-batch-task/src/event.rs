//! S3 Batch Operations' `LambdaInvoke` payload, invocation schema 2.0, and its answer.
//!
//! Our own serde types: `aws_lambda_events::s3::batch_job` (1.2) models schema 1.0 only
//! (`s3BucketArn`, no `job.userArguments`, no `s3Bucket`). The envelope is read strictly
//! (a payload that is not one is refused with a clear error); each task is read on its own
//! so one malformed task fails alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: &str = "2.0";

/// The invocation as S3 sends it; `tasks` are kept raw until each is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInvocation {
    pub invocation_schema_version: String,
    pub invocation_id: String,
    pub job: Job,
    pub tasks: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    #[serde(default)]
    pub user_arguments: Option<BTreeMap<String, String>>,
}

/// One task: the object version, its key URL-encoded.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub task_id: String,
    pub s3_bucket: String,
    pub s3_key: String,
    #[serde(default)]
    pub s3_version_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultCode {
    Succeeded,
    /// S3 redrives the task later (throttling, 5xx, OpenText unreachable).
    TemporaryFailure,
    /// Final: nothing was deleted (a hold, retention, not in the batch, a bad task).
    PermanentFailure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub task_id: String,
    pub result_code: ResultCode,
    pub result_string: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub invocation_schema_version: String,
    /// A task left out of `results` (none is, by design) must not count as done.
    pub treat_missing_keys_as: ResultCode,
    pub invocation_id: String,
    pub results: Vec<TaskResult>,
}

/// Why the payload is not a schema-2.0 invocation.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not an S3 Batch Operations invocation (schema 2.0): {0}")]
    Shape(String),
    #[error(
        "invocationSchemaVersion {0:?} is not supported: create the job with InvocationSchemaVersion 2.0"
    )]
    Version(String),
}

impl BatchInvocation {
    pub fn parse(payload: serde_json::Value) -> Result<Self, EventError> {
        let inv: BatchInvocation =
            serde_json::from_value(payload).map_err(|e| EventError::Shape(e.to_string()))?;
        if inv.invocation_schema_version != SCHEMA_VERSION {
            return Err(EventError::Version(inv.invocation_schema_version));
        }
        Ok(inv)
    }
}
