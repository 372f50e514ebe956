//! One declaration's state machine: each step persisted, so a crash at any point is finished
//! by a later attempt (see the module above).

use std::collections::BTreeMap;

use records_aws::s3_objects::S3Error;
use records_domain::{
    AuditAction, AuditEvent, Decision, DeclarationState, IdempotencyKey, ObjectVersion,
    Outcome as AuditOutcome, Plan, StateKind, transition,
};

use super::progress::Progress;
use super::{Declared, Deps, ObjectEvent, audit_event, opentext_steps, policy_facts};
use crate::Invocation;
use crate::runner::{Lease, StepError};

pub(crate) struct Run<'a> {
    pub deps: &'a Deps,
    pub inv: &'a Invocation,
    pub key: IdempotencyKey,
    pub lease: Lease,
    pub facts: records_aws::s3_objects::S3ObjectFacts,
    pub event: &'a ObjectEvent,
    pub progress: Progress,
    /// This attempt created the document (never stored): it carries the categories the
    /// create sent, and nothing can have classified it yet, so classifying skips the reads.
    pub created_here: bool,
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
        let (from_name, to_name) = (from.kind().as_str(), next.kind().as_str());
        if next.kind().is_settled() {
            self.deps
                .store
                .finish(
                    self.key.as_str(),
                    &self.lease.owner,
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
                    &self.lease.owner,
                    from_name,
                    to_name,
                    &progress.to_json(),
                    self.lease.duration,
                )
                .await?;
        }
        self.progress = progress;
        Ok(())
    }

    /// Moves to `done` in one transaction with `writes`.
    async fn finish_with(
        &mut self,
        via: &[DeclarationState],
        writes: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<(), StepError> {
        let from = self.state().clone();
        let mut done = from.clone();
        for step in via.iter().cloned().chain([DeclarationState::Done]) {
            done = transition(&done, step).map_err(|e| StepError::Permanent(e.to_string()))?;
        }
        let mut progress = self.progress.clone();
        progress.state = Some(done);
        self.deps
            .store
            .finish_with(
                self.key.as_str(),
                &self.lease.owner,
                from.kind().as_str(),
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
        self.deps.crash.at(step);
    }

    fn plan(&self) -> Result<&Plan, StepError> {
        self.progress
            .plan
            .as_ref()
            .ok_or_else(|| StepError::Permanent("work item has no plan".into()))
    }

    pub(crate) async fn drive(&mut self) -> Result<Declared, StepError> {
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
                    // declared.
                    // Both steps are safe to repeat, so the finish records them too: one
                    // write from `uploaded` to `done` (a crash before it repeats them).
                    self.tag().await?;
                    return self
                        .complete(&[DeclarationState::Classified, DeclarationState::Tagged])
                        .await;
                }
                DeclarationState::Classified => {
                    self.tag().await?;
                    return self.complete(&[DeclarationState::Tagged]).await;
                }
                DeclarationState::Tagged => return self.complete(&[]).await,
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
            (
                records_domain::tags::NODE_ID.to_string(),
                node_id.to_string(),
            ),
            (
                records_domain::tags::STATE.to_string(),
                records_domain::tags::DECLARED.to_string(),
            ),
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

    /// Finishes the declaration (audit event, link, `done`), moving through `via` (steps done
    /// since the last write) in the same write.
    async fn complete(&mut self, via: &[DeclarationState]) -> Result<Declared, StepError> {
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
        // P4: the business objects the record belongs to, indexed in the same transaction.
        let business_objects = self.plan()?.business_objects.clone();
        if !business_objects.is_empty() {
            ev = ev.with_detail(
                "business_objects",
                business_objects
                    .iter()
                    .map(|o| o.index_key())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        let audit = self.deps.audit.pending(&ev);
        let mut writes = vec![
            self.deps.links.link_write(node_id, &link),
            audit.write.clone(),
        ];
        writes.extend(self.deps.business_index.index_writes(
            node_id,
            &business_objects,
            &ObjectVersion::new(&link.bucket, &link.key, Some(&link.version_id)),
        ));
        self.finish_with(via, writes).await?;
        audit.committed();
        Ok(Declared::Record {
            node_id,
            version_number,
            sha256,
        })
    }

    pub(crate) async fn fail(&mut self, reason: &str) {
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
        Ok(self.deps.audit.append(&ev).await?)
    }
}
