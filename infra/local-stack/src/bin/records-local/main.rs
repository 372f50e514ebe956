//! `records-local demo`: records-bridge on this machine, no Docker, no AWS account.
//! Starts moto (with the resources of template.yaml), the OpenText simulator and the real
//! `declare` function under a Lambda Runtime API emulator fed by the SQS queue; uploads
//! sample files; prints what became of each; then keeps declaring new uploads until Ctrl-C.

mod lifecycle;
mod p4;
mod p5;
mod p7;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use aws_sdk_s3::primitives::ByteStream;
use local_stack::sim_process::SimProcess;
use local_stack::stack::{Sim, Stack, StackOptions};
use serde_json::Value;

struct Sample {
    key: &'static str,
    body: Vec<u8>,
    note: &'static str,
    folder: Option<u64>,
}

fn samples() -> Vec<Sample> {
    vec![
        Sample {
            key: "finance/invoice-2026-0042.pdf",
            body: b"%PDF-1.7\n% invoice 2026-0042, EUR 1,250.00\n".to_vec(),
            note: "governed: finance rule",
            folder: Some(2101),
        },
        Sample {
            key: "finance/Q3 report 2026 – café.csv",
            body: "region,revenue\nnord,1200\nsüd,900\n".as_bytes().to_vec(),
            note: "spaces and unicode in the key",
            folder: Some(2101),
        },
        Sample {
            key: "misc/lunch-menu.txt",
            body: b"soup of the day\n".to_vec(),
            note: "ungoverned: no rule matches",
            folder: None,
        },
        Sample {
            key: "drafts/board-memo.docx",
            body: b"draft".to_vec(),
            note: "ignored by rule drafts-ignored",
            folder: None,
        },
        Sample {
            key: "contracts/msa-acme.pdf",
            body: b"%PDF-1.7\n% master services agreement\n".to_vec(),
            note: "declared only after it is tagged final",
            folder: Some(2103),
        },
    ]
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// The demo's binaries, as `make demo` builds them into target/debug.
const BINARIES: [&str; 6] = [
    "declare",
    "access-endpoint",
    "opentext-sim",
    "lifecycle-worker",
    "event-intake",
    "event-poller",
];

fn bin(root: &Path, name: &str) -> PathBuf {
    root.join("target/debug").join(name)
}

#[tokio::main]
async fn main() -> Result<()> {
    let command = std::env::args().nth(1).unwrap_or_default();
    if command != "demo" {
        eprintln!("usage: records-local demo\n  (run it with `make demo`)");
        std::process::exit(2);
    }
    let root = local_stack::workspace_root();
    check_built(&root)?;
    println!("records-bridge local demo\n");
    let stack = start_stack(&root).await?;
    let bucket = stack.resource("GovernedBucket");
    print_stack(&stack, &bucket);

    let versions = upload_samples(&stack, &bucket).await?;
    stack.drain(30).await?;
    approve_contract(&stack, &bucket).await?;
    stack.drain(30).await?;
    print_outcomes(&stack, &bucket, &versions).await?;
    lifecycle::run(&stack).await?;
    p4::run(&stack).await?;
    let _access = p5::run(&stack, p4::CONTRACT_KEY).await?;
    p7::run(&stack).await?;

    print_where_next(&stack, &root, &bucket);
    watch_queue(&stack).await?;
    println!("\nstopping: function, simulator, moto");
    drop(stack);
    Ok(())
}

/// The demo runs the binaries as they are; it does not build them.
fn check_built(root: &Path) -> Result<()> {
    for name in BINARIES {
        if !bin(root, name).exists() {
            bail!(
                "{} is not built: run `make demo` (it builds it)",
                bin(root, name).display()
            );
        }
    }
    Ok(())
}

/// Moto with the template's resources, the simulator and `declare` fed by its queue.
async fn start_stack(root: &Path) -> Result<Stack> {
    println!("• starting the OpenText simulator, moto, and the declare function…");
    // Every file through the chunked upload API, as servers that chunk from 1 byte do.
    let sim = SimProcess::start(&bin(root, "opentext-sim"), &["--multipart-min-size", "1"])?;
    let policy = std::fs::read_to_string(root.join("infra/local-stack/demo/policy.yaml"))?;
    let mut options = StackOptions::new(bin(root, "declare"), "DeclareFunction");
    options.policy = Some(policy.to_string());
    options.prefix = "demo".into();
    options
        .parameters
        .insert("ArchiveFolderIds".into(), "2200".into());
    Stack::start_with_sim(options, Sim::Process(sim)).await
}

fn print_stack(stack: &Stack, bucket: &str) {
    println!("  OpenText simulator  {}", stack.sim.base_url());
    println!("  moto (local AWS)    {}", stack.moto.endpoint());
    println!(
        "  governed bucket     s3://{bucket}  (versioned, notifies {})",
        stack.resource("DeclareQueue")
    );
    println!();
}

/// Puts every sample; answers each key's S3 version id.
async fn upload_samples(stack: &Stack, bucket: &str) -> Result<BTreeMap<&'static str, String>> {
    let s3 = stack.s3();
    let mut versions = BTreeMap::new();
    println!("• uploading samples");
    for s in samples() {
        let out = s3
            .put_object()
            .bucket(bucket)
            .key(s.key)
            .body(ByteStream::from(s.body.clone()))
            .send()
            .await?;
        versions.insert(s.key, out.version_id.unwrap_or_default());
        println!("  put  {:<38} {}", s.key, s.note);
    }
    Ok(versions)
}

