//! One attempt at making a node's publication match OpenText: resume the step in flight,
//! decide (standing request, gates), then write the approved version or remove what must
//! not stay readable.

use records_aws::publication_bucket::NewPublication;
use records_domain::policy::publication::{
    ContentTypeSource, KeyFacts, PublicationPolicy, moved_to,
};
use records_domain::publication::{
    GateRefusal, LiveCopy, PlannedCopy, PublicationProgress, PublicationState, Removal, Standing,
    cdn_path, check_gates, public_url,
};
use records_domain::workflow::WorkflowState;
use records_domain::{AuditAction, AuditEvent, IdempotencyKey, LifecycleEvent, Outcome};
use sha2::{Digest, Sha256};

use super::PublicationDeps;
use super::facts::{self, Document};
use crate::lifecycle::{Deps, Handled};
use crate::opentext_content::{SecondRead, hash_version};
use crate::runner::Lease;
use crate::{Invocation, StepError};

/// Largest object one PutObject accepts.
const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// What the event is to the publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// One of the policy's triggers: a request to publish.
    Request,
    /// `publication.withdrawn`.
    Withdrawal,
    /// Anything else about the node: check again.
    Change,
}

/// Where the decision lands.
enum Wanted {
    Publish(u32),
    /// Nothing may be readable; rest in `then` for `reason`.
    Nothing {
        then: PublicationState,
        reason: String,
        refusals: Vec<GateRefusal>,
    },
}

pub(super) struct Run<'a> {
    pub deps: &'a Deps,
    pub publish: &'a PublicationDeps,
    pub policy: &'a PublicationPolicy,
    pub inv: &'a Invocation,
    pub ot: opentext_client::Client,
    pub lease: Lease,
    pub key: IdempotencyKey,
    pub node_id: u64,
    pub state: PublicationState,
    pub progress: PublicationProgress,
}

