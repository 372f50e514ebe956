//! S3 Control CreateJob / DescribeJob for a disposition batch.
//!
//! moto 5.1.22 serves no Batch Operations job API: its S3 Control knows access points,
//! public access blocks, Storage Lens, multi-region access points and tags; CreateJob and
//! DescribeJob sent to it answer HTTP 404 with no error body (and, with only an endpoint
//! URL, the SDK's `<account-id>.` host prefix does not even resolve). See
//! `tests/batch_operations.rs`. The request built here is unit-tested; the job is AWS's.

use aws_sdk_s3control::error::ProvideErrorMetadata;
use aws_sdk_s3control::types::{
    JobManifest, JobManifestFieldName, JobManifestFormat, JobManifestLocation, JobManifestSpec,
    JobOperation, JobReport, JobReportFormat, JobReportScope, LambdaInvokeOperation,
};
use sha2::{Digest, Sha256};

use super::{BatchOpsError, ManifestLocation};

/// The `UserArguments` key carrying the disposition batch id to every task.
pub const BATCH_ID_ARGUMENT: &str = "dispositionBatchId";

/// What one disposition batch's job needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The account that owns the job (and the buckets).
    pub account_id: String,
    pub batch_id: String,
    /// The task function (`disposition-batch-task`); its ARN's partition names the others'.
    pub function_arn: String,
    pub manifest: ManifestLocation,
    /// Completion report bucket (name) and key prefix (no trailing `/` needed).
    pub report_bucket: String,
    pub report_prefix: String,
    /// The Batch Operations role (`batchoperations.s3.amazonaws.com` trusted).
    pub role_arn: String,
    pub priority: i32,
}

/// A fixed token per batch (CreateJob allows 1-64 characters): a retried CreateJob
/// returns the job already created instead of a second one.
pub fn client_request_token(batch_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(batch_id.as_bytes()));
    format!("rb-disposition-{}", &digest[..48])
}

fn partition_of(arn: &str) -> &str {
    arn.split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

fn control_err<E>(op: &'static str, e: aws_sdk_s3control::error::SdkError<E>) -> BatchOpsError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    use aws_sdk_s3control::error::SdkError;
    let (code, message, retryable) = match &e {
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("Unknown").to_string();
            let status = s.raw().status().as_u16();
            let retryable = status >= 500
                || matches!(
                    code.as_str(),
                    "TooManyRequestsException" | "Throttling" | "SlowDown"
                );
            let message = format!("HTTP {status}: {}", s.err().message().unwrap_or_default());
            (code, message, retryable)
        }
        SdkError::ResponseError(_) => ("ResponseError".into(), format!("{e:?}"), false),
        _ => ("Transport".into(), e.to_string(), true),
    };
    BatchOpsError::Control {
        op,
        code,
        message,
        retryable,
    }
}

/// Creates the batch's job: `LambdaInvoke` of the task function (invocation schema 2.0,
/// the batch id in `UserArguments`), the CSV manifest (Bucket, Key, VersionId), a CSV
/// completion report of all tasks, no confirmation step. Returns the job id.
pub async fn create_job(
    client: &aws_sdk_s3control::Client,
    spec: &JobSpec,
) -> Result<String, BatchOpsError> {
    if spec.batch_id.is_empty() || spec.account_id.is_empty() {
        return Err(BatchOpsError::Invalid(
            "a job needs an account id and a batch id".into(),
        ));
    }
    let partition = partition_of(&spec.function_arn);
    let invalid = |e: aws_sdk_s3control::error::BuildError| BatchOpsError::Invalid(e.to_string());
    let operation = JobOperation::builder()
        .lambda_invoke(
            LambdaInvokeOperation::builder()
                .function_arn(&spec.function_arn)
                .invocation_schema_version("2.0")
                .user_arguments(BATCH_ID_ARGUMENT, &spec.batch_id)
                .build(),
        )
        .build();
    let manifest = JobManifest::builder()
        .spec(
            JobManifestSpec::builder()
                .format(JobManifestFormat::S3BatchOperationsCsv20180820)
                .fields(JobManifestFieldName::Bucket)
                .fields(JobManifestFieldName::Key)
                .fields(JobManifestFieldName::VersionId)
                .build()
                .map_err(invalid)?,
        )
        .location(
            JobManifestLocation::builder()
                .object_arn(format!(
                    "arn:{partition}:s3:::{}/{}",
                    spec.manifest.bucket, spec.manifest.key
                ))
                .set_object_version_id(spec.manifest.version_id.clone())
                .e_tag(&spec.manifest.etag)
                .build()
                .map_err(invalid)?,
        )
        .build();
    let report = JobReport::builder()
        .bucket(format!("arn:{partition}:s3:::{}", spec.report_bucket))
        .prefix(spec.report_prefix.trim_end_matches('/'))
        .format(JobReportFormat::ReportCsv20180820)
        .enabled(true)
        .report_scope(JobReportScope::AllTasks)
        .build();
    let out = client
        .create_job()
        .account_id(&spec.account_id)
        .operation(operation)
        .manifest(manifest)
        .report(report)
        .priority(spec.priority)
        .role_arn(&spec.role_arn)
        .client_request_token(client_request_token(&spec.batch_id))
        .confirmation_required(false)
        .description(
            format!("records-bridge disposition {}", spec.batch_id)
                .chars()
                .take(256)
                .collect::<String>(),
        )
        .send()
        .await
        .map_err(|e| control_err("CreateJob", e))?;
    out.job_id()
        .map(str::to_string)
        .ok_or_else(|| BatchOpsError::Invalid("CreateJob returned no job id".into()))
}

