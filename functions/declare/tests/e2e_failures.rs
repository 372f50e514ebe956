//! P1 end to end when things go wrong: duplicates, OpenText errors, crashes, bad input.

mod common;

use std::time::Duration;

use common::*;
use local_stack::stack::Stack;
use serde_json::json;

#[tokio::test]
async fn the_same_real_s3_event_delivered_five_times_at_once_declares_once() {
    let stack = stack().await;
    let key = "finance/Q3 report+final 100% ✓.pdf";
    let body = b"quarterly numbers".to_vec();
    let version = upload(&stack, key, body.clone()).await;
    purge(&stack).await;
    let head = stack
        .s3()
        .head_object()
        .bucket(bucket(&stack))
        .key(key)
        .send()
        .await
        .unwrap();
    let etag = head.e_tag().unwrap().trim_matches('"').to_string();
    let event = real_s3_notification(&bucket(&stack), key, &version, body.len(), &etag);
    for _ in 0..5 {
        send(&stack, &event).await;
    }
    // One poll takes all five into one invocation, processed concurrently.
    let first = stack.poll().await.unwrap();
    assert_eq!(first.received, 5);
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;

    let docs: Vec<_> = documents(&stack, 2101)
        .await
        .into_iter()
        .filter(|d| d["name"] == "Q3 report+final 100% ✓.pdf")
        .collect();
    assert_eq!(docs.len(), 1, "exactly one record");
    assert_eq!(
        docs[0]["versions"].as_array().unwrap().len(),
        1,
        "exactly one version"
    );
    assert_eq!(docs[0]["versions"][0]["sha256"], sha256_hex(&body));
    assert_eq!(
        workflow_item(&stack, key, &version).await.unwrap().0,
        "done"
    );
    let creates = stack
        .sim_admin("requests")
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/api/v2/nodes"))
        })
        .count();
    assert_eq!(creates, 1, "one create call reached OpenText");
    // And one audit event says so, written with the finish.
    let trail = test_support::audit::of_version(&stack, &bucket(&stack), key, &version).await;
    let declared: Vec<_> = trail
        .iter()
        .filter(|e| e.outcome == records_domain::Outcome::Succeeded)
        .collect();
    assert_eq!(declared.len(), 1, "one declaration event: {trail:?}");
    assert_eq!(
        declared[0].record.as_ref().map(|r| r.node_id),
        docs[0]["id"].as_u64()
    );
}

#[tokio::test]
async fn opentext_503_then_success_declares_once() {
    let stack = stack().await;
    stack
        .sim_admin_post("faults/next", json!({"status": 503, "count": 2, "retry_after_secs": 0, "path_contains": "/api/v2/nodes"}))
        .await
        .unwrap();
    let version = upload(&stack, "finance/retry.txt", b"retry me".to_vec()).await;
    stack.drain(20).await.unwrap();
    assert_settled(&stack).await;
    assert_eq!(
        workflow_item(&stack, "finance/retry.txt", &version)
            .await
            .unwrap()
            .0,
        "done"
    );
    let doc = document_named(&stack, 2101, "retry.txt").await.unwrap();
    assert_eq!(doc["versions"].as_array().unwrap().len(), 1);
    let log = stack.sim_admin("requests").await.unwrap();
    let unavailable = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 503)
        .count();
    assert_eq!(unavailable, 2, "the injected 503s were met and retried");
}

#[tokio::test]
async fn opentext_400_ends_failed_with_the_reason_and_reaches_the_dlq() {
    let stack = stack().await;
    stack
        .sim_admin_post(
            "faults/next",
            json!({"status": 400, "count": 1, "path_contains": "/categories"}),
        )
        .await
        .unwrap();
    let version = upload(&stack, "finance/bad.txt", b"bad".to_vec()).await;
    let first = stack.poll().await.unwrap();
    assert!(
        !first.failed_ids.is_empty(),
        "a batch item failure is reported: {first:?}"
    );
    let (state, detail) = workflow_item(&stack, "finance/bad.txt", &version)
        .await
        .unwrap();
    assert_eq!(state, "failed");
    let reason = detail["reason"].as_str().unwrap();
    assert!(
        reason.contains("400"),
        "reason keeps OpenText's status: {reason}"
    );
    // Redelivered until maxReceiveCount, then the queue's redrive moves it to the DLQ.
    stack.drain(30).await.unwrap();
    assert!(
        queue_depth(&stack, "DeclareDeadLetterQueue").await >= 1,
        "message in the DLQ"
    );
    assert_eq!(queue_depth(&stack, "DeclareQueue").await, 0);
    let failed_log = stack
        .function
        .logs()
        .iter()
        .any(|l| l.contains("declaration failed") && l.contains("400"));
    assert!(failed_log, "a clear log line names the failure");
    // The classification failed, so S3 is never told the object is declared.
    let tags =
        test_support::s3::tagging(&stack, &bucket(&stack), "finance/bad.txt", &version).await;
    assert!(
        tags.tag_set()
            .iter()
            .all(|t| !t.key().starts_with("records-bridge:")),
        "no records-bridge tags on a failed declaration: {:?}",
        tags.tag_set()
    );
}

