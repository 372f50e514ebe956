//! Business events (P4): a line-of-business system says that a business object reached the
//! point its records' retention counts from (`case.closed`, `claim.settled`,
//! `contract.expired`). One contract (`schemas/business-event.schema.json`) for both ways
//! in: an EventBridge custom bus (the event's `detail`, or the whole envelope when a rule
//! forwards it unchanged) and the signed intake.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::lifecycle::{EVENT_ID_RULE, is_event_id};

/// Version of the business event contract.
pub const BUSINESS_EVENT_SCHEMA: u32 = 1;
/// Longest business object type or id.
pub const MAX_BUSINESS_ID_LEN: usize = 256;

/// The thing a line-of-business system tracks (`case` `C-1042`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessObject {
    #[serde(rename = "type")]
    pub object_type: String,
    pub id: String,
}

impl BusinessObject {
    pub fn new(object_type: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            object_type: object_type.into(),
            id: id.into(),
        }
    }

    /// The index key records are found by: the type compared without case (`Case` and
    /// `case` are one type), the id exactly as the business system writes it, both trimmed.
    pub fn index_key(&self) -> String {
        format!(
            "{}#{}",
            self.object_type.trim().to_lowercase(),
            self.id.trim()
        )
    }

    pub fn validate(&self) -> Result<(), BusinessEventError> {
        let ok = |s: &str| {
            let s = s.trim();
            !s.is_empty() && s.len() <= MAX_BUSINESS_ID_LEN && !s.chars().any(char::is_control)
        };
        if !ok(&self.object_type) || self.object_type.contains('#') {
            return Err(field(
                "business_object.type",
                format!("1..={MAX_BUSINESS_ID_LEN} characters, no control characters or '#'"),
            ));
        }
        if !ok(&self.id) {
            return Err(field(
                "business_object.id",
                format!("1..={MAX_BUSINESS_ID_LEN} characters, no control characters"),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for BusinessObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.object_type, self.id)
    }
}

/// One business event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessEvent {
    /// Contract version (1).
    pub schema: u32,
    /// Unique per event; a repeat with the same id is the same event.
    pub event_id: String,
    /// Dotted lower-case name, e.g. `case.closed`.
    pub event_type: String,
    pub business_object: BusinessObject,
    /// When it happened: RFC 3339 with a zone, or a business date `YYYY-MM-DD` (midnight UTC).
    pub occurred_at: String,
    /// The system that says so (`crm-prod`, or the EventBridge `source`).
    pub source: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusinessEventError {
    #[error("not a business event: {0}")]
    Shape(String),
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

fn field(field: &str, message: impl Into<String>) -> BusinessEventError {
    BusinessEventError::Field {
        field: field.into(),
        message: message.into(),
    }
}

/// True for a body that is a business event (bare or in an EventBridge envelope) rather
/// than an OpenText lifecycle event: the two share the lifecycle queue.
pub fn is_business_event(body: &Value) -> bool {
    body.get("business_object").is_some()
        || (body.get("detail-type").is_some() && body.get("detail").is_some())
}

impl BusinessEvent {
    /// Parses and validates a body: the contract itself, or an EventBridge event carrying it
    /// in `detail` (its `id`, `detail-type`, `source` and `time` fill what `detail` leaves out).
    pub fn parse(body: &[u8]) -> Result<BusinessEvent, BusinessEventError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| BusinessEventError::Shape(e.to_string()))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<BusinessEvent, BusinessEventError> {
        let value = match value {
            Value::Object(envelope)
                if envelope.contains_key("detail-type") && envelope.contains_key("detail") =>
            {
                from_eventbridge(envelope)?
            }
            other => other,
        };
        let event: BusinessEvent =
            serde_json::from_value(value).map_err(|e| BusinessEventError::Shape(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    pub fn validate(&self) -> Result<(), BusinessEventError> {
        if self.schema != BUSINESS_EVENT_SCHEMA {
            return Err(field(
                "schema",
                format!(
                    "unsupported version {} (expected {BUSINESS_EVENT_SCHEMA})",
                    self.schema
                ),
            ));
        }
        if !is_event_id(&self.event_id) {
            return Err(field("event_id", EVENT_ID_RULE));
        }
        if !is_event_type(&self.event_type) {
            return Err(field(
                "event_type",
                format!(
                    "{:?} is not a dotted lower-case name such as case.closed",
                    self.event_type
                ),
            ));
        }
        self.business_object.validate()?;
        if parse_occurred_at(&self.occurred_at).is_none() {
            return Err(field(
                "occurred_at",
                format!(
                    "{:?} is neither RFC 3339 with a zone nor a date YYYY-MM-DD",
                    self.occurred_at
                ),
            ));
        }
        if self.source.trim().is_empty() || self.source.len() > MAX_BUSINESS_ID_LEN {
            return Err(field(
                "source",
                format!("1..={MAX_BUSINESS_ID_LEN} characters"),
            ));
        }
        Ok(())
    }

    /// When it happened (validated events always have it).
    pub fn occurred(&self) -> Option<OffsetDateTime> {
        parse_occurred_at(&self.occurred_at)
    }

    /// The idempotency key of the event itself (replay refusal on intake): under `event#`
    /// like a lifecycle event's (the intake may write only those keys), in its own space.
    pub fn idempotency_key(&self) -> crate::IdempotencyKey {
        crate::IdempotencyKey::from_parts("event", &["business", &self.event_id])
    }
}

/// `case.closed`: two or more dot-separated parts of `a-z 0-9 _ -`, starting with a letter.
fn is_event_type(s: &str) -> bool {
    s.len() <= 128
        && s.split('.').count() >= 2
        && s.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
}

/// RFC 3339 with a zone, or a date (midnight UTC). A time without a zone is refused: it
/// could be any of 26 hours, and retention dates must not depend on a guess.
pub fn parse_occurred_at(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

fn from_eventbridge(
    mut envelope: serde_json::Map<String, Value>,
) -> Result<Value, BusinessEventError> {
    let Some(Value::Object(mut detail)) = envelope.remove("detail") else {
        return Err(BusinessEventError::Shape(
            "EventBridge event whose detail is not an object".into(),
        ));
    };
    let mut fill = |key: &str, from: Option<Value>| {
        if let Some(v) = from
            && !detail.contains_key(key)
        {
            detail.insert(key.to_string(), v);
        }
    };
    fill("schema", Some(Value::from(BUSINESS_EVENT_SCHEMA)));
    fill("event_id", envelope.remove("id"));
    fill("event_type", envelope.remove("detail-type"));
    fill("source", envelope.remove("source"));
    fill("occurred_at", envelope.remove("time"));
    Ok(Value::Object(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE: &str = r#"{"schema":1,"event_id":"crm-77","event_type":"case.closed","business_object":{"type":"case","id":"C-1042"},"occurred_at":"2026-11-30T16:00:00+01:00","source":"crm-prod"}"#;

    #[test]
    fn the_contract_parses_and_says_when() {
        let e = BusinessEvent::parse(BARE.as_bytes()).unwrap();
        assert_eq!(e.business_object.index_key(), "case#C-1042");
        assert_eq!(
            e.occurred().unwrap(),
            time::macros::datetime!(2026-11-30 15:00 UTC)
        );
    }

    #[test]
    fn an_eventbridge_envelope_fills_what_detail_leaves_out() {
        let envelope = r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"claim.settled","source":"com.example.claims","account":"111122223333","time":"2026-12-01T09:30:00Z","region":"us-east-1","resources":[],"detail":{"business_object":{"type":"Claim","id":"CL-9"}}}"#;
        let e = BusinessEvent::parse(envelope.as_bytes()).unwrap();
        assert_eq!(e.event_id, "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
        assert_eq!(e.event_type, "claim.settled");
        assert_eq!(e.source, "com.example.claims");
        assert_eq!(e.business_object.index_key(), "claim#CL-9");
        assert!(is_business_event(&serde_json::from_str(envelope).unwrap()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = |patch: &str, field_name: &str| {
            let mut v: Value = serde_json::from_str(BARE).unwrap();
            let p: Value = serde_json::from_str(patch).unwrap();
            for (k, val) in p.as_object().unwrap() {
                v[k] = val.clone();
            }
            let err = BusinessEvent::from_value(v).unwrap_err().to_string();
            assert!(err.starts_with(field_name), "{patch}: {err}");
        };
        bad(r#"{"schema":2}"#, "schema");
        bad(r#"{"event_id":"a b"}"#, "event_id");
        bad(r#"{"event_type":"Closed"}"#, "event_type");
        bad(
            r#"{"business_object":{"type":"","id":"x"}}"#,
            "business_object.type",
        );
        bad(
            r#"{"business_object":{"type":"case","id":" "}}"#,
            "business_object.id",
        );
        // A time without a zone is ambiguous: refused; a plain date is a business date.
        bad(r#"{"occurred_at":"2026-11-30T16:00:00"}"#, "occurred_at");
        bad(r#"{"source":""}"#, "source");
        let mut v: Value = serde_json::from_str(BARE).unwrap();
        v["occurred_at"] = "2026-11-30".into();
        let e = BusinessEvent::from_value(v).unwrap();
        assert_eq!(
            e.occurred().unwrap(),
            time::macros::datetime!(2026-11-30 0:00 UTC)
        );
    }

    #[test]
    fn the_json_schema_file_names_every_field() {
        let schema: Value =
            serde_json::from_str(include_str!("../../../schemas/business-event.schema.json"))
                .unwrap();
        let props = schema["properties"].as_object().unwrap();
        let example: Value = serde_json::from_str(BARE).unwrap();
        for key in example.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "{key} missing from the schema");
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(example.get(required.as_str().unwrap()).is_some());
        }
    }

    #[test]
    fn lifecycle_events_are_told_apart() {
        let lifecycle: Value = serde_json::from_str(r#"{"schema":1,"event_id":"x","type":"hold.applied","node_id":1,"occurred_at":"2026-11-25T10:00:00Z","actor":{},"data":{"hold_id":1}}"#).unwrap();
        assert!(!is_business_event(&lifecycle));
        assert!(is_business_event(&serde_json::from_str(BARE).unwrap()));
    }
}
