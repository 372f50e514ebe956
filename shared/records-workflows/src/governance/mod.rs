//! P3 governance of S3-resident content (OpenText → S3): holds become S3 legal holds,
//! retention becomes Object Lock retain-until (or a legal hold while it waits on an event),
//! the disposition status becomes an object tag, on every S3 version linked to the record
//! (`records_aws::links`, written by the declare function).
//!
//! Every action is idempotent (S3 is set to a state, never toggled), keyed
//! (`IdempotencyKey::from_parts("hold-sync" | "retention-sync" | "disposition-tag", …)`, whose
//! hash is the audit event id, so a redelivery writes the same event id), and audited.

mod disposition;
mod holds;
pub mod opentext_side;
mod retention;

use records_aws::links::{LinkStore, LinkedVersion};
use records_aws::object_lock::ObjectLock;
use records_aws::s3_objects::S3Error;
use records_domain::retention::LockMode;
use records_domain::{AuditAction, AuditEvent, IdempotencyKey, LifecycleEvent, Outcome};

use crate::lifecycle::{Deps, Handled};
use crate::{Invocation, StepError, now_rfc3339};

/// Governance settings from the environment.
#[derive(Debug, Clone)]
pub struct GovernanceConfig {
    /// Mode new retention is set in (`OBJECT_LOCK_MODE`, default COMPLIANCE).
    pub lock_mode: LockMode,
    /// Shorten GOVERNANCE locks when OpenText shortens retention
    /// (`ALLOW_GOVERNANCE_SHORTENING=true`; needs s3:BypassGovernanceRetention).
    pub allow_governance_shortening: bool,
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        Self {
            lock_mode: LockMode::Compliance,
            allow_governance_shortening: false,
        }
    }
}

impl GovernanceConfig {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let d = Self::default();
        Self {
            lock_mode: get("OBJECT_LOCK_MODE")
                .and_then(|m| LockMode::parse(&m))
                .unwrap_or(d.lock_mode),
            allow_governance_shortening: get("ALLOW_GOVERNANCE_SHORTENING")
                .is_some_and(|v| v == "true" || v == "1"),
        }
    }
}

pub async fn on_event(
    deps: &Deps,
    event: &LifecycleEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    use records_domain::LifecycleEventType as T;
    if event.event_type == T::VersionAdded {
        // New content arrives from S3 (declare, `on_existing_name: new_version`); a version
        // added in OpenText has no S3 object to govern.
        return Ok(Handled::Nothing(
            "node.version_added: nothing to push to S3".into(),
        ));
    }
    let links = LinkStore::new(deps.dynamodb.clone(), &deps.workflow_table)
        .get(event.node_id)
        .await
        .map_err(|e| StepError::Retry(e.to_string()))?;
    let is_hold = matches!(event.event_type, T::HoldApplied | T::HoldRemoved);
    // Holds reach the record's P2 archive copies too (listed by its archive item).
    let archive = if is_hold {
        holds::archive_copies(deps, event.node_id).await?
    } else {
        None
    };
    if links.versions.is_empty() && archive.is_none() {
        return Ok(Handled::Nothing(format!(
            "node {} governs no S3 object version",
            event.node_id
        )));
    }
    let ctx = Ctx {
        deps,
        inv,
        event,
        lock: ObjectLock::new(deps.s3.clone()),
        versions: links.versions.into_iter().collect(),
    };
    match event.event_type {
        T::HoldApplied | T::HoldRemoved => holds::sync(&ctx, archive.as_ref()).await,
        T::RetentionChanged => retention::sync(&ctx).await,
        T::DispositionStatusChanged => disposition::tag(&ctx).await,
        other => Ok(Handled::Nothing(format!(
            "{} is not a governance event",
            other.as_str()
        ))),
    }
}

/// One event's work: the event, its record's linked versions, the clients.
pub(crate) struct Ctx<'a> {
    pub deps: &'a Deps,
    pub inv: &'a Invocation,
    pub event: &'a LifecycleEvent,
    pub lock: ObjectLock,
    pub versions: Vec<LinkedVersion>,
}

impl Ctx<'_> {
    pub fn opentext(&self) -> opentext_client::Client {
        self.deps
            .opentext
            .with_deadline(self.inv.opentext_deadline())
    }

    pub fn node_id(&self) -> i64 {
        self.event.node_id as i64
    }

    /// The effect's key for one version; its hash is the audit event id.
    pub fn key(&self, scope: &str, v: &LinkedVersion) -> IdempotencyKey {
        IdempotencyKey::from_parts(
            scope,
            &[&self.event.event_id, &v.bucket, &v.key, &v.version_id],
        )
    }

    pub fn audit(
        &self,
        key: &IdempotencyKey,
        action: AuditAction,
        outcome: Outcome,
        v: &LinkedVersion,
    ) -> AuditEvent {
        AuditEvent::new(
            &key.external_identity(),
            &now_rfc3339(),
            self.deps.actor.clone(),
            action,
            outcome,
        )
        .with_object(v.object())
        .with_record(self.event.node_id, self.event.version)
        .with_sha256(&v.sha256)
        .with_correlation_id(self.inv.request_id.clone())
        .with_detail("lifecycle_event_id", self.event.event_id.clone())
        .with_detail("trigger", self.event.event_type.as_str())
    }

    pub async fn append(&self, ev: AuditEvent) -> Result<(), StepError> {
        self.deps
            .audit
            .append(&ev)
            .await
            .map_err(|e| StepError::Retry(e.to_string()))
    }
}

/// Per-version S3 trouble: a missing version is recorded and skipped (the reconciler
/// reports it); anything else is retried.
pub(crate) enum VersionError {
    Gone(String),
    Step(StepError),
}

impl From<S3Error> for VersionError {
    fn from(e: S3Error) -> Self {
        match e {
            S3Error::NotFound { .. } => VersionError::Gone(e.to_string()),
            S3Error::Refused { ref code, .. } if code == "MethodNotAllowed" => {
                // HeadObject on a delete marker.
                VersionError::Gone(e.to_string())
            }
            e if e.is_retryable() => VersionError::Step(StepError::Retry(format!("S3: {e}"))),
            // Access denied, no Object Lock on the bucket: a deployment fault, kept for the DLQ.
            e => VersionError::Step(StepError::Retry(format!("S3: {e}"))),
        }
    }
}

/// Runs `f` for every linked version; gone versions are audited as failed and skipped.
/// Returns how many versions were acted on.
pub(crate) async fn for_each_version<'c, F, Fut>(
    ctx: &'c Ctx<'c>,
    scope: &str,
    action: AuditAction,
    mut f: F,
) -> Result<Vec<String>, StepError>
where
    F: FnMut(&'c LinkedVersion) -> Fut,
    Fut: std::future::Future<Output = Result<String, VersionError>>,
{
    let mut done = Vec::new();
    for v in &ctx.versions {
        match f(v).await {
            Ok(what) => done.push(what),
            Err(VersionError::Gone(reason)) => {
                let ev = ctx
                    .audit(&ctx.key(scope, v), action, Outcome::Failed, v)
                    .with_reason(format!("linked version not found in S3: {reason}"));
                ctx.append(ev).await?;
            }
            Err(VersionError::Step(e)) => return Err(e),
        }
    }
    Ok(done)
}
