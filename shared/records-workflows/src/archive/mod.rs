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

use record::Release;
use records_aws::archive_copies::ArchiveCopies;
use records_aws::workflow_store::WorkflowStore;
use records_domain::archive::{ArchiveProgress, ArchiveState, archive_workflow_key, states};
use records_domain::policy::ArchivePolicy;
use records_domain::workflow::WorkflowState;
use records_domain::{AuditAction, AuditEvent, IdempotencyKey, LifecycleEvent, Outcome};

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
    let progress: ArchiveProgress = if item.detail.trim() == "{}" || item.detail.is_empty() {
        ArchiveProgress {
            bucket,
            ..Default::default()
        }
    } else {
        serde_json::from_str(&item.detail).map_err(|e| {
            StepError::Permanent(format!("workflow detail of {key} is unreadable: {e}"))
        })?
    };
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

/// How an attempt that did not fail ended.
pub(crate) enum Archived {
    /// Archived (and released, or its release deferred under hold); the text says what.
    Done(String),
    /// OpenText refused the release (the purge of the archived versions): the archive is
    /// complete and kept; the item rests in `release_refused` with OpenText's reason, and a
    /// rerun (redelivery, DLQ redrive, `hold.removed`) tries the release again.
    Refused(String),
}

/// One attempt at archiving one node.
pub(crate) struct Run<'a> {
    pub deps: &'a Deps,
    pub inv: &'a Invocation,
    pub policy: &'a ArchivePolicy,
    pub ot: opentext_client::Client,
    /// The archive bucket's copies (S3 calls).
    pub copies: ArchiveCopies,
    pub lease: Lease,
    pub key: IdempotencyKey,
    pub node_id: u64,
    pub state: ArchiveState,
    pub progress: ArchiveProgress,
}

