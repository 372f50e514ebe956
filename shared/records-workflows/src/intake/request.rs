//! The pure half of the intake: from an HTTP callback to a verified, validated event, or a
//! refusal with its HTTP status. No I/O, so every refusal is unit tested here.

use base64::Engine;
use records_domain::LifecycleEvent;
use records_domain::callback_signature::{self, SIGNATURE_HEADER, SigningKeys, TIMESTAMP_HEADER};

/// An HTTP call as the intake sees it, whatever carried it (a Lambda Function URL today).
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub method: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Option<String>,
    /// The body is base64 of the bytes sent (binary or non-UTF-8 bodies).
    pub is_base64_encoded: bool,
    pub source_ip: Option<String>,
}

/// A refused call: the status and a message safe to show the caller (no secrets, no
/// signatures, no body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// Only POST carries an event.
pub fn require_post(req: &Callback) -> Result<(), Refusal> {
    match req.method.as_deref() {
        Some(m) if m.eq_ignore_ascii_case("POST") => Ok(()),
        other => Err(Refusal::new(
            405,
            format!(
                "method {} not allowed; POST the event",
                other.unwrap_or("?")
            ),
        )),
    }
}

/// Events are JSON: anything else is 415 before its body is read. `application/json` (any
/// parameters, e.g. `; charset=utf-8`) or a `+json` type, compared case-insensitively.
pub fn require_json(req: &Callback) -> Result<(), Refusal> {
    let content_type = header(req, "content-type").unwrap_or_default();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media_type == "application/json" || media_type.ends_with("+json") {
        return Ok(());
    }
    Err(Refusal::new(
        415,
        format!(
            "Content-Type {:?} is not application/json; events are JSON",
            content_type
        ),
    ))
}

/// SQS takes messages of at most 256 KiB, the whole message counted.
pub const SQS_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The message enqueued for `event`, refused with 413 when it would not fit in one SQS
/// message (the body limit bounds the body; the envelope written around it must fit too).
pub fn queue_message(event: &impl serde::Serialize) -> Result<String, Refusal> {
    let message = serde_json::to_string(event)
        .map_err(|e| Refusal::new(400, format!("event cannot be enqueued: {e}")))?;
    if message.len() > SQS_MAX_MESSAGE_BYTES {
        return Err(Refusal::new(
            413,
            format!(
                "the event is {} bytes once enqueued; SQS takes {SQS_MAX_MESSAGE_BYTES} at most",
                message.len()
            ),
        ));
    }
    Ok(message)
}

/// The raw body bytes (decoding base64 when the Function URL encoded them), refused with 413
/// above `max` bytes before anything else is done with it.
pub fn body_bytes(req: &Callback, max: usize) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            413,
            format!("body larger than {max} bytes; events are small JSON documents"),
        )
    };
    let text = req.body.as_deref().unwrap_or("");
    if !req.is_base64_encoded {
        if text.len() > max {
            return Err(too_large());
        }
        return Ok(text.as_bytes().to_vec());
    }
    // Refuse on the encoded length first, so an oversize body is never decoded.
    if text.len() > max.div_ceil(3) * 4 + 4 {
        return Err(too_large());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| Refusal::new(400, "body marked base64 is not valid base64"))?;
    if bytes.len() > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A header's value (names are case-insensitive; repeated headers are joined with ", ").
