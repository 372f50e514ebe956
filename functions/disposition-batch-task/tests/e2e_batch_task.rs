//! The real `disposition-batch-task` binary under the Runtime API emulator, fed S3 Batch
//! Operations invocations (schema 2.0, as AWS documents them) against moto and the
//! OpenText simulator. Records are created in the simulator, their versions put in the
//! governed bucket and written as batch items, as the disposition workflow does first.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ObjectLockLegalHold, ObjectLockLegalHoldStatus, ObjectLockRetention, ObjectLockRetentionMode,
};
use local_stack::stack::{Stack, StackOptions};
use opentext_client::{BytesSource, CreateOptions};
use records_aws::batch_operations::{BatchItem, BatchItems, encode_key};
use records_domain::{AuditAction, ObjectVersion, Outcome};
use serde_json::{Value, json};
use test_support::stack::OptionsExt;

const BATCH: &str = "disp-2026-0042";

async fn stack() -> Stack {
    let logical = "DispositionBatchTaskFunction";
    let policy = test_support::policy::policy(&[test_support::policy::FINANCE]);
    test_support::stack::start(
        StackOptions::new(env!("CARGO_BIN_EXE_disposition-batch-task"), logical)
            .with_policy(&policy),
    )
    .await
}

/// A record with RSI FIN-7Y (7 years from the record date): 2015 is past, 2026 is not.
async fn record(stack: &Stack, name: &str, record_date: &str) -> u64 {
    let ot = test_support::opentext::service_client(stack);
    let node = ot
        .create_document(
            2101,
            name,
            Arc::new(BytesSource::new(b"{}".to_vec(), format!("{name}.json"))),
            &CreateOptions::default(),
        )
        .await
        .expect("create record");
    test_support::opentext::classify_official(&ot, node.id, 4100, "FIN-7Y", record_date).await;
    node.id as u64
}

/// Puts a version of `key` and writes it into the batch under the record.
async fn version(stack: &Stack, node_id: u64, key: &str) -> ObjectVersion {
    let bucket = test_support::stack::governed_bucket(stack);
    let vid = stack
        .s3()
        .put_object()
        .bucket(&bucket)
        .key(key)
        .body(ByteStream::from(format!("{key} content").into_bytes()))
        .send()
        .await
        .expect("put")
        .version_id
        .expect("versioned");
    let v = ObjectVersion::new(&bucket, key, Some(&vid));
    BatchItems::new(stack.dynamodb(), stack.resource("WorkflowTable"))
        .put_all(&[BatchItem {
            batch_id: BATCH.into(),
            node_id,
            version: v.clone(),
            sha256: Some("ab".repeat(32)),
            size: None,
        }])
        .await
        .expect("batch item");
    v
}

fn task(id: &str, v: &ObjectVersion) -> Value {
    json!({"taskId": id, "s3Key": encode_key(&v.key), "s3VersionId": v.version_id, "s3Bucket": v.bucket})
}

/// A schema-2.0 invocation as S3 sends it (AWS's documented shape).
fn invocation(tasks: Vec<Value>) -> Value {
    json!({
        "invocationSchemaVersion": "2.0",
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "job": {"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce", "userArguments": {"dispositionBatchId": BATCH}},
        "tasks": tasks,
    })
}

async fn invoke(stack: &Stack, payload: Value) -> Value {
    match stack
        .runtime
        .invoke(&payload, Duration::from_secs(60))
        .await
        .expect("invoke")
    {
        local_stack::runtime_api::Outcome::Response(v) => v,
        other => panic!("{other:?}\n{}", stack.function.logs().join("\n")),
    }
}

/// `(resultCode, resultString)` of the task `id`.
fn result(resp: &Value, id: &str) -> (String, String) {
    let r = resp["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["taskId"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {resp}"));
    let text = r["resultString"].as_str().unwrap();
    // A deletion names its time (`deleted at <RFC 3339>`) for the certificate.
    let text = match text.strip_prefix("deleted at ") {
        Some(at) => {
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|e| panic!("deletion time {at:?}: {e}"));
            "deleted"
        }
        None => text,
    };
    (r["resultCode"].as_str().unwrap().into(), text.into())
}

async fn exists(stack: &Stack, v: &ObjectVersion) -> bool {
    stack
        .s3()
        .head_object()
        .bucket(&v.bucket)
        .key(&v.key)
        .version_id(&v.version_id)
        .send()
        .await
        .is_ok()
}

