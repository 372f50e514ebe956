//! P2 end-to-end setup: the real `lifecycle-worker` binary under the Runtime API emulator, fed
//! lifecycle events through the template's queue in moto, archiving from the simulator into the
//! template's Object Lock archive bucket.

#![allow(dead_code, unused_imports)]

mod checks;

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

pub use checks::*;
use local_stack::sqs_source::PollReport;
use local_stack::stack::{Stack, StackOptions};
use opentext_client::{BytesSource, Client, CreateOptions, VersionOptions};
use serde_json::{Value, json};
pub use test_support::audit::of_node as audit_history;
pub use test_support::hashing::{sha256_b64, sha256_hex};
pub use test_support::opentext::{admin_client as opentext_admin, service_client as opentext};
pub use test_support::sim::{category_value, clear_requests, node as sim_node};
use test_support::stack::OptionsExt;
pub use test_support::stack::env;

/// Nothing is declared; records reaching an ARCHIVE status or the Archive folder (2200) are
/// archived, every version, and released.
pub static POLICY: LazyLock<String> = LazyLock::new(|| {
    test_support::policy::policy(&[r#"  - name: nothing-declared-here
    match: {}
    action: ignore
archive:
  triggers:
    - { status: ARCHIVE }
    - { folder_id: 2200 }
  versions: all
  storage_class: GLACIER_IR
  retention_mode: COMPLIANCE
  release_content: true
  location_attribute: "3100_9"
  rm_storage: S3-ARCHIVE
"#])
});

/// The record date every test record gets; FIN-7Y keeps it 7 years from then.
pub const RECORD_DATE: &str = "2026-01-15T00:00:00Z";
pub const RETAIN_UNTIL_SECS: i64 = 1_989_360_000; // 2033-01-15T00:00:00Z

pub async fn stack_with_env(env: &[(&str, &str)]) -> Stack {
    stack_with(env, &[]).await
}

/// A stack with extra function environment and template parameters.
pub async fn stack_with(env: &[(&str, &str)], parameters: &[(&str, &str)]) -> Stack {
    let options = StackOptions::new(
        env!("CARGO_BIN_EXE_lifecycle-worker"),
        "LifecycleWorkerFunction",
    );
    test_support::stack::start(
        options
            .with_policy(&POLICY)
            .with_env(env)
            .with_parameters(parameters),
    )
    .await
}

pub fn archive_bucket(stack: &Stack) -> String {
    stack.resource("ArchiveBucket")
}

/// The three versions' contents (one above 1 MiB, so the copy really streams).
pub fn contents(name: &str) -> Vec<Vec<u8>> {
    vec![
        format!("{name}: first draft").into_bytes(),
        (0..1_300_000u32).map(|i| (i % 251) as u8).collect(),
        format!("{name}: final, signed").into_bytes(),
    ]
}

/// A 3-version document in Finance, classified FIN-01 with RSI FIN-7Y and [`RECORD_DATE`].
pub async fn record(stack: &Stack, name: &str) -> u64 {
    record_with(stack, name, 4100, "FIN-7Y").await
}

/// A 3-version document in Finance under RM classification `class_id` and RSI `rsi`.
pub async fn record_with(stack: &Stack, name: &str, class_id: i64, rsi: &str) -> u64 {
    record_by(&opentext(stack), name, class_id, rsi).await
}

/// [`record`], created by `ot`'s user (its owner: the owner's rights are that user's).
pub async fn record_by(ot: &Client, name: &str, class_id: i64, rsi: &str) -> u64 {
    let bodies = contents(name);
    let file = format!("{name}.pdf");
    let node = ot
        .create_document(
            2101,
            name,
            Arc::new(BytesSource::new(bodies[0].clone(), file.clone())),
            &CreateOptions::default(),
        )
        .await
        .expect("create document");
    for body in &bodies[1..] {
        ot.add_version(
            node.id,
            Arc::new(BytesSource::new(body.clone(), file.clone())),
            &VersionOptions::default(),
        )
        .await
        .expect("add version");
    }
    test_support::opentext::classify_official(ot, node.id, class_id, rsi, RECORD_DATE).await;
    node.id as u64
}

/// Every permission Content Server knows, as the REST API names them.
pub const ALL_RIGHTS: [&str; 9] = [
    "see",
    "see_contents",
    "modify",
    "edit_attributes",
    "add_items",
    "reserve",
    "add_major_version",
    "delete_versions",
    "delete",
];

/// Sets the assigned access of `right_id` (a user or group) on one node, as the
/// administrator (`PUT /api/v2/nodes/{id}/permissions/custom/{right_id}`).
pub async fn set_rights(stack: &Stack, node_id: u64, right_id: i64, rights: &[&str]) {
    let http = reqwest::Client::new();
    let base = stack.sim.base_url();
    let auth: Value = http
        .post(format!("{base}/api/v1/auth"))
        .form(&[("username", "Admin"), ("password", "livelink")])
        .send()
        .await
        .expect("login")
        .error_for_status()
        .expect("admin login")
        .json()
        .await
        .expect("ticket");
    let ticket = auth["ticket"].as_str().expect("ticket").to_string();
    let body = json!({ "permissions": rights }).to_string();
    http.put(format!(
        "{base}/api/v2/nodes/{node_id}/permissions/custom/{right_id}"
    ))
    .header("OTCSTicket", ticket)
    .form(&[("body", body.as_str())])
    .send()
    .await
    .expect("set rights")
    .error_for_status()
    .expect("rights set");
}

/// The text of one OpenText version, as the service account reads it.
pub async fn version_text(stack: &Stack, node_id: u64, version: i64) -> String {
    use futures_util::TryStreamExt;
    let d = opentext(stack)
        .download_version(node_id as i64, version)
        .await
        .expect("download");
    let chunks: Vec<_> = d.stream.try_collect().await.expect("read");
    String::from_utf8(chunks.concat()).expect("utf-8")
}

/// The S3 legal hold of every archive copy of the node, in key order.
pub async fn copy_legal_holds(stack: &Stack, node_id: u64) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (key, version_id) in archive_versions(stack, node_id).await {
        let h = test_support::s3::head(stack, &archive_bucket(stack), &key, &version_id).await;
        out.push((
            key,
            h.object_lock_legal_hold_status()
                == Some(&aws_sdk_s3::types::ObjectLockLegalHoldStatus::On),
        ));
    }
    out
}

/// Messages resting in the lifecycle DLQ.
pub async fn dlq_depth(stack: &Stack) -> usize {
    test_support::queue::queue_depth(stack, "LifecycleDeadLetterQueue").await
}

/// Sends one lifecycle event (the contract's JSON) to the worker's queue.
pub async fn send(stack: &Stack, event_id: &str, event_type: &str, node_id: u64, data: Value) {
    let body = json!({
        "schema": 1,
        "event_id": event_id,
        "type": event_type,
        "node_id": node_id,
        "occurred_at": "2026-11-25T10:00:00Z",
        "actor": {"user_id": 1001, "name": "jdoe"},
        "data": data,
    });
    test_support::queue::send(stack, "LifecycleQueue", &body.to_string()).await;
}

pub async fn archive_requested(stack: &Stack, event_id: &str, node_id: u64) {
    send(
        stack,
        event_id,
        "record.status_changed",
        node_id,
        json!({"status": "ARCHIVE"}),
    )
    .await;
}

/// The archive workflow item: (state, detail).
pub async fn workflow(stack: &Stack, node_id: u64) -> Option<(String, Value)> {
    test_support::workflow::item(stack, &format!("archive#{node_id}")).await
}

/// How a run of polls ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    State(String),
    Crashed,
}