/// Where a job stands, as the workflow needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Not finished yet (new, preparing, ready, active, pausing, completing...).
    Running,
    /// Complete: its report is written.
    Complete,
    /// Failed or cancelled (a report exists if at least one task ran).
    Ended,
    /// Suspended or paused: waiting for someone.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub state: JobState,
    /// S3's own status name (`Complete`, `Failed`...).
    pub status: String,
    pub total: Option<i64>,
    pub succeeded: Option<i64>,
    pub failed: Option<i64>,
    /// Why it failed or was suspended, as S3 says.
    pub reasons: Vec<String>,
}

pub async fn describe_job(
    client: &aws_sdk_s3control::Client,
    account_id: &str,
    job_id: &str,
) -> Result<JobStatus, BatchOpsError> {
    use aws_sdk_s3control::types::JobStatus as S;
    let out = client
        .describe_job()
        .account_id(account_id)
        .job_id(job_id)
        .send()
        .await
        .map_err(|e| control_err("DescribeJob", e))?;
    let job = out
        .job()
        .ok_or_else(|| BatchOpsError::Invalid(format!("DescribeJob {job_id} returned no job")))?;
    let status = job.status().cloned();
    let state = match &status {
        Some(S::Complete) => JobState::Complete,
        Some(S::Failed | S::Cancelled) => JobState::Ended,
        Some(S::Suspended | S::Paused) => JobState::Waiting,
        _ => JobState::Running,
    };
    let progress = job.progress_summary();
    let mut reasons: Vec<String> = job
        .failure_reasons()
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f.failure_code().unwrap_or("?"),
                f.failure_reason().unwrap_or("")
            )
        })
        .collect();
    reasons.extend(job.status_update_reason().map(str::to_string));
    reasons.extend(job.suspended_cause().map(str::to_string));
    Ok(JobStatus {
        state,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        total: progress.and_then(|p| p.total_number_of_tasks()),
        succeeded: progress.and_then(|p| p.number_of_tasks_succeeded()),
        failed: progress.and_then(|p| p.number_of_tasks_failed()),
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_fixed_per_batch_and_fits_createjob() {
        let t = client_request_token("batch-2026-0001");
        assert_eq!(t, client_request_token("batch-2026-0001"));
        assert_ne!(t, client_request_token("batch-2026-0002"));
        assert!((1..=64).contains(&t.len()), "{}", t.len());
        assert!(client_request_token(&"x".repeat(5000)).len() <= 64);
    }

    #[test]
    fn the_partition_comes_from_the_function_arn() {
        assert_eq!(
            partition_of("arn:aws-cn:lambda:cn-north-1:1:function:f"),
            "aws-cn"
        );
        assert_eq!(partition_of("arn:aws:lambda:us-east-1:1:function:f"), "aws");
        assert_eq!(partition_of("garbage"), "aws");
    }
}
