//! Shared end-to-end setup: the real `declare` binary under the Lambda Runtime API
//! emulator, fed by the template's queue in moto, talking to the OpenText simulator.

#![allow(dead_code)]

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::{Stack, StackOptions};
use serde_json::Value;

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
    o.parameters
        .insert("DeclarationPolicy".into(), POLICY.into());
    o
}

pub async fn stack() -> Stack {
    Stack::start(options()).await.expect("stack starts")
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
