//! Declaring one S3 object version: claim it, then walk the workflow states, persisting
//! each step, so that a crash at any point is finished by a later attempt without a second
//! document, version or classification.

use std::collections::BTreeMap;
use std::time::Duration;

use records_aws::s3_objects::{ObjectFacts as S3Facts, S3Error};
use records_aws::workflow_store::{Claim, StoreError};
use records_domain::{
    AuditAction, AuditEvent, Decision, DeclarationState, IdempotencyKey, ObjectFacts,
    ObjectVersion, Outcome as AuditOutcome, Plan, StateKind, transition,
};

use crate::event::ObjectEvent;
use crate::progress::{Progress, kind_of};
use crate::{Deps, Invocation, opentext_steps};

/// How one object version ended in this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// Declared now (or finished now after an earlier attempt had started).
    Record {
        node_id: u64,
        version_number: u32,
        sha256: String,
    },
    /// Already declared earlier: a duplicate event.
    Duplicate,
    /// Not governed (no rule, an ignore rule, a folder marker) or gone from S3.
    Skipped { reason: String },
}

/// Why one object version was not declared in this attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclareError {
    /// Worth another delivery (OpenText or AWS unavailable, deadline, a live lease).
    #[error("retry later: {0}")]
    Retry(String),
    /// Retrying cannot fix it; the item is in the failed state with this reason.
    #[error("failed: {0}")]
    Permanent(String),
}

/// Errors of one step, before deciding retry vs failure.
pub(crate) enum StepError {
    Retry(String),
    Permanent(String),
}

impl From<opentext_client::Error> for StepError {
    fn from(e: opentext_client::Error) -> Self {
        use opentext_client::Error as E;
        let text = format!("OpenText: {e}");
        match &e {
            // Credentials and outages are fixed outside this item: retry until the DLQ.
            _ if e.is_retryable() => StepError::Retry(text),
            E::DeadlineExceeded { .. } | E::Unauthorized { .. } | E::Io(_) => {
                StepError::Retry(text)
            }
            _ => StepError::Permanent(text),
        }
    }
}

