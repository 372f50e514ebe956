//! Shared end-to-end setup: the real `declare` binary under the Lambda Runtime API
//! emulator, fed by the template's queue in moto, talking to the OpenText simulator.

#![allow(dead_code)]

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::{Stack, StackOptions};
pub use opentext_sim::config::MultipartSettings;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const POLICY: &str = r#"
version: 1
provenance:
  category_id: 3100
  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }
rules:
  - name: drafts-ignored
    match: { key_prefix: "drafts/" }
    action: ignore
  - name: approved-contracts
    match: { key_prefix: "contracts/", tags: { "records-bridge:status": final } }
    destination: { folder_id: 2103 }
    mode: copy
    on_existing_name: refuse
    classification: { id: 4102 }
    record: { rsi: LEG-EVENT, official: true, record_date: upload_time }
  - name: finance
    match: { key_prefix: "finance/" }
    destination: { folder_id: 2101 }
    mode: copy
    on_existing_name: new_version
    classification: { id: 4100 }
    record: { rsi: FIN-7Y, official: true, status: ACTIVE, record_date: upload_time }
    categories:
      - id: 3100
        attributes: { "3100_8": "s3://{bucket}/{key}?versionId={version_id}" }
  - name: hr-refuse
    match: { key_prefix: "hr/" }
    destination: { folder_id: 2102 }
    mode: copy
    on_existing_name: refuse
    classification: { id: 4101 }
    record: { rsi: HR-PERM, official: true, record_date: upload_time }
  - name: strict-names
    match: { key_prefix: "strict/" }
    destination: { folder_id: 2102 }
    mode: copy
    on_existing_name: new_version
    on_name_clash: refuse
    classification: { id: 4101 }
    record: { rsi: HR-PERM, official: true, record_date: upload_time }
  - name: legal-reference
    match: { key_prefix: "legal/" }
    destination: { folder_id: 2103 }
    mode: reference
    on_existing_name: refuse
    classification: { id: 4102 }
    record: { rsi: LEG-EVENT, official: true, record_date: upload_time }
  - name: p3-reference-versions
    match: { key_prefix: "p3/" }
    destination: { folder_id: 2103 }
    mode: reference
    on_existing_name: new_version
    classification: { id: 4102 }
    record: { rsi: LEG-EVENT, official: true, record_date: upload_time }
"#;

pub fn options() -> StackOptions {
    let mut o = StackOptions::new(env!("CARGO_BIN_EXE_declare"), "DeclareFunction");
    o.policy = Some(POLICY.into());
    o
}

pub async fn stack() -> Stack {
    Stack::start(options()).await.expect("stack starts")
}

/// The two chunked-upload minimums servers use: everything from 1 byte (5 MiB parts), or
/// only files of 64 MiB and more (8 MiB parts). Upload cases run against both.
pub fn server_minimum(small: bool) -> MultipartSettings {
    const MIB: u64 = 1024 * 1024;
    MultipartSettings {
        is_enabled: true,
        min_size: if small { 1 } else { 64 * MIB },
        max_size: 10 * 1024 * MIB,
        part_size: if small { 5 * MIB } else { 8 * MIB },
    }
}

pub async fn stack_with_minimum(minimum: MultipartSettings, env: &[(&str, &str)]) -> Stack {
    let mut o = options();
    o.sim_multipart = Some(minimum);
    o.extra_env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Stack::start(o).await.expect("stack starts")
}

/// Whether the chunked upload API was used (the simulator's request log).
pub async fn used_chunked_api(stack: &Stack) -> bool {
    let log = stack.sim_admin("requests").await.unwrap();
    let entries = log
        .as_array()
        .or_else(|| log.get("requests").and_then(Value::as_array))
        .cloned()
        .unwrap_or_default();
    entries.iter().any(|r| {
        r["method"] == "POST"
            && r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/api/v2/multipart"))
    })
}

pub async fn stack_with_env(env: &[(&str, &str)]) -> Stack {
    let mut o = options();
    o.extra_env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Stack::start(o).await.expect("stack starts")
}

pub fn bucket(stack: &Stack) -> String {
    stack.resource("GovernedBucket")
}

