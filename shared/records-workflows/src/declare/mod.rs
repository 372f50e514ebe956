//! P1 declare on upload: an S3 object version becomes a declared OpenText record, exactly
//! once. Claim it, then walk the workflow states, persisting each step, so that a crash at
//! any point is finished by a later attempt without a second document, version or
//! classification.
//!
//! - this module: the entry ([`declare`]), S3's order per key (older versions first), the
//!   claim and its settlement through the one [`runner`](crate::runner);
//! - [`run`]: the per-version state machine (upload, classify, tag, finish);
//! - [`opentext_steps`]: upload / adopt / name clashes, categories, RM classification;
//! - [`s3_source`]: an S3 object version as streamed, hashed upload content;
//! - [`deleted`]: delete markers on governed objects, reported on their records (P3);
//! - [`progress`]: what the workflow item keeps between attempts;
//! - `upload_session`: a chunked upload's key saved, and an abandoned one cancelled;
//! - [`opentext_access`]: the service account's client, built in the background.

pub mod deleted;
pub mod opentext_access;
mod opentext_steps;
pub mod progress;
mod run;
pub mod s3_source;
mod upload_session;

use records_aws::audit_log::AuditLog;
use records_aws::links::LinkStore;
use records_aws::s3_objects::{S3Error, S3ObjectFacts, S3Objects};
use records_aws::workflow_store::WorkflowStore;
use records_domain::{
    AuditAction, AuditEvent, Decision, DeclarationState, IdempotencyKey, ObjectFacts,
    ObjectVersion, Outcome as AuditOutcome, SelfWriters, StateKind, transition,
};

use crate::runner::{Claimed, CrashPoints, Lease, StepError};
use crate::{Invocation, now_rfc3339};
use progress::Progress;
use run::Run;

/// Everything built once per cold start and shared by every invocation.
pub struct Deps {
    pub s3: S3Objects,
    pub store: WorkflowStore,
    pub audit: AuditLog,
    /// Which S3 versions each record governs (P3 governance and the reconciler read them).
    pub links: LinkStore,
    /// P4: business object → records, written with each declaration.
    pub business_index: records_aws::business_index::BusinessIndex,
    /// Built in the background from start-up (see [`opentext_access`]).
    pub opentext: opentext_access::OpenTextAccess,
    /// The records policy, re-read from its source when due.
    pub policy: records_aws::policy_handle::PolicyHandle,
    pub actor: records_domain::Actor,
    /// Object versions handled at once within one batch.
    pub concurrency: usize,
    pub crash: CrashPoints,
    /// The roles records-bridge writes tags with: their tagging events are its own.
    pub self_writers: SelfWriters,
    /// P5's endpoint (`ACCESS_URL`): a reference record's manifest links its content there.
    pub access_url: Option<String>,
}

/// One S3 object change that may need declaring (from an S3 event notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    pub event_name: String,
    pub event_time: Option<String>,
    pub bucket: String,
    /// Decoded key, exactly as stored in S3.
    pub key: String,
    pub version_id: Option<String>,
    pub etag: Option<String>,
    pub size: Option<u64>,
    pub sequencer: Option<String>,
    /// `userIdentity.principalId`, when S3 sends it.
    pub principal: Option<String>,
}

impl ObjectEvent {
    /// Only object creation and tagging can make a version governed.
    pub fn is_relevant(&self) -> bool {
        self.event_name.starts_with("ObjectCreated:") || self.event_name == "ObjectTagging:Put"
    }

    /// A delete marker hid the object (P3: reported on the governing records).
    pub fn is_delete_marker(&self) -> bool {
        self.event_name == "ObjectRemoved:DeleteMarkerCreated"
    }

    /// An `ObjectTagging:Put` caused by records-bridge's own tag write (one of `writers`'
    /// roles): nothing to declare, dropped before any store or S3 call. Object creations and
    /// a person's tagging never are.
    pub fn is_self_caused(&self, writers: &SelfWriters) -> bool {
        writers.caused(&self.event_name, self.principal.as_deref())
    }
}

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