/// The contract waits for approval: the demo policy declares it once it is tagged final.
async fn approve_contract(stack: &Stack, bucket: &str) -> Result<()> {
    println!("• tagging contracts/msa-acme.pdf records-bridge:status=final (the approval)");
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key("records-bridge:status")
                .value("final")
                .build()?,
        )
        .build()?;
    stack
        .s3()
        .put_object_tagging()
        .bucket(bucket)
        .key("contracts/msa-acme.pdf")
        .tagging(tagging)
        .send()
        .await?;
    Ok(())
}

/// One line per sample: its workflow state and, for governed ones, the record in OpenText.
async fn print_outcomes(
    stack: &Stack,
    bucket: &str,
    versions: &BTreeMap<&'static str, String>,
) -> Result<()> {
    println!("\n• what happened, file by file\n");
    println!(
        "  {:<36} {:<9} {:>7} {:<20} sha-256 (S3 = OpenText)",
        "key", "state", "record", "classification"
    );
    for s in samples() {
        let version = &versions[s.key];
        let state = workflow_state(stack, bucket, s.key, version).await?;
        let (record, class, check) = match s.folder {
            Some(folder) => describe_record(stack, folder, s.key, &s.body).await?,
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "  {:<36} {:<9} {:>7} {:<20} {}",
            s.key, state, record, class, check
        );
    }
    Ok(())
}

fn print_where_next(stack: &Stack, root: &Path, bucket: &str) {
    println!("\n• where to look next");
    let admin = stack.sim.admin_url();
    println!(
        "  records in Finance      curl -s '{admin}/nodes?parent_id=2101' | python3 -m json.tool"
    );
    println!(
        "  REST as a client would  curl -s -X POST -d username=Admin -d password=livelink {}/api/v1/auth",
        stack.sim.base_url()
    );
    println!(
        "  audit trail (DynamoDB)  table {}",
        stack.resource("AuditTable")
    );
    println!(
        "  upload more             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\"
    );
    println!(
        "                          {}/bin/python -c \"import boto3; boto3.client('s3', endpoint_url='{}', region_name='us-east-1').upload_file('FILE', '{bucket}', 'finance/FILE')\"",
        root.join(".venv-moto").display(),
        stack.moto.endpoint()
    );
    println!(
        "\n  Watching the queue: new uploads are declared as they arrive. Ctrl-C stops everything.\n"
    );
}

/// Feeds `declare` from its queue until Ctrl-C.
async fn watch_queue(stack: &Stack) -> Result<()> {
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            report = stack.poll() => {
                let report = report?;
                if report.received > 0 {
                    println!("  invoked declare with {} message(s): {} done, {} to retry", report.received, report.deleted, report.failed_ids.len());
                }
            }
        }
    }
    Ok(())
}

async fn workflow_state(stack: &Stack, bucket: &str, key: &str, version: &str) -> Result<String> {
    let pk = records_domain::IdempotencyKey::declare(
        &records_domain::ObjectVersion::new(bucket, key, Some(version)),
        None,
    );
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
        .item;
    Ok(item
        .and_then(|i| i.get("state").and_then(|s| s.as_s().ok()).cloned())
        .unwrap_or_else(|| "-".into()))
}

async fn describe_record(
    stack: &Stack,
    folder: u64,
    key: &str,
    body: &[u8],
) -> Result<(String, String, String)> {
    // The demo policy names each document by its whole key.
    let name = key;
    let nodes = stack
        .sim_admin(&format!("nodes?parent_id={folder}"))
        .await?;
    let Some(doc) = nodes
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["name"] == name)
    else {
        return Ok(("none".into(), "-".into(), "-".into()));
    };
    let class = doc["rm"]["records"]
        .as_array()
        .and_then(|r| r.first())
        .map(|r| {
            let id = r
                .get("rmclassification_id")
                .or_else(|| r.get("class_id"))
                .cloned()
                .unwrap_or(Value::Null);
            let rsi = r.get("rsi").and_then(Value::as_str).unwrap_or("");
            format!("{id} {rsi}")
        })
        .unwrap_or_else(|| "-".into());
    let stored = doc["versions"]
        .as_array()
        .and_then(|v| v.last())
        .and_then(|v| v["sha256"].as_str())
        .context("version sha")?;
    let expected = sha256_hex(body);
    let check = if stored == expected {
        format!("{}… match", &expected[..12])
    } else {
        format!("MISMATCH {stored}")
    };
    Ok((doc["id"].to_string(), class, check))
}
