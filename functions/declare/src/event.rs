//! S3 event notifications as they arrive in SQS message bodies.
//!
//! Parsed leniently on purpose: real S3 sends `userIdentity`, a zoned `eventTime` and keys
//! with `+` for spaces; moto omits `userIdentity`, sends zone-less times and
//! percent-encodes `/`. Both must work, and anything else must fail with a clear reason.

use serde::Deserialize;

use records_domain::decode_s3_event_key;
pub use records_workflows::declare::ObjectEvent;

/// What one SQS message body holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `s3:TestEvent`, sent once when notifications are configured: nothing to do.
    Test,
    /// Object events (usually exactly one), each parsed on its own: a malformed record fails
    /// alone, its good neighbours are still handled.
    Objects(Vec<Result<ObjectEvent, EventError>>),
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("message body is not JSON: {0}")]
    NotJson(String),
    #[error("message body is not an S3 event notification: {0}")]
    NotS3(String),
    #[error("record {index}: key {raw:?} cannot be decoded: {reason}")]
    BadKey {
        index: usize,
        raw: String,
        reason: String,
    },
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Records")]
    records: Option<Vec<serde_json::Value>>,
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_source: Option<String>,
    event_name: String,
    event_time: Option<String>,
    user_identity: Option<UserIdentity>,
    s3: S3Entity,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    principal_id: Option<String>,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    key: String,
    size: Option<u64>,
    #[serde(rename = "eTag")]
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// Parses one SQS message body.
pub fn parse_body(body: &str) -> Result<Notification, EventError> {
    let parsed: Body =
        serde_json::from_str(body).map_err(|e| EventError::NotJson(e.to_string()))?;
    if parsed.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Notification::Test);
    }
    let records = parsed
        .records
        .ok_or_else(|| EventError::NotS3("no \"Records\" array".into()))?;
    Ok(Notification::Objects(
        records
            .into_iter()
            .enumerate()
            .map(|(index, raw)| parse_record(index, raw))
            .collect(),
    ))
}

fn parse_record(index: usize, raw: serde_json::Value) -> Result<ObjectEvent, EventError> {
    let r: Record = serde_json::from_value(raw)
        .map_err(|e| EventError::NotS3(format!("record {index}: {e}")))?;
    if let Some(src) = r.event_source.as_deref()
        && src != "aws:s3"
    {
        return Err(EventError::NotS3(format!(
            "record {index}: eventSource is {src:?}, not aws:s3"
        )));
    }
    let key = decode_s3_event_key(&r.s3.object.key).map_err(|e| EventError::BadKey {
        index,
        raw: r.s3.object.key.clone(),
        reason: e.to_string(),
    })?;
    Ok(ObjectEvent {
        event_name: r.event_name,
        event_time: r.event_time,
        bucket: r.s3.bucket.name,
        key,
        version_id: r
            .s3
            .object
            .version_id
            .filter(|v| !v.is_empty() && v != "null"),
        etag: r.s3.object.e_tag,
        size: r.s3.object.size,
        sequencer: r.s3.object.sequencer,
        principal: r.user_identity.and_then(|u| u.principal_id),
    })
}

