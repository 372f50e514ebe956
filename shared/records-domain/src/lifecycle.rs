//! Lifecycle events from OpenText: one contract for signed callbacks and the poller, so
//! the same workers handle an event wherever it came from (`schemas/lifecycle-event.schema.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the event contract this code reads and writes.
pub const LIFECYCLE_SCHEMA: u32 = 1;
/// Longest accepted event id.
pub const MAX_EVENT_ID_LEN: usize = 128;
/// What an event id may be (lifecycle and business events alike), as said to senders.
pub const EVENT_ID_RULE: &str = "1..=128 characters of A-Z a-z 0-9 - _ . :";

/// An event id: 1..=[`MAX_EVENT_ID_LEN`] of `A-Z a-z 0-9 - _ . :` (it becomes a DynamoDB
/// key and an audit detail, so nothing that needs escaping).
pub fn is_event_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_EVENT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// What happened in OpenText.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LifecycleEventType {
    /// A record's RM status changed (e.g. to the archive status the policy names).
    #[serde(rename = "record.status_changed")]
    RecordStatusChanged,
    /// A node moved to another folder (e.g. into an archive folder).
    #[serde(rename = "node.moved")]
    NodeMoved,
    /// A new version was added to a document.
    #[serde(rename = "node.version_added")]
    VersionAdded,
    /// A hold was applied to the node (directly or through a container).
    #[serde(rename = "hold.applied")]
    HoldApplied,
    /// A hold was removed from the node.
    #[serde(rename = "hold.removed")]
    HoldRemoved,
    /// The RSI, record date or another retention input changed.
    #[serde(rename = "retention.changed")]
    RetentionChanged,
    /// The disposition review set a status on the record.
    #[serde(rename = "disposition.status_changed")]
    DispositionStatusChanged,
    /// P4: a disposition review approved records for destruction. `node_id` is the RM
    /// disposition search; `data.qdate` names its snapshot (optional `data.dry_run`,
    /// `data.reviewer`).
    #[serde(rename = "disposition.approved")]
    DispositionApproved,
    /// Category attribute values changed on the node (`data.category_id` names the
    /// category): P7 reads it as an approval set or taken back.
    #[serde(rename = "node.attributes_changed")]
    AttributesChanged,
    /// P7: publish the document (an API call through the intake); `version`, when given,
    /// is the version asked for.
    #[serde(rename = "publication.requested")]
    PublicationRequested,
    /// P7: take the published copy down (optional `data.reason`).
    #[serde(rename = "publication.withdrawn")]
    PublicationWithdrawn,
}

impl LifecycleEventType {
    pub const ALL: [LifecycleEventType; 11] = [
        LifecycleEventType::RecordStatusChanged,
        LifecycleEventType::NodeMoved,
        LifecycleEventType::VersionAdded,
        LifecycleEventType::HoldApplied,
        LifecycleEventType::HoldRemoved,
        LifecycleEventType::RetentionChanged,
        LifecycleEventType::DispositionStatusChanged,
        LifecycleEventType::DispositionApproved,
        LifecycleEventType::AttributesChanged,
        LifecycleEventType::PublicationRequested,
        LifecycleEventType::PublicationWithdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEventType::RecordStatusChanged => "record.status_changed",
            LifecycleEventType::NodeMoved => "node.moved",
            LifecycleEventType::VersionAdded => "node.version_added",
            LifecycleEventType::HoldApplied => "hold.applied",
            LifecycleEventType::HoldRemoved => "hold.removed",
            LifecycleEventType::RetentionChanged => "retention.changed",
            LifecycleEventType::DispositionStatusChanged => "disposition.status_changed",
            LifecycleEventType::DispositionApproved => "disposition.approved",
            LifecycleEventType::AttributesChanged => "node.attributes_changed",
            LifecycleEventType::PublicationRequested => "publication.requested",
            LifecycleEventType::PublicationWithdrawn => "publication.withdrawn",
        }
    }

    /// The `data` fields this type must carry.
    pub fn required_data(self) -> &'static [&'static str] {
        match self {
            LifecycleEventType::RecordStatusChanged => &["status"],
            LifecycleEventType::NodeMoved => &["to_parent_id"],
            LifecycleEventType::VersionAdded => &[],
            LifecycleEventType::HoldApplied | LifecycleEventType::HoldRemoved => &["hold_id"],
            LifecycleEventType::RetentionChanged => &[],
            LifecycleEventType::DispositionStatusChanged => &["status"],
            LifecycleEventType::DispositionApproved => &["qdate"],
            LifecycleEventType::AttributesChanged => &["category_id"],
            LifecycleEventType::PublicationRequested | LifecycleEventType::PublicationWithdrawn => {
                &[]
            }
        }
    }
}

