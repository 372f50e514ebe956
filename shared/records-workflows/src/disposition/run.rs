//! One disposition batch's steps, each saved before the next (see the module above).

use opentext_client::model::SnapshotDate;
use records_aws::links::{LinkStore, LinkedVersion};
use records_aws::object_lock::ObjectLock;
use records_aws::workflow_store::WorkflowStore;
use records_domain::disposition::{
    Approval, ApprovalSource, CanonicalCertificate, CertificateVersion, CertifiedRecord,
    DispositionDecision, RefusalNote, VersionDisposal, decide,
};
use records_domain::{
    AuditAction, AuditEvent, IdempotencyKey, LifecycleEvent, ObjectVersion, Outcome,
};
use time::OffsetDateTime;

use super::job::JobLook;
use super::progress::{BatchRecord, DispositionProgress, RecordOutcome};
use super::{DESTROYING_ACTIONS, DispositionDeps, checks};
use crate::lifecycle::{Deps, Handled};
use crate::runner::Lease;
use crate::{Invocation, StepError, now_rfc3339};

pub(crate) mod states {
    pub const CLAIMED: &str = "claimed";
    pub const DISPOSING: &str = "disposing";
    /// Handed to an S3 Batch Operations job; waiting for it to end.
    pub const JOB_RUNNING: &str = "job-running";
    pub const CERTIFIED: &str = "certified";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const TERMINAL: &[&str] = &[DONE, FAILED];
}

pub(crate) fn workflow_store(deps: &Deps) -> WorkflowStore {
    WorkflowStore::new(
        deps.dynamodb.clone(),
        deps.workflow_table.clone(),
        states::CLAIMED,
        states::TERMINAL,
    )
}

pub(crate) struct Run<'a> {
    pub deps: &'a Deps,
    pub disposition: &'a DispositionDeps,
    pub inv: &'a Invocation,
    pub event: &'a LifecycleEvent,
    pub lease: Lease,
    pub key: IdempotencyKey,
    pub state: String,
    pub progress: Option<DispositionProgress>,
    pub qdate: String,
    pub dry_run: bool,
    pub certificate_id: String,
}

