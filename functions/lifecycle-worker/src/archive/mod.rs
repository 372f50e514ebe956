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

mod copy;
mod record;
mod s3err;

use std::time::Duration;

use records_aws::workflow_store::{Claim, StoreError, WorkflowStore};
use records_domain::archive::{ArchiveProgress, archive_workflow_key, states};
use records_domain::policy::ArchivePolicy;
use records_domain::{AuditAction, AuditEvent, IdempotencyKey, LifecycleEvent, Outcome};

use crate::{Deps, Handled, Invocation, WorkerError};

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
) -> Result<Handled, WorkerError> {
    let Some(policy) = deps.policy.archive.as_ref() else {
        return Ok(Handled::Nothing("the policy has no archive section".into()));
    };
    if !policy.triggered_by(event) {
        return Ok(Handled::Nothing(format!(
            "{} does not match an archive trigger",
            event.event_type.as_str()
        )));
    }
    let bucket = deps.archive.bucket.clone().ok_or_else(|| {
        WorkerError::Permanent("ARCHIVE_BUCKET is not configured; cannot archive".into())
    })?;
    let store = WorkflowStore::new(
        deps.dynamodb.clone(),
        deps.workflow_table.clone(),
        states::CLAIMED,
        states::TERMINAL,
    );
    let key = archive_workflow_key(event.node_id);
    let owner = format!("lifecycle-worker/{}/{}", inv.request_id, event.event_id);
    // Lambda stops the attempt at its deadline, so the lease need only outlive that.
    let lease = inv.remaining() + Duration::from_secs(5);
    let item = match store.claim(key.as_str(), &owner, lease).await {
        Ok(Claim::Acquired { item, resumed }) => {
            if resumed {
                tracing::info!(state = %item.state, "resuming an earlier archive attempt");
            }
            item
        }
        Ok(Claim::Finished(item)) if item.state == states::DONE => {
            return Ok(Handled::Nothing(format!(
                "node {} is already archived",
                event.node_id
            )));
        }
        Ok(Claim::Finished(item)) => {
            let reason = serde_json::from_str::<ArchiveProgress>(&item.detail)
                .ok()
                .and_then(|p| p.reason)
                .unwrap_or_else(|| "archive failed earlier".into());
            return Err(WorkerError::Permanent(reason));
        }
        Ok(Claim::Busy(_)) => {
            return Err(WorkerError::Retry(
                "another attempt holds the lease on this archive".into(),
            ));
        }
        Err(e) => return Err(WorkerError::Retry(e.to_string())),
    };
    let progress: ArchiveProgress = if item.detail.trim() == "{}" || item.detail.is_empty() {
        ArchiveProgress {
            bucket,
            ..Default::default()
        }
    } else {
        serde_json::from_str(&item.detail).map_err(|e| {
            WorkerError::Permanent(format!("workflow detail of {key} is unreadable: {e}"))
        })?
    };
    let mut run = Run {
        deps,
        inv,
        policy,
        ot: deps.opentext.with_deadline(inv.opentext_deadline()),
        store,
        key,
        owner,
        lease,
        node_id: event.node_id,
        state: item.state.clone(),
        progress,
    };
    match run.drive().await {
        Ok(what) => Ok(Handled::Done(what)),
        Err(StepError::Retry(reason)) => {
            // Give the lease back so the next delivery resumes at once, from this state.
            let _ = run.store.release(run.key.as_str(), &run.owner).await;
            Err(WorkerError::Retry(reason))
        }
        Err(StepError::Permanent(reason)) => {
            run.fail(&reason).await;
            Err(WorkerError::Permanent(reason))
        }
    }
}

/// How a step ended when it did not succeed.
#[derive(Debug)]
pub(crate) enum StepError {
    Retry(String),
    Permanent(String),
}

impl From<opentext_client::Error> for StepError {
    fn from(e: opentext_client::Error) -> Self {
        let text = format!("OpenText: {e}");
        if e.is_retryable() {
            StepError::Retry(text)
        } else {
            StepError::Permanent(text)
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        // A lost lease: another attempt owns the archive now and will finish it.
        StepError::Retry(e.to_string())
    }
}

/// One attempt at archiving one node.
pub(crate) struct Run<'a> {
    pub deps: &'a Deps,
    pub inv: &'a Invocation,
    pub policy: &'a ArchivePolicy,
    pub ot: opentext_client::Client,
    pub store: WorkflowStore,
    pub key: IdempotencyKey,
    pub owner: String,
    pub lease: Duration,
    pub node_id: u64,
    pub state: String,
    pub progress: ArchiveProgress,
}

impl Run<'_> {
    async fn drive(&mut self) -> Result<String, StepError> {
        loop {
            match self.state.as_str() {
                states::CLAIMED => {
                    record::plan(self).await?;
                    self.save(states::COPYING).await?;
                }
                states::COPYING => {
                    copy::copy_remaining(self).await?;
                    copy::verify_all(self).await?;
                    self.save(states::VERIFIED).await?;
                    self.deps.crash_point("verified");
                }
                states::VERIFIED => {
                    record::locate(self).await?;
                    self.save(states::LOCATED).await?;
                    self.deps.crash_point("located");
                }
                states::LOCATED if self.policy.release_content => {
                    record::release(self).await?;
                    self.save(states::RELEASED).await?;
                    self.deps.crash_point("released");
                }
                states::LOCATED | states::RELEASED => {
                    let detail = self.detail();
                    self.store
                        .finish(
                            self.key.as_str(),
                            &self.owner,
                            &self.state,
                            states::DONE,
                            &detail,
                        )
                        .await?;
                    return Ok(format!(
                        "archived {} version(s) of node {} to {}{}",
                        self.progress.copies.len(),
                        self.node_id,
                        self.progress.location(self.node_id),
                        if self.state == states::RELEASED {
                            "; OpenText content released"
                        } else {
                            ""
                        }
                    ));
                }
                other => {
                    return Err(StepError::Permanent(format!(
                        "unknown archive state {other:?}"
                    )));
                }
            }
        }
    }

    fn detail(&self) -> String {
        serde_json::to_string(&self.progress).unwrap_or_else(|_| "{}".into())
    }

    /// Saves the progress and moves to `to` (the same state saves progress within a step).
    pub(crate) async fn save(&mut self, to: &str) -> Result<(), StepError> {
        let detail = self.detail();
        self.store
            .transition(
                self.key.as_str(),
                &self.owner,
                &self.state,
                to,
                &detail,
                self.lease,
            )
            .await?;
        self.state = to.to_string();
        Ok(())
    }

    async fn fail(&mut self, reason: &str) {
        tracing::error!(reason, state = %self.state, "archive failed");
        self.audit(
            self.event(AuditAction::Archive, Outcome::Failed, "failed")
                .with_reason(reason),
        )
        .await;
        self.progress.reason = Some(reason.to_string());
        let detail = self.detail();
        if let Err(e) = self
            .store
            .finish(
                self.key.as_str(),
                &self.owner,
                &self.state,
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
