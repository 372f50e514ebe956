//! The demo's fifth act (P7): controlled publication. A records manager places a safety
//! manual in Publications; it is refused until it is approved; the approved version is
//! published to the publication bucket (served by CloudFront); a newer approved version
//! replaces it; a legal hold takes it down. The real lifecycle worker takes each event from
//! its queue and asks OpenText every gate again.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use local_stack::stack::{Companion, Stack};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, Client, CreateOptions, Credentials, VersionOptions};
use serde_json::{Map, Value, json};

const PUBLICATIONS: u64 = 2300;
const CATEGORY: i64 = 3300;
const HOLD: i64 = 6100;
const NAME: &str = "Safety Manual.pdf";

/// Added to the policy in force, as a records team puts a new version of it.
const PUBLICATION_SECTION: &str = r#"
# P7: documents in Publications (2300) whose Publication category (3300) says Approved are
# published under public/manuals/<node>/<name> once every gate passes.
publication:
  triggers:
    - folder_id: 2300
    - approval
    - request
  approval:
    status_attribute: "3300_2"
    approved_values: [Approved]
    version_attribute: "3300_3"
  audience: public
  key: "manuals/{node_id}/{name}"
"#;

pub async fn run(stack: &Stack) -> Result<()> {
    println!(
        "\n• P7: controlled publication (OpenText → S3 → CloudFront), every gate asked of OpenText"
    );
    add_publication_section(stack).await?;
    let worker = stack
        .companion(
            &local_stack::workspace_root().join("target/debug/lifecycle-worker"),
            "LifecycleWorkerFunction",
            false,
        )
        .await?;
    let ot = Client::new(stack.sim.base_url(), Credentials::new("Admin", "livelink"))?;
    let cdn = aws_sdk_cloudfront::Client::new(&stack.sdk);
    let distribution = stack.resource("PublicationDistribution");

    // Placed in Publications, classified and official, still in review.
    let node = safety_manual(&ot).await?;
    set_approval(&ot, node, "In Review", None).await?;
    let moved = json!({"to_parent_id": PUBLICATIONS, "from_parent_id": 2000});
    send(stack, &worker, "moved-in", "node.moved", node, None, moved).await?;
    let (state, detail) = item(stack, node).await?;
    println!("  {NAME} (node {node}) placed in Publications, in review → {state}:");
    for r in detail["refusals"].as_array().into_iter().flatten() {
        println!("    {}: {}", text(&r["code"]), text(&r["reason"]));
    }

    // Version 2 approved.
    set_approval(&ot, node, "Approved", Some(2)).await?;
    let approval = json!({"category_id": CATEGORY});
    let changed = "node.attributes_changed";
    send(
        stack,
        &worker,
        "approved-2",
        changed,
        node,
        None,
        approval.clone(),
    )
    .await?;
    let (state, detail) = item(stack, node).await?;
    let key = text(&detail["live"]["key"]).to_string();
    let first = text(&detail["live"]["s3_version_id"]).to_string();
    println!(
        "  version 2 approved → {state}: s3://{}/{key}",
        stack.resource("PublicationBucket")
    );
    println!(
        "    S3 version {first}, {}",
        checksum(stack, node, &key, 2).await?
    );
    println!("    served at {}", text(&detail["live"]["url"]));

    // Version 3 added: nothing changes until it is approved.
    add_version(&ot, node, b"%PDF-1.7\n% Safety Manual, edition 3\n").await?;
    let added = "node.version_added";
    send(stack, &worker, "version-3", added, node, Some(3), json!({})).await?;
    let (state, detail) = item(stack, node).await?;
    println!(
        "  version 3 added → still {state} version {} (3 is not approved)",
        detail["live"]["version"]
    );
    set_approval(&ot, node, "Approved", Some(3)).await?;
    send(stack, &worker, "approved-3", changed, node, None, approval).await?;
    let (state, detail) = item(stack, node).await?;
    let left = s3_versions(stack, &key).await?;
    println!(
        "  version 3 approved → {state} version {} as S3 version {}; version 2's {first} {}",
        detail["live"]["version"],
        text(&detail["live"]["s3_version_id"]),
        if left.contains(&first) {
            "is STILL THERE"
        } else {
            "is gone"
        }
    );
    let mut seen = Vec::new();
    print_invalidations(&cdn, &distribution, &mut seen).await?;

    // A legal hold.
    ot.apply_hold(node as i64, HOLD).await?;
    let hold = json!({"hold_id": HOLD, "hold_name": "LIT-2026-001"});
    send(stack, &worker, "hold", "hold.applied", node, None, hold).await?;
    let (state, detail) = item(stack, node).await?;
    println!(
        "  hold LIT-2026-001 applied → taken down, {state} ({}); S3 versions and delete markers left under the key: {}",
        text(&detail["reason"]),
        s3_versions(stack, &key).await?.len()
    );
    print_invalidations(&cdn, &distribution, &mut seen).await?;
    print_audit(stack, node).await
}