/// Who did it in OpenText.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleActor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where the event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    /// A signed callback from an OpenText-side event handler.
    Callback,
    /// Derived by the poller from the REST API.
    Poller,
}

/// One lifecycle event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleEvent {
    /// Contract version (1).
    pub schema: u32,
    /// Unique per event (the sender's id; replays with the same id are refused).
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: LifecycleEventType,
    pub node_id: u64,
    /// The document version concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// RFC 3339, when it happened in OpenText.
    pub occurred_at: String,
    pub actor: LifecycleActor,
    /// Type-specific fields (see [`LifecycleEventType::required_data`]).
    #[serde(default)]
    pub data: BTreeMap<String, serde_json::Value>,
    /// Set by records-bridge on intake; senders leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleEventError {
    #[error("not a lifecycle event: {0}")]
    Shape(String),
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

fn field(field: &str, message: impl Into<String>) -> LifecycleEventError {
    LifecycleEventError::Field {
        field: field.into(),
        message: message.into(),
    }
}

impl LifecycleEvent {
    /// Parses and validates a callback body. The message names the offending field.
    pub fn parse(body: &[u8]) -> Result<LifecycleEvent, LifecycleEventError> {
        let event: LifecycleEvent =
            serde_json::from_slice(body).map_err(|e| LifecycleEventError::Shape(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    pub fn validate(&self) -> Result<(), LifecycleEventError> {
        if self.schema != LIFECYCLE_SCHEMA {
            return Err(field(
                "schema",
                format!(
                    "unsupported version {} (expected {LIFECYCLE_SCHEMA})",
                    self.schema
                ),
            ));
        }
        if !is_event_id(&self.event_id) {
            return Err(field("event_id", EVENT_ID_RULE));
        }
        if self.node_id == 0 {
            return Err(field("node_id", "must be a positive node id"));
        }
        if time::OffsetDateTime::parse(
            &self.occurred_at,
            &time::format_description::well_known::Rfc3339,
        )
        .is_err()
        {
            return Err(field(
                "occurred_at",
                format!("{:?} is not RFC 3339 with a zone", self.occurred_at),
            ));
        }
        for required in self.event_type.required_data() {
            if !self.data.contains_key(*required) {
                return Err(field(
                    &format!("data.{required}"),
                    format!("required for {}", self.event_type.as_str()),
                ));
            }
        }
        Ok(())
    }

    /// The idempotency key of the event itself (replay refusal, poller dedupe).
    pub fn idempotency_key(&self) -> crate::IdempotencyKey {
        crate::IdempotencyKey::from_parts("event", &[&self.event_id])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"schema":1,"event_id":"otcs-7781-2026-11-25T10:00:00Z","type":"hold.applied","node_id":10001,"occurred_at":"2026-11-25T10:00:00Z","actor":{"user_id":1001,"name":"jdoe"},"data":{"hold_id":6100,"hold_name":"LIT-2026-001"}}"#;

    #[test]
    fn a_good_event_parses_and_round_trips() {
        let e = LifecycleEvent::parse(GOOD.as_bytes()).unwrap();
        assert_eq!(e.event_type, LifecycleEventType::HoldApplied);
        assert_eq!(e.data["hold_id"], 6100);
        let again = LifecycleEvent::parse(serde_json::to_string(&e).unwrap().as_bytes()).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn bad_events_name_the_field() {
        let cases = [
            (
                GOOD.replace("\"hold.applied\"", "\"hold.exploded\""),
                "unknown variant",
            ),
            (GOOD.replace("\"schema\":1", "\"schema\":2"), "schema"),
            (
                GOOD.replace("otcs-7781-2026-11-25T10:00:00Z", "bad id with spaces"),
                "event_id",
            ),
            (
                GOOD.replace("\"node_id\":10001", "\"node_id\":0"),
                "node_id",
            ),
            (
                GOOD.replace("2026-11-25T10:00:00Z\",\"actor", "yesterday\",\"actor"),
                "occurred_at",
            ),
            (GOOD.replace("\"hold_id\":6100,", ""), "data.hold_id"),
            (
                GOOD.replace("\"data\"", "\"extra\":1,\"data\""),
                "unknown field",
            ),
            ("[]".to_string(), "not a lifecycle event"),
        ];
        for (body, expected) in cases {
            let err = LifecycleEvent::parse(body.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{body} -> {err}");
        }
    }

    #[test]
    fn type_names_match_the_json_schema_file() {
        let schema = include_str!("../../../schemas/lifecycle-event.schema.json");
        for t in LifecycleEventType::ALL {
            assert!(
                schema.contains(&format!("\"{}\"", t.as_str())),
                "{} missing from the schema",
                t.as_str()
            );
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
    }
}
