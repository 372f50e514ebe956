//! Shared end-to-end setup: the real `declare` binary under the Lambda Runtime API
//! emulator, fed by the template's queue in moto, talking to the OpenText simulator.

#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use local_stack::stack::{Stack, StackOptions};
pub use opentext_sim::config::MultipartSettings;
use serde_json::Value;
pub use test_support::hashing::sha256_hex;
use test_support::policy::{FINANCE, policy};
pub use test_support::queue::queue_depth;
pub use test_support::s3::{real_s3_notification, real_s3_notification_by, s3_event_key};
pub use test_support::sim::{category_value, document_named, documents};
use test_support::stack::OptionsExt;
pub use test_support::stack::governed_bucket as bucket;

/// The rules before `finance/` (first match wins: drafts are ignored, contracts wait for
/// their `final` tag).
const BEFORE_FINANCE: &str = r#"  - name: drafts-ignored
    match: { key_prefix: "drafts/" }
    action: ignore
  - name: approved-contracts
    match: { key_prefix: "contracts/", tags: { "records-bridge:status": final } }
    destination: { folder_id: 2103 }
    mode: copy
    on_existing_name: refuse
    classification: { id: 4102 }
    record: { rsi: LEG-EVENT, official: true, record_date: upload_time }
"#;

const AFTER_FINANCE: &str = r#"  - name: hr-refuse
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

pub static POLICY: LazyLock<String> =
    LazyLock::new(|| policy(&[BEFORE_FINANCE, FINANCE, AFTER_FINANCE]));

pub fn options() -> StackOptions {
    StackOptions::new(env!("CARGO_BIN_EXE_declare"), "DeclareFunction").with_policy(&POLICY)
}

pub async fn stack() -> Stack {
    test_support::stack::start(options()).await
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
    let mut o = options().with_env(env);
    o.sim_multipart = Some(minimum);
    test_support::stack::start(o).await
}

/// Whether the chunked upload API was used (the simulator's request log).
pub async fn used_chunked_api(stack: &Stack) -> bool {
    test_support::sim::requests(stack).await.iter().any(|r| {
        r["method"] == "POST"
            && r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/api/v2/multipart"))
    })
}

pub async fn stack_with_env(env: &[(&str, &str)]) -> Stack {
    test_support::stack::start(options().with_env(env)).await
}

/// Puts an object; returns its version id.
pub async fn upload(stack: &Stack, key: &str, body: Vec<u8>) -> String {
    test_support::s3::put(stack, &bucket(stack), key, body).await
}

/// The workflow item for an object version (state and detail).
pub async fn workflow_item(stack: &Stack, key: &str, version_id: &str) -> Option<(String, Value)> {
    let pk = test_support::workflow::declare_pk(&bucket(stack), key, version_id);
    test_support::workflow::item(stack, &pk).await
}

/// Sets the approval tag `records-bridge:status: final` on an object version (as its owner).
pub async fn tag_final(stack: &Stack, key: &str, version_id: &str) {
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key(records_domain::tags::STATUS)
                .value("final")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    stack
        .s3()
        .put_object_tagging()
        .bucket(bucket(stack))
        .key(key)
        .version_id(version_id)
        .tagging(tagging)
        .send()
        .await
        .expect("put object tagging");
}

/// The object's tags in S3.
pub async fn tags(stack: &Stack, key: &str, version_id: &str) -> BTreeMap<String, String> {
    test_support::s3::tags(stack, &bucket(stack), key, version_id).await
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
    test_support::queue::send(stack, "DeclareQueue", body).await
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