/// The policy in force plus the publication section, put as the parameter's next version;
/// the worker started after it reads it at cold start.
async fn add_publication_section(stack: &Stack) -> Result<()> {
    let ssm = aws_sdk_ssm::Client::new(&stack.sdk);
    let name = stack.resource("RecordsPolicyParameter");
    let current = ssm.get_parameter().name(&name).send().await?;
    let text = current
        .parameter()
        .and_then(|p| p.value())
        .context("the policy parameter has no value")?;
    let policy = format!("{}\n{PUBLICATION_SECTION}", text.trim_end());
    local_stack::stack::set_policy(&stack.sdk, &stack.deployed, &policy).await?;
    println!(
        "  policy: a publication: section added (folder 2300, approval 3300_2 = Approved, version 3300_3, audience public)"
    );
    Ok(())
}

/// Two versions in Publications, classified (4100, RSI FIN-7Y) and official (a records
/// manager's work in OpenText).
async fn safety_manual(ot: &Client) -> Result<u64> {
    let node = ot
        .create_document(
            PUBLICATIONS as i64,
            NAME,
            Arc::new(BytesSource::new(
                &b"%PDF-1.7\n% Safety Manual, draft\n"[..],
                NAME,
            )),
            &CreateOptions::default(),
        )
        .await?;
    add_version(
        ot,
        node.id as u64,
        b"%PDF-1.7\n% Safety Manual, edition 2\n",
    )
    .await?;
    let details = RecordUpdate {
        official: Some(true),
        rsi: Some("FIN-7Y".into()),
        record_date: Some("2026-01-15".into()),
        ..Default::default()
    };
    ot.apply_rm_classification(node.id, 4100, &details, None)
        .await?;
    Ok(node.id as u64)
}

async fn add_version(ot: &Client, node: u64, body: &'static [u8]) -> Result<()> {
    ot.add_version(
        node as i64,
        Arc::new(BytesSource::new(body, NAME)),
        &VersionOptions::default(),
    )
    .await?;
    Ok(())
}

/// The Publication category: approval status and the version it approved.
async fn set_approval(ot: &Client, node: u64, status: &str, version: Option<u32>) -> Result<()> {
    let mut values = Map::new();
    values.insert("3300_2".into(), status.into());
    values.insert(
        "3300_3".into(),
        version.map(Value::from).unwrap_or(Value::Null),
    );
    if ot.get_category(node as i64, CATEGORY).await?.is_some() {
        ot.update_category(node as i64, CATEGORY, &values).await?;
    } else {
        ot.apply_category(node as i64, CATEGORY, &values).await?;
    }
    Ok(())
}

/// One lifecycle event (the callback contract) onto the worker's queue, then the worker
/// runs until the queue is quiet.
async fn send(
    stack: &Stack,
    worker: &Companion,
    id: &str,
    event_type: &str,
    node: u64,
    version: Option<u32>,
    data: Value,
) -> Result<()> {
    let mut event = json!({"schema": 1, "event_id": format!("demo-p7-{id}"), "type": event_type,
        "node_id": node, "occurred_at": "2026-12-01T10:00:00Z",
        "actor": {"user_id": 1000, "name": "Admin"}, "data": data});
    if let Some(v) = version {
        event["version"] = v.into();
    }
    stack
        .sqs()
        .send_message()
        .queue_url(stack.resource("LifecycleQueue"))
        .message_body(event.to_string())
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    worker.drain(20).await?;
    Ok(())
}

