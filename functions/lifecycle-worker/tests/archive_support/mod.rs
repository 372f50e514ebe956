//! P2 end-to-end setup: the real `lifecycle-worker` binary under the Runtime API emulator, fed
//! lifecycle events through the template's queue in moto, archiving from the simulator into the
//! template's Object Lock archive bucket.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use local_stack::sqs_source::PollReport;
use local_stack::stack::{SIM_SERVICE_PASSWORD, SIM_SERVICE_USER, Stack, StackOptions};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, Client, CreateOptions, Credentials, VersionOptions};
use serde_json::{Value, json};

pub const POLICY: &str = r#"
version: 1
provenance:
  category_id: 3100
  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }
rules:
  - name: nothing-declared-here
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
"#;

/// The record date every test record gets; FIN-7Y keeps it 7 years from then.
pub const RECORD_DATE: &str = "2026-01-15T00:00:00Z";
pub const RETAIN_UNTIL_SECS: i64 = 1_989_360_000; // 2033-01-15T00:00:00Z

pub async fn stack_with_env(env: &[(&str, &str)]) -> Stack {
    stack_with(env, &[]).await
}

/// A stack with extra function environment and template parameters.
pub async fn stack_with(env: &[(&str, &str)], parameters: &[(&str, &str)]) -> Stack {
    let mut o = StackOptions::new(
        env!("CARGO_BIN_EXE_lifecycle-worker"),
        "LifecycleWorkerFunction",
    );
    o.policy = Some(POLICY.to_string());
    o.extra_env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in parameters {
        o.parameters.insert(k.to_string(), v.to_string());
    }
    Stack::start(o).await.expect("stack starts")
}

pub fn archive_bucket(stack: &Stack) -> String {
    stack.resource("ArchiveBucket")
}

pub fn opentext(stack: &Stack) -> Client {
    Client::new(
        stack.sim.base_url(),
        Credentials::new(SIM_SERVICE_USER, SIM_SERVICE_PASSWORD),
    )
    .expect("client")
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

pub fn sha256_b64(data: &[u8]) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
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

/// The simulator's administrator.
pub fn opentext_admin(stack: &Stack) -> Client {
    Client::new(stack.sim.base_url(), Credentials::new("Admin", "livelink")).expect("client")
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
    let details = RecordUpdate {
        official: Some(true),
        rsi: Some(rsi.into()),
        record_date: Some(RECORD_DATE.into()),
        ..Default::default()
    };
    ot.apply_rm_classification(node.id, class_id, &details, None)
        .await
        .expect("classify");
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
        let h = stack
            .s3()
            .head_object()
            .bucket(archive_bucket(stack))
            .key(&key)
            .version_id(&version_id)
            .send()
            .await
            .expect("head archive copy");
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
    let out = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(stack.resource("LifecycleDeadLetterQueue"))
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("queue attributes");
    out.attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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
    stack
        .sqs()
        .send_message()
        .queue_url(stack.resource("LifecycleQueue"))
        .message_body(body.to_string())
        .send()
        .await
        .expect("send message");
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
    let out = stack
        .dynamodb()
        .get_item()
        .table_name(stack.resource("WorkflowTable"))
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("archive#{node_id}")),
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
    let log = stack.sim_admin("/requests").await.expect("request log");
    let needle = format!("/nodes/{node_id}/");
    log.as_array()
        .into_iter()
        .flatten()
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

/// The simulator's internal view of a node (versions with sha256, categories, rm, holds).
pub async fn sim_node(stack: &Stack, node_id: u64) -> Value {
    stack
        .sim_admin(&format!("/nodes/{node_id}"))
        .await
        .expect("sim node")
}

pub fn category_value(node: &Value, key: &str) -> Option<Value> {
    let cats = node.get("categories")?;
    cats.as_object()?.values().find_map(|c| {
        c.get(key)
            .cloned()
            .or_else(|| c.get("values").and_then(|v| v.get(key)).cloned())
    })
}

pub async fn audit_history(stack: &Stack, node_id: u64) -> Vec<records_domain::AuditEvent> {
    records_aws::audit_log::AuditLog::new(stack.dynamodb(), stack.resource("AuditTable"))
        .history(&format!("otcs:node/{node_id}"))
        .await
        .expect("audit history")
}

pub fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Empties the simulator's request log (setup calls are not the worker's).
pub async fn clear_requests(stack: &Stack) {
    reqwest::Client::new()
        .delete(format!("{}/requests", stack.sim.admin_url()))
        .send()
        .await
        .expect("clear request log")
        .error_for_status()
        .expect("cleared");
}
