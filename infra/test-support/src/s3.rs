//! S3 as the functions see it: the notifications real S3 sends, and object versions'
//! uploads, heads and tags.

use std::collections::BTreeMap;

use aws_sdk_s3::operation::get_object_tagging::GetObjectTaggingOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::Stack;
use serde_json::json;

/// Encodes a key the way real S3 writes it into notifications (form encoding: `+` for a
/// space, `%XX` for the rest, `/` left alone).
pub fn s3_event_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The notification real S3 sends (AWS's documented structure, every field present).
pub fn real_s3_notification(
    bucket: &str,
    key: &str,
    version_id: &str,
    size: usize,
    etag: &str,
) -> String {
    real_s3_notification_by(
        "ObjectCreated:Put",
        "AWS:AIDAEXAMPLE:uploader",
        bucket,
        key,
        version_id,
        size,
        etag,
    )
}

/// [`real_s3_notification`] of another event (`ObjectTagging:Put`, …) by another principal
/// (`userIdentity.principalId`: `AWS:<role unique id>:<session>` for a Lambda function's
/// write, `AWS:<user id>:<name>` for a person's).
pub fn real_s3_notification_by(
    event_name: &str,
    principal: &str,
    bucket: &str,
    key: &str,
    version_id: &str,
    size: usize,
    etag: &str,
) -> String {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T10:00:00.000Z", "eventName": event_name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "records-bridge",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": s3_event_key(key), "size": size, "eTag": etag, "versionId": version_id, "sequencer": "0055AED6DCD90281E5"}}
    }]})
    .to_string()
}

/// Puts an object into a versioned bucket; returns its version id.
pub async fn put(stack: &Stack, bucket: &str, key: &str, body: Vec<u8>) -> String {
    stack
        .s3()
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("put object")
        .version_id
        .expect("versioned bucket")
}

/// HeadObject of one object version.
pub async fn head(stack: &Stack, bucket: &str, key: &str, version_id: &str) -> HeadObjectOutput {
    stack
        .s3()
        .head_object()
        .bucket(bucket)
        .key(key)
        .version_id(version_id)
        .send()
        .await
        .expect("head object")
}

/// GetObjectTagging of one object version.
pub async fn tagging(
    stack: &Stack,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> GetObjectTaggingOutput {
    stack
        .s3()
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .version_id(version_id)
        .send()
        .await
        .expect("tags")
}

/// The tags of one object version, by name.
pub async fn tags(
    stack: &Stack,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> BTreeMap<String, String> {
    tagging(stack, bucket, key, version_id)
        .await
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_encoded_as_s3_writes_them() {
        assert_eq!(s3_event_key("a b/c+d%é.txt"), "a+b/c%2Bd%25%C3%A9.txt");
        let n: serde_json::Value =
            serde_json::from_str(&real_s3_notification("gov", "x y", "v1", 3, "e")).unwrap();
        assert_eq!(n["Records"][0]["s3"]["object"]["key"], "x+y");
        assert_eq!(n["Records"][0]["s3"]["bucket"]["arn"], "arn:aws:s3:::gov");
        assert_eq!(n["Records"][0]["eventName"], "ObjectCreated:Put");
        let n: serde_json::Value = serde_json::from_str(&real_s3_notification_by(
            "ObjectTagging:Put",
            "AWS:AROAEXAMPLE:declare-fn",
            "gov",
            "k",
            "v1",
            3,
            "e",
        ))
        .unwrap();
        assert_eq!(n["Records"][0]["eventName"], "ObjectTagging:Put");
        assert_eq!(
            n["Records"][0]["userIdentity"]["principalId"],
            "AWS:AROAEXAMPLE:declare-fn"
        );
    }
}
