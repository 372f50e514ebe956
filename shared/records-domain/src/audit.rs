//! Audit events: who did what to which object/record, when, why, with which
//! hashes. One JSON object per line; ids and times come from the caller so the
//! domain stays deterministic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::idempotency::ObjectVersion;

/// JSON schema version of [`AuditEvent`]; bump on incompatible changes.
pub const AUDIT_SCHEMA: u32 = 1;

/// What happened, across all seven patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    // P1 / P3: S3 → OpenText
    Declare,
    NewVersion,
    Classify,
    Tag,
    // P2
    Archive,
    ReleaseContent,
    // P3 / P4
    HoldSync,
    RetentionSync,
    Reconcile,
    // P5
    Access,
    // P6
    Package,
    // P7
    Publish,
    Withdraw,
    // P4
    Dispose,
    /// A business event's change to a record (record date, status), or why it changed none.
    BusinessEvent,
}

/// How it ended. `Skipped` and `Failed` on `Declare` are the "declare skipped"
/// and "declare failed" events; `Denied` serves access and publication refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Skipped,
    Denied,
    Failed,
    /// A preview (P4 disposition dry run): nothing changed.
    DryRun,
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The bridge's OpenText service account (e.g. `svc-records`).
    ServiceAccount,
    /// An OpenText user (P5 access, P6/P7 requests, P4 approvals).
    OpentextUser,
    /// The AWS principal behind an S3 event (`userIdentity.principalId`).
    S3Principal,
    /// The bridge itself (poller, reconciler, scheduler).
    System,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
}

/// The OpenText side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub node_id: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_number: Option<u32>,
}

/// Content hashes, lower-case hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<String>,
    /// P6 packages carry SHA-512 manifests too.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha512: Option<String>,
}

impl Hashes {
    fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.sha512.is_none()
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub schema: u32,
    /// Unique id supplied by the caller (a UUID); also the dedupe key downstream.
    pub event_id: String,
    /// RFC 3339, supplied by the caller.
    pub at: String,
    pub actor: Actor,
    pub action: AuditAction,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub object: Option<ObjectVersion>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record: Option<RecordRef>,
    #[serde(skip_serializing_if = "Hashes::is_empty", default)]
    pub hashes: Hashes,
    /// Why: the rule name, the refusal or failure reason, the approval.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Ties the event to logs (Lambda request id) and the work item.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub correlation_id: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub details: BTreeMap<String, serde_json::Value>,
}

impl AuditEvent {
    pub fn new(
        event_id: &str,
        at: &str,
        actor: Actor,
        action: AuditAction,
        outcome: Outcome,
    ) -> Self {
        AuditEvent {
            schema: AUDIT_SCHEMA,
            event_id: event_id.to_string(),
            at: at.to_string(),
            actor,
            action,
            outcome,
            object: None,
            record: None,
            hashes: Hashes::default(),
            reason: None,
            correlation_id: None,
            details: BTreeMap::new(),
        }
    }

    pub fn with_object(mut self, object: ObjectVersion) -> Self {
        self.object = Some(object);
        self
    }

    pub fn with_record(mut self, node_id: u64, version_number: Option<u32>) -> Self {
        self.record = Some(RecordRef {
            node_id,
            version_number,
        });
        self
    }

    pub fn with_sha256(mut self, sha256: &str) -> Self {
        self.hashes.sha256 = Some(sha256.to_string());
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    /// One line of JSON, without the trailing newline. JSON escapes control
    /// characters inside strings, so the line never breaks.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("audit events contain only serialisable data")
    }

    pub fn from_json_line(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> Actor {
        Actor {
            kind: ActorKind::ServiceAccount,
            id: "svc-records".into(),
        }
    }

    #[test]
    fn declare_event_json_shape() {
        let e = AuditEvent::new(
            "6f1c2a4e-0000-4000-8000-000000000001",
            "2026-11-25T18:52:00Z",
            svc(),
            AuditAction::Declare,
            Outcome::Succeeded,
        )
        .with_object(ObjectVersion::new(
            "acme-records-prod",
            "finance/invoices/a\nb.pdf",
            Some("v1"),
        ))
        .with_record(10001, Some(1))
        .with_sha256("ab".repeat(32).as_str())
        .with_reason("rule finance-invoices")
        .with_correlation_id("req-1")
        .with_detail("classification_id", 4100)
        .with_detail("rsi", "FIN-7Y");
        let line = e.to_json_line();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "schema": 1,
                "event_id": "6f1c2a4e-0000-4000-8000-000000000001",
                "at": "2026-11-25T18:52:00Z",
                "actor": {"kind": "service_account", "id": "svc-records"},
                "action": "declare",
                "outcome": "succeeded",
                "object": {"bucket": "acme-records-prod", "key": "finance/invoices/a\nb.pdf", "version_id": "v1"},
                "record": {"node_id": 10001, "version_number": 1},
                "hashes": {"sha256": "ab".repeat(32)},
                "reason": "rule finance-invoices",
                "correlation_id": "req-1",
                "details": {"classification_id": 4100, "rsi": "FIN-7Y"}
            })
        );
        assert_eq!(AuditEvent::from_json_line(&line).unwrap(), e);
    }

    #[test]
    fn minimal_event_omits_empty_fields() {
        let e = AuditEvent::new(
            "id-2",
            "2026-11-25T18:52:01Z",
            Actor {
                kind: ActorKind::S3Principal,
                id: "AWS:AIDAEXAMPLE".into(),
            },
            AuditAction::Declare,
            Outcome::Skipped,
        )
        .with_reason("ungoverned: no rule matched");
        assert_eq!(
            e.to_json_line(),
            r#"{"schema":1,"event_id":"id-2","at":"2026-11-25T18:52:01Z","actor":{"kind":"s3_principal","id":"AWS:AIDAEXAMPLE"},"action":"declare","outcome":"skipped","reason":"ungoverned: no rule matched"}"#
        );
        assert_eq!(AuditEvent::from_json_line(&e.to_json_line()).unwrap(), e);
    }

    #[test]
    fn future_actions_serialise() {
        for (a, s) in [
            (AuditAction::HoldSync, "\"hold_sync\""),
            (AuditAction::ReleaseContent, "\"release_content\""),
            (AuditAction::Dispose, "\"dispose\""),
        ] {
            assert_eq!(serde_json::to_string(&a).unwrap(), s);
        }
        assert_eq!(
            serde_json::to_string(&Outcome::DryRun).unwrap(),
            "\"dry_run\""
        );
    }
}