/// Polls the queue into the function until the item reaches one of `states` or the process
/// dies. The bound only stops a hung test; nothing is asserted about time.
pub async fn run_until(stack: &mut Stack, node_id: u64, states: &[&str]) -> Ended {
    run_until_reports(stack, node_id, states).await.0
}

/// [`run_until`], with what each poll that received something did and the item's state
/// after it.
pub async fn run_until_reports(
    stack: &mut Stack,
    node_id: u64,
    states: &[&str],
) -> (Ended, Vec<(PollReport, Option<String>)>) {
    let give_up = Instant::now() + Duration::from_secs(120);
    let mut reports = Vec::new();
    loop {
        if let Some((s, _)) = workflow(stack, node_id).await
            && states.contains(&s.as_str())
        {
            return (Ended::State(s), reports);
        }
        if stack.function.try_status().is_some() {
            return (Ended::Crashed, reports);
        }
        assert!(
            Instant::now() < give_up,
            "no end state {states:?}; item {:?}\n{}",
            workflow(stack, node_id).await,
            stack.function.logs().join("\n")
        );
        let r = stack.poll().await.expect("poll");
        if r.received > 0 {
            let state = workflow(stack, node_id).await.map(|(s, _)| s);
            reports.push((r, state));
        }
    }
}

/// Batch item failures among `reports` (each one a delivery that will be retried, and
/// after `MaxReceiveCount` of them the DLQ).
pub fn batch_failures(reports: &[(PollReport, Option<String>)]) -> usize {
    reports
        .iter()
        .map(|(r, _)| r.failed_ids.len() + usize::from(r.function_error.is_some()))
        .sum()
}

/// Every S3 version under the node's archive prefix: (key, version id).
pub async fn archive_versions(stack: &Stack, node_id: u64) -> Vec<(String, String)> {
    let out = stack
        .s3()
        .list_object_versions()
        .bucket(archive_bucket(stack))
        .prefix(format!("archive/{node_id}/"))
        .send()
        .await
        .expect("list object versions");
    let mut v: Vec<(String, String)> = out
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap_or_default().to_string(),
                v.version_id().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The simulator's request log lines for one node: "METHOD path".
pub async fn ot_requests(stack: &Stack, node_id: u64) -> Vec<String> {
    let needle = format!("/nodes/{node_id}/");
    test_support::sim::requests(stack)
        .await
        .iter()
        .filter_map(|r| {
            let path = r["path"].as_str()?;
            path.contains(&needle)
                .then(|| format!("{} {path}", r["method"].as_str().unwrap_or_default()))
        })
        .collect()
}

pub fn count(lines: &[String], method: &str, suffix: &str) -> usize {
    lines
        .iter()
        .filter(|l| {
            let path = l.split_once(' ').map(|(_, p)| p).unwrap_or_default();
            let path = path.split('?').next().unwrap_or_default();
            l.starts_with(&format!("{method} ")) && path.ends_with(suffix)
        })
        .count()
}
