//! What the P4 disposition tests share: expired records with linked versions, approved
//! snapshots of the simulator's disposition search, the `disposition.approved` event, and
//! reading back the versions and the certificates in moto.

#![allow(dead_code)] // each test file uses its own part

use local_stack::stack::Stack;
use records_aws::links::LinkedVersion;
use records_domain::disposition::SignedCertificate;
use serde_json::json;

use crate::governance_support::{linked_versions, record};

pub const SEARCH: u64 = 7100;

/// A record whose retention ended long ago (FIN-7Y from 2010), with `count` linked versions.
pub async fn expired_record(stack: &Stack, name: &str, count: usize) -> (u64, Vec<LinkedVersion>) {
    let node = record(stack, name, 4100, "FIN-7Y", "2010-01-15T00:00:00Z").await;
    let versions = linked_versions(stack, node, &format!("finance/{name}.pdf"), count).await;
    (node, versions)
}

/// A snapshot of the disposition search approving `nodes` for destruction; its qdate.
pub async fn approved_snapshot(stack: &Stack, nodes: &[u64], qdate: &str) -> String {
    let items: Vec<_> = nodes
        .iter()
        .map(|n| json!({"id": n, "decision": "approve", "disp_action": 32}))
        .collect();
    let v = stack
        .sim_admin_post(
            "disposition-snapshots",
            json!({"search_id": SEARCH, "qdate": qdate, "items": items}),
        )
        .await
        .expect("snapshot");
    v["qdate"].as_str().unwrap_or(qdate).to_string()
}

pub fn approved(event_id: &str, qdate: &str, dry_run: bool) -> serde_json::Value {
    json!({
        "schema": 1, "event_id": event_id, "type": "disposition.approved", "node_id": SEARCH,
        "occurred_at": "2026-12-01T09:00:00Z", "actor": {"name": "rm.reviewer"},
        "data": {"qdate": qdate, "dry_run": dry_run},
    })
}

pub async fn send(stack: &Stack, body: &serde_json::Value) -> Vec<String> {
    test_support::queue::send(stack, "LifecycleQueue", &body.to_string()).await;
    let reports = stack.drain(10).await.expect("drain");
    reports.iter().flat_map(|r| r.failed_ids.clone()).collect()
}

/// Is the version really gone (HeadObject by version id: 404), not hidden by a marker?
pub async fn gone(stack: &Stack, v: &LinkedVersion) -> bool {
    stack
        .s3()
        .head_object()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .is_err()
}

/// Every certificate in the audit bucket, parsed, with its object key.
pub async fn certificates(stack: &Stack) -> Vec<(String, SignedCertificate)> {
    let bucket = stack.resource("AuditBucket");
    let listed = stack
        .s3()
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("disposition-certificates/")
        .send()
        .await
        .expect("list certificates");
    let mut out = Vec::new();
    for o in listed.contents() {
        let key = o.key().unwrap_or_default().to_string();
        let body = stack
            .s3()
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        out.push((
            key,
            SignedCertificate::from_json(&body).expect("a certificate"),
        ));
    }
    out
}

pub async fn public_key(stack: &Stack) -> Vec<u8> {
    let kms = aws_sdk_kms::Client::new(&stack.sdk);
    records_aws::certificate_signer::CertificateSigner::new(
        kms,
        stack.resource("CertificateSigningKey"),
    )
    .public_key()
    .await
    .expect("public key")
    .spki_der
    .clone()
}

pub fn failed_logs(stack: &Stack, failed: &[String]) -> String {
    format!("{failed:?}\n{}", stack.function.logs().join("\n"))
}
