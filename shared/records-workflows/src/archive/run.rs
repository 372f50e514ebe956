//! One attempt at archiving one node: the state machine over the saved steps, the deferral
//! under hold, the refused release, the failure.

use records_aws::archive_copies::ArchiveCopies;
use records_domain::archive::{ArchiveProgress, ArchiveState, states};
use records_domain::policy::ArchivePolicy;
use records_domain::workflow::WorkflowState;
use records_domain::{AuditAction, AuditEvent, IdempotencyKey, Outcome};

use super::record::Release;
use super::{Archived, copy, record};
use crate::lifecycle::Deps;
use crate::runner::Lease;
use crate::{Invocation, StepError};

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
    pub(super) async fn drive(&mut self) -> Result<Archived, StepError> {
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
        self.state = self.lease.step(self.state, to, &self.progress).await?;
        Ok(())
    }

    pub(super) async fn fail(&mut self, reason: &str) {
        if let Err(e) = self.legal_move(ArchiveState::Failed) {
            tracing::error!(error = %e, reason, "could not record the archive failure");
            return;
        }
        self.record_failure(self.state.as_str(), reason).await;
    }

    /// Records `failed` (audit event, reason, the item finished) from the state as stored.
    pub(super) async fn record_failure(&mut self, from: &str, reason: &str) {
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
