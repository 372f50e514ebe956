//! P3 end-to-end setup: the real `lifecycle-worker` binary under the Runtime API emulator,
//! fed lifecycle events through the template's queue in moto, talking to the simulator.
//! Records are created in the simulator and linked to S3 versions with the `LinkStore`, as
//! the declare function does.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::{SIM_SERVICE_PASSWORD, SIM_SERVICE_USER, Stack, StackOptions};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, Client, CreateOptions, Credentials};
use records_aws::links::{LinkStore, LinkedVersion};
use records_domain::AuditEvent;

pub const POLICY: &str = r#"
version: 1
provenance:
  category_id: 3100
  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }
rules:
  - name: legal-reference
    match: { key_prefix: "legal/" }
    destination: { folder_id: 2103 }
    mode: reference
    on_existing_name: new_version
    classification: { id: 4102 }
    record: { rsi: LEG-EVENT, official: true, record_date: upload_time }
"#;

pub async fn stack() -> Stack {
    let mut o = StackOptions::new(
        env!("CARGO_BIN_EXE_lifecycle-worker"),
        "LifecycleWorkerFunction",
    );
    o.policy = Some(POLICY.to_string());
    Stack::start(o).await.expect("stack starts")
}

pub fn bucket(stack: &Stack) -> String {
    stack.resource("GovernedBucket")
}

pub fn opentext(stack: &Stack) -> Client {
    Client::new(
        stack.sim.base_url(),
        Credentials::new(SIM_SERVICE_USER, SIM_SERVICE_PASSWORD),
    )
    .expect("client")
}

pub fn links(stack: &Stack) -> LinkStore {
    LinkStore::new(stack.dynamodb(), stack.resource("WorkflowTable"))
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// A record in folder 2101 with an RM classification, its RSI and record date.
pub async fn record(stack: &Stack, name: &str, class_id: i64, rsi: &str, record_date: &str) -> u64 {
    let ot = opentext(stack);
    let node = ot
        .create_document(
            2101,
            name,
            Arc::new(BytesSource::new(
                b"{\"manifest\":true}".to_vec(),
                format!("{name}.json"),
            )),
            &CreateOptions::default(),
        )
        .await
        .expect("create record");
    let details = RecordUpdate {
        official: Some(true),
        rsi: Some(rsi.into()),
        record_date: Some(record_date.into()),
        ..Default::default()
    };
    ot.apply_rm_classification(node.id, class_id, &details, None)
        .await
        .expect("classify");
    node.id as u64
}

/// Changes the record date (as a records manager would).
pub async fn set_record_date(stack: &Stack, node_id: u64, date: &str) {
    let ot = opentext(stack);
    let token = ot
        .rm_classifications(node_id as i64)
        .await
        .unwrap()
        .rm_metadata_token
        .unwrap_or_default();
    let details = RecordUpdate {
        record_date: Some(date.into()),
        ..Default::default()
    };
    ot.update_record_details(node_id as i64, &token, &details)
        .await
        .expect("update record date");
}

/// Uploads `count` versions of `key` and links each to the record; returns them.
pub async fn linked_versions(
    stack: &Stack,
    node_id: u64,
    key: &str,
    count: usize,
) -> Vec<LinkedVersion> {
    let mut out = Vec::new();
    for i in 0..count {
        let body = format!("{key} version {i}").into_bytes();
        let version_id = stack
            .s3()
            .put_object()
            .bucket(bucket(stack))
            .key(key)
            .tagging("owner=finance-team")
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("put object")
            .version_id
            .expect("versioned");
        let v = LinkedVersion {
            bucket: bucket(stack),
            key: key.into(),
            version_id,
            sha256: sha256_hex(&body),
        };
        links(stack).link(node_id, &v).await.expect("link");
        out.push(v);
    }
    out
}

/// Sends one lifecycle event to the worker's queue and lets the worker take everything.
pub async fn deliver(
    stack: &Stack,
    id: &str,
    event_type: &str,
    node_id: u64,
    data: serde_json::Value,
) {
    let body = serde_json::json!({
        "schema": 1, "event_id": id, "type": event_type, "node_id": node_id,
        "occurred_at": "2026-11-25T10:00:00Z", "actor": {"name": "jdoe"}, "data": data,
    });
    stack
        .sqs()
        .send_message()
        .queue_url(stack.resource("LifecycleQueue"))
        .message_body(body.to_string())
        .send()
        .await
        .expect("send");
    let reports = stack.drain(10).await.expect("drain");
    let failed: Vec<_> = reports.iter().flat_map(|r| r.failed_ids.clone()).collect();
    assert!(
        failed.is_empty(),
        "{event_type} failed: {failed:?}\n{}",
        stack.function.logs().join("\n")
    );
}

pub struct Lock {
    pub legal_hold: bool,
    pub mode: Option<String>,
    /// Epoch seconds.
    pub until: Option<i64>,
}

pub async fn lock_of(stack: &Stack, v: &LinkedVersion) -> Lock {
    let head = stack
        .s3()
        .head_object()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .expect("head");
    Lock {
        legal_hold: head.object_lock_legal_hold_status()
            == Some(&aws_sdk_s3::types::ObjectLockLegalHoldStatus::On),
        mode: head.object_lock_mode().map(|m| m.as_str().to_string()),
        until: head.object_lock_retain_until_date().map(|d| d.secs()),
    }
}

pub async fn tags_of(stack: &Stack, v: &LinkedVersion) -> BTreeMap<String, String> {
    stack
        .s3()
        .get_object_tagging()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .expect("tags")
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// The audit trail of one linked version.
pub async fn audit_of(stack: &Stack, v: &LinkedVersion) -> Vec<AuditEvent> {
    records_aws::audit_log::AuditLog::new(stack.dynamodb(), stack.resource("AuditTable"))
        .history(&format!(
            "s3://{}/{}?versionId={}",
            v.bucket, v.key, v.version_id
        ))
        .await
        .expect("audit history")
}

pub fn epoch(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}