/// S3's `sequencer` made comparable: S3 orders two events on one key by their sequencers,
/// hexadecimal strings compared after right-padding the shorter with zeros.
pub fn sequencer_order(sequencer: &str) -> String {
    const WIDTH: usize = 32;
    let s = sequencer.trim().to_ascii_uppercase();
    if s.len() >= WIDTH {
        return s;
    }
    format!("{s:0<WIDTH$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented sample notification (event message structure), with `+` for a space.
    const REAL_S3: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"1970-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AIDAJDPLRKLG7UEXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},"s3":{"s3SchemaVersion":"1.0","configurationId":"testConfigRule","bucket":{"name":"amzn-s3-demo-bucket","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::amzn-s3-demo-bucket"},"object":{"key":"HappyFace+2024.jpg","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e","versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko","sequencer":"0055AED6DCD90281E5"}}}]}"#;

    /// As moto 5.1.22 delivers it: `/` percent-encoded, no userIdentity, no time zone.
    const MOTO: &str = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-11-25T17:20:21.415823", "eventName": "ObjectCreated:Put", "s3": {"s3SchemaVersion": "1.0", "configurationId": "liyuaSbs", "bucket": {"name": "bkt-ev", "arn": "arn:aws:s3:::bkt-ev"}, "object": {"key": "in%2Fcaf%C3%A9+%2B1.csv", "size": 3, "eTag": "b345e1dc09f20fdefdea469f09167892"}}}]}"#;

    #[test]
    fn real_s3_shape_decodes_plus_as_space() {
        let events = objects(REAL_S3);
        assert_eq!(events[0].key, "HappyFace 2024.jpg");
        assert_eq!(
            events[0].version_id.as_deref(),
            Some("096fKKXTRTtl3on89fVO.nfljtsv6qko")
        );
        assert_eq!(
            events[0].principal.as_deref(),
            Some("AIDAJDPLRKLG7UEXAMPLE")
        );
        assert!(events[0].is_relevant());
    }

    #[test]
    fn moto_shape_decodes_percent_encoded_slash_and_unicode() {
        let events = objects(MOTO);
        assert_eq!(events[0].key, "in/café +1.csv");
        assert_eq!(events[0].version_id, None);
        assert_eq!(events[0].principal, None);
    }

    #[test]
    fn a_delete_marker_is_reported_not_declared() {
        let body = REAL_S3.replace("ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated");
        let events = objects(&body);
        assert!(events[0].is_delete_marker());
        assert!(!events[0].is_relevant(), "never declared");
    }

    #[test]
    fn s3s_echo_of_our_own_tag_write_is_recognised_by_its_principal() {
        let writers = records_domain::SelfWriters::parse("AROADBQP57FF2AEXAMPLE").unwrap();
        let tagging = |principal: &str| {
            REAL_S3
                .replace("ObjectCreated:Put", "ObjectTagging:Put")
                .replace("AIDAJDPLRKLG7UEXAMPLE", principal)
        };
        let own = objects(&tagging("AWS:AROADBQP57FF2AEXAMPLE:records-bridge-declare"));
        assert!(own[0].is_relevant() && own[0].is_self_caused(&writers));
        let person = objects(&tagging("AWS:AIDAEXAMPLE:alice"));
        assert!(person[0].is_relevant() && !person[0].is_self_caused(&writers));
        // An upload by the same role is never an echo; moto sends no principal at all.
        let upload = REAL_S3.replace("AIDAJDPLRKLG7UEXAMPLE", "AROADBQP57FF2AEXAMPLE:s");
        assert!(!objects(&upload)[0].is_self_caused(&writers));
        let moto = MOTO.replace("ObjectCreated:Put", "ObjectTagging:Put");
        assert!(!objects(&moto)[0].is_self_caused(&writers));
    }

    fn objects(body: &str) -> Vec<ObjectEvent> {
        let Notification::Objects(events) = parse_body(body).unwrap() else {
            panic!("expected objects")
        };
        events.into_iter().map(Result::unwrap).collect()
    }

    fn first_error(body: &str) -> EventError {
        match parse_body(body) {
            Ok(Notification::Objects(events)) => {
                events.into_iter().find_map(Result::err).expect("an error")
            }
            Ok(other) => panic!("expected an error, got {other:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_malformed_record_fails_alone_beside_a_good_one() {
        let good: serde_json::Value = serde_json::from_str(REAL_S3).unwrap();
        let body = serde_json::json!({"Records": [good["Records"][0], {"eventName": "ObjectCreated:Put"}]});
        let Notification::Objects(events) = parse_body(&body.to_string()).unwrap() else {
            panic!("expected objects")
        };
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].as_ref().unwrap().key, "HappyFace 2024.jpg");
        assert!(
            matches!(events[1], Err(EventError::NotS3(_))),
            "{:?}",
            events[1]
        );
    }

    #[test]
    fn sequencers_compare_after_right_padding() {
        assert!(sequencer_order("0055AED6DCD90281E5") < sequencer_order("0055AED6DCD90281E6"));
        // A shorter sequencer is padded on the right, not the left.
        assert!(sequencer_order("0055AED6DCD90281E5") < sequencer_order("0055AED6DCD90281E50001"));
        assert!(sequencer_order("0056") > sequencer_order("0055AED6DCD90281E5"));
    }

    #[test]
    fn test_event_is_recognised() {
        let body = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T17:20:21.000Z","Bucket":"b","RequestId":"x","HostId":"y"}"#;
        assert_eq!(parse_body(body).unwrap(), Notification::Test);
    }

    #[test]
    fn malformed_bodies_say_what_is_wrong() {
        assert!(matches!(
            parse_body("not json"),
            Err(EventError::NotJson(_))
        ));
        assert!(matches!(
            parse_body(r#"{"hello":1}"#),
            Err(EventError::NotS3(_))
        ));
        let bad_key = MOTO.replace("in%2Fcaf%C3%A9+%2B1.csv", "%ZZ");
        assert!(matches!(first_error(&bad_key), EventError::BadKey { .. }));
        let sns = REAL_S3.replace("\"aws:s3\"", "\"aws:sns\"");
        assert!(first_error(&sns).to_string().contains("aws:sns"));
    }
}
