//! The demo's second act: OpenText governs what is in S3 (P3) and archives to it (P2).
//! A hold set in OpenText reaches S3 through a signed callback to the intake; a record moved
//! to the Archive folder reaches it through the poller; the lifecycle worker acts on both.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use local_stack::function_url::{self, UrlResponse};
use local_stack::stack::{Companion, Stack};
use opentext_client::{Client, Credentials, NodeUpdate};
use serde_json::{Value, json};

fn bin(name: &str) -> std::path::PathBuf {
    local_stack::workspace_root()
        .join("target/debug")
        .join(name)
}

async fn record_id(stack: &Stack, folder: u64, name: &str) -> Result<i64> {
    let nodes = stack
        .sim_admin(&format!("nodes?parent_id={folder}"))
        .await?;
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["name"] == name)
        .and_then(|n| n["id"].as_i64())
        .with_context(|| format!("no record {name:?} in folder {folder}"))
}

/// The functions the second act runs beside `declare`; kept alive until the act ends.
struct Companions {
    worker: Companion,
    intake: Companion,
    poller: Companion,
}

async fn start_companions(stack: &Stack) -> Result<Companions> {
    let worker = stack
        .companion(&bin("lifecycle-worker"), "LifecycleWorkerFunction", false)
        .await?;
    let intake = stack
        .companion(&bin("event-intake"), "EventIntakeFunction", false)
        .await?;
    let poller = stack
        .companion(&bin("event-poller"), "EventPollerFunction", false)
        .await?;
    Ok(Companions {
        worker,
        intake,
        poller,
    })
}

pub async fn run(stack: &Stack) -> Result<()> {
    let functions = start_companions(stack).await?;
    let admin = Client::new(stack.sim.base_url(), Credentials::new("Admin", "livelink"))?;
    hold_reaches_s3(stack, &functions, &admin).await?;
    archive_reaches_s3(stack, &functions, &admin).await?;
    Ok(())
}

/// P3: a contract declared as a reference record; a hold applied in OpenText becomes an S3
/// legal hold on the contract's version.
async fn hold_reaches_s3(stack: &Stack, functions: &Companions, admin: &Client) -> Result<()> {
    println!("\n• P3: the contract stays in S3; OpenText holds a reference record and governs it");
    let key = "legal/nda-acme.pdf";
    let put = stack
        .s3()
        .put_object()
        .bucket(stack.resource("GovernedBucket"))
        .key(key)
        .body(ByteStream::from_static(b"%PDF-1.7\n% NDA with ACME\n"))
        .send()
        .await?;
    let version = put.version_id.unwrap_or_default();
    stack.drain(20).await?;
    let node = record_id(stack, 2103, "legal/nda-acme.pdf").await?;
    println!("  put  {key:<38} → reference record {node} in Records/Legal");
    admin.apply_hold(node, 6100).await?;
    println!(
        "  OpenText: hold LIT-2026-001 applied to record {node}; its event handler calls the intake"
    );
    let answer = send_hold_applied(stack, &functions.intake, node).await?;
    println!("  intake answered {} {}", answer.status, answer.body);
    functions.worker.drain(20).await?;
    print_legal_hold(stack, key, &version).await
}

/// The `hold.applied` callback OpenText's event handler sends, signed with the current key
/// of the stack's signing secret, posted to the intake's function URL.
async fn send_hold_applied(stack: &Stack, intake: &Companion, node: i64) -> Result<UrlResponse> {
    let signing = signing_key(stack).await?;
    let event = json!({
        "schema": 1, "event_id": format!("demo-hold-{node}"), "type": "hold.applied", "node_id": node,
        "occurred_at": now(), "actor": {"user_id": 1000, "name": "Admin"},
        "data": {"hold_id": 6100, "hold_name": "LIT-2026-001"}
    });
    let body = event.to_string();
    let headers = function_url::signed_headers(&signing, function_url::unix_now(), body.as_bytes());
    let mut headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.push(("Content-Type", "application/json"));
    let request = function_url::request("POST", "/", &headers, body.as_bytes(), false);
    function_url::call(&intake.runtime, &request, Duration::from_secs(30)).await
}

async fn print_legal_hold(stack: &Stack, key: &str, version: &str) -> Result<()> {
    let bucket = stack.resource("GovernedBucket");
    let head = stack
        .s3()
        .head_object()
        .bucket(&bucket)
        .key(key)
        .version_id(version)
        .send()
        .await?;
    println!(
        "  S3 legal hold on s3://{bucket}/{key}?versionId={version}: {}",
        head.object_lock_legal_hold_status()
            .map(|s| s.as_str())
            .unwrap_or("OFF")
    );
    Ok(())
}

/// P2: a record moved to the Archive folder is found by the scheduled poller and copied by
/// the worker to the Object Lock archive bucket, its content released in OpenText.
async fn archive_reaches_s3(stack: &Stack, functions: &Companions, admin: &Client) -> Result<()> {
    println!("\n• P2: a record moved to the Archive folder is copied to the Object Lock archive");
    let invoice = record_id(stack, 2101, "finance/invoice-2026-0042.pdf").await?;
    admin
        .update_node(
            invoice,
            &NodeUpdate {
                parent_id: Some(2200),
                ..Default::default()
            },
        )
        .await?;
    println!("  OpenText: record {invoice} moved to Archive (2200); the scheduled poller notices");
    let report = functions
        .poller
        .runtime
        .invoke(
            &json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}),
            Duration::from_secs(60),
        )
        .await?;
    if let Some(r) = report.response() {
        println!("  poller: {} event(s) sent", r["events_sent"]);
    }
    functions.worker.drain(20).await?;
    print_archive(stack).await?;
    let view: Value = stack.sim_admin(&format!("nodes/{invoice}")).await?;
    let versions = view["versions"].as_array().map(Vec::len).unwrap_or(0);
    println!(
        "  record {invoice}: archive location recorded, content released ({versions} stub version left)"
    );
    Ok(())
}

/// Each archived copy with its size and Object Lock retention.
async fn print_archive(stack: &Stack) -> Result<()> {
    let s3 = stack.s3();
    let archive = stack.resource("ArchiveBucket");
    let listed = s3.list_objects_v2().bucket(&archive).send().await?;
    for obj in listed.contents() {
        let k = obj.key().unwrap_or_default();
        let h = s3.head_object().bucket(&archive).key(k).send().await?;
        println!(
            "  s3://{archive}/{k}  {} bytes  lock {} until {}",
            h.content_length().unwrap_or(0),
            h.object_lock_mode().map(|m| m.as_str()).unwrap_or("-"),
            h.object_lock_retain_until_date()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
        );
    }
    Ok(())
}

async fn signing_key(stack: &Stack) -> Result<String> {
    let secret = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .get_secret_value()
        .secret_id(stack.resource("EventSigningSecret"))
        .send()
        .await?;
    let v: Value = serde_json::from_str(secret.secret_string().unwrap_or("{}"))?;
    v["current"]
        .as_str()
        .map(str::to_string)
        .context("signing secret has no current key")
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