pub fn header(req: &Callback, name: &str) -> Option<String> {
    let values: Vec<&str> = req
        .headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Signature then timestamp window; any failure is 401 with the reason.
pub fn authenticate(
    req: &Callback,
    body: &[u8],
    keys: &SigningKeys,
    now: i64,
    window_secs: u64,
) -> Result<(), Refusal> {
    callback_signature::check(
        keys,
        header(req, TIMESTAMP_HEADER).as_deref(),
        header(req, SIGNATURE_HEADER).as_deref(),
        body,
        now,
        window_secs,
    )
    .map(|_| ())
    .map_err(|e| Refusal::new(401, e.to_string()))
}

/// The event contract (`schemas/lifecycle-event.schema.json`); 400 naming the problem. The
/// source is set here whatever the sender wrote: only records-bridge says where an event
/// came from.
/// What the intake accepts: an OpenText lifecycle event, or a P4 business event from a
/// line-of-business system outside AWS (`schemas/business-event.schema.json`).
#[derive(Debug, Clone, PartialEq)]
pub enum IntakeEvent {
    Lifecycle(LifecycleEvent),
    Business(records_domain::BusinessEvent),
}

impl IntakeEvent {
    pub fn event_id(&self) -> &str {
        match self {
            IntakeEvent::Lifecycle(e) => &e.event_id,
            IntakeEvent::Business(e) => &e.event_id,
        }
    }

    /// Replays are refused per contract: the two kinds' ids never meet.
    pub fn idempotency_key(&self) -> records_domain::IdempotencyKey {
        match self {
            IntakeEvent::Lifecycle(e) => e.idempotency_key(),
            IntakeEvent::Business(e) => e.idempotency_key(),
        }
    }

    /// For the log: the type and what it is about.
    pub fn describe(&self) -> String {
        match self {
            IntakeEvent::Lifecycle(e) => format!("{} node {}", e.event_type.as_str(), e.node_id),
            IntakeEvent::Business(e) => {
                format!("{} {}", e.event_type, e.business_object.index_key())
            }
        }
    }

    pub fn queue_message(&self) -> Result<String, Refusal> {
        match self {
            IntakeEvent::Lifecycle(e) => queue_message(e),
            IntakeEvent::Business(e) => queue_message(e),
        }
    }
}

/// A lifecycle event or, when the body names a `business_object`, a business event.
pub fn parse_intake(body: &[u8]) -> Result<IntakeEvent, Refusal> {
    let is_business = serde_json::from_slice::<serde_json::Value>(body)
        .is_ok_and(|v| records_domain::business_event::is_business_event(&v));
    if is_business {
        let event = records_domain::BusinessEvent::parse(body)
            .map_err(|e| Refusal::new(400, format!("invalid business event: {e}")))?;
        return Ok(IntakeEvent::Business(event));
    }
    parse_event(body).map(IntakeEvent::Lifecycle)
}

pub fn parse_event(body: &[u8]) -> Result<LifecycleEvent, Refusal> {
    let mut event = LifecycleEvent::parse(body)
        .map_err(|e| Refusal::new(400, format!("invalid lifecycle event: {e}")))?;
    event.source = Some(records_domain::lifecycle::EventSource::Callback);
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const KEY: &str = "test-signing-key-0123456789abcdef0123";
    const EVENT: &str = r#"{"schema":1,"event_id":"otcs-1","type":"hold.applied","node_id":10001,"occurred_at":"2026-11-25T10:00:00Z","actor":{"user_id":1000},"data":{"hold_id":6100},"source":"poller"}"#;

    fn keys() -> SigningKeys {
        SigningKeys {
            current: KEY.into(),
            previous: None,
        }
    }

    fn request(body: &str, base64: bool, headers: &[(&str, String)]) -> Callback {
        let mut r = Callback {
            method: Some("POST".into()),
            body: Some(body.into()),
            is_base64_encoded: base64,
            ..Callback::default()
        };
        for (k, v) in headers {
            r.headers.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        r
    }

    fn signed(body: &str, ts: i64) -> Vec<(&'static str, String)> {
        let t = ts.to_string();
        vec![
            ("X-Records-Bridge-Timestamp", t.clone()),
            (
                "X-Records-Bridge-Signature",
                format!(
                    "v1={}",
                    callback_signature::sign(KEY.as_bytes(), &t, body.as_bytes())
                ),
            ),
        ]
    }

    #[test]
    fn a_signed_event_passes_and_its_source_is_ours() {
        let req = request(EVENT, false, &signed(EVENT, 1000));
        require_post(&req).unwrap();
        let body = body_bytes(&req, 4096).unwrap();
        authenticate(&req, &body, &keys(), 1000, 300).unwrap();
        let event = parse_event(&body).unwrap();
        assert_eq!(
            event.source,
            Some(records_domain::lifecycle::EventSource::Callback)
        );
    }

    #[test]
    fn size_is_checked_on_plain_and_base64_bodies() {
        let big = "x".repeat(4097);
        assert_eq!(
            body_bytes(&request(&big, false, &[]), 4096)
                .unwrap_err()
                .status,
            413
        );
        let enc = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            body_bytes(&request(&enc(big.as_bytes()), true, &[]), 4096)
                .unwrap_err()
                .status,
            413
        );
        let exact = vec![b'y'; 4096];
        assert_eq!(
            body_bytes(&request(&enc(&exact), true, &[]), 4096).unwrap(),
            exact
        );
        assert_eq!(
            body_bytes(&request("@@", true, &[]), 4096)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn only_json_bodies_are_taken() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/cloudevents+json",
        ] {
            let req = request(EVENT, false, &[("Content-Type", ok.to_string())]);
            assert!(require_json(&req).is_ok(), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
        ] {
            let req = request(EVENT, false, &[("Content-Type", bad.to_string())]);
            assert_eq!(require_json(&req).unwrap_err().status, 415, "{bad}");
        }
        assert_eq!(
            require_json(&request(EVENT, false, &[]))
                .unwrap_err()
                .status,
            415
        );
    }

    #[test]
    fn an_event_that_would_not_fit_one_sqs_message_is_413() {
        let mut event = parse_event(EVENT.as_bytes()).unwrap();
        assert!(queue_message(&event).is_ok());
        // Within a 256 KiB body, but escaping makes the enqueued message larger.
        let quotes = "\"".repeat(200 * 1024);
        event
            .data
            .insert("note".into(), serde_json::Value::String(quotes));
        assert_eq!(queue_message(&event).unwrap_err().status, 413);
    }

    #[test]
    fn business_events_are_taken_and_checked_by_their_own_contract() {
        let ok = r#"{"schema":1,"event_id":"crm-1","event_type":"case.closed","business_object":{"type":"case","id":"C-1"},"occurred_at":"2026-11-30","source":"crm"}"#;
        let event = parse_intake(ok.as_bytes()).unwrap();
        assert!(matches!(event, IntakeEvent::Business(_)));
        assert_eq!(event.describe(), "case.closed case#C-1");
        assert!(event.queue_message().unwrap().contains("business_object"));
        let bad = ok.replace("case.closed", "Closed");
        let r = parse_intake(bad.as_bytes()).unwrap_err();
        assert_eq!(r.status, 400);
        assert!(
            r.message.contains("invalid business event: event_type"),
            "{}",
            r.message
        );
        assert!(matches!(
            parse_intake(EVENT.as_bytes()).unwrap(),
            IntakeEvent::Lifecycle(_)
        ));
    }

    #[test]
    fn refusals_carry_their_status() {
        let mut get = request(EVENT, false, &[]);
        get.method = Some("GET".into());
        assert_eq!(require_post(&get).unwrap_err().status, 405);
        let unsigned = request(EVENT, false, &[]);
        let r = authenticate(&unsigned, EVENT.as_bytes(), &keys(), 1000, 300).unwrap_err();
        assert_eq!((r.status, r.message.contains("Timestamp")), (401, true));
        let stale = request(EVENT, false, &signed(EVENT, 1000));
        assert_eq!(
            authenticate(&stale, EVENT.as_bytes(), &keys(), 1301, 300)
                .unwrap_err()
                .status,
            401
        );
        let r = parse_event(br#"{"schema":1"#).unwrap_err();
        assert_eq!(r.status, 400);
        let r = parse_event(EVENT.replace("hold.applied", "hold.exploded").as_bytes()).unwrap_err();
        assert!(
            r.status == 400 && r.message.contains("unknown variant"),
            "{r:?}"
        );
    }
}
