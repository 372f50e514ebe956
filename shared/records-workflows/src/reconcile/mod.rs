//! P3 reconciler: for every record ⇄ S3 version link (`records_aws::links`), compares what
//! OpenText says (record exists, holds in force, retention from RSI and record date) with
//! what S3 holds (version exists, legal hold, retain-until, SHA-256), classifies the drift
//! (`records_domain::drift`), repairs what cannot lose a protection (legal hold ON where
//! OpenText has a hold, retention extended) and reports the rest: one `reconcile` audit
//! event per finding and a JSON report. Scheduled, and runnable on demand (`dry_run`).

mod sides;

use std::collections::BTreeMap;

use records_aws::audit_log::AuditLog;
use records_aws::links::{LinkStore, LinkedVersion};
use records_aws::object_lock::ObjectLock;
use records_aws::s3_objects::S3Objects;
use records_domain::drift::{Drift, DriftKind, Repair, classify};
use records_domain::retention::LockMode;
use records_domain::{Actor, AuditAction, AuditEvent, IdempotencyKey, Outcome};
use serde::{Deserialize, Serialize};

/// What the handler was asked: `{}` or a scheduled event = repair; `{"dry_run":true}` = report only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Request {
    #[serde(default)]
    pub dry_run: bool,
}

impl Request {
    /// Any JSON object; `dry_run` must be a boolean when present.
    pub fn from_payload(v: &serde_json::Value) -> anyhow::Result<Request> {
        match v.get("dry_run") {
            None | Some(serde_json::Value::Null) => Ok(Request::default()),
            Some(serde_json::Value::Bool(b)) => Ok(Request { dry_run: *b }),
            Some(other) => anyhow::bail!("dry_run must be true or false, got {other}"),
        }
    }
}

/// One finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub node_id: u64,
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    #[serde(flatten)]
    pub drift: Drift,
    /// The repair was made in this run.
    pub repaired: bool,
    /// Why a repair failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub dry_run: bool,
    pub records: usize,
    pub versions: usize,
    pub drift: Vec<Finding>,
    pub counts: BTreeMap<String, usize>,
    pub repaired: usize,
    /// Links that could not be checked (OpenText or S3 unavailable), with the reason.
    pub unchecked: Vec<String>,
}

pub struct Reconciler {
    pub links: LinkStore,
    pub lock: ObjectLock,
    pub objects: S3Objects,
    pub audit: AuditLog,
    pub opentext: opentext_client::Client,
    pub lock_mode: LockMode,
    pub actor: Actor,
    /// Its `business_events` tell when an event-based retention has started (P4).
    pub policy: records_aws::policy_handle::PolicyHandle,
}

impl Reconciler {
    /// One full pass over every link.
    pub async fn run(&self, request: &Request, run_id: &str) -> anyhow::Result<Report> {
        let mut report = Report {
            dry_run: request.dry_run,
            ..Default::default()
        };
        let event_statuses = self.policy.get().business_events.event_statuses();
        for record in self.links.all().await? {
            report.records += 1;
            let record_side =
                match sides::record_side(&self.opentext, record.node_id, &event_statuses).await {
                    Ok(side) => side,
                    Err(e) => {
                        report
                            .unchecked
                            .push(format!("node {}: OpenText: {e}", record.node_id));
                        continue;
                    }
                };
            for v in &record.versions {
                report.versions += 1;
                let object_side = match sides::object_side(&self.lock, &self.objects, v).await {
                    Ok(side) => side,
                    Err(e) => {
                        report.unchecked.push(format!(
                            "s3://{}/{}?versionId={}: {e}",
                            v.bucket, v.key, v.version_id
                        ));
                        continue;
                    }
                };
                for drift in classify(&v.sha256, &record_side, &object_side, self.lock_mode) {
                    let finding = self
                        .settle(request, run_id, record.node_id, v, drift)
                        .await?;
                    *report
                        .counts
                        .entry(kind_name(finding.drift.kind))
                        .or_default() += 1;
                    report.repaired += usize::from(finding.repaired);
                    report.drift.push(finding);
                }
            }
        }
        Ok(report)
    }

    /// Repairs a finding when safe (and not a dry run), then audits it.
    async fn settle(
        &self,
        request: &Request,
        run_id: &str,
        node_id: u64,
        v: &LinkedVersion,
        drift: Drift,
    ) -> anyhow::Result<Finding> {
        let object = v.object();
        let mut error = None;
        let mut repaired = false;
        if let (Some(repair), false) = (&drift.repair, request.dry_run) {
            let result = match repair {
                Repair::LegalHoldOn => self.lock.set_legal_hold(&object, true).await,
                Repair::ExtendRetention { mode, until } => {
                    self.lock
                        .set_retention(&object, *mode, until.unix_timestamp(), false)
                        .await
                }
            };
            match result {
                Ok(()) => repaired = true,
                Err(e) => error = Some(e.to_string()),
            }
        }
        let outcome = match (&drift.repair, request.dry_run, repaired) {
            (_, _, true) => Outcome::Succeeded,
            (Some(_), true, _) => Outcome::DryRun,
            (Some(_), false, false) => Outcome::Failed,
            (None, _, _) => Outcome::Skipped,
        };
        let kind = kind_name(drift.kind);
        let key = IdempotencyKey::from_parts(
            "reconcile",
            &[run_id, &v.bucket, &v.key, &v.version_id, &kind],
        );
        let reason = match (&error, &drift.repair) {
            (Some(e), _) => format!("{kind}: repair failed: {e}"),
            (None, Some(_)) if repaired => format!("{kind}: repaired"),
            (None, Some(_)) => format!("{kind}: repair previewed (dry run)"),
            (None, None) => format!("{kind}: reported for review (not safe to repair)"),
        };
        let ev = AuditEvent::new(
            &key.external_identity(),
            &crate::now_rfc3339(),
            self.actor.clone(),
            AuditAction::Reconcile,
            outcome,
        )
        .with_object(object)
        .with_record(node_id, None)
        .with_sha256(&v.sha256)
        .with_reason(reason)
        .with_correlation_id(run_id)
        .with_detail("drift", kind)
        .with_detail("expected", drift.expected.clone())
        .with_detail("actual", drift.actual.clone());
        self.audit.append(&ev).await?;
        Ok(Finding {
            node_id,
            bucket: v.bucket.clone(),
            key: v.key.clone(),
            version_id: v.version_id.clone(),
            drift,
            repaired,
            error,
        })
    }
}

pub fn kind_name(kind: DriftKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
