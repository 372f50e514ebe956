//! The demo's third act (P4): a business event starts a contract's retention, and an
//! approved disposition of it is refused because that retention has not ended — with a
//! signed certificate saying so; a dry run of an expired record shows what would go.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use local_stack::stack::Stack;
use serde_json::{Value, json};

const SEARCH: u64 = 7100;
/// The contract this act declares (the next act opens it).
pub const CONTRACT_KEY: &str = "legal/contracts/K-2026-17/signed.pdf";

pub async fn run(stack: &Stack) -> Result<()> {
    println!("\n• P4: a business event starts retention; disposition only when nothing keeps it");
    let worker = stack
        .companion(
            &local_stack::workspace_root().join("target/debug/lifecycle-worker"),
            "LifecycleWorkerFunction",
            false,
        )
        .await?;
    let bucket = stack.resource("GovernedBucket");
    let key = CONTRACT_KEY;
    let version = stack
        .s3()
        .put_object()
        .bucket(&bucket)
        .key(key)
        .body(ByteStream::from_static(b"%PDF-1.7\n% contract K-2026-17\n"))
        .send()
        .await?
        .version_id
        .unwrap_or_default();
    stack.drain(20).await?;
    let node = node_of(stack, key).await?;
    println!("  put  {key} → reference record {node}, indexed under contract K-2026-17");

    // The contracts system says the contract expired (EventBridge would deliver the same).
    let event = json!({"schema": 1, "event_id": "demo-contract-expired", "event_type": "contract.expired",
        "business_object": {"type": "contract", "id": "K-2026-17"},
        "occurred_at": "2026-11-30", "source": "contracts-demo"});
    send(stack, &event).await?;
    worker.drain(20).await?;
    let head = stack
        .s3()
        .head_object()
        .bucket(&bucket)
        .key(key)
        .version_id(&version)
        .send()
        .await?;
    println!(
        "  contract.expired → record date 2026-11-30, status CLOSED; S3 lock {} until {}",
        head.object_lock_mode().map(|m| m.as_str()).unwrap_or("-"),
        head.object_lock_retain_until_date()
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into())
    );

    // A reviewer approves the contract's destruction anyway: refused, with a certificate.
    let snapshot: Value = stack
        .sim_admin_post(
            "disposition-snapshots",
            json!({"search_id": SEARCH, "qdate": "2026-12-01T12:00:00",
                   "items": [{"id": node, "decision": "approve", "disp_action": 32}]}),
        )
        .await?;
    let qdate = snapshot["qdate"]
        .as_str()
        .unwrap_or("2026-12-01T12:00:00")
        .to_string();
    for dry_run in [true, false] {
        let approved = json!({"schema": 1, "event_id": format!("demo-disposition-{dry_run}"),
            "type": "disposition.approved", "node_id": SEARCH, "occurred_at": "2026-12-01T12:00:00Z",
            "actor": {"name": "rm.reviewer"}, "data": {"qdate": qdate, "dry_run": dry_run}});
        send(stack, &approved).await?;
        worker.drain(20).await?;
    }
    let still_there = stack
        .s3()
        .head_object()
        .bucket(&bucket)
        .key(key)
        .version_id(&version)
        .send()
        .await
        .is_ok();
    println!(
        "  disposition.approved (dry run, then for real) → refused: retention has not ended; version still in S3: {still_there}"
    );
    print_certificates(stack).await
}

async fn send(stack: &Stack, body: &Value) -> Result<()> {
    stack
        .sqs()
        .send_message()
        .queue_url(stack.resource("LifecycleQueue"))
        .message_body(body.to_string())
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

pub async fn node_of(stack: &Stack, name: &str) -> Result<i64> {
    let nodes = stack.sim_admin("nodes?parent_id=2103").await?;
    nodes
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["name"] == name)
        .and_then(|n| n["id"].as_i64())
        .with_context(|| format!("no record {name:?}"))
}

async fn print_certificates(stack: &Stack) -> Result<()> {
    let audit = stack.resource("AuditBucket");
    let listed = stack
        .s3()
        .list_objects_v2()
        .bucket(&audit)
        .prefix("disposition-certificates/")
        .send()
        .await?;
    for o in listed.contents() {
        let k = o.key().unwrap_or_default();
        let body = stack
            .s3()
            .get_object()
            .bucket(&audit)
            .key(k)
            .send()
            .await?
            .body
            .collect()
            .await?
            .into_bytes();
        let v: Value = serde_json::from_slice(&body)?;
        let refused = v["certificate"]["refused"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        let destroyed = v["certificate"]["records"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        println!(
            "  s3://{audit}/{k}: {} signed {}, {destroyed} destroyed, {refused} refused ({})",
            if v["certificate"]["dry_run"] == true {
                "draft"
            } else {
                "certificate"
            },
            v["signing_algorithm"].as_str().unwrap_or("?"),
            v["certificate"]["refused"][0]["reasons"][0]["message"]
                .as_str()
                .unwrap_or("-")
        );
    }
    println!(
        "  verify offline: cargo run -p records-cli --bin records-certificate -- verify --certificate s3://{audit}/<key> --kms-key-id {}",
        stack.resource("CertificateSigningKey")
    );
    Ok(())
}