#[tokio::test]
async fn a_crash_between_upload_and_classification_is_finished_without_a_second_document() {
    let mut stack = stack_with_env(&[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", "uploaded")]).await;
    // Short enough that the dead attempt's lease (deadline + 5 s) expires soon, long enough
    // to leave time after the 10 s margin kept back for bookkeeping.
    stack.source_mut().invoke_timeout = Duration::from_secs(15);
    let version = upload(&stack, "finance/crash.txt", b"half done".to_vec()).await;
    let report = stack.poll().await.unwrap();
    assert!(
        report.function_error.is_some(),
        "the attempt died: {report:?}"
    );
    assert!(stack.function.try_status().is_some(), "process aborted");
    let (state, _) = workflow_item(&stack, "finance/crash.txt", &version)
        .await
        .unwrap();
    assert_eq!(
        state, "uploading",
        "the crash came after the upload, before its state was saved"
    );
    assert_eq!(
        document_named(&stack, 2101, "crash.txt").await.unwrap()["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    stack.restart_function(Default::default()).await.unwrap();
    stack.source_mut().invoke_timeout = Duration::from_secs(60);
    poll_until_state(
        &stack,
        "finance/crash.txt",
        &version,
        "done",
        Duration::from_secs(60),
    )
    .await;
    stack.drain(10).await.unwrap();
    let docs: Vec<_> = documents(&stack, 2101)
        .await
        .into_iter()
        .filter(|d| d["name"] == "crash.txt")
        .collect();
    assert_eq!(docs.len(), 1, "no second document");
    assert_eq!(
        docs[0]["versions"].as_array().unwrap().len(),
        1,
        "no second version"
    );
    assert_eq!(
        category_value(&docs[0], "3100_7").unwrap(),
        sha256_hex(b"half done").as_str()
    );
    assert!(
        docs[0]["rm"]["records"].to_string().contains("4100"),
        "classified after resuming"
    );
    assert!(
        stack
            .function
            .logs()
            .iter()
            .any(|l| l.contains("adopting the version an earlier attempt uploaded"))
    );
}

#[tokio::test]
async fn a_malformed_message_fails_alone_with_a_clear_log_line() {
    let stack = stack().await;
    let version = upload(&stack, "finance/fine.txt", b"fine".to_vec()).await;
    let bad = send(&stack, "this is not an S3 event {").await;
    let mut failed_ids = Vec::new();
    for _ in 0..3 {
        failed_ids.extend(stack.poll().await.unwrap().failed_ids);
    }
    assert!(
        failed_ids.contains(&bad),
        "the malformed message is a batch item failure"
    );
    assert_eq!(
        workflow_item(&stack, "finance/fine.txt", &version)
            .await
            .unwrap()
            .0,
        "done",
        "others unaffected"
    );
    let line = stack
        .function
        .logs()
        .into_iter()
        .find(|l| l.contains("malformed SQS message"))
        .expect("log line");
    assert!(line.contains(&bad) && line.contains("not JSON"), "{line}");
}

#[tokio::test]
async fn an_invalid_policy_stops_the_function_naming_the_rule_and_field() {
    let mut options = options();
    options.policy = Some(
        POLICY
            .replace("name: finance\n", "name: finance\n    bogus_field: 1\n")
            .replace("mode: reference", "mode: referense"),
    );
    let err = match Stack::start(options).await {
        Ok(_) => panic!("the function must refuse to start"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("Runtime.InitError"),
        "init error reported to the Runtime API: {err}"
    );
    assert!(
        err.contains("bogus_field") || err.contains("referense"),
        "names the field: {err}"
    );
    assert!(err.contains("rules["), "names the rule: {err}");
    assert!(
        err.contains("SSM parameter /rb/"),
        "names the policy's source: {err}"
    );
}
