//! The lifecycle worker: one SQS queue of [`LifecycleEvent`]s (from the signed intake and the
//! poller alike), dispatched by type:
//! - [`archive`]: P2, OpenText → S3 archive tier (Object Lock, verified copies, release);
//! - [`governance`]: P3, holds / retention / disposition status pushed to S3 Object Lock.

pub mod archive;
pub mod governance;
pub mod handler;

use std::time::{Duration, Instant};

use records_aws::audit_log::AuditLog;
use records_aws::s3_objects::S3Objects;
use records_domain::{Actor, LifecycleEvent, LifecycleEventType};

/// Built once per cold start.
pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub objects: S3Objects,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub workflow_table: String,
    pub audit: AuditLog,
    pub opentext: opentext_client::Client,
    /// The records policy, re-read from its source when due (`lambda_support::policy`).
    pub policy: lambda_support::policy::PolicyHandle,
    pub actor: Actor,
    pub archive: archive::ArchiveConfig,
    pub governance: governance::GovernanceConfig,
    pub concurrency: usize,
    /// Test-only crash injection (`RECORDS_BRIDGE_FAULT_CRASH_AFTER`): abort after that step.
    pub crash_after: Option<String>,
}

impl Deps {
    pub fn crash_point(&self, step: &str) {
        if self.crash_after.as_deref() == Some(step) {
            tracing::error!(step, "fault injection: aborting the process");
            std::process::abort();
        }
    }
}

/// One invocation's identity and time budget.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Instant,
}

impl Invocation {
    pub fn new(request_id: &str, deadline_epoch_ms: u64) -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self {
            request_id: request_id.to_string(),
            deadline: Instant::now()
                + Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms)),
        }
    }

    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// OpenText retries stop 10 s before Lambda's deadline, leaving time to save state.
    pub fn opentext_deadline(&self) -> Instant {
        self.deadline
            .checked_sub(Duration::from_secs(10))
            .unwrap_or_else(Instant::now)
    }
}

/// How one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Done now; the text says what was done.
    Done(String),
    /// Nothing to do for this event (not in scope of the policy, already done...).
    Nothing(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkerError {
    /// Another delivery may succeed (outage, throttling, a live lease).
    #[error("retry later: {0}")]
    Retry(String),
    /// Retrying cannot fix it; recorded with its reason and left for the DLQ.
    #[error("failed: {0}")]
    Permanent(String),
}

/// Routes an event to the pattern that acts on it.
pub async fn dispatch(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, WorkerError> {
    use LifecycleEventType as T;
    match event.event_type {
        T::RecordStatusChanged | T::NodeMoved => archive::on_event(deps, event, inv).await,
        T::HoldRemoved => {
            // The legal holds first (linked versions and archive copies), then the release
            // an archive deferred under hold.
            let synced = governance::on_event(deps, event, inv).await?;
            let resumed = archive::on_hold_removed(deps, event, inv).await?;
            Ok(match (synced, resumed) {
                (Handled::Nothing(a), Handled::Nothing(b)) => Handled::Nothing(format!("{a}; {b}")),
                (Handled::Done(a), Handled::Nothing(_))
                | (Handled::Nothing(_), Handled::Done(a)) => Handled::Done(a),
                (Handled::Done(a), Handled::Done(b)) => Handled::Done(format!("{a}; {b}")),
            })
        }
        T::HoldApplied | T::RetentionChanged | T::DispositionStatusChanged | T::VersionAdded => {
            governance::on_event(deps, event, inv).await
        }
    }
}

/// Now, RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
