//! P2 archive tier (OpenText → S3). When a record reaches the archive stage the policy names,
//! every planned version is streamed to the Object Lock archive bucket, each copy is verified
//! (size and SHA-256 against OpenText's bytes), the location is recorded on the record and,
//! only if the policy asks and every copy is verified, OpenText's content is released.
//!
//! One workflow item per node (`archive#{node}`), saved after every step:
//! `claimed → copying (one save per version) → verified → located → released → done`
//! (or `failed` with its reason). A rerun after a crash resumes from the saved step; an
//! archive object found at a copy's key counts as that copy only if its checksum and size
//! match OpenText's, so there is never a second copy, and never a release of unverified content.
//!
//! A release that cannot happen yet is not a failure: under hold the item rests in
//! `release_deferred` (copies under S3 legal hold) and `hold.removed` resumes it; a purge
//! OpenText refuses ends `release_refused` with OpenText's reason and is tried again by the
//! next delivery. Neither state is terminal, so either is claimed again.

mod copy;
mod record;
mod run;

use records_aws::archive_copies::ArchiveCopies;
use records_aws::workflow_store::WorkflowStore;
use records_domain::archive::{ArchiveProgress, ArchiveState, archive_workflow_key, states};
use records_domain::policy::ArchivePolicy;
use records_domain::{IdempotencyKey, LifecycleEvent};
use run::Run;

use crate::governance::opentext_side::holds_in_force;
use crate::lifecycle::{Deps, Handled};
use crate::runner::{Claimed, Lease};
use crate::{Invocation, StepError};

/// Archive settings from the environment (bucket, defaults).
#[derive(Debug, Clone, Default)]
pub struct ArchiveConfig {
    pub bucket: Option<String>,
}

impl ArchiveConfig {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            bucket: get("ARCHIVE_BUCKET").filter(|v| !v.is_empty()),
        }
    }
}

pub async fn on_event(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let records_policy = deps.policy.get();
    let Some(policy) = records_policy.archive.as_ref() else {
        return Ok(Handled::Nothing("the policy has no archive section".into()));
    };
    if !policy.triggered_by(event) {
        return Ok(Handled::Nothing(format!(
            "{} does not match an archive trigger",
            event.event_type.as_str()
        )));
    }
    let bucket = deps.archive.bucket.clone().ok_or_else(|| {
        StepError::Permanent("ARCHIVE_BUCKET is not configured; cannot archive".into())
    })?;
    claim_and_drive(deps, policy, bucket, event, inv).await
}

/// `hold.removed`: an archive whose release waits (deferred under hold, refused, or
/// interrupted) is resumed once no hold is in force any more. Runs after the hold sync,
/// which has already turned the copies' legal holds off.
pub async fn on_hold_removed(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let records_policy = deps.policy.get();
    let Some(policy) = records_policy.archive.as_ref() else {
        return Ok(Handled::Nothing("the policy has no archive section".into()));
    };
    let Some((state, progress)) = archive_of(deps, event.node_id).await? else {
        return Ok(Handled::Nothing(format!(
            "node {} has no archive to resume",
            event.node_id
        )));
    };
    if ArchiveState::parse(&state).is_some_and(ArchiveState::is_terminal) {
        return Ok(Handled::Nothing(format!(
            "the archive of node {} is {state}",
            event.node_id
        )));
    }
    let ot = deps.opentext.with_deadline(inv.opentext_deadline());
    let holds = holds_in_force(&ot, event.node_id as i64)
        .await
        .map_err(StepError::from)?;
    if !holds.is_empty() {
        return Ok(Handled::Nothing(format!(
            "holds {holds:?} are still in force on node {}: its release stays deferred",
            event.node_id
        )));
    }
    let bucket = if progress.bucket.is_empty() {
        deps.archive.bucket.clone().ok_or_else(|| {
            StepError::Permanent("ARCHIVE_BUCKET is not configured; cannot archive".into())
        })?
    } else {
        progress.bucket
    };
    claim_and_drive(deps, policy, bucket, event, inv).await
}

fn workflow_store(deps: &Deps) -> WorkflowStore {
    WorkflowStore::new(
        deps.dynamodb.clone(),
        deps.workflow_table.clone(),
        states::CLAIMED,
        states::TERMINAL,
    )
}

