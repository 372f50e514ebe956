//! OpenText lifecycle events ([`LifecycleEvent`], from the signed intake and the poller
//! alike), dispatched by type to the pattern that acts on them:
//! - [`archive`](crate::archive): P2, OpenText → S3 archive tier;
//! - [`governance`](crate::governance): P3, holds / retention / disposition status pushed to
//!   S3 Object Lock;
//! - [`disposition`](crate::disposition): P4 certified destruction;
//! - [`publication`](crate::publication): P7 gated publication, which also sees every other
//!   event of the nodes it publishes.

use records_aws::audit_log::AuditLog;
use records_aws::s3_objects::S3Objects;
use records_domain::{Actor, LifecycleEvent, LifecycleEventType};

use crate::runner::CrashPoints;
use crate::{Invocation, StepError, archive, governance, publication};

/// Built once per cold start.
pub struct Deps {
    pub s3: aws_sdk_s3::Client,
    pub objects: S3Objects,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub workflow_table: String,
    pub audit: AuditLog,
    pub opentext: opentext_client::Client,
    /// The records policy, re-read from its source when due (`records_aws::policy_handle`).
    pub policy: records_aws::policy_handle::PolicyHandle,
    pub actor: Actor,
    pub archive: archive::ArchiveConfig,
    pub governance: governance::GovernanceConfig,
    /// P4 certified destruction (None: the stack has no signing key or audit bucket).
    pub disposition: Option<crate::disposition::DispositionDeps>,
    /// P7 publication bucket and distribution (None: the stack publishes nothing).
    pub publication: Option<publication::PublicationDeps>,
    pub concurrency: usize,
    pub crash: CrashPoints,
}

impl Deps {
    /// Test-only crash injection (`RECORDS_BRIDGE_FAULT_CRASH_AFTER`): abort after that step.
    pub fn crash_point(&self, step: &str) {
        self.crash.at(step);
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

/// Routes an event to the patterns that act on it. Publication (P7) sees every event of a
/// node it publishes: a hold, a new version, a move, a status or an attribute change may
/// each take a copy down or replace it.
pub async fn dispatch(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    use LifecycleEventType as T;
    let first = match event.event_type {
        T::RecordStatusChanged | T::NodeMoved => archive::on_event(deps, event, inv).await?,
        T::HoldRemoved => {
            // The legal holds first (linked versions and archive copies), then the release
            // an archive deferred under hold.
            let synced = governance::on_event(deps, event, inv).await?;
            let resumed = archive::on_hold_removed(deps, event, inv).await?;
            merge(synced, resumed)
        }
        T::HoldApplied | T::RetentionChanged | T::DispositionStatusChanged | T::VersionAdded => {
            governance::on_event(deps, event, inv).await?
        }
        T::DispositionApproved => return crate::disposition::on_approved(deps, event, inv).await,
        T::AttributesChanged | T::PublicationRequested | T::PublicationWithdrawn => {
            return publication::on_event(deps, event, inv).await;
        }
    };
    let published = publication::on_event(deps, event, inv).await?;
    Ok(merge(first, published))
}

/// Two patterns' answers to one event: done if either did something.
fn merge(a: Handled, b: Handled) -> Handled {
    match (a, b) {
        (Handled::Nothing(a), Handled::Nothing(b)) => Handled::Nothing(format!("{a}; {b}")),
        (Handled::Done(a), Handled::Nothing(_)) | (Handled::Nothing(_), Handled::Done(a)) => {
            Handled::Done(a)
        }
        (Handled::Done(a), Handled::Done(b)) => Handled::Done(format!("{a}; {b}")),
    }
}