/// Gone for good: HeadObject of the version fails and no delete marker was added.
async fn assert_gone(stack: &Stack, v: &ObjectVersion) {
    assert!(!exists(stack, v).await, "{v:?} still there");
    let listed = stack
        .s3()
        .list_object_versions()
        .bucket(&v.bucket)
        .prefix(&v.key)
        .send()
        .await
        .unwrap();
    assert!(
        listed.delete_markers().is_empty(),
        "a delete marker was written for {}",
        v.key
    );
    assert!(
        listed
            .versions()
            .iter()
            .all(|x| x.version_id() != Some(&v.version_id))
    );
}

#[tokio::test]
async fn all_clear_deletes_the_version_and_each_refusal_keeps_its_own() {
    let stack = stack().await;
    let old = record(&stack, "ledger-2015", "2015-01-15T00:00:00Z").await;
    let held = record(&stack, "held-2015", "2015-01-15T00:00:00Z").await;
    let young = record(&stack, "young-2026", "2026-01-15T00:00:00Z").await;
    let clear = version(&stack, old, "finance/ledger-2015.csv").await;
    let under_legal_hold = version(&stack, old, "finance/legal-hold.csv").await;
    let locked = version(&stack, old, "finance/locked.csv").await;
    let ot_held = version(&stack, held, "finance/held.csv").await;
    let not_due = version(&stack, young, "finance/young.csv").await;
    test_support::opentext::service_client(&stack)
        .apply_hold(held as i64, 6100)
        .await
        .unwrap();
    let s3 = stack.s3();
    s3.put_object_legal_hold()
        .bucket(&under_legal_hold.bucket)
        .key(&under_legal_hold.key)
        .version_id(&under_legal_hold.version_id)
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object_retention()
        .bucket(&locked.bucket)
        .key(&locked.key)
        .version_id(&locked.version_id)
        .retention(
            ObjectLockRetention::builder()
                .mode(ObjectLockRetentionMode::Governance)
                .retain_until_date(aws_smithy_types::DateTime::from_secs(test_support::epoch(
                    "2099-01-01T00:00:00Z",
                )))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let resp = invoke(
        &stack,
        invocation(vec![
            task("t-clear", &clear),
            task("t-legal", &under_legal_hold),
            task("t-locked", &locked),
            task("t-ot", &ot_held),
            task("t-young", &not_due),
        ]),
    )
    .await;
    assert_eq!(resp["invocationSchemaVersion"], "2.0");
    assert_eq!(
        resp["invocationId"],
        "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo"
    );
    assert_eq!(resp["treatMissingKeysAs"], "PermanentFailure");
    assert_eq!(
        result(&resp, "t-clear"),
        ("Succeeded".into(), "deleted".into())
    );
    assert_gone(&stack, &clear).await;

    for (id, v, why) in [
        ("t-legal", &under_legal_hold, "S3 legal hold is on"),
        ("t-locked", &locked, "GOVERNANCE mode until 2099"),
        ("t-ot", &ot_held, "under OpenText hold 6100"),
        (
            "t-young",
            &not_due,
            "reaches its disposition date only on 2033",
        ),
    ] {
        let (code, message) = result(&resp, id);
        assert_eq!(code, "PermanentFailure", "{id}: {message}");
        assert!(
            message.starts_with("refused: ") && message.contains(why),
            "{id}: {message}"
        );
        assert!(exists(&stack, v).await, "{id}: nothing deleted");
    }
    let trail =
        test_support::audit::of_version(&stack, &clear.bucket, &clear.key, &clear.version_id).await;
    assert!(
        trail.iter().any(|e| e.action == AuditAction::Dispose
            && e.outcome == Outcome::Succeeded
            && e.record.as_ref().map(|r| r.node_id) == Some(old)),
        "{trail:?}"
    );
    let refused =
        test_support::audit::of_version(&stack, &ot_held.bucket, &ot_held.key, &ot_held.version_id)
            .await;
    assert!(
        refused
            .iter()
            .any(|e| e.action == AuditAction::Dispose && e.outcome == Outcome::Skipped),
        "{refused:?}"
    );
}

#[tokio::test]
async fn gone_versions_encoded_keys_and_versions_outside_the_batch() {
    let stack = stack().await;
    let old = record(&stack, "mixed-2015", "2015-01-15T00:00:00Z").await;
    let gone = version(&stack, old, "finance/gone.csv").await;
    let tricky = version(&stack, old, "finance/Q3 report € ü+1 (final).pdf").await;
    // Deleted by an earlier attempt of the job: nothing left to delete.
    stack
        .s3()
        .delete_object()
        .bucket(&gone.bucket)
        .key(&gone.key)
        .version_id(&gone.version_id)
        .send()
        .await
        .unwrap();
    // In the bucket, linked to nothing in this batch.
    let stranger = {
        let vid = stack
            .s3()
            .put_object()
            .bucket(&gone.bucket)
            .key("finance/stranger.csv")
            .body(ByteStream::from_static(b"s"))
            .send()
            .await
            .unwrap()
            .version_id
            .unwrap();
        ObjectVersion::new(&gone.bucket, "finance/stranger.csv", Some(&vid))
    };
    // Keys as an inventory-style encoder would send them: '+' for a space.
    let mut plus_task = task("t-tricky", &tricky);
    plus_task["s3Key"] = json!(encode_key(&tricky.key).replace("%20", "+"));

    let resp = invoke(
        &stack,
        invocation(vec![
            task("t-gone", &gone),
            plus_task,
            task("t-stranger", &stranger),
        ]),
    )
    .await;
    assert_eq!(
        result(&resp, "t-gone"),
        ("Succeeded".into(), "already gone".into())
    );
    assert_eq!(
        result(&resp, "t-tricky"),
        ("Succeeded".into(), "deleted".into())
    );
    assert_gone(&stack, &tricky).await;
    let (code, message) = result(&resp, "t-stranger");
    assert_eq!(code, "PermanentFailure");
    assert!(message.contains("not in disposition batch"), "{message}");
    assert!(exists(&stack, &stranger).await);
}

#[tokio::test]
async fn malformed_events_and_tasks_get_clear_errors_and_the_function_lives_on() {
    let stack = stack().await;
    for bad in [
        json!({"hello": "world"}),
        json!([1, 2]),
        json!({"invocationSchemaVersion": "1.0", "invocationId": "i", "job": {"id": "j"}, "tasks": []}),
    ] {
        match stack
            .runtime
            .invoke(&bad, Duration::from_secs(30))
            .await
            .expect("invoke")
        {
            local_stack::runtime_api::Outcome::Error(e) => {
                let msg = e["errorMessage"].as_str().unwrap_or_default().to_string();
                assert!(
                    msg.contains("schema 2.0") || msg.contains("InvocationSchemaVersion 2.0"),
                    "{msg}"
                );
            }
            other => panic!("{bad} answered {other:?}"),
        }
    }
    let old = record(&stack, "after-2015", "2015-01-15T00:00:00Z").await;
    let ok = version(&stack, old, "finance/after.csv").await;
    let mut no_batch = invocation(vec![task("t-ok", &ok)]);
    no_batch["job"]["userArguments"] = json!({});
    let (code, message) = result(&invoke(&stack, no_batch).await, "t-ok");
    assert_eq!(code, "PermanentFailure");
    assert!(message.contains("dispositionBatchId"), "{message}");
    assert!(exists(&stack, &ok).await);

    let resp = invoke(
        &stack,
        invocation(vec![
            json!({"taskId": "t-escape", "s3Key": "finance/%ZZ", "s3VersionId": "v", "s3Bucket": ok.bucket}),
            json!({"taskId": "t-noversion", "s3Key": "finance/after.csv", "s3VersionId": null, "s3Bucket": ok.bucket}),
            json!({"taskId": "t-shape", "s3Key": 42}),
            task("t-ok", &ok),
        ]),
    )
    .await;
    assert!(
        result(&resp, "t-escape")
            .1
            .contains("malformed percent escape"),
        "{resp}"
    );
    assert!(
        result(&resp, "t-noversion").1.contains("no version id"),
        "{resp}"
    );
    assert!(
        result(&resp, "t-shape").1.starts_with("malformed task"),
        "{resp}"
    );
    for id in ["t-escape", "t-noversion", "t-shape"] {
        assert_eq!(result(&resp, id).0, "PermanentFailure");
    }
    assert_eq!(
        result(&resp, "t-ok"),
        ("Succeeded".into(), "deleted".into()),
        "a bad task fails alone"
    );
    assert_gone(&stack, &ok).await;
    assert!(
        !stack.function.logs().iter().any(|l| l.contains("panicked")),
        "no panic"
    );
}