/// Puts an object; returns its version id.
pub async fn upload(stack: &Stack, key: &str, body: Vec<u8>) -> String {
    stack
        .s3()
        .put_object()
        .bucket(bucket(stack))
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("put object")
        .version_id
        .expect("versioned bucket")
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// The simulator's internal view of every live document in a folder.
pub async fn documents(stack: &Stack, folder: u64) -> Vec<Value> {
    let v = stack
        .sim_admin(&format!("nodes?parent_id={folder}"))
        .await
        .expect("admin nodes");
    v.as_array()
        .cloned()
        .or_else(|| v.get("nodes").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n["deleted"] != Value::Bool(true) && n["type"] == 144)
        .collect()
}

pub async fn document_named(stack: &Stack, folder: u64, name: &str) -> Option<Value> {
    documents(stack, folder)
        .await
        .into_iter()
        .find(|n| n["name"].as_str() == Some(name))
}

/// The workflow item for an object version (state and detail).
pub async fn workflow_item(stack: &Stack, key: &str, version_id: &str) -> Option<(String, Value)> {
    let pk = records_domain::IdempotencyKey::declare(
        &records_domain::ObjectVersion::new(&bucket(stack), key, Some(version_id)),
        None,
    );
    let out = stack
        .dynamodb()
        .get_item()
        .table_name(stack.resource("WorkflowTable"))
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(pk.as_str().to_string()),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("get item");
    let item = out.item?;
    let state = item.get("state")?.as_s().ok()?.clone();
    let detail = serde_json::from_str(item.get("detail")?.as_s().ok()?).unwrap_or(Value::Null);
    Some((state, detail))
}

/// The object's tags in S3.
pub async fn tags(stack: &Stack, key: &str, version_id: &str) -> BTreeMap<String, String> {
    stack
        .s3()
        .get_object_tagging()
        .bucket(bucket(stack))
        .key(key)
        .version_id(version_id)
        .send()
        .await
        .expect("tags")
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// Category values applied on a simulator node (admin view), flattened.
pub fn category_value(node: &Value, key: &str) -> Option<Value> {
    let cats = node.get("categories")?;
    cats.as_object()?.values().find_map(|c| {
        c.get(key)
            .cloned()
            .or_else(|| c.get("values").and_then(|v| v.get(key)).cloned())
    })
}

/// Messages left in a queue (visible + in flight).
pub async fn queue_depth(stack: &Stack, logical: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(stack.resource(logical))
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let attrs = out.attributes().cloned().unwrap_or_default();
    [
        A::ApproximateNumberOfMessages,
        A::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|a| attrs.get(a).and_then(|v| v.parse::<usize>().ok()))
    .sum()
}

/// Every event was settled: nothing left on the queue, nothing in the DLQ.
pub async fn assert_settled(stack: &Stack) {
    assert_eq!(
        queue_depth(stack, "DeclareQueue").await,
        0,
        "queue drained\n{}",
        stack.function.logs().join("\n")
    );
    assert_eq!(
        queue_depth(stack, "DeclareDeadLetterQueue").await,
        0,
        "nothing in the DLQ"
    );
}

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
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE:uploader"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "records-bridge",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": s3_event_key(key), "size": size, "eTag": etag, "versionId": version_id, "sequencer": "0055AED6DCD90281E5"}}
    }]})
    .to_string()
}

pub async fn purge(stack: &Stack) {
    // moto's own notifications for the upload are dropped, so only our deliveries count.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack
        .sqs()
        .purge_queue()
        .queue_url(stack.resource("DeclareQueue"))
        .send()
        .await
        .unwrap();
}

pub async fn send(stack: &Stack, body: &str) -> String {
    stack
        .sqs()
        .send_message()
        .queue_url(stack.resource("DeclareQueue"))
        .message_body(body)
        .send()
        .await
        .unwrap()
        .message_id
        .unwrap()
}

/// Polls until the version's workflow item reaches `state` (leases may have to expire).
pub async fn poll_until_state(
    stack: &Stack,
    key: &str,
    version: &str,
    state: &str,
    limit: Duration,
) {
    let start = Instant::now();
    loop {
        if workflow_item(stack, key, version)
            .await
            .map(|(s, _)| s)
            .as_deref()
            == Some(state)
        {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{key} never reached {state}:\n{}",
            stack.function.logs().join("\n")
        );
        stack.poll().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