impl Run<'_> {
    pub(super) async fn drive(
        &mut self,
        event: &LifecycleEvent,
        cause: Cause,
    ) -> Result<Handled, StepError> {
        // A removal in flight (or failed mid-way) is finished first: what it takes down
        // must not stay up.
        if self.progress.removing.is_some() {
            if self.state != PublicationState::Removing {
                self.save(PublicationState::Removing).await?;
            }
            self.finish_removal().await?;
        }
        self.update_standing(event, cause);
        let doc = facts::read(&self.ot, self.policy, self.node_id).await?;
        let wanted = self.decide(event, cause, doc.as_ref());
        let done = match (wanted, doc) {
            (Wanted::Publish(version), Some(doc)) => self.publish_version(&doc, version).await?,
            (
                Wanted::Nothing {
                    then,
                    reason,
                    refusals,
                },
                _,
            ) => {
                self.nothing_readable(event, cause, then, reason, refusals)
                    .await?
            }
            (Wanted::Publish(_), None) => unreachable!("decide publishes only a document read"),
        };
        self.lease.rest().await?;
        Ok(done)
    }

    fn update_standing(&mut self, event: &LifecycleEvent, cause: Cause) {
        match cause {
            Cause::Withdrawal => {
                self.progress.standing = None;
                let why = event
                    .data
                    .get("reason")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| "withdrawn".into());
                self.progress.reason = Some(match &event.actor.name {
                    Some(who) => format!("{why} (by {who})"),
                    None => why,
                });
            }
            Cause::Request => {
                self.progress.standing = Some(match moved_to(event) {
                    Some(f) if self.policy.is_publish_folder(f) => Standing::Folder(f),
                    _ if matches!(
                        event.event_type,
                        records_domain::LifecycleEventType::AttributesChanged
                            | records_domain::LifecycleEventType::RecordStatusChanged
                    ) =>
                    {
                        Standing::Approval
                    }
                    _ => Standing::Request,
                });
            }
            Cause::Change => {
                // Taken out of the publish folder: withdrawn, whatever else requested it.
                if let Some(from) = self.policy.moved_out_by(event) {
                    self.progress.standing = None;
                    self.progress.reason = Some(format!(
                        "moved out of publish folder {from} (to {})",
                        moved_to(event).unwrap_or_default()
                    ));
                }
            }
        }
    }

    fn decide(&mut self, event: &LifecycleEvent, cause: Cause, doc: Option<&Document>) -> Wanted {
        let withdrawn = |reason: String| Wanted::Nothing {
            then: PublicationState::Withdrawn,
            reason,
            refusals: vec![],
        };
        let Some(doc) = doc else {
            self.progress.standing = None;
            return withdrawn(format!(
                "node {} no longer exists in OpenText (disposed or deleted)",
                self.node_id
            ));
        };
        if let Some(Standing::Folder(f)) = self.progress.standing {
            let parent = doc.node.parent_id.unwrap_or_default() as u64;
            if parent != f {
                self.progress.standing = None;
                self.progress.reason =
                    Some(format!("moved out of publish folder {f} (now in {parent})"));
            }
        }
        if self.progress.standing.is_none() {
            let reason = self
                .progress
                .reason
                .clone()
                .unwrap_or_else(|| "no request to publish stands".into());
            return withdrawn(reason);
        }
        let asked = (cause == Cause::Request).then_some(event.version).flatten();
        match check_gates(self.policy, &doc.gates, asked) {
            Ok(v) => Wanted::Publish(v),
            Err(refusals) => Wanted::Nothing {
                then: PublicationState::Refused,
                reason: refusals
                    .iter()
                    .map(|r| format!("{}: {}", r.code, r.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
                refusals,
            },
        }
    }

    /// Every gate passed for `version`: written once, the copy it replaces removed.
    async fn publish_version(
        &mut self,
        doc: &Document,
        version: u32,
    ) -> Result<Handled, StepError> {
        let key = self
            .policy
            .key
            .render(
                self.policy.audience,
                &KeyFacts {
                    node_id: self.node_id,
                    name: &doc.node.name,
                    version,
                },
            )
            .map_err(StepError::Permanent)?;
        if let Some(live) = &self.progress.live
            && live.version == version
            && live.key == key
            && self
                .publish
                .bucket
                .head(&key, live.s3_version_id.as_deref())
                .await?
                .is_some()
        {
            // Saved all the same: what requests it may have changed, and an earlier attempt
            // may have failed after this copy went live (it still is).
            self.progress.reason = None;
            self.save(PublicationState::Published).await?;
            return Ok(Handled::Nothing(format!(
                "version {version} of node {} is already published at {key}",
                self.node_id
            )));
        }
        // A copy an interrupted attempt wrote elsewhere (the name changed since) goes.
        let orphan = self
            .progress
            .writing
            .take()
            .map(|w| w.key)
            .filter(|k| *k != key && self.progress.live.as_ref().is_none_or(|l| l.key != *k));
        self.progress.writing = Some(PlannedCopy {
            version,
            key: key.clone(),
        });
        self.progress.refusals.clear();
        self.progress.reason = None;
        self.save(PublicationState::Writing).await?;
        let live = self.write(doc, version, &key).await?;
        self.deps.crash_point("publication-written");
        self.audit_published(&live).await?;
        let replaced = self.progress.live.clone();
        self.progress.retire_live();
        self.progress.live = Some(live.clone());
        self.progress.writing = None;
        let what = format!(
            "published version {version} of node {} at s3://{}/{key}",
            self.node_id,
            self.publish.bucket.bucket()
        );
        let removal = match (&replaced, orphan) {
            // An unversioned bucket overwrote the copy in place: nothing else to remove
            // (an empty version list would mean every version, the new copy's too).
            (Some(old), None) if old.key == key && old.s3_version_id.is_none() => {
                self.save(PublicationState::Published).await?;
                self.invalidate(
                    &cdn_path(&key).into_iter().collect::<Vec<_>>(),
                    &removal_id(self.node_id, old),
                )
                .await?;
                return Ok(Handled::Done(format!(
                    "{what}; version {} it replaced was overwritten",
                    old.version
                )));
            }
            (Some(old), orphan) => {
                let same_key = old.key == key;
                let mut invalidate: Vec<String> = cdn_path(&old.key).into_iter().collect();
                if !same_key {
                    invalidate.extend(cdn_path(&key));
                }
                Some(Removal {
                    removal_id: removal_id(self.node_id, old),
                    versions: if same_key {
                        old.s3_version_id.clone().into_iter().collect()
                    } else {
                        vec![]
                    },
                    key: old.key.clone(),
                    also: orphan.into_iter().collect(),
                    reason: format!("replaced by version {version}"),
                    then: PublicationState::Published,
                    invalidate,
                })
            }
            (None, Some(orphan)) => Some(Removal {
                removal_id: format!("orphan-{}", short_hash(&[&orphan, &live.key])),
                invalidate: cdn_path(&orphan).into_iter().collect(),
                key: orphan,
                versions: vec![],
                also: vec![],
                reason: "written by an interrupted attempt under an earlier name".into(),
                then: PublicationState::Published,
            }),
            (None, None) => None,
        };
        match removal {
            Some(removal) => {
                self.progress.removing = Some(removal);
                self.save(PublicationState::Removing).await?;
                self.finish_removal().await?;
                Ok(Handled::Done(match replaced {
                    Some(old) => format!("{what}; version {} it replaced removed", old.version),
                    None => what,
                }))
            }
            None => {
                self.save(PublicationState::Published).await?;
                Ok(Handled::Done(what))
            }
        }
    }

    /// Streams the version into the bucket (or adopts the copy an earlier attempt wrote).
    async fn write(
        &mut self,
        doc: &Document,
        version: u32,
        key: &str,
    ) -> Result<LiveCopy, StepError> {
        let meta = doc.version(version);
        let expected = meta.and_then(|v| v.file_size).unwrap_or(-1);
        if expected > MAX_PUT_BYTES as i64 {
            return Err(StepError::Permanent(format!(
                "version {version} is {expected} bytes; one published copy takes at most \
                 {MAX_PUT_BYTES}"
            )));
        }
        let (size, sha256) = hash_version(&self.ot, self.node_id as i64, version).await?;
        let found = self.publish.bucket.head(key, None).await?;
        let published_at = crate::now_rfc3339();
        let url = self
            .publish
            .base_url
            .as_deref()
            .and_then(|b| public_url(b, key));
        if let Some(found) = found {
            let owner = found.metadata.get("otcs-node-id").cloned();
            if owner.as_deref() != Some(self.node_id.to_string().as_str()) {
                return Err(StepError::Permanent(format!(
                    "s3://{}/{key} is the publication of {}; node {} is not published over it",
                    self.publish.bucket.bucket(),
                    owner.map_or("another writer".to_string(), |n| format!("node {n}")),
                    self.node_id
                )));
            }
            let ours = found.metadata.get("otcs-version") == Some(&version.to_string())
                && found.metadata.get("otcs-sha256") == Some(&sha256)
                && found.size == size;
            if ours {
                tracing::info!(key, version, "adopting the copy an earlier attempt wrote");
                return Ok(LiveCopy {
                    version,
                    key: key.to_string(),
                    s3_version_id: found.version_id,
                    sha256,
                    size,
                    published_at,
                    url,
                });
            }
        }
        let file_name = meta
            .and_then(|v| v.file_name.clone())
            .unwrap_or_else(|| doc.node.name.clone());
        let content_type = match &self.policy.content_type {
            ContentTypeSource::Fixed(t) => t.clone(),
            ContentTypeSource::FromOpentext => meta
                .and_then(|v| v.mime_type.clone())
                .or_else(|| doc.node.mime_type.clone())
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "application/octet-stream".into()),
        };
        let disposition =
            records_domain::access::content_disposition_as(!self.policy.attachment, &file_name);
        let metadata = [
            ("otcs-node-id", self.node_id.to_string()),
            ("otcs-version", version.to_string()),
            ("otcs-sha256", sha256.clone()),
            (
                "source",
                format!("otcs:node/{}/version/{version}", self.node_id),
            ),
            ("published-at", published_at.clone()),
        ];
        let (second, stream) = SecondRead::open(&self.ot, self.node_id as i64, version).await?;
        let s3_version_id = self
            .publish
            .bucket
            .put(
                &NewPublication {
                    key,
                    size,
                    sha256: &sha256,
                    content_type: &content_type,
                    cache_control: Some(&self.policy.cache_control),
                    content_disposition: Some(&disposition),
                    metadata: &metadata,
                },
                stream,
            )
            .await?;
        if let Err(e) = second.check(size, &sha256, &format!("version {version}")) {
            // Not trusted: taken down again before the failure is recorded.
            if let Some(v) = &s3_version_id {
                self.publish.bucket.remove_version(key, v).await?;
            }
            return Err(e);
        }
        tracing::info!(key, version, size, "published copy written");
        Ok(LiveCopy {
            version,
            key: key.to_string(),
            s3_version_id,
            sha256,
            size,
            published_at,
            url,
        })
    }

    /// Nothing may stay readable: a live copy is removed and invalidated; the item rests in
    /// `then` with the reason (and the refusals) for operators to see.
    async fn nothing_readable(
        &mut self,
        event: &LifecycleEvent,
        cause: Cause,
        then: PublicationState,
        reason: String,
        refusals: Vec<GateRefusal>,
    ) -> Result<Handled, StepError> {
        let unchanged = self.state == then && self.progress.refusals == refusals;
        self.progress.refusals = refusals;
        self.progress.reason = Some(reason.clone());
        // A copy an interrupted attempt wrote is not kept either.
        let orphan = self
            .progress
            .writing
            .take()
            .map(|w| w.key)
            .filter(|k| self.progress.live.as_ref().is_none_or(|l| l.key != *k));
        let live = self.progress.live.clone();
        if live.is_some() || orphan.is_some() {
            let (key, also) = match (&live, orphan) {
                (Some(l), orphan) => (l.key.clone(), orphan.into_iter().collect()),
                (None, Some(o)) => (o, vec![]),
                (None, None) => unreachable!("one of them is some"),
            };
            let mut invalidate: Vec<String> = cdn_path(&key).into_iter().collect();
            invalidate.extend(also.iter().filter_map(|k: &String| cdn_path(k)));
            self.progress.removing = Some(Removal {
                removal_id: match &live {
                    Some(l) => removal_id(self.node_id, l),
                    None => format!("orphan-{}", short_hash(&[&key, &event.event_id])),
                },
                key: key.clone(),
                versions: vec![],
                also,
                reason: reason.clone(),
                then,
                invalidate,
            });
            self.progress.retire_live();
            self.save(PublicationState::Removing).await?;
            self.finish_removal().await?;
            return Ok(Handled::Done(format!(
                "removed the published copy of node {} at {key}: {reason}",
                self.node_id
            )));
        }
        if unchanged && cause == Cause::Change {
            // Checked again, nothing new: the item already says so.
            return Ok(Handled::Nothing(format!(
                "node {} is still not published ({then}): {reason}",
                self.node_id
            )));
        }
        let (action, outcome, tag) = match then {
            PublicationState::Refused => (AuditAction::Publish, Outcome::Denied, "refused"),
            _ => (AuditAction::Withdraw, Outcome::Skipped, "withdrawn"),
        };
        let mut ev = self
            .event(action, outcome, &format!("{tag}-{}", event.event_id))
            .with_reason(reason.clone())
            .with_detail("event_type", event.event_type.as_str());
        if !self.progress.refusals.is_empty() {
            ev = ev.with_detail(
                "refusals",
                serde_json::to_value(&self.progress.refusals).unwrap_or_default(),
            );
        }
        self.deps.audit.append(&ev).await?;
        self.save(then).await?;
        Ok(Handled::Nothing(format!(
            "node {} is not published ({then}): {reason}",
            self.node_id
        )))
    }

    /// Removes what `progress.removing` names, invalidates its paths, audits the removal,
    /// and moves to where it rests. Each part may run again after a crash.
    async fn finish_removal(&mut self) -> Result<(), StepError> {
        let Some(removal) = self.progress.removing.clone() else {
            return Err(StepError::Permanent(
                "state removing without a removal plan: a bug in the publication workflow".into(),
            ));
        };
        let mut removed = if removal.versions.is_empty() {
            self.publish.bucket.remove_all(&removal.key).await?
        } else {
            for v in &removal.versions {
                self.publish.bucket.remove_version(&removal.key, v).await?;
            }
            removal.versions.clone()
        };
        for key in &removal.also {
            removed.extend(self.publish.bucket.remove_all(key).await?);
        }
        self.deps.crash_point("publication-removed");
        let invalidation = self
            .invalidate(&removal.invalidate, &removal.removal_id)
            .await?;
        let mut ev = self
            .event(
                AuditAction::Withdraw,
                Outcome::Succeeded,
                &removal.removal_id,
            )
            .with_reason(removal.reason.clone())
            .with_detail("bucket", self.publish.bucket.bucket().to_string())
            .with_detail("key", removal.key.clone())
            .with_detail("also_removed_keys", removal.also.clone())
            .with_detail("removed_versions", removed)
            .with_detail("invalidated", removal.invalidate.clone());
        if let Some(id) = invalidation {
            ev = ev.with_detail("invalidation_id", id);
        }
        self.deps.audit.append(&ev).await?;
        self.progress.removing = None;
        self.save(removal.then).await
    }

    /// Invalidates `paths` on the distribution (none: nothing to do); the invalidation id.
    async fn invalidate(
        &self,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<Option<String>, StepError> {
        let Some(cdn) = &self.publish.cdn else {
            return Ok(None);
        };
        if paths.is_empty() {
            return Ok(None);
        }
        cdn.invalidate(paths, caller_reference)
            .await
            .map(Some)
            .map_err(|e| {
                if e.is_retryable() {
                    StepError::Retry(format!("CloudFront: {e}"))
                } else {
                    StepError::Permanent(format!("CloudFront: {e}"))
                }
            })
    }

    async fn audit_published(&self, live: &LiveCopy) -> Result<(), StepError> {
        let mut ev = self
            .event(
                AuditAction::Publish,
                Outcome::Succeeded,
                &format!(
                    "published-v{}-{}",
                    live.version,
                    short_hash(&[&live.key, live.s3_version_id.as_deref().unwrap_or("")])
                ),
            )
            .with_sha256(&live.sha256)
            .with_detail("bucket", self.publish.bucket.bucket().to_string())
            .with_detail("key", live.key.clone())
            .with_detail("size", live.size)
            .with_detail(
                "audience",
                format!("{:?}", self.policy.audience).to_lowercase(),
            );
        ev.record = Some(records_domain::RecordRef {
            node_id: self.node_id,
            version_number: Some(live.version),
        });
        if let Some(v) = &live.s3_version_id {
            ev = ev.with_detail("s3_version_id", v.clone());
        }
        if let Some(u) = &live.url {
            ev = ev.with_detail("url", u.clone());
        }
        // Published means recorded: without the audit line the attempt retries (and adopts
        // the copy it wrote).
        Ok(self.deps.audit.append(&ev).await?)
    }

    fn event(&self, action: AuditAction, outcome: Outcome, tag: &str) -> AuditEvent {
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

    async fn save(&mut self, to: PublicationState) -> Result<(), StepError> {
        self.state = self.lease.step(self.state, to, &self.progress).await?;
        Ok(())
    }

    /// A permanent error: audited, the item rests in `failed` with the reason (the next
    /// event of the node tries again), the lease given back.
    pub(super) async fn fail(&mut self, reason: &str) {
        tracing::error!(reason, state = %self.state, "publication failed");
        let ev = self
            .event(
                AuditAction::Publish,
                Outcome::Failed,
                &format!("failed-{}", short_hash(&[reason, self.state.as_str()])),
            )
            .with_reason(reason);
        if let Err(e) = self.deps.audit.append(&ev).await {
            tracing::error!(code = %e.code, message = %e.message, "audit append failed");
        }
        self.progress.reason = Some(reason.to_string());
        if self.state.can_move_to(PublicationState::Failed)
            && let Err(e) = self.save(PublicationState::Failed).await
        {
            tracing::warn!(error = ?e, "could not record the publication failure");
        }
        if let Err(e) = self.lease.rest().await {
            tracing::warn!(error = ?e, "could not give the publication lease back");
        }
    }
}

/// The removal's id (its audit event, its invalidation's caller reference): one per copy.
fn removal_id(node_id: u64, copy: &LiveCopy) -> String {
    format!(
        "removed-{node_id}-v{}-{}",
        copy.version,
        short_hash(&[&copy.key, copy.s3_version_id.as_deref().unwrap_or("")])
    )
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_string()
}
