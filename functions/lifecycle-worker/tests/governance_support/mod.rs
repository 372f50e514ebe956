//! P3 end-to-end setup: the real `lifecycle-worker` binary under the Runtime API emulator,
//! fed lifecycle events through the template's queue in moto, talking to the simulator.
//! Records are created in the simulator and linked to S3 versions with the `LinkStore`, as
//! the declare function does.

#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::{Stack, StackOptions};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, CreateOptions};
use records_aws::links::LinkedVersion;
use records_domain::AuditEvent;
pub use test_support::epoch;
pub use test_support::hashing::sha256_hex;
pub use test_support::opentext::service_client as opentext;
use test_support::stack::OptionsExt;
pub use test_support::stack::governed_bucket as bucket;
pub use test_support::workflow::links;

/// `legal/` is declared by reference (the content stays in S3) into folder 2103.
pub static POLICY: LazyLock<String> = LazyLock::new(|| {
    test_support::policy::policy(&[r#"  - name: legal-reference
    match: { key_prefix: "legal/" }
    destination: { folder_id: 2103 }
    mode: reference
    on_existing_name: new_version
    classification: { id: 4102 }
    record: { rsi: LEG-EVENT, official: true, record_date: upload_time }
"#])
});

/// The worker's options under [`POLICY`].
pub fn options() -> StackOptions {
    StackOptions::new(
        env!("CARGO_BIN_EXE_lifecycle-worker"),
        "LifecycleWorkerFunction",
    )
    .with_policy(&POLICY)
}

pub async fn stack() -> Stack {
    test_support::stack::start(options()).await
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
    test_support::opentext::classify_official(&ot, node.id, class_id, rsi, record_date).await;
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
    test_support::queue::send(stack, "LifecycleQueue", &body.to_string()).await;
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
    let head = test_support::s3::head(stack, &v.bucket, &v.key, &v.version_id).await;
    Lock {
        legal_hold: head.object_lock_legal_hold_status()
            == Some(&aws_sdk_s3::types::ObjectLockLegalHoldStatus::On),
        mode: head.object_lock_mode().map(|m| m.as_str().to_string()),
        until: head.object_lock_retain_until_date().map(|d| d.secs()),
    }
}

pub async fn tags_of(stack: &Stack, v: &LinkedVersion) -> BTreeMap<String, String> {
    test_support::s3::tags(stack, &v.bucket, &v.key, &v.version_id).await
}

/// The audit trail of one linked version.
pub async fn audit_of(stack: &Stack, v: &LinkedVersion) -> Vec<AuditEvent> {
    test_support::audit::of_version(stack, &v.bucket, &v.key, &v.version_id).await
}