/// The node's archive item, if there is one: its state (as stored) and progress.
pub(crate) async fn archive_of(
    deps: &Deps,
    node_id: u64,
) -> Result<Option<(String, ArchiveProgress)>, StepError> {
    let key = archive_workflow_key(node_id);
    let Some(item) = workflow_store(deps)
        .get(key.as_str())
        .await
        .map_err(|e| StepError::Retry(e.to_string()))?
    else {
        return Ok(None);
    };
    let progress = if item.detail.trim().is_empty() || item.detail.trim() == "{}" {
        ArchiveProgress::default()
    } else {
        serde_json::from_str(&item.detail).map_err(|e| {
            StepError::Permanent(format!("workflow detail of {key} is unreadable: {e}"))
        })?
    };
    Ok(Some((item.state, progress)))
}

async fn claim_and_drive(
    deps: &Deps,
    policy: &ArchivePolicy,
    bucket: String,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let key = archive_workflow_key(event.node_id);
    let owner = format!("lifecycle-worker/{}/{}", inv.request_id, event.event_id);
    let (lease, claimed) = Lease::claim(
        workflow_store(deps),
        key.as_str(),
        owner,
        inv.lease(),
        states::CLAIMED,
        "{}",
    )
    .await?;
    let item = match claimed {
        Claimed::Acquired { item, resumed } => {
            if resumed {
                tracing::info!(state = %item.state, "resuming an earlier archive attempt");
            }
            item
        }
        Claimed::Done(_) => {
            return Ok(Handled::Nothing(format!(
                "node {} is already archived",
                event.node_id
            )));
        }
        Claimed::Ended(item) => {
            let reason = serde_json::from_str::<ArchiveProgress>(&item.detail)
                .ok()
                .and_then(|p| p.reason)
                .unwrap_or_else(|| "archive failed earlier".into());
            return Err(StepError::Permanent(reason));
        }
    };
    let progress = progress_of(&item.detail, bucket, &key)?;
    let mut run = Run {
        deps,
        inv,
        policy,
        ot: deps.opentext.with_deadline(inv.opentext_deadline()),
        copies: ArchiveCopies::new(deps.s3.clone()),
        lease: lease.clone(),
        key,
        node_id: event.node_id,
        state: ArchiveState::Claimed,
        progress,
    };
    let result = match ArchiveState::parse(&item.state) {
        Some(state) => {
            run.state = state;
            run.drive().await
        }
        None => {
            // Not a state this workflow has: failed from the state as stored.
            let reason = format!("unknown archive state {:?}", item.state);
            return lease
                .settle(Err(StepError::Permanent(reason)), |reason| async move {
                    run.record_failure(&item.state, &reason).await
                })
                .await;
        }
    };
    match lease
        .settle(result, |reason| async move { run.fail(&reason).await })
        .await?
    {
        Archived::Done(what) => Ok(Handled::Done(what)),
        // Recorded as `release_refused` (not failed): the message goes on to the DLQ so
        // someone looks, and a rerun tries the release again.
        Archived::Refused(reason) => Err(StepError::Permanent(reason)),
    }
}

/// The saved progress of a claimed item (a new one starts with the bucket it copies to).
fn progress_of(
    detail: &str,
    bucket: String,
    key: &IdempotencyKey,
) -> Result<ArchiveProgress, StepError> {
    if detail.trim() == "{}" || detail.is_empty() {
        return Ok(ArchiveProgress {
            bucket,
            ..Default::default()
        });
    }
    serde_json::from_str(detail)
        .map_err(|e| StepError::Permanent(format!("workflow detail of {key} is unreadable: {e}")))
}

/// How an attempt that did not fail ended.
pub(crate) enum Archived {
    /// Archived (and released, or its release deferred under hold); the text says what.
    Done(String),
    /// OpenText refused the release (the purge of the archived versions): the archive is
    /// complete and kept; the item rests in `release_refused` with OpenText's reason, and a
    /// rerun (redelivery, DLQ redrive, `hold.removed`) tries the release again.
    Refused(String),
}
