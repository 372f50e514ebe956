//! The reconciler end to end: the real `reconciler` binary, invoked as Lambda would (on
//! demand with `{"dry_run":…}`), against links in moto's workflow table, versions in the
//! Object Lock bucket and records in the simulator. Each kind of drift is planted here.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ObjectLockLegalHold, ObjectLockLegalHoldStatus, ObjectLockRetention,
    ObjectLockRetentionMode,
};
use local_stack::stack::{Stack, StackOptions};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, Client, CreateOptions};
use records_aws::links::{LinkStore, LinkedVersion};
use serde_json::{Value, json};
use test_support::epoch;
use test_support::hashing::sha256_hex;

struct Env {
    stack: Stack,
    ot: Client,
    links: LinkStore,
    bucket: String,
}

async fn env() -> Env {
    let stack = test_support::stack::start(StackOptions::new(
        env!("CARGO_BIN_EXE_reconciler"),
        "ReconcilerFunction",
    ))
    .await;
    let ot = test_support::opentext::service_client(&stack);
    let links = test_support::workflow::links(&stack);
    let bucket = test_support::stack::governed_bucket(&stack);
    Env {
        stack,
        ot,
        links,
        bucket,
    }
}

impl Env {
    /// A record; classified under FIN-7Y with `record_date` when given.
    async fn record(&self, name: &str, record_date: Option<&str>) -> u64 {
        let node = self
            .ot
            .create_document(
                2101,
                name,
                Arc::new(BytesSource::new(b"{}".to_vec(), format!("{name}.json"))),
                &CreateOptions::default(),
            )
            .await
            .unwrap();
        if let Some(date) = record_date {
            let details = RecordUpdate {
                rsi: Some("FIN-7Y".into()),
                record_date: Some(date.into()),
                ..Default::default()
            };
            self.ot
                .apply_rm_classification(node.id, 4100, &details, None)
                .await
                .unwrap();
        }
        node.id as u64
    }

    /// Uploads and links one version; `link_sha` overrides the SHA-256 recorded in the link.
    async fn linked(
        &self,
        node: u64,
        key: &str,
        with_checksum: bool,
        link_sha: Option<&str>,
    ) -> LinkedVersion {
        let body = format!("content of {key}").into_bytes();
        let mut put = self
            .stack
            .s3()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body.clone()));
        if with_checksum {
            put = put.checksum_algorithm(ChecksumAlgorithm::Sha256);
        }
        let version_id = put.send().await.unwrap().version_id.unwrap();
        let v = LinkedVersion {
            bucket: self.bucket.clone(),
            key: key.into(),
            version_id,
            sha256: link_sha
                .map(str::to_string)
                .unwrap_or_else(|| sha256_hex(&body)),
        };
        self.links.link(node, &v).await.unwrap();
        v
    }

    async fn legal_hold(&self, v: &LinkedVersion, on: bool) {
        let status = if on {
            ObjectLockLegalHoldStatus::On
        } else {
            ObjectLockLegalHoldStatus::Off
        };
        self.stack
            .s3()
            .put_object_legal_hold()
            .bucket(&v.bucket)
            .key(&v.key)
            .version_id(&v.version_id)
            .legal_hold(ObjectLockLegalHold::builder().status(status).build())
            .send()
            .await
            .unwrap();
    }

    async fn head(&self, v: &LinkedVersion) -> (bool, Option<i64>) {
        let h = test_support::s3::head(&self.stack, &v.bucket, &v.key, &v.version_id).await;
        (
            h.object_lock_legal_hold_status() == Some(&ObjectLockLegalHoldStatus::On),
            h.object_lock_retain_until_date().map(|d| d.secs()),
        )
    }

    async fn reconcile(&self, dry_run: bool) -> Value {
        let out = self
            .stack
            .runtime
            .invoke(&json!({ "dry_run": dry_run }), Duration::from_secs(120))
            .await
            .expect("invoke");
        out.response()
            .cloned()
            .unwrap_or_else(|| panic!("{out:?}\n{}", self.stack.function.logs().join("\n")))
    }
}

