//! P1 end to end with what real traffic brings: keys at S3's limits, events out of order,
//! notifications with bad records, server faults that are not meanings, a crash mid-upload.

mod common;

use std::time::Duration;

use common::*;
use local_stack::stack::Stack;
use serde_json::{Value, json};

/// Uploads and returns (key, version id, body, ETag) with moto's own notifications dropped,
/// so the test delivers the events itself.
async fn uploaded(stack: &Stack, objects: &[(String, Vec<u8>)]) -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (key, body) in objects {
        let version = upload(stack, key, body.clone()).await;
        out.push((key.clone(), version, body.clone()));
    }
    purge(stack).await;
    out
}

async fn etag(stack: &Stack, key: &str, version: &str) -> String {
    test_support::s3::head(stack, &bucket(stack), key, version)
        .await
        .e_tag()
        .unwrap()
        .trim_matches('"')
        .to_string()
}

async fn notification(
    stack: &Stack,
    key: &str,
    version: &str,
    size: usize,
    sequencer: &str,
) -> String {
    let tag = etag(stack, key, version).await;
    real_s3_notification(&bucket(stack), key, version, size, &tag)
        .replace("0055AED6DCD90281E5", sequencer)
}

#[tokio::test]
async fn keys_at_s3s_limits_beside_a_malformed_message_nine_declared_one_fails_alone() {
    let stack = stack().await;
    let objects: Vec<(String, Vec<u8>)> = vec![
        (format!("finance/{}", "📄".repeat(250)), b"emoji".to_vec()),
        (
            format!("finance/{}.pdf", "請求書".repeat(34)),
            b"japanese".to_vec(),
        ),
        // 1,024 bytes, every one escaped in the workflow key.
        (
            format!("finance/{}", "%".repeat(1024 - 8)),
            b"percent".to_vec(),
        ),
        ("finance/a+b c%2Fd.txt".to_string(), b"plus".to_vec()),
        ("finance/./dot//double.txt".to_string(), b"dots".to_vec()),
        ("finance/one.txt".to_string(), b"1".to_vec()),
        ("finance/two.txt".to_string(), b"2".to_vec()),
        ("finance/three.txt".to_string(), b"3".to_vec()),
        ("finance/four.txt".to_string(), b"4".to_vec()),
    ];
    let versions = uploaded(&stack, &objects).await;
    for (key, version, body) in &versions {
        let body_json = notification(&stack, key, version, body.len(), "0055AED6DCD90281E5").await;
        send(&stack, &body_json).await;
    }
    let bad = send(
        &stack,
        r#"{"Records": [{"eventSource": "aws:s3", "s3": 7}]}"#,
    )
    .await;
    let report = stack.poll().await.unwrap();
    assert_eq!(report.received, 10, "one batch of ten");
    assert!(
        report.function_error.is_none(),
        "no panic took the batch: {report:?}"
    );
    assert_eq!(
        report.failed_ids,
        [bad],
        "only the malformed message failed"
    );
    for (key, version, body) in &versions {
        let (state, detail) = workflow_item(&stack, key, version)
            .await
            .unwrap_or_else(|| panic!("{key} claimed"));
        assert_eq!(state, "done", "{key}: {detail}");
        assert_eq!(detail["sha256"], sha256_hex(body), "{key}");
        let node = detail["node_id"].as_u64().unwrap();
        let doc = stack.sim_admin(&format!("nodes/{node}")).await.unwrap();
        assert!(doc["name"].as_str().unwrap().chars().count() <= 248);
        assert_eq!(category_value(&doc, "3100_3").unwrap(), key.as_str());
    }
}