/// The idempotency key: from the event when it names a version, else from the facts
/// (unversioned buckets need the ETag to tell overwrites apart).
fn key_for(event: &ObjectEvent, facts: Option<&S3ObjectFacts>) -> IdempotencyKey {
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
) -> Result<Declared, StepError> {
    declare_version(deps, event, inv, true).await
}

async fn declare_version(
    deps: &Deps,
    event: &ObjectEvent,
    inv: &Invocation,
    catch_up: bool,
) -> Result<Declared, StepError> {
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
        Err(S3Error::NotFound { .. }) => return gone(deps, event, inv).await,
        Err(e) => return Err(StepError::Retry(format!("S3: {e}"))),
    };
    if let Some(versions) = versions {
        let versions = versions.map_err(|e| StepError::Retry(format!("S3: {e}")))?;
        declare_older_versions(deps, event, &versions, inv).await?;
    }
    claim_and_run(deps, event, inv, facts).await
}

/// The version was deleted before it could be declared: audited as skipped, settled.
async fn gone(deps: &Deps, event: &ObjectEvent, inv: &Invocation) -> Result<Declared, StepError> {
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
    deps.audit.append(&ev).await?;
    Ok(Declared::Skipped { reason })
}

/// Claims the version's workflow item and drives it through the one runner.
async fn claim_and_run(
    deps: &Deps,
    event: &ObjectEvent,
    inv: &Invocation,
    facts: S3ObjectFacts,
) -> Result<Declared, StepError> {
    let key = key_for(event, Some(&facts));
    let owner = format!("{}/{}", inv.request_id, uuid::Uuid::new_v4());
    // A governed version starts in `uploading` with its plan, in the claim's own write.
    let first = first_step(deps, &facts, event);
    let (state, detail) = match &first {
        Some(p) => (StateKind::Uploading.as_str(), p.to_json()),
        None => (StateKind::Claimed.as_str(), "{}".to_string()),
    };
    let (lease, claimed) = Lease::claim(
        deps.store.clone(),
        key.as_str(),
        owner,
        inv.lease(),
        state,
        &detail,
    )
    .await?;
    let item = match claimed {
        Claimed::Acquired { item, .. } => item,
        Claimed::Done(_) => return Ok(Declared::Duplicate),
        Claimed::Ended(item) => {
            let reason = Progress::parse(&item.detail).reason.unwrap_or(item.state);
            return Err(StepError::Permanent(reason));
        }
    };
    let mut run = Run {
        deps,
        inv,
        key,
        lease: lease.clone(),
        facts,
        event,
        progress: Progress::parse(&item.detail),
        created_here: false,
    };
    if run.progress.state.is_none() {
        run.progress.state = Some(DeclarationState::Claimed);
    }
    let result = run.drive().await;
    lease
        .settle(result, |reason| async move { run.fail(&reason).await })
        .await
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
) -> Result<(), StepError> {
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
        let item = deps.store.get(key.as_str()).await?;
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
            Err(StepError::Permanent(reason)) => {
                tracing::warn!(older = %version, reason, "an older version failed; it fails alone");
            }
            Err(StepError::Retry(reason)) => {
                return Err(StepError::Retry(format!(
                    "older version {version} of this key is not declared yet: {reason}"
                )));
            }
        }
    }
    Ok(())
}

/// The object as the policy sees it.
pub(crate) fn policy_facts(f: &S3ObjectFacts, event: &ObjectEvent) -> ObjectFacts {
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
fn first_step(deps: &Deps, facts: &S3ObjectFacts, event: &ObjectEvent) -> Option<Progress> {
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

/// An audit event whose id is derived from the effect, so a retried write is the same event.
pub(crate) fn audit_event(
    deps: &Deps,
    inv: &Invocation,
    key: &IdempotencyKey,
    action: AuditAction,
    outcome: AuditOutcome,
    tag: &str,
) -> AuditEvent {
    let id = format!("{}-{tag}", key.external_identity());
    AuditEvent::new(&id, &now_rfc3339(), deps.actor.clone(), action, outcome)
        .with_correlation_id(inv.request_id.clone())
}