impl From<S3Error> for StepError {
    fn from(e: S3Error) -> Self {
        match e {
            S3Error::NotFound { .. } => StepError::Permanent(format!("S3: {e}")),
            // Access denied is a deployment fault: retry, and let the DLQ hold the event.
            _ => StepError::Retry(format!("S3: {e}")),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        // A lost lease means another attempt owns the item now; it will finish it.
        StepError::Retry(format!("workflow store: {e}"))
    }
}

/// The idempotency key: from the event when it names a version, else from the facts
/// (unversioned buckets need the ETag to tell overwrites apart).
fn key_for(event: &ObjectEvent, facts: Option<&S3Facts>) -> IdempotencyKey {
    let version = facts
        .and_then(|f| f.version_id.as_deref())
        .or(event.version_id.as_deref());
    let etag = facts.map(|f| f.etag.as_str()).or(event.etag.as_deref());
    IdempotencyKey::declare(
        &ObjectVersion::new(&event.bucket, &event.key, version),
        etag,
    )
}

/// The `trigger` of a declaration made to keep S3's order (see [`declare_older_versions`]).
pub const CATCH_UP_TRIGGER: &str = "records-bridge:catch-up";

/// Declares the event's object version, after any older version of the key that is not
/// declared yet, so OpenText's versions follow S3's order whatever order events arrive in.
pub async fn declare(
    deps: &Deps,
    event: &ObjectEvent,
    inv: &Invocation,
) -> Result<Declared, DeclareError> {
    declare_version(deps, event, inv, true).await
}

async fn declare_version(
    deps: &Deps,
    event: &ObjectEvent,
    inv: &Invocation,
    catch_up: bool,
) -> Result<Declared, DeclareError> {
    // A versioned event names its version, so whether it was declared already is read
    // alongside the object's facts and the key's versions (one round trip of waiting, not
    // three). A duplicate wins over whatever S3 says now: the version may have been deleted
    // since its declaration.
    let versions = async {
        match (&event.version_id, catch_up) {
            (Some(_), true) => Some(deps.s3.versions_of(&event.bucket, &event.key).await),
            _ => None,
        }
    };
    let earlier = async {
        match event.version_id {
            Some(_) => deps
                .store
                .get(key_for(event, None).as_str())
                .await
                .ok()
                .flatten(),
            None => None,
        }
    };
    let facts = deps
        .s3
        .facts(&event.bucket, &event.key, event.version_id.as_deref());
    let (earlier, facts, versions) = tokio::join!(earlier, facts, versions);
    if earlier.is_some_and(|item| item.state == "done") {
        return Ok(Declared::Duplicate);
    }
    let facts = match facts {
        Ok(f) => f,
        Err(S3Error::NotFound { .. }) => {
            let reason = "the object version no longer exists in S3".to_string();
            let ev = audit_event(
                deps,
                inv,
                &key_for(event, None),
                AuditAction::Declare,
                AuditOutcome::Skipped,
                "gone",
            )
            .with_object(ObjectVersion::new(
                &event.bucket,
                &event.key,
                event.version_id.as_deref(),
            ))
            .with_reason(&reason);
            deps.audit
                .append(&ev)
                .await
                .map_err(|e| DeclareError::Retry(e.to_string()))?;
            return Ok(Declared::Skipped { reason });
        }
        Err(e) => return Err(DeclareError::Retry(format!("S3: {e}"))),
    };
    if let Some(versions) = versions {
        let versions = versions.map_err(|e| DeclareError::Retry(format!("S3: {e}")))?;
        declare_older_versions(deps, event, &versions, inv).await?;
    }
    let key = key_for(event, Some(&facts));
    let owner = format!("{}/{}", inv.request_id, uuid::Uuid::new_v4());
    // Lambda stops the attempt at its deadline, so the lease need only outlive that.
    let lease = inv.remaining() + Duration::from_secs(5);
    // A governed version starts in `uploading` with its plan, in the claim's own write.
    let first = first_step(deps, &facts, event);
    let (state, detail) = match &first {
        Some(p) => (StateKind::Uploading.as_str(), p.to_json()),
        None => (StateKind::Claimed.as_str(), "{}".to_string()),
    };
    let claim = deps
        .store
        .claim_starting_at(key.as_str(), &owner, lease, state, &detail)
        .await;
    let item = match claim {
        Ok(Claim::Acquired { item, .. }) => item,
        Ok(Claim::Finished(item)) if item.state == "done" => return Ok(Declared::Duplicate),
        Ok(Claim::Finished(item)) => {
            let reason = Progress::parse(&item.detail).reason.unwrap_or(item.state);
            return Err(DeclareError::Permanent(reason));
        }
        Ok(Claim::Busy(_)) => {
            return Err(DeclareError::Retry(
                "another attempt holds the lease on this object version".into(),
            ));
        }
        Err(e) => return Err(DeclareError::Retry(e.to_string())),
    };
    let mut run = Run {
        deps,
        inv,
        key,
        owner,
        lease,
        facts,
        event,
        progress: Progress::parse(&item.detail),
    };
    if run.progress.state.is_none() {
        run.progress.state = Some(DeclarationState::Claimed);
    }
    let result = run.drive().await;
    match result {
        Ok(done) => Ok(done),
        Err(StepError::Retry(reason)) => {
            // Give the lease back so the next delivery resumes at once, from this state.
            let _ = deps.store.release(run.key.as_str(), &run.owner).await;
            Err(DeclareError::Retry(reason))
        }
        Err(StepError::Permanent(reason)) => {
            run.fail(&reason).await;
            Err(DeclareError::Permanent(reason))
        }
    }
}

/// Declares, oldest first, the versions older than the event's that have no settled
/// declaration yet (their own events are late, or lost in a retry): a record's current
/// version is then always S3's newest. An older version that fails for good fails alone; one
/// that must be retried holds the newer one back too, so the order is never broken.
async fn declare_older_versions(
    deps: &Deps,
    event: &ObjectEvent,
    versions: &[String],
    inv: &Invocation,
) -> Result<(), DeclareError> {
    let Some(pos) = versions
        .iter()
        .position(|v| Some(v) == event.version_id.as_ref())
    else {
        return Ok(()); // not listed any more (deleted): nothing to order it against
    };
    let mut pending = Vec::new();
    // Newest first: everything before a settled version was settled in order already.
    for version in &versions[pos + 1..] {
        let key = IdempotencyKey::declare(
            &ObjectVersion::new(&event.bucket, &event.key, Some(version)),
            None,
        );
        let item = deps
            .store
            .get(key.as_str())
            .await
            .map_err(|e| DeclareError::Retry(e.to_string()))?;
        if item.is_some_and(|i| matches!(i.state.as_str(), "done" | "failed" | "skipped")) {
            break;
        }
        pending.push(version);
    }
    for version in pending.into_iter().rev() {
        tracing::info!(older = %version, "declaring an older version of the key first (S3's order)");
        let older = ObjectEvent {
            event_name: CATCH_UP_TRIGGER.to_string(),
            version_id: Some(version.clone()),
            etag: None,
            size: None,
            sequencer: None,
            ..event.clone()
        };
        match Box::pin(declare_version(deps, &older, inv, false)).await {
            Ok(_) => {}
            Err(DeclareError::Permanent(reason)) => {
                tracing::warn!(older = %version, reason, "an older version failed; it fails alone");
            }
            Err(DeclareError::Retry(reason)) => {
                return Err(DeclareError::Retry(format!(
                    "older version {version} of this key is not declared yet: {reason}"
                )));
            }
        }
    }
    Ok(())
}

/// The object as the policy sees it.
fn policy_facts(f: &S3Facts, event: &ObjectEvent) -> ObjectFacts {
    ObjectFacts {
        bucket: f.bucket.clone(),
        key: f.key.clone(),
        version_id: f.version_id.clone(),
        size: f.size,
        etag: f.etag.clone(),
        tags: Some(f.tags.clone()),
        metadata: Some(f.metadata.clone()),
        uploaded_at: f
            .last_modified
            .clone()
            .or_else(|| event.event_time.clone())
            .unwrap_or_default(),
    }
}

/// For a governed version, the progress a new item starts with: `claimed → uploading`
/// under the plan, taken in the claim itself. `None` leaves the decision to [`Run::drive`]
/// (skips and policy failures are recorded there).
fn first_step(deps: &Deps, facts: &S3Facts, event: &ObjectEvent) -> Option<Progress> {
    let Decision::Govern(plan) = deps.policy.get().evaluate(&policy_facts(facts, event)) else {
        return None;
    };
    let uploading = DeclarationState::Uploading {
        folder_id: plan.folder_id,
        name: plan.document_name.clone(),
    };
    let state = transition(&DeclarationState::Claimed, uploading).ok()?;
    Some(Progress {
        state: Some(state),
        plan: Some(*plan),
        ..Progress::default()
    })
}

pub(crate) struct Run<'a> {
    pub deps: &'a Deps,
    pub inv: &'a Invocation,
    pub key: IdempotencyKey,
    pub owner: String,
    pub lease: Duration,
    pub facts: S3Facts,
    pub event: &'a ObjectEvent,
    pub progress: Progress,
}