impl Run<'_> {
    async fn drive(&mut self) -> Result<Archived, StepError> {
        use ArchiveState as S;
        loop {
            match self.state {
                S::Claimed => {
                    record::plan(self).await?;
                    self.save(S::Copying).await?;
                }
                S::Copying => {
                    copy::copy_remaining(self).await?;
                    copy::verify_all(self).await?;
                    self.save(S::Verified).await?;
                    self.deps.crash_point("verified");
                }
                S::Verified => {
                    record::locate(self).await?;
                    self.save(S::Located).await?;
                    self.deps.crash_point("located");
                }
                S::Located | S::ReleaseDeferred | S::ReleaseRefused
                    if self.policy.release_content =>
                {
                    match record::release(self).await? {
                        Release::Done => {
                            self.save(S::Released).await?;
                            self.deps.crash_point("released");
                        }
                        Release::Deferred(holds) => return self.defer(holds).await,
                        Release::Refused(reason) => {
                            self.refused(&reason).await;
                            return Ok(Archived::Refused(reason));
                        }
                    }
                }
                S::Located | S::ReleaseDeferred | S::ReleaseRefused | S::Released => {
                    self.progress.reason = None;
                    let detail = self.detail();
                    let done = self.legal_move(S::Done)?;
                    self.lease
                        .store
                        .finish(
                            self.key.as_str(),
                            &self.lease.owner,
                            self.state.as_str(),
                            done.as_str(),
                            &detail,
                        )
                        .await?;
                    return Ok(Archived::Done(format!(
                        "archived {} version(s) of node {} to {}{}",
                        self.progress.copies.len(),
                        self.node_id,
                        self.progress.location(self.node_id),
                        if self.state == S::Released {
                            "; OpenText content released"
                        } else {
                            ""
                        }
                    )));
                }
                // Claimed as finished, never driven (the claim returns them as such).
                S::Done | S::Failed => {
                    return Err(StepError::Permanent(format!(
                        "the archive of node {} is already {}",
                        self.node_id, self.state
                    )));
                }
            }
        }
    }

    /// A hold is in force: the archive is complete, OpenText's content stays. The copies are
    /// put under an S3 legal hold, the item rests in `release_deferred` (no TTL, no lease)
    /// until `hold.removed` resumes it, and the event has succeeded.
    async fn defer(&mut self, holds: Vec<i64>) -> Result<Archived, StepError> {
        copy::hold_copies(self, true).await?;
        let reason = format!(
            "release deferred: holds {holds:?} are in force on node {}; its content stays in \
             OpenText until they are removed",
            self.node_id
        );
        self.progress.holds = holds.clone();
        self.progress.reason = Some(reason.clone());
        self.save(ArchiveState::ReleaseDeferred).await?;
        let tag = holds
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join("-");
        let mut ev = self
            .event(
                AuditAction::ReleaseContent,
                Outcome::Skipped,
                &format!("deferred-{tag}"),
            )
            .with_reason(reason.clone())
            .with_detail("release", "deferred")
            .with_detail("holds_in_force", holds.clone())
            .with_detail("location", self.progress.location(self.node_id));
        if let Some(stub) = self.progress.stub_version {
            ev = ev.with_detail("stub_version", stub);
        }
        self.audit(ev).await;
        tracing::info!(?holds, "archive complete; release deferred under hold");
        self.give_back().await;
        Ok(Archived::Done(format!(
            "archived {} version(s) of node {} to {}; {reason}",
            self.progress.copies.len(),
            self.node_id,
            self.progress.location(self.node_id),
        )))
    }

    /// OpenText refused the purge: recorded as such (state, reason, audit), the lease given
    /// back so a redelivery tries again.
    async fn refused(&mut self, reason: &str) {
        tracing::error!(reason, state = %self.state, "release refused by OpenText");
        self.progress.reason = Some(reason.to_string());
        if let Err(e) = self.save(ArchiveState::ReleaseRefused).await {
            tracing::warn!(error = ?e, "could not record the refused release");
        }
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(reason.as_bytes()));
        let mut ev = self
            .event(
                AuditAction::ReleaseContent,
                Outcome::Denied,
                &format!("refused-{}", &digest[..16]),
            )
            .with_reason(reason)
            .with_detail("release", "refused")
            .with_detail("location", self.progress.location(self.node_id));
        if let Some(stub) = self.progress.stub_version {
            ev = ev.with_detail("stub_version", stub);
        }
        self.audit(ev).await;
        self.give_back().await;
    }

    /// Gives the lease up so the next delivery can claim at once; the state stays.
    async fn give_back(&self) {
        if let Err(e) = self
            .lease
            .store
            .release(self.key.as_str(), &self.lease.owner)
            .await
        {
            tracing::warn!(error = %e, "could not give the archive lease back");
        }
    }

    fn detail(&self) -> String {
        serde_json::to_string(&self.progress).unwrap_or_else(|_| "{}".into())
    }

    /// The archive's table says whether `to` may follow the current state: a move it does not
    /// list is a bug in this workflow, failed with that reason, never saved.
    fn legal_move(&self, to: ArchiveState) -> Result<ArchiveState, StepError> {
        self.state.move_to(to).map_err(|e| {
            StepError::Permanent(format!(
                "{e} on node {}: a bug in the archive workflow, not saved",
                self.node_id
            ))
        })
    }

    /// Saves the progress and moves to `to` (the same state saves progress within a step).
    pub(crate) async fn save(&mut self, to: ArchiveState) -> Result<(), StepError> {
        let to = self.legal_move(to)?;
        let detail = self.detail();
        self.lease
            .store
            .transition(
                self.key.as_str(),
                &self.lease.owner,
                self.state.as_str(),
                to.as_str(),
                &detail,
                self.lease.duration,
            )
            .await?;
        self.state = to;
        Ok(())
    }

    async fn fail(&mut self, reason: &str) {
        if let Err(e) = self.legal_move(ArchiveState::Failed) {
            tracing::error!(error = %e, reason, "could not record the archive failure");
            return;
        }
        self.record_failure(self.state.as_str(), reason).await;
    }

    /// Records `failed` (audit event, reason, the item finished) from the state as stored.
    async fn record_failure(&mut self, from: &str, reason: &str) {
        tracing::error!(reason, state = from, "archive failed");
        self.audit(
            self.event(AuditAction::Archive, Outcome::Failed, "failed")
                .with_reason(reason),
        )
        .await;
        self.progress.reason = Some(reason.to_string());
        let detail = self.detail();
        if let Err(e) = self
            .lease
            .store
            .finish(
                self.key.as_str(),
                &self.lease.owner,
                from,
                states::FAILED,
                &detail,
            )
            .await
        {
            tracing::warn!(error = %e, "could not record the archive failure");
        }
    }

    /// An audit event whose id is derived from the effect, so a retried write is the same event.
    pub(crate) fn event(&self, action: AuditAction, outcome: Outcome, tag: &str) -> AuditEvent {
        AuditEvent::new(
            &format!("{}-{tag}", self.key.external_identity()),
            &crate::now_rfc3339(),
            self.deps.actor.clone(),
            action,
            outcome,
        )
        .with_record(self.node_id, None)
        .with_correlation_id(self.inv.request_id.clone())
    }

    /// Audit write failures are logged (the audit line is in the logs too), never fatal.
    pub(crate) async fn audit(&self, event: AuditEvent) {
        if let Err(e) = self.deps.audit.append(&event).await {
            tracing::error!(event_id = %e.event_id, code = %e.code, message = %e.message, "audit append failed");
        }
    }

    pub(crate) fn ot_id(&self) -> i64 {
        self.node_id as i64
    }
}
