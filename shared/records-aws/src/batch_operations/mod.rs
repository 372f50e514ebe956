//! P4 large dispositions through S3 Batch Operations: above a configured count, the
//! disposition workflow does not delete versions itself but
//!
//! 1. writes one [`BatchItem`] per version to the workflow table ([`BatchItems`]), so the
//!    task knows which record each version belongs to (and refuses any version not in it);
//! 2. writes the manifest ([`manifest_csv`], [`write_manifest`]: `bucket,key,versionId`,
//!    keys URL-encoded) and creates the job ([`create_job`]: `LambdaInvoke`, invocation
//!    schema 2.0, the batch id in `UserArguments`, idempotent on the batch id);
//! 3. once the job is done ([`describe_job`]), reads its completion report
//!    ([`parse_report_manifest`], [`parse_report_csv`]) into the certificate.
//!
//! The per-object task (`functions/disposition-batch-task`) re-checks holds and retention
//! and deletes the version with [`delete_version`]; its result strings are the
//! [`RESULT_DELETED`] / [`RESULT_ALREADY_GONE`] / [`RESULT_REFUSED_PREFIX`] vocabulary the
//! report reader turns back into [`TaskOutcome`]s.

mod items;
mod job;
mod manifest;
mod report;

pub use items::{BATCH_ITEM_PREFIX, BatchItem, BatchItems, batch_item_pk};
pub use job::{
    BATCH_ID_ARGUMENT, JobSpec, JobState, JobStatus, client_request_token, create_job, describe_job,
};
pub use manifest::{ManifestLocation, decode_key, encode_key, manifest_csv, write_manifest};
pub use report::{
    ReportFile, ReportRow, TaskOutcome, parse_report_csv, parse_report_manifest,
    read_completion_report, report_manifest_key,
};

use records_domain::ObjectVersion;

use crate::s3_objects::{S3Error, classify};

/// The task's result string for a version it deleted (followed by ` at <RFC 3339 time>`,
/// see [`deleted_result`]: the certificate says when each deletion happened).
pub const RESULT_DELETED: &str = "deleted";

/// `deleted at 2026-12-01T10:00:00Z`: the task's result for a version it deleted at `at`.
pub fn deleted_result(at: time::OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    match at.format(&time::format_description::well_known::Rfc3339) {
        Ok(t) => format!("{RESULT_DELETED} at {t}"),
        Err(_) => RESULT_DELETED.to_string(),
    }
}
/// The task's result string for a version that was already gone (404 / NoSuchVersion).
pub const RESULT_ALREADY_GONE: &str = "already gone";
/// The start of the task's result string when the re-check refused destruction.
pub const RESULT_REFUSED_PREFIX: &str = "refused: ";

/// Errors of the Batch Operations adapters (S3 Control, the manifest, the batch items).
#[derive(Debug, thiserror::Error)]
pub enum BatchOpsError {
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error("S3 Control {op}: {code}: {message}")]
    Control {
        op: &'static str,
        code: String,
        message: String,
        /// Throttling, 5xx or the network: another try may succeed.
        retryable: bool,
    },
    #[error("DynamoDB {op} on disposition batch items: {code}: {message}")]
    Dynamo {
        op: &'static str,
        code: String,
        message: String,
    },
    #[error("invalid Batch Operations input: {0}")]
    Invalid(String),
}

impl BatchOpsError {
    pub fn is_retryable(&self) -> bool {
        match self {
            BatchOpsError::S3(e) => e.is_retryable(),
            BatchOpsError::Control { retryable, .. } => *retryable,
            BatchOpsError::Dynamo { .. } => true,
            BatchOpsError::Invalid(_) => false,
        }
    }
}

/// Deletes exactly this version (DeleteObject with its version id): the version is gone,
/// no delete marker is added. Never bypasses governance retention: the caller has decided
/// that retention is over. An unversioned "null" id is refused (it would hit the key).
pub async fn delete_version(client: &aws_sdk_s3::Client, v: &ObjectVersion) -> Result<(), S3Error> {
    if !v.is_versioned() {
        return Err(S3Error::Refused {
            op: "DeleteObject",
            bucket: v.bucket.clone(),
            key: v.key.clone(),
            code: "NoVersionId".into(),
            message: "records-bridge deletes named versions only".into(),
        });
    }
    client
        .delete_object()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .map_err(|e| classify("DeleteObject", &v.bucket, &v.key, Some(&v.version_id), e))?;
    Ok(())
}