impl Run<'_> {
    fn state(&self) -> &DeclarationState {
        self.progress.state.as_ref().expect("state set on claim")
    }

    /// Persists a legal move to `to`; illegal moves are bugs and fail the item.
    async fn advance(&mut self, to: DeclarationState) -> Result<(), StepError> {
        self.advance_through(vec![to]).await
    }

    /// Persists the moves along `path` as one write (each move checked for legality), for
    /// steps done together whose repetition after a crash is harmless.
    async fn advance_through(&mut self, path: Vec<DeclarationState>) -> Result<(), StepError> {
        let from = self.state().clone();
        let mut next = from.clone();
        for to in path {
            next = transition(&next, to).map_err(|e| StepError::Permanent(e.to_string()))?;
        }
        let mut progress = self.progress.clone();
        progress.state = Some(next.clone());
        let (from_name, to_name) = (kind_of(&from).as_str(), kind_of(&next).as_str());
        if kind_of(&next).is_settled() {
            self.deps
                .store
                .finish(
                    self.key.as_str(),
                    &self.owner,
                    from_name,
                    to_name,
                    &progress.to_json(),
                )
                .await?;
        } else {
            self.deps
                .store
                .transition(
                    self.key.as_str(),
                    &self.owner,
                    from_name,
                    to_name,
                    &progress.to_json(),
                    self.lease,
                )
                .await?;
        }
        self.progress = progress;
        Ok(())
    }

    /// Moves to `done` in one transaction with `writes`.
    async fn finish_with(
        &mut self,
        writes: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<(), StepError> {
        let from = self.state().clone();
        let done = transition(&from, DeclarationState::Done)
            .map_err(|e| StepError::Permanent(e.to_string()))?;
        let mut progress = self.progress.clone();
        progress.state = Some(done);
        self.deps
            .store
            .finish_with(
                self.key.as_str(),
                &self.owner,
                kind_of(&from).as_str(),
                StateKind::Done.as_str(),
                &progress.to_json(),
                writes,
            )
            .await?;
        self.progress = progress;
        Ok(())
    }

    /// Test-only crash injection (`RECORDS_BRIDGE_FAULT_CRASH_AFTER`).
    pub(crate) fn crash_point(&self, step: &str) {
        if self.deps.crash_after.as_deref() == Some(step) {
            tracing::error!(step, "fault injection: aborting the process");
            std::process::abort();
        }
    }

    fn plan(&self) -> Result<&Plan, StepError> {
        self.progress
            .plan
            .as_ref()
            .ok_or_else(|| StepError::Permanent("work item has no plan".into()))
    }

    async fn drive(&mut self) -> Result<Declared, StepError> {
        loop {
            match self.state().clone() {
                DeclarationState::Received
                | DeclarationState::Claimed
                | DeclarationState::Skipped { .. } => {
                    if let Some(done) = self.evaluate().await? {
                        return Ok(done);
                    }
                }
                DeclarationState::Uploading { folder_id, name } => {
                    let (node_id, version_number, sha256) =
                        opentext_steps::upload(self, folder_id, &name).await?;
                    self.progress.node_id = Some(node_id);
                    self.progress.sha256 = Some(sha256);
                    self.progress.version_number = Some(version_number);
                    self.advance(DeclarationState::Uploaded {
                        node_id,
                        version_number,
                    })
                    .await?;
                }
                DeclarationState::Uploaded { node_id, .. } => {
                    opentext_steps::classify(self, node_id).await?;
                    self.crash_point("classified");
                    // Tagged only once classified: the tag tells S3's users the object is
                    // declared. Both steps are safe to repeat, so one write records both (a
                    // crash before it repeats them).
                    self.tag().await?;
                    self.advance_through(vec![
                        DeclarationState::Classified,
                        DeclarationState::Tagged,
                    ])
                    .await?;
                }
                DeclarationState::Classified => {
                    self.tag().await?;
                    self.advance(DeclarationState::Tagged).await?;
                }
                DeclarationState::Tagged => return self.complete().await,
                DeclarationState::Done => return Ok(Declared::Duplicate),
                DeclarationState::Failed { reason } => return Err(StepError::Permanent(reason)),
            }
        }
    }

    /// Matches the policy; returns `Some` when the workflow ends here (skipped).
    async fn evaluate(&mut self) -> Result<Option<Declared>, StepError> {
        if matches!(self.state(), DeclarationState::Skipped { .. }) {
            self.advance(DeclarationState::Claimed).await?;
        }
        match self
            .deps
            .policy
            .get()
            .evaluate(&policy_facts(&self.facts, self.event))
        {
            Decision::Govern(plan) => {
                let to = DeclarationState::Uploading {
                    folder_id: plan.folder_id,
                    name: plan.document_name.clone(),
                };
                self.progress.plan = Some(*plan);
                self.advance(to).await?;
                Ok(None)
            }
            Decision::Failed { rule, error } => Err(StepError::Permanent(format!(
                "rule {rule:?} matched but cannot declare this object: {error}"
            ))),
            other => {
                let reason = match &other {
                    Decision::Ignore { rule } => format!("ignored by rule {rule:?}"),
                    Decision::FolderMarker => "folder marker (key ends in '/')".to_string(),
                    _ => "no policy rule governs this object".to_string(),
                };
                self.progress.reason = Some(reason.clone());
                self.advance(DeclarationState::Skipped {
                    reason: reason.clone(),
                })
                .await?;
                let ev = self
                    .audit(AuditAction::Declare, AuditOutcome::Skipped, "skipped")
                    .with_reason(&reason);
                self.append(ev).await?;
                Ok(Some(Declared::Skipped { reason }))
            }
        }
    }

    async fn tag(&self) -> Result<(), StepError> {
        let node_id = self.progress.node_id.unwrap_or_default();
        let tags = BTreeMap::from([
            ("records-bridge:node-id".to_string(), node_id.to_string()),
            ("records-bridge:state".to_string(), "declared".to_string()),
        ]);
        match self
            .deps
            .s3
            .merge_tags(
                &self.facts.bucket,
                &self.facts.key,
                self.facts.version_id.as_deref(),
                &tags,
            )
            .await
        {
            Ok(()) => Ok(()),
            // The record is declared; a full tag set must not undo that. Say so and go on.
            Err(e @ S3Error::TooManyTags { .. }) => {
                tracing::warn!(error = %e, "object not tagged: it already has S3's maximum of tags");
                Ok(())
            }
            // Deleted meanwhile: the record stands; the delete is reported by its own event.
            Err(S3Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn complete(&mut self) -> Result<Declared, StepError> {
        let node_id = self.progress.node_id.unwrap_or_default();
        let version_number = self.progress.version_number.unwrap_or(1);
        let sha256 = self.progress.sha256.clone().unwrap_or_default();
        let action = if version_number > 1 {
            AuditAction::NewVersion
        } else {
            AuditAction::Declare
        };
        let rule = self.plan()?.rule.clone();
        let mut ev = self
            .audit(action, AuditOutcome::Succeeded, "declared")
            .with_record(node_id, Some(version_number))
            .with_sha256(&sha256)
            .with_reason(format!("rule {rule:?}"))
            .with_detail("size", self.facts.size)
            .with_detail("etag", self.facts.etag.clone());
        if let Some(clash) = &self.progress.name_clash {
            // Declared under another name than the plan's: say which, and why.
            ev = ev.with_detail(
                "name_clash",
                serde_json::to_value(clash).unwrap_or_default(),
            );
        }
        // The link (P3 sync and the reconciler find the record's versions there) and the
        // audit event are written in one transaction with the finish: both exist exactly
        // when the item is done, and a retry after a lost answer cannot write them twice.
        let object = ObjectVersion::new(
            &self.facts.bucket,
            &self.facts.key,
            self.facts.version_id.as_deref(),
        );
        let link = records_aws::links::LinkedVersion {
            bucket: object.bucket,
            key: object.key,
            version_id: object.version_id,
            sha256: sha256.clone(),
        };
        let audit = self.deps.audit.pending(&ev);
        let writes = vec![
            self.deps.links.link_write(node_id, &link),
            audit.write.clone(),
        ];
        self.finish_with(writes).await?;
        audit.committed();
        Ok(Declared::Record {
            node_id,
            version_number,
            sha256,
        })
    }

    async fn fail(&mut self, reason: &str) {
        self.progress.reason = Some(reason.to_string());
        if let Err(StepError::Retry(e) | StepError::Permanent(e)) = self
            .advance(DeclarationState::Failed {
                reason: reason.to_string(),
            })
            .await
        {
            tracing::error!(error = %e, "could not record the failed state");
        }
        let ev = self
            .audit(AuditAction::Declare, AuditOutcome::Failed, "failed")
            .with_reason(reason);
        if let Err(StepError::Retry(e) | StepError::Permanent(e)) = self.append(ev).await {
            tracing::error!(error = %e, "could not write the failure audit event");
        }
    }

    fn audit(&self, action: AuditAction, outcome: AuditOutcome, tag: &str) -> AuditEvent {
        let mut ev = audit_event(self.deps, self.inv, &self.key, action, outcome, tag).with_object(
            ObjectVersion::new(
                &self.facts.bucket,
                &self.facts.key,
                self.facts.version_id.as_deref(),
            ),
        );
        if let Some(p) = &self.event.principal {
            ev = ev.with_detail("s3_principal", p.clone());
        }
        ev.with_detail("trigger", self.event.event_name.clone())
    }

    async fn append(&self, ev: AuditEvent) -> Result<(), StepError> {
        self.deps
            .audit
            .append(&ev)
            .await
            .map_err(|e| StepError::Retry(e.to_string()))
    }
}

/// An audit event whose id is derived from the effect, so a retried write is the same event.
fn audit_event(
    deps: &Deps,
    inv: &Invocation,
    key: &IdempotencyKey,
    action: AuditAction,
    outcome: AuditOutcome,
    tag: &str,
) -> AuditEvent {
    let id = format!("{}-{tag}", key.external_identity());
    AuditEvent::new(
        &id,
        &crate::now_rfc3339(),
        deps.actor.clone(),
        action,
        outcome,
    )
    .with_correlation_id(inv.request_id.clone())
}
