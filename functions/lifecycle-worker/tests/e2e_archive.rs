//! P2 archive tier end to end: the real `lifecycle-worker` binary takes lifecycle events from
//! its queue in moto, streams a record's versions from the simulator into the template's
//! Object Lock archive bucket, verifies them, records the location and releases the content.
//! (The release of held records and a refused purge: `e2e_archive_release.rs`.)

mod archive_support;

use archive_support::*;
use records_domain::{AuditAction, Outcome};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_three_version_record_is_archived_verified_located_and_released() {
    let mut stack = stack_with_env(&[]).await;
    let node = record(&stack, "ledger-2019").await;
    clear_requests(&stack).await;
    archive_requested(&stack, "arch-1", node).await;
    assert_eq!(
        run_until(&mut stack, node, &["done", "failed"]).await,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_archived_once(&stack, node, "ledger-2019").await;

    // The other trigger (moved into Archive) for the same record: nothing more happens.
    send(
        &stack,
        "arch-2",
        "node.moved",
        node,
        json!({"to_parent_id": 2200, "from_parent_id": 2101}),
    )
    .await;
    stack.drain(5).await.unwrap();
    assert!(
        stack
            .function
            .logs()
            .iter()
            .any(|l| l.contains("is already archived")),
        "duplicate trigger recognised"
    );
    assert_archived_once(&stack, node, "ledger-2019").await;
}

#[tokio::test]
async fn a_crash_after_each_archive_step_is_finished_by_a_rerun_exactly_once() {
    // Each crash point in order; "copied" twice: after version 1 and after version 2.
    let steps = [
        "copied",
        "copied",
        "verified",
        "located",
        "stub_added",
        "released",
    ];
    // Six crashes and the live-lease retries after each take more deliveries than the
    // default 5 before the DLQ.
    let mut stack = stack_with(
        &[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", steps[0])],
        &[("MaxReceiveCount", "1000")],
    )
    .await;
    // Short, so the dead attempt's lease (deadline + 5 s) expires soon; longer than the 10 s
    // kept back for bookkeeping.
    stack.source_mut().invoke_timeout = std::time::Duration::from_secs(15);
    let node = record(&stack, "crashy").await;
    clear_requests(&stack).await;
    archive_requested(&stack, "crash-1", node).await;
    let mut seen = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let ended = run_until(&mut stack, node, &["done", "failed"]).await;
        assert_eq!(
            ended,
            Ended::Crashed,
            "crash after {step}\n{}",
            stack.function.logs().join("\n")
        );
        let (state, detail) = workflow(&stack, node).await.unwrap();
        seen.push((
            step.to_string(),
            state,
            detail["copies"].as_array().map(|c| c.len()).unwrap_or(0),
        ));
        let next = steps.get(i + 1).copied().unwrap_or("");
        stack
            .restart_function(env(&[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", next)]))
            .await
            .unwrap();
        stack.source_mut().invoke_timeout = std::time::Duration::from_secs(15);
    }
    assert_eq!(
        seen,
        [
            ("copied".to_string(), "copying".to_string(), 1),
            ("copied".into(), "copying".into(), 2),
            ("verified".into(), "verified".into(), 3),
            ("located".into(), "located".into(), 3),
            ("stub_added".into(), "located".into(), 3),
            ("released".into(), "released".into(), 3),
        ],
        "each crash came right after its step was saved"
    );
    assert_eq!(
        run_until(&mut stack, node, &["done", "failed"]).await,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_archived_once(&stack, node, "crashy").await;
}

#[tokio::test]
async fn a_checksum_mismatch_means_no_release_is_ever_attempted() {
    let mut stack = stack_with_env(&[]).await;

    // An object already at version 2's key that is not OpenText's content.
    let planted = record(&stack, "planted").await;
    clear_requests(&stack).await;
    stack
        .s3()
        .put_object()
        .bucket(archive_bucket(&stack))
        .key(format!("archive/{planted}/v2/planted.pdf"))
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .body(b"not the record".to_vec().into())
        .send()
        .await
        .expect("plant");
    archive_requested(&stack, "mismatch-1", planted).await;
    assert_eq!(
        run_until(&mut stack, planted, &["done", "failed"]).await,
        Ended::State("failed".into())
    );
    let (_, detail) = workflow(&stack, planted).await.unwrap();
    let reason = detail["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("differs from OpenText version 2")
            && reason.contains("nothing is released"),
        "{reason}"
    );
    let requests = ot_requests(&stack, planted).await;
    assert_eq!(
        count(&requests, "POST", "/versions"),
        0,
        "no stub: {requests:#?}"
    );
    assert_eq!(
        count(&requests, "DELETE", "/versions"),
        0,
        "no purge: {requests:#?}"
    );
    assert_eq!(
        sim_node(&stack, planted).await["versions"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "OpenText keeps every version"
    );
    assert!(
        audit_history(&stack, planted)
            .await
            .iter()
            .any(|e| e.action == AuditAction::Archive && e.outcome == Outcome::Failed),
        "the failure is audited"
    );
}

#[tokio::test]
async fn a_permanent_record_is_archived_under_a_legal_hold_not_a_date() {
    let mut stack = stack_with_env(&[]).await;
    let node = record_with(&stack, "personnel-file", 4101, "HR-PERM").await;
    archive_requested(&stack, "perm-1", node).await;
    assert_eq!(
        run_until(&mut stack, node, &["done", "failed"]).await,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    let versions = archive_versions(&stack, node).await;
    assert_eq!(versions.len(), 3);
    for (key, version_id) in &versions {
        let h = test_support::s3::head(&stack, &archive_bucket(&stack), key, version_id).await;
        assert_eq!(
            h.object_lock_legal_hold_status(),
            Some(&aws_sdk_s3::types::ObjectLockLegalHoldStatus::On),
            "{key}: kept by a legal hold"
        );
        assert_eq!(
            h.object_lock_retain_until_date(),
            None,
            "{key}: no date says forever"
        );
        let tags =
            test_support::s3::tagging(&stack, &archive_bucket(&stack), key, version_id).await;
        assert!(
            tags.tag_set()
                .iter()
                .any(|t| t.key() == "records-bridge:retention" && t.value() == "permanent"),
            "{key}: {:?}",
            tags.tag_set()
        );
    }
}

#[tokio::test]
async fn an_opentext_deadline_mid_archive_is_retried_from_the_saved_step_then_finished() {
    let mut stack = stack_with_env(&[]).await;
    // A short invocation: OpenText calls get ~5 s before the 10 s kept for bookkeeping.
    stack.source_mut().invoke_timeout = Duration::from_secs(15);
    let node = record(&stack, "deadline").await;
    // Reading version 2 meets a 503 asking to come back in 30 s: past this invocation's
    // deadline, so the client gives up with a deadline error in the middle of the copies.
    stack
        .sim_admin_post(
            "/faults/next",
            json!({"status": 503, "count": 1, "retry_after_secs": 30, "method": "GET",
                   "path_contains": format!("/nodes/{node}/versions/2/content")}),
        )
        .await
        .unwrap();
    clear_requests(&stack).await;
    archive_requested(&stack, "deadline-1", node).await;
    let (ended, reports) = run_until_reports(&mut stack, node, &["done", "failed"]).await;
    assert_eq!(
        ended,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    let first = reports.first().expect("a delivery");
    assert_eq!(
        first.1.as_deref(),
        Some("copying"),
        "the deadline is retried from the saved step, never failed: {reports:#?}"
    );
    assert!(!first.0.failed_ids.is_empty(), "that delivery comes back");
    assert!(
        stack.function.logs().iter().any(|l| l.contains("deadline")),
        "the retry says why"
    );
    assert_eq!(dlq_depth(&stack).await, 0);
    assert_archived_once(&stack, node, "deadline").await;
}
