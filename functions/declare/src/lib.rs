//! P1 declare on upload: S3 `ObjectCreated:*` and `ObjectTagging:Put` notifications, via
//! SQS, become declared OpenText records, exactly once per object version.
//!
//! - [`event`]: S3 notification bodies (real S3 and moto shapes);
//! - [`handler`]: the SQS batch with partial failures;
//! - [`declare`]: the per-version workflow over the DynamoDB store;
//! - [`opentext_steps`]: upload / adopt, categories, RM classification;
//! - [`deleted`]: delete markers on governed objects, reported on their records (P3);
//! - [`config`]: the environment, checked at cold start.

pub mod config;
pub mod declare;
pub mod deleted;
pub mod event;
pub mod handler;
pub mod opentext_access;
mod opentext_steps;
pub mod progress;
pub mod s3_source;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use records_aws::audit_log::AuditLog;
use records_aws::s3_objects::S3Objects;
use records_aws::workflow_store::WorkflowStore;
use records_domain::Actor;

/// Everything built once per cold start and shared by every invocation.
pub struct Deps {
    pub s3: S3Objects,
    pub store: WorkflowStore,
    pub audit: AuditLog,
    /// Which S3 versions each record governs (P3 governance and the reconciler read them).
    pub links: records_aws::links::LinkStore,
    /// Built in the background from start-up (see [`opentext_access`]).
    pub opentext: opentext_access::OpenTextAccess,
    /// The records policy, re-read from its source when due (`lambda_support::policy`).
    pub policy: lambda_support::policy::PolicyHandle,
    pub actor: Actor,
    pub concurrency: usize,
    pub deadline_margin: Duration,
    pub crash_after: Option<String>,
}

/// One invocation's identity and time budget.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Instant,
    pub margin: Duration,
}

impl Invocation {
    /// From Lambda's deadline (epoch milliseconds).
    pub fn new(request_id: &str, deadline_epoch_ms: u64, margin: Duration) -> Self {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let left = Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
        Self {
            request_id: request_id.to_string(),
            deadline: Instant::now() + left,
            margin,
        }
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// OpenText retries stop here, leaving time to record state before Lambda's deadline.
    pub fn opentext_deadline(&self) -> Instant {
        self.deadline
            .checked_sub(self.margin)
            .unwrap_or_else(Instant::now)
    }
}

/// Now, RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