impl Run<'_> {
    pub(super) fn ot(&self) -> opentext_client::Client {
        self.deps
            .opentext
            .with_deadline(self.inv.opentext_deadline())
    }

    pub(super) fn snapshot_date(&self) -> SnapshotDate {
        SnapshotDate::parse_in(self.qdate.clone(), self.deps.opentext.time_zone())
    }

    pub(crate) async fn drive(&mut self) -> Result<Handled, StepError> {
        if self.progress.is_none() {
            let Some(progress) = self.freeze_batch().await? else {
                self.save(states::DONE).await?;
                return Ok(Handled::Nothing(format!(
                    "snapshot {} of disposition search {} has no approved item that destroys content",
                    self.qdate, self.event.node_id
                )));
            };
            self.progress = Some(progress);
            self.save(states::DISPOSING).await?;
        }
        if self.state != states::CERTIFIED {
            let via_job = self.progress.as_ref().is_some_and(|p| p.via_job);
            if self.state != states::JOB_RUNNING {
                self.dispose_records().await?;
                if via_job && let Some(job_id) = self.start_job().await? {
                    self.schedule_check().await?;
                    self.lease.rest().await?;
                    return Ok(Handled::Done(format!(
                        "disposition {}: versions handed to S3 Batch Operations job {job_id}",
                        self.certificate_id
                    )));
                }
            }
            if self.state == states::JOB_RUNNING
                && let JobLook::Running(how_far) = self.look_at_job().await?
            {
                self.schedule_check().await?;
                self.lease.rest().await?;
                return Ok(Handled::Nothing(how_far));
            }
            self.certify().await?;
        }
        if !self.dry_run {
            self.report_back().await?;
        }
        let progress = self.progress.as_ref().expect("set above");
        let what = format!(
            "{} {}: {} destroyed, {} refused, certificate {}",
            if self.dry_run {
                "dry run"
            } else {
                "disposition"
            },
            self.certificate_id,
            progress
                .outcomes
                .values()
                .filter(|o| matches!(o, RecordOutcome::Destroyed(_)))
                .count(),
            progress
                .outcomes
                .values()
                .filter(|o| matches!(o, RecordOutcome::Refused { .. }))
                .count(),
            progress.certificate_uri.clone().unwrap_or_default()
        );
        self.save(states::DONE).await?;
        Ok(Handled::Done(what))
    }

    /// The snapshot's approved items whose action destroys content, frozen as the batch.
    async fn freeze_batch(&self) -> Result<Option<DispositionProgress>, StepError> {
        let items = self
            .ot()
            .disposition_snapshot(self.event.node_id as i64, &self.snapshot_date())
            .await
            .map_err(StepError::from)?;
        let wanted: Option<Vec<u64>> = self.event.data.get("records").and_then(|r| {
            r.as_array()
                .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
        });
        let records: Vec<BatchRecord> = items
            .iter()
            .filter(|i| i.is_approved())
            .filter(|i| {
                i.disp_action
                    .is_some_and(|a| DESTROYING_ACTIONS.contains(&a))
            })
            .filter(|i| wanted.as_ref().is_none_or(|w| w.contains(&(i.id as u64))))
            .map(|i| BatchRecord {
                node_id: i.id as u64,
                name: i.name.clone(),
                stage_count: i.stage_count,
            })
            .collect();
        if records.is_empty() {
            return Ok(None);
        }
        let reviewer = self
            .event
            .data
            .get("reviewer")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| self.event.actor.name.clone())
            .or_else(|| {
                items
                    .iter()
                    .find_map(|i| i.reviewerid.map(|r| format!("user {r}")))
            })
            .unwrap_or_else(|| "unknown".into());
        let decided_at = OffsetDateTime::parse(
            &self.event.occurred_at,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
        Ok(Some(DispositionProgress {
            via_job: self.wants_job(records.len()),
            job: None,
            certificate_id: self.certificate_id.clone(),
            dry_run: self.dry_run,
            generated_at: now(),
            approval: Approval {
                source: match self.event.source {
                    Some(records_domain::lifecycle::EventSource::Poller) => {
                        ApprovalSource::Snapshot
                    }
                    _ => ApprovalSource::Callback,
                },
                disposition_search_id: self.event.node_id,
                qdate: self.qdate.clone(),
                reviewer,
                decided_at,
            },
            records,
            outcomes: Default::default(),
            certificate_uri: None,
            reported: false,
        }))
    }

    async fn dispose_records(&mut self) -> Result<(), StepError> {
        let records = self.progress.as_ref().expect("frozen").records.clone();
        let statuses = self.deps.policy.get().business_events.event_statuses();
        let lock = ObjectLock::new(self.deps.s3.clone());
        let links = LinkStore::new(self.deps.dynamodb.clone(), &self.deps.workflow_table);
        let ot = self.ot();
        for record in records {
            if self.record_finished(record.node_id) {
                continue;
            }
            let linked: Vec<LinkedVersion> = links
                .get(record.node_id)
                .await
                .map_err(|e| StepError::Retry(e.to_string()))?
                .versions
                .into_iter()
                .collect();
            let versions: Vec<ObjectVersion> = linked.iter().map(LinkedVersion::object).collect();
            let inputs =
                checks::inputs_for(&ot, &lock, record.node_id, &versions, &statuses, now()).await?;
            match decide(&inputs) {
                DispositionDecision::Refuse(reasons) => {
                    let notes: Vec<RefusalNote> = reasons.into_iter().map(Into::into).collect();
                    let text: Vec<String> = notes.iter().map(|n| n.message.clone()).collect();
                    self.audit(record.node_id, None, Outcome::Denied, &text.join("; "))
                        .await?;
                    self.refuse_rest(record.node_id, notes);
                    self.save(states::DISPOSING).await?;
                }
                DispositionDecision::Destroy {
                    delete,
                    already_gone,
                } => {
                    self.destroy(
                        &record,
                        &linked,
                        &delete,
                        &already_gone,
                        inputs.disposition_date,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Refuses what of the record is not yet deleted: versions deleted before the reason
    /// came (a hold placed between two deliveries, a job's task that refused) stay
    /// certified as deleted, the rest is refused with the reasons.
    pub(super) fn refuse_rest(&mut self, node_id: u64, notes: Vec<RefusalNote>) {
        let outcome = match self.outcomes().remove(&node_id) {
            Some(RecordOutcome::Destroyed(mut certified)) => {
                certified
                    .versions
                    .retain(|v| v.disposal != VersionDisposal::WouldDelete);
                if certified.versions.is_empty() {
                    RecordOutcome::Refused { reasons: notes }
                } else {
                    RecordOutcome::PartlyDestroyed {
                        certified,
                        reasons: notes,
                    }
                }
            }
            Some(RecordOutcome::PartlyDestroyed {
                certified,
                mut reasons,
            }) => {
                reasons.extend(notes);
                RecordOutcome::PartlyDestroyed { certified, reasons }
            }
            Some(RecordOutcome::Refused { mut reasons }) => {
                reasons.extend(notes);
                RecordOutcome::Refused { reasons }
            }
            None => RecordOutcome::Refused { reasons: notes },
        };
        self.outcomes().insert(node_id, outcome);
    }

    fn record_finished(&self, node_id: u64) -> bool {
        match self
            .progress
            .as_ref()
            .and_then(|p| p.outcomes.get(&node_id))
        {
            Some(RecordOutcome::Refused { .. } | RecordOutcome::PartlyDestroyed { .. }) => true,
            Some(RecordOutcome::Destroyed(c)) => c
                .versions
                .iter()
                .all(|v| self.dry_run || v.disposal != VersionDisposal::WouldDelete),
            None => false,
        }
    }

    fn outcomes(&mut self) -> &mut std::collections::BTreeMap<u64, RecordOutcome> {
        &mut self.progress.as_mut().expect("frozen").outcomes
    }

    /// Records the plan (sizes read while the versions exist), then deletes each version,
    /// saving its deletion time at once: a crash repeats no deletion and loses no time.
    async fn destroy(
        &mut self,
        record: &BatchRecord,
        linked: &[LinkedVersion],
        delete: &[ObjectVersion],
        already_gone: &[ObjectVersion],
        disposition_date: Option<OffsetDateTime>,
    ) -> Result<(), StepError> {
        if !matches!(
            self.progress
                .as_ref()
                .and_then(|p| p.outcomes.get(&record.node_id)),
            Some(RecordOutcome::Destroyed(_))
        ) {
            let rm = self
                .ot()
                .rm_classifications(record.node_id as i64)
                .await
                .map_err(StepError::from)?;
            let details = rm.primary();
            let mut versions = Vec::new();
            for v in linked {
                let size = match self
                    .deps
                    .objects
                    .facts(&v.bucket, &v.key, Some(&v.version_id))
                    .await
                {
                    Ok(f) => f.size,
                    Err(records_aws::s3_objects::S3Error::NotFound { .. }) => 0,
                    Err(e) => return Err(StepError::Retry(format!("S3: {e}"))),
                };
                versions.push(CertificateVersion {
                    bucket: v.bucket.clone(),
                    key: v.key.clone(),
                    version_id: v.version_id.clone(),
                    sha256: (!v.sha256.is_empty()).then(|| v.sha256.clone()),
                    size,
                    disposal: VersionDisposal::WouldDelete,
                });
            }
            let certified = CertifiedRecord {
                node_id: record.node_id,
                name: record.name.clone(),
                classification: details.and_then(|d| {
                    d.name
                        .clone()
                        .or_else(|| d.rmclassification_id.map(|id| id.to_string()))
                }),
                rsi: details.and_then(|d| d.rsi.clone()),
                disposition_date,
                versions,
            };
            self.outcomes()
                .insert(record.node_id, RecordOutcome::Destroyed(certified));
            self.save(states::DISPOSING).await?;
        }
        for v in already_gone {
            let progress = self.progress.as_mut().expect("frozen");
            if let Some(entry) = progress.version_mut(record.node_id, &v.version_id)
                && entry.disposal == VersionDisposal::WouldDelete
                && !self.dry_run
            {
                entry.disposal = VersionDisposal::FoundGone { checked_at: now() };
            }
        }
        if self.dry_run {
            self.audit(record.node_id, None, Outcome::DryRun, "would be destroyed")
                .await?;
            return Ok(());
        }
        // Nothing of a destroyed record stays readable: its published copy (P7) goes first.
        crate::publication::take_down_disposed(
            self.deps,
            record.node_id,
            &format!(
                "destroyed under disposition certificate {}",
                self.certificate_id
            ),
            self.inv,
        )
        .await?;
        if self.progress.as_ref().is_some_and(|p| p.via_job) {
            // The job's task deletes (after its own re-check); the plan is saved.
            return self.save(states::DISPOSING).await;
        }
        for v in delete {
            self.deps
                .objects
                .delete_version(&v.bucket, &v.key, &v.version_id)
                .await
                .map_err(|e| StepError::Retry(format!("S3: {e}")))?;
            let at = now();
            if let Some(entry) = self
                .progress
                .as_mut()
                .expect("frozen")
                .version_mut(record.node_id, &v.version_id)
            {
                entry.disposal = VersionDisposal::Deleted { at };
            }
            self.save(states::DISPOSING).await?;
            self.audit(
                record.node_id,
                Some(v),
                Outcome::Succeeded,
                &format!("deleted under certificate {}", self.certificate_id),
            )
            .await?;
            self.deps.crash_point("disposition-delete");
        }
        self.save(states::DISPOSING).await
    }

    /// Signs the certificate and writes it once to the WORM audit bucket.
    async fn certify(&mut self) -> Result<(), StepError> {
        let certificate = self.progress.as_ref().expect("frozen").certificate();
        let canonical = CanonicalCertificate::of(&certificate)
            .map_err(|e| StepError::Permanent(format!("certificate: {e}")))?;
        let signed = self
            .disposition
            .signer
            .sign(&canonical)
            .await
            .map_err(|e| StepError::Retry(format!("signing the certificate: {e}")))?;
        let stored = self.disposition.store.put(&signed).await.map_err(|e| {
            if e.is_retryable() {
                StepError::Retry(format!("storing the certificate: {e}"))
            } else {
                StepError::Permanent(format!("storing the certificate: {e}"))
            }
        })?;
        self.progress.as_mut().expect("frozen").certificate_uri =
            Some(format!("s3://{}/{}", stored.bucket, stored.key));
        self.save(states::CERTIFIED).await?;
        self.deps.crash_point("disposition-certified");
        Ok(())
    }

    pub(super) async fn save(&mut self, to: &str) -> Result<(), StepError> {
        let detail = self
            .progress
            .as_ref()
            .map(DispositionProgress::to_json)
            .unwrap_or_else(|| "{}".into());
        let store = &self.lease.store;
        if states::TERMINAL.contains(&to) {
            store
                .finish(
                    self.key.as_str(),
                    &self.lease.owner,
                    &self.state,
                    to,
                    &detail,
                )
                .await?;
        } else {
            store
                .transition(
                    self.key.as_str(),
                    &self.lease.owner,
                    &self.state,
                    to,
                    &detail,
                    self.lease.duration,
                )
                .await?;
        }
        self.state = to.to_string();
        Ok(())
    }

    pub(crate) async fn fail(&mut self, reason: &str) {
        if let Err(e) = self.save(states::FAILED).await {
            tracing::error!(error = %e, "could not record the failed disposition");
        }
        if let Err(e) = self.audit(0, None, Outcome::Failed, reason).await {
            tracing::error!(error = %e, "could not audit the failed disposition");
        }
    }

    pub(super) async fn audit(
        &self,
        node_id: u64,
        version: Option<&ObjectVersion>,
        outcome: Outcome,
        reason: &str,
    ) -> Result<(), StepError> {
        let key = IdempotencyKey::from_parts(
            "dispose",
            &[
                &self.certificate_id,
                &node_id.to_string(),
                &version.map(|v| v.version_id.clone()).unwrap_or_default(),
                &format!("{outcome:?}"),
            ],
        );
        let mut ev = AuditEvent::new(
            &key.external_identity(),
            &now_rfc3339(),
            self.deps.actor.clone(),
            AuditAction::Dispose,
            outcome,
        )
        .with_correlation_id(self.inv.request_id.clone())
        .with_reason(reason)
        .with_detail("certificate_id", self.certificate_id.clone())
        .with_detail("disposition_search_id", self.event.node_id)
        .with_detail("qdate", self.qdate.clone());
        if node_id != 0 {
            ev = ev.with_record(node_id, None);
        }
        if let Some(v) = version {
            ev = ev.with_object(v.clone());
        }
        self.deps
            .audit
            .append(&ev)
            .await
            .map_err(|e| StepError::Retry(e.to_string()))
    }
}

pub(super) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}