/// (node, key, kind, repaired, has repair) of every finding.
fn findings(report: &Value) -> Vec<(u64, String, String, bool, bool)> {
    let mut out: Vec<_> = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["node_id"].as_u64().unwrap(),
                f["key"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["repaired"].as_bool().unwrap(),
                f.get("repair").is_some_and(|r| !r.is_null()),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_reconciler_finds_each_planted_drift_repairs_what_is_safe_and_reports_the_rest() {
    let e = env().await;

    // In agreement: no drift.
    let clean = e.record("clean", None).await;
    e.linked(clean, "finance/clean.txt", true, None).await;

    // Missing record: the node is deleted in OpenText.
    let gone = e.record("gone", None).await;
    e.linked(gone, "finance/gone-record.txt", false, None).await;
    e.ot.delete_node(gone as i64).await.unwrap();

    // Missing object: the linked version is deleted in S3.
    let orphan = e.record("orphan", None).await;
    let deleted = e.linked(orphan, "finance/deleted.txt", false, None).await;
    e.stack
        .s3()
        .delete_object()
        .bucket(&deleted.bucket)
        .key(&deleted.key)
        .version_id(&deleted.version_id)
        .send()
        .await
        .unwrap();

    // Hold mismatch, safe: OpenText holds it, S3 does not.
    let held = e.record("held", None).await;
    let unheld = e.linked(held, "finance/held.txt", false, None).await;
    e.ot.apply_hold(held as i64, 6100).await.unwrap();

    // Hold mismatch, not safe: S3 holds what OpenText does not.
    let stray = e.record("stray", None).await;
    let stray_v = e.linked(stray, "finance/stray.txt", false, None).await;
    e.legal_hold(&stray_v, true).await;

    // Retention mismatch, safe: FIN-7Y asks for 2033-01-15, S3 has nothing.
    let short = e.record("short", Some("2026-01-15T00:00:00Z")).await;
    let short_v = e.linked(short, "finance/short.txt", false, None).await;

    // Retention mismatch, not safe: S3 keeps it longer (COMPLIANCE) than OpenText asks.
    let long = e.record("long", Some("2026-01-15T00:00:00Z")).await;
    let long_v = e.linked(long, "finance/long.txt", false, None).await;
    e.stack
        .s3()
        .put_object_retention()
        .bucket(&long_v.bucket)
        .key(&long_v.key)
        .version_id(&long_v.version_id)
        .retention(
            ObjectLockRetention::builder()
                .mode(ObjectLockRetentionMode::Compliance)
                .retain_until_date(aws_smithy_types::DateTime::from_secs(epoch(
                    "2040-01-01T00:00:00Z",
                )))
                .build(),
        )
        .send()
        .await
        .unwrap();

    // Checksum mismatch: once from S3's stored checksum, once by re-hashing the bytes.
    let tampered = e.record("tampered", None).await;
    let wrong = "00".repeat(32);
    e.linked(tampered, "finance/with-checksum.txt", true, Some(&wrong))
        .await;
    e.linked(tampered, "finance/rehashed.txt", false, Some(&wrong))
        .await;

    let expected = [
        (gone, "finance/gone-record.txt", "missing_record", false),
        (orphan, "finance/deleted.txt", "missing_object", false),
        (held, "finance/held.txt", "hold_mismatch", true),
        (stray, "finance/stray.txt", "hold_mismatch", false),
        (short, "finance/short.txt", "retention_mismatch", true),
        (long, "finance/long.txt", "retention_mismatch", false),
        (tampered, "finance/rehashed.txt", "checksum_mismatch", false),
        (
            tampered,
            "finance/with-checksum.txt",
            "checksum_mismatch",
            false,
        ),
    ];
    let as_found = |dry: bool| {
        let mut v: Vec<_> = expected
            .iter()
            .map(|(n, k, kind, safe)| (*n, k.to_string(), kind.to_string(), *safe && !dry, *safe))
            .collect();
        v.sort();
        v
    };

    // Dry run: everything found, nothing changed.
    let dry = e.reconcile(true).await;
    assert_eq!(findings(&dry), as_found(true), "{dry:#}");
    assert_eq!(dry["records"], 8);
    assert_eq!(dry["versions"], 9);
    assert_eq!(
        e.head(&unheld).await,
        (false, None),
        "dry run changes nothing"
    );

    // Real run: the safe ones are repaired.
    let run = e.reconcile(false).await;
    assert_eq!(findings(&run), as_found(false), "{run:#}");
    assert_eq!(run["repaired"], 2);
    assert!(
        e.head(&unheld).await.0,
        "legal hold put on where OpenText holds"
    );
    assert_eq!(
        e.head(&short_v).await.1,
        Some(epoch("2033-01-15T00:00:00Z"))
    );
    assert!(
        e.head(&stray_v).await.0,
        "a stray S3 hold is reported, never removed"
    );
    assert_eq!(
        e.head(&long_v).await.1,
        Some(epoch("2040-01-01T00:00:00Z")),
        "never shortened"
    );

    // Next run: only what needs a person is left.
    let again = e.reconcile(false).await;
    let left: Vec<_> = findings(&again).into_iter().map(|f| f.2).collect();
    assert_eq!(left.len(), 6, "{again:#}");
    assert_eq!(again["repaired"], 0);

    // Every finding is in the audit trail.
    let trail =
        test_support::audit::of_version(&e.stack, &unheld.bucket, &unheld.key, &unheld.version_id)
            .await;
    let outcomes: Vec<_> = trail
        .iter()
        .filter(|ev| ev.action == records_domain::AuditAction::Reconcile)
        .map(|ev| ev.outcome)
        .collect();
    assert!(outcomes.contains(&records_domain::Outcome::DryRun));
    assert!(outcomes.contains(&records_domain::Outcome::Succeeded));
}

#[tokio::test]
async fn a_bad_request_is_refused_with_a_clear_error() {
    let e = env().await;
    let out = e
        .stack
        .runtime
        .invoke(&json!({ "dry_run": "yes" }), Duration::from_secs(60))
        .await
        .unwrap();
    let err = format!("{out:?}");
    assert!(out.response().is_none() && err.contains("dry_run"), "{err}");
}
