//! A job as CreateJob described it and as it stands: what DescribeJob renders and what
//! tests assert the request against.

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// A job's status, with S3 Control's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    New,
    Preparing,
    Suspended,
    Active,
    Completing,
    Complete,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::New => "New",
            JobStatus::Preparing => "Preparing",
            JobStatus::Suspended => "Suspended",
            JobStatus::Active => "Active",
            JobStatus::Completing => "Completing",
            JobStatus::Complete => "Complete",
            JobStatus::Failed => "Failed",
        }
    }
}

/// The manifest as CreateJob named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestSpec {
    pub format: String,
    pub fields: Vec<String>,
    pub object_arn: String,
    /// Bucket and key of `object_arn`.
    pub bucket: String,
    pub key: String,
    /// As given (S3's ETag, normally without quotes).
    pub etag: String,
    pub version_id: Option<String>,
}

/// The completion report as CreateJob asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub enabled: bool,
    /// `arn:aws:s3:::name` as given, and the name it carries.
    pub bucket_arn: Option<String>,
    pub bucket: Option<String>,
    pub format: Option<String>,
    pub prefix: Option<String>,
    /// `AllTasks` or `FailedTasksOnly` (`AllTasks` when enabled and not given).
    pub scope: Option<String>,
}

/// One of DescribeJob's `FailureReasons`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    pub code: String,
    pub reason: String,
}

/// A job as created and as it stands now: what tests assert the request against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub job_id: String,
    /// The `x-amz-account-id` header of CreateJob.
    pub account_id: String,
    pub client_request_token: String,
    pub description: Option<String>,
    pub confirmation_required: bool,
    pub priority: i32,
    pub role_arn: String,
    pub function_arn: String,
    pub invocation_schema_version: String,
    pub user_arguments: BTreeMap<String, String>,
    pub manifest: ManifestSpec,
    pub report: ReportSpec,
    pub status: JobStatus,
    pub total_tasks: i64,
    pub succeeded_tasks: i64,
    pub failed_tasks: i64,
    pub failure_reasons: Vec<JobFailure>,
    pub suspended_cause: Option<String>,
    pub creation_time: OffsetDateTime,
    pub active_since: Option<OffsetDateTime>,
    pub termination_date: Option<OffsetDateTime>,
}

impl JobRecord {
    /// `arn:<partition>:s3:<region>:<account>:job/<id>`, the partition the role's.
    pub fn job_arn(&self) -> String {
        let partition = self
            .role_arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws");
        format!(
            "arn:{partition}:s3:{REGION}:{}:job/{}",
            self.account_id, self.job_id
        )
    }

    pub fn elapsed_active_seconds(&self) -> i64 {
        let Some(since) = self.active_since else {
            return 0;
        };
        let until = self
            .termination_date
            .unwrap_or_else(OffsetDateTime::now_utc);
        (until - since).whole_seconds().max(0)
    }

    /// Same request apart from the job's own state (what idempotency compares).
    pub(super) fn same_request(&self, other: &JobRecord) -> bool {
        (
            &self.account_id,
            &self.description,
            self.confirmation_required,
            self.priority,
            &self.role_arn,
            &self.function_arn,
            &self.user_arguments,
            &self.manifest,
            &self.report,
        ) == (
            &other.account_id,
            &other.description,
            other.confirmation_required,
            other.priority,
            &other.role_arn,
            &other.function_arn,
            &other.user_arguments,
            &other.manifest,
            &other.report,
        )
    }
}

/// The region in job ARNs (the local stack's).
const REGION: &str = "us-east-1";

/// `2026-12-01T10:00:00.000Z`: S3's timestamps in XML and in the report manifest.
pub(super) fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