/// The workflow item `publication#<node>`: state and detail.
async fn item(stack: &Stack, node: u64) -> Result<(String, Value)> {
    let pk = records_domain::publication::publication_workflow_key(node);
    let item = stack
        .dynamodb()
        .get_item()
        .table_name(stack.resource("WorkflowTable"))
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(pk.as_str().into()),
        )
        .consistent_read(true)
        .send()
        .await?
        .item
        .with_context(|| format!("no workflow item {}", pk.as_str()))?;
    let field = |f: &str| item.get(f).and_then(|v| v.as_s().ok()).cloned();
    let detail = serde_json::from_str(&field("detail").unwrap_or_default()).unwrap_or_default();
    Ok((field("state").unwrap_or_default(), detail))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// The published copy's SHA-256 as S3 stores it (`x-amz-checksum-sha256`), against the one
/// OpenText stored for the version.
async fn checksum(stack: &Stack, node: u64, key: &str, version: u64) -> Result<String> {
    use base64::Engine;
    let head = stack
        .s3()
        .head_object()
        .bucket(stack.resource("PublicationBucket"))
        .key(key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await?;
    let s3 = head
        .checksum_sha256()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(hex::encode)
        .unwrap_or_default();
    let view = stack.sim_admin(&format!("nodes/{node}")).await?;
    let opentext = view["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["version_number"].as_u64() == Some(version))
        .and_then(|v| v["sha256"].as_str())
        .unwrap_or_default();
    Ok(if !s3.is_empty() && s3 == opentext {
        format!(
            "SHA-256 {}… (S3's checksum = OpenText's version {version})",
            &s3[..16]
        )
    } else {
        format!("SHA-256 MISMATCH: S3 {s3:?}, OpenText {opentext:?}")
    })
}

/// Every S3 version and delete marker of `key` in the publication bucket.
async fn s3_versions(stack: &Stack, key: &str) -> Result<Vec<String>> {
    let out = stack
        .s3()
        .list_object_versions()
        .bucket(stack.resource("PublicationBucket"))
        .prefix(key)
        .send()
        .await?;
    let versions = out
        .versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .map(|v| v.version_id().unwrap_or_default().to_string());
    let markers = out
        .delete_markers()
        .iter()
        .filter(|m| m.key() == Some(key))
        .map(|m| format!("delete marker {}", m.version_id().unwrap_or_default()));
    Ok(versions.chain(markers).collect())
}

/// The distribution's invalidations not printed yet (moto's CloudFront).
async fn print_invalidations(
    cdn: &aws_sdk_cloudfront::Client,
    distribution: &str,
    seen: &mut Vec<String>,
) -> Result<()> {
    let listed = cdn
        .list_invalidations()
        .distribution_id(distribution)
        .send()
        .await?;
    let ids: Vec<String> = listed
        .invalidation_list()
        .map(|l| l.items().iter().map(|i| i.id().to_string()).collect())
        .unwrap_or_default();
    for id in ids.iter().filter(|id| !seen.contains(id)) {
        let got = cdn
            .get_invalidation()
            .distribution_id(distribution)
            .id(id)
            .send()
            .await?;
        let paths = got
            .invalidation()
            .and_then(|i| i.invalidation_batch())
            .and_then(|b| b.paths())
            .map(|p| p.items().to_vec())
            .unwrap_or_default();
        println!("    CloudFront invalidation {id} on distribution {distribution}: {paths:?}");
    }
    *seen = ids;
    Ok(())
}

/// The node's audit trail, one word each (action, outcome).
async fn print_audit(stack: &Stack, node: u64) -> Result<()> {
    let out = stack
        .dynamodb()
        .query()
        .table_name(stack.resource("AuditTable"))
        .key_condition_expression("subject = :s")
        .expression_attribute_values(
            ":s",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("otcs:node/{node}")),
        )
        .send()
        .await?;
    let trail: Vec<String> = out
        .items()
        .iter()
        .filter_map(|i| i.get("event")?.as_s().ok())
        .filter_map(|s| serde_json::from_str::<Value>(s).ok())
        .map(|e| {
            let codes: Vec<&str> = e["details"]["refusals"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| text(&r["code"]))
                .collect();
            let why = match (codes.is_empty(), e["record"]["version_number"].as_u64()) {
                (false, _) => codes.join(", "),
                (true, Some(v)) => format!("version {v}"),
                (true, None) => text(&e["reason"]).split(':').next().unwrap_or("").into(),
            };
            format!("{} {} ({why})", text(&e["action"]), text(&e["outcome"]))
        })
        .collect();
    println!("  audited: {}", trail.join("; "));
    Ok(())
}