#[tokio::test]
async fn events_of_three_versions_in_reverse_leave_s3s_newest_as_opentexts_current() {
    let stack = stack().await;
    // Delivered in reverse in one batch: handled in sequencer order.
    let key = "finance/reversed.txt".to_string();
    let one_batch = uploaded(
        &stack,
        &[
            (key.clone(), b"v1".to_vec()),
            (key.clone(), b"v2, longer".to_vec()),
            (key.clone(), b"v3, longest".to_vec()),
        ],
    )
    .await;
    for (i, (k, version, body)) in one_batch.iter().enumerate().rev() {
        let seq = format!("0055AED6DCD90281E{i}");
        send(
            &stack,
            &notification(&stack, k, version, body.len(), &seq).await,
        )
        .await;
    }
    stack.drain(10).await.unwrap();
    assert_settled(&stack).await;
    let doc = document_named(&stack, 2101, "reversed.txt").await.unwrap();
    let shas: Vec<_> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sha256"].clone())
        .collect();
    let expected: Vec<Value> = one_batch
        .iter()
        .map(|(_, _, b)| json!(sha256_hex(b)))
        .collect();
    assert_eq!(shas, expected, "OpenText's versions in S3's order");

    // Delivered one at a time, newest first: the newest declares the older ones first.
    let key = "finance/late.txt".to_string();
    let apart = uploaded(
        &stack,
        &[
            (key.clone(), b"late v1".to_vec()),
            (key.clone(), b"late v2, longer".to_vec()),
            (key.clone(), b"late v3, longest".to_vec()),
        ],
    )
    .await;
    for (k, version, body) in apart.iter().rev() {
        send(
            &stack,
            &notification(&stack, k, version, body.len(), "0055AED6DCD90281E5").await,
        )
        .await;
        stack.drain(5).await.unwrap();
    }
    assert_settled(&stack).await;
    let doc = document_named(&stack, 2101, "late.txt").await.unwrap();
    let versions = doc["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3, "each S3 version once");
    assert_eq!(
        versions.last().unwrap()["sha256"],
        sha256_hex(b"late v3, longest"),
        "the current version is S3's newest"
    );
    let shas: Vec<_> = versions.iter().map(|v| v["sha256"].clone()).collect();
    let expected: Vec<Value> = apart.iter().map(|(_, _, b)| json!(sha256_hex(b))).collect();
    assert_eq!(shas, expected);
}

#[tokio::test]
async fn a_bad_record_fails_alone_in_its_message_and_empty_or_bucketless_events_say_so() {
    let stack = stack().await;
    let [(key, version, body)] = uploaded(&stack, &[("finance/good.txt".into(), b"good".to_vec())])
        .await
        .try_into()
        .unwrap();
    let good: Value =
        serde_json::from_str(&notification(&stack, &key, &version, body.len(), "01").await)
            .unwrap();
    let mixed =
        json!({"Records": [good["Records"][0], {"eventName": "ObjectCreated:Put", "s3": {}}]});
    let mixed_id = send(&stack, &mixed.to_string()).await;
    let empty_id = send(&stack, r#"{"Records": []}"#).await;
    let nobucket = real_s3_notification("no-such-bucket", "finance/x.txt", "v1", 1, "e");
    let nobucket_id = send(&stack, &nobucket).await;
    let report = stack.poll().await.unwrap();
    let mut failed = report.failed_ids.clone();
    failed.sort();
    let mut expected = vec![mixed_id, nobucket_id];
    expected.sort();
    assert_eq!(failed, expected, "{report:?}");
    assert!(!report.failed_ids.contains(&empty_id));
    assert_eq!(
        workflow_item(&stack, &key, &version).await.unwrap().0,
        "done",
        "the good record beside a bad one"
    );
    let logs = stack.function.logs().join("\n");
    assert!(
        logs.contains("malformed record in an S3 notification"),
        "{logs}"
    );
    assert!(logs.contains("S3 notification with no records"), "{logs}");
    assert!(
        logs.contains("bucket no-such-bucket does not exist"),
        "{logs}"
    );
    assert!(
        !logs.contains("no longer exists in S3"),
        "a missing bucket is not a deleted version"
    );
}

#[tokio::test]
async fn a_500_without_a_meaning_is_retried_and_the_declaration_succeeds() {
    let stack = stack().await;
    stack
        .sim_admin_post(
            "faults/next",
            json!({"status": 500, "count": 1, "retry_after_secs": 0, "path_contains": "/api/v2/nodes", "method": "POST"}),
        )
        .await
        .unwrap();
    let version = upload(&stack, "finance/flaky.txt", b"flaky".to_vec()).await;
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;
    assert_eq!(
        workflow_item(&stack, "finance/flaky.txt", &version)
            .await
            .unwrap()
            .0,
        "done"
    );
    let log = stack.sim_admin("requests").await.unwrap();
    let faults = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 500)
        .count();
    assert_eq!(faults, 1, "the injected 500 was met");
    let doc = document_named(&stack, 2101, "flaky.txt").await.unwrap();
    assert_eq!(doc["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_crash_mid_chunked_upload_leaves_no_open_session_once_a_retry_finishes() {
    let mut stack = stack_with_minimum(
        server_minimum(true),
        &[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", "upload_session_started")],
    )
    .await;
    stack.source_mut().invoke_timeout = Duration::from_secs(15);
    let body: Vec<u8> = (0..6 * 1024 * 1024 + 3).map(|i| (i % 251) as u8).collect();
    let version = upload(&stack, "finance/interrupted.bin", body.clone()).await;
    let report = stack.poll().await.unwrap();
    assert!(
        report.function_error.is_some(),
        "the attempt died: {report:?}"
    );
    let open = stack.sim_admin("uploads").await.unwrap();
    assert_eq!(
        open["open"], 1,
        "the dead attempt's session is open: {open}"
    );

    stack.restart_function(Default::default()).await.unwrap();
    stack.source_mut().invoke_timeout = Duration::from_secs(60);
    poll_until_state(
        &stack,
        "finance/interrupted.bin",
        &version,
        "done",
        Duration::from_secs(60),
    )
    .await;
    stack.drain(10).await.unwrap();
    let open = stack.sim_admin("uploads").await.unwrap();
    assert_eq!(
        open["open"], 0,
        "the abandoned session was cancelled: {open}"
    );
    let doc = document_named(&stack, 2101, "interrupted.bin")
        .await
        .unwrap();
    assert_eq!(doc["versions"].as_array().unwrap().len(), 1);
    assert_eq!(doc["versions"][0]["sha256"], sha256_hex(&body));
    assert!(
        stack
            .function
            .logs()
            .iter()
            .any(|l| l.contains("cancelled the chunked upload an earlier attempt left open"))
    );
}
