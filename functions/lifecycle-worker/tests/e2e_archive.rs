//! P2 archive tier end to end: the real `lifecycle-worker` binary takes lifecycle events from
//! its queue in moto, streams a record's versions from the simulator into the template's
//! Object Lock archive bucket, verifies them, records the location and releases the content.

mod archive_support;

use archive_support::*;
use aws_sdk_s3::types::{ChecksumMode, ObjectLockMode};
use records_domain::{AuditAction, Outcome};
use serde_json::json;
use std::time::Duration;

/// Everything a finished archive of a 3-version record must show.
async fn assert_archived_once(stack: &local_stack::stack::Stack, node: u64, name: &str) {
    let bucket = archive_bucket(stack);
    let bodies = contents(name);
    let versions = archive_versions(stack, node).await;
    assert_eq!(
        versions.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        (1..=3)
            .map(|n| format!("archive/{node}/v{n}/{name}.pdf"))
            .collect::<Vec<_>>(),
        "exactly one S3 version per OpenText version: no second copy"
    );
    for (i, (key, version_id)) in versions.iter().enumerate() {
        let h = stack
            .s3()
            .head_object()
            .bucket(&bucket)
            .key(key)
            .version_id(version_id)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("head archive copy");
        assert_eq!(h.content_length(), Some(bodies[i].len() as i64), "{key}");
        assert_eq!(
            h.checksum_sha256(),
            Some(sha256_b64(&bodies[i]).as_str()),
            "{key}"
        );
        assert_eq!(h.object_lock_mode(), Some(&ObjectLockMode::Compliance));
        assert_eq!(
            h.object_lock_retain_until_date().map(|d| d.secs()),
            Some(RETAIN_UNTIL_SECS),
            "FIN-7Y: 7 years from the record date"
        );
        assert_eq!(
            h.storage_class().map(|c| c.as_str()),
            Some("GLACIER_IR"),
            "{key}"
        );
        let meta = h.metadata().cloned().unwrap_or_default();
        assert_eq!(meta["otcs-node-id"], node.to_string());
        assert_eq!(meta["otcs-version"], (i + 1).to_string());
        assert_eq!(meta["otcs-sha256"], sha256_hex(&bodies[i]));
        assert_eq!(
            meta["source"],
            format!("otcs:node/{node}/version/{}", i + 1)
        );
    }

    let n = sim_node(stack, node).await;
    let left = n["versions"].as_array().unwrap();
    assert_eq!(left.len(), 1, "released: only the stub remains: {left:?}");
    assert_eq!(left[0]["file_name"], "ARCHIVED.txt");
    assert_eq!(
        category_value(&n, "3100_9"),
        Some(json!(format!("s3://{bucket}/archive/{node}/")))
    );
    assert!(
        n["rm"]["records"].to_string().contains("S3-ARCHIVE"),
        "RM storage records the archive: {}",
        n["rm"]
    );

    let (state, detail) = workflow(stack, node).await.unwrap();
    assert_eq!(state, "done");
    assert_eq!(detail["copies"].as_array().unwrap().len(), 3);

    let requests = ot_requests(stack, node).await;
    assert_eq!(
        count(&requests, "POST", "/versions"),
        1,
        "one stub version, whatever the crashes: {requests:#?}"
    );

    let audit = audit_history(stack, node).await;
    let archived: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::Archive && e.outcome == Outcome::Succeeded)
        .collect();
    for v in 1..=3u32 {
        assert!(
            archived
                .iter()
                .any(|e| e.record.as_ref().and_then(|r| r.version_number) == Some(v)),
            "archive of version {v} audited"
        );
    }
    assert!(
        audit
            .iter()
            .any(|e| e.action == AuditAction::ReleaseContent && e.outcome == Outcome::Succeeded),
        "release audited"
    );
}

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
        let h = stack
            .s3()
            .head_object()
            .bucket(archive_bucket(&stack))
            .key(key)
            .version_id(version_id)
            .send()
            .await
            .unwrap();
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
        let tags = stack
            .s3()
            .get_object_tagging()
            .bucket(archive_bucket(&stack))
            .key(key)
            .version_id(version_id)
            .send()
            .await
            .unwrap();
        assert!(
            tags.tag_set()
                .iter()
                .any(|t| t.key() == "records-bridge:retention" && t.value() == "permanent"),
            "{key}: {:?}",
            tags.tag_set()
        );
    }
}

/// The archive copies' legal holds are all `on`.
async fn assert_copies_held(stack: &local_stack::stack::Stack, node: u64, on: bool, why: &str) {
    let holds = copy_legal_holds(stack, node).await;
    assert_eq!(holds.len(), 3, "{holds:?}");
    for (key, held) in holds {
        assert_eq!(
            held,
            on,
            "{key}: legal hold {}: {why}",
            if on { "ON" } else { "OFF" }
        );
    }
}

#[tokio::test]
async fn a_held_record_is_archived_and_its_release_deferred_until_the_last_hold_is_removed() {
    let mut stack = stack_with_env(&[]).await;
    let node = record(&stack, "held").await;
    let ot = opentext(&stack);
    let second = ot
        .create_hold(&opentext_client::model::NewHold {
            name: "LIT-2026-009".into(),
            hold_type: "Legal".into(),
            date_applied: "2026-11-25T00:00:00".into(),
            ..Default::default()
        })
        .await
        .expect("create hold");
    ot.apply_hold(node as i64, 6100).await.expect("hold");
    ot.apply_hold(node as i64, second).await.expect("hold");
    clear_requests(&stack).await;
    archive_requested(&stack, "held-1", node).await;
    let (ended, reports) =
        run_until_reports(&mut stack, node, &["release_deferred", "done", "failed"]).await;
    assert_eq!(
        ended,
        Ended::State("release_deferred".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_eq!(
        batch_failures(&reports),
        0,
        "nothing is wrong: the message succeeds {reports:#?}"
    );
    let (_, detail) = workflow(&stack, node).await.unwrap();
    let reason = detail["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("release deferred") && reason.contains("6100"),
        "{reason}"
    );
    assert_eq!(detail["holds"], json!([6100, second]), "{detail}");
    assert_eq!(detail["copies"].as_array().unwrap().len(), 3);
    assert!(
        detail["copies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["verified"] == true),
        "archived and verified: {detail}"
    );
    assert_copies_held(&stack, node, true, "every copy of a held record is held").await;
    for (key, version_id) in archive_versions(&stack, node).await {
        let h = stack
            .s3()
            .head_object()
            .bucket(archive_bucket(&stack))
            .key(&key)
            .version_id(&version_id)
            .send()
            .await
            .unwrap();
        assert_eq!(
            h.object_lock_retain_until_date().map(|d| d.secs()),
            Some(RETAIN_UNTIL_SECS),
            "{key}: the retention lock as well"
        );
    }
    let n = sim_node(&stack, node).await;
    assert_eq!(
        n["versions"].as_array().unwrap().len(),
        3,
        "nothing released"
    );
    assert_eq!(
        category_value(&n, "3100_9"),
        Some(json!(format!(
            "s3://{}/archive/{node}/",
            archive_bucket(&stack)
        ))),
        "located"
    );
    let requests = ot_requests(&stack, node).await;
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
    let audit = audit_history(&stack, node).await;
    let deferred: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::ReleaseContent)
        .collect();
    assert_eq!(deferred.len(), 1, "{deferred:#?}");
    assert_eq!(deferred[0].outcome, Outcome::Skipped);
    assert_eq!(deferred[0].details["release"], json!("deferred"));
    assert!(
        deferred[0]
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("6100"),
        "why: {:?}",
        deferred[0].reason
    );

    // One hold removed, the other still in force: still deferred, still held.
    ot.remove_hold(node as i64, 6100).await.expect("remove");
    send(
        &stack,
        "held-2",
        "hold.removed",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    let reports = stack.drain(10).await.unwrap();
    assert!(
        reports
            .iter()
            .all(|r| r.failed_ids.is_empty() && r.function_error.is_none()),
        "{reports:#?}"
    );
    assert_eq!(workflow(&stack, node).await.unwrap().0, "release_deferred");
    assert_copies_held(&stack, node, true, "another hold is still in force").await;
    assert_eq!(
        sim_node(&stack, node).await["versions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // The last hold removed: the release resumes, the copies' legal holds come off.
    ot.remove_hold(node as i64, second).await.expect("remove");
    send(
        &stack,
        "held-3",
        "hold.removed",
        node,
        json!({"hold_id": second}),
    )
    .await;
    let (ended, reports) = run_until_reports(&mut stack, node, &["done", "failed"]).await;
    assert_eq!(
        ended,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_eq!(batch_failures(&reports), 0, "{reports:#?}");
    assert_archived_once(&stack, node, "held").await;
    assert_copies_held(&stack, node, false, "no hold is left").await;
    assert_eq!(dlq_depth(&stack).await, 0, "no DLQ traffic");

    // A hold applied after the archive reaches its copies too.
    ot.apply_hold(node as i64, 6100).await.expect("hold");
    send(
        &stack,
        "held-4",
        "hold.applied",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    let reports = stack.drain(10).await.unwrap();
    assert!(
        reports
            .iter()
            .all(|r| r.failed_ids.is_empty() && r.function_error.is_none()),
        "{reports:#?}"
    );
    assert_copies_held(&stack, node, true, "a hold applied after the archive").await;
    assert_eq!(workflow(&stack, node).await.unwrap().0, "done");
}

#[tokio::test]
async fn a_hold_applied_after_the_stub_defers_the_release_and_the_stub_claims_nothing_untrue() {
    let mut stack = stack_with(
        &[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", "stub_added")],
        &[("MaxReceiveCount", "1000")],
    )
    .await;
    stack.source_mut().invoke_timeout = std::time::Duration::from_secs(15);
    let node = record(&stack, "late-hold").await;
    clear_requests(&stack).await;
    archive_requested(&stack, "late-1", node).await;
    assert_eq!(
        run_until(&mut stack, node, &["done", "failed"]).await,
        Ended::Crashed
    );
    let (state, detail) = workflow(&stack, node).await.unwrap();
    assert_eq!(
        (state.as_str(), detail["stub_version"].as_i64()),
        ("located", Some(4))
    );

    // The stub is the current version beside the three archived ones: what it says is true.
    let stub = version_text(&stack, node, 4).await;
    assert!(stub.contains("is archived to S3 at"), "{stub}");
    assert!(
        stub.contains("Release requested: versions v1, v2, v3"),
        "{stub}"
    );
    assert!(!stub.contains("and released"), "{stub}");
    let n = sim_node(&stack, node).await;
    assert_eq!(
        n["versions"][3]["description"],
        json!(records_domain::archive::STUB_DESCRIPTION)
    );

    opentext(&stack)
        .apply_hold(node as i64, 6100)
        .await
        .expect("hold");
    stack.restart_function(env(&[])).await.unwrap();
    stack.source_mut().invoke_timeout = std::time::Duration::from_secs(15);
    assert_eq!(
        run_until(&mut stack, node, &["release_deferred", "done", "failed"]).await,
        Ended::State("release_deferred".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_eq!(
        sim_node(&stack, node).await["versions"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_copies_held(&stack, node, true, "held after the stub").await;

    opentext(&stack)
        .remove_hold(node as i64, 6100)
        .await
        .expect("remove");
    send(
        &stack,
        "late-2",
        "hold.removed",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    assert_eq!(
        run_until(&mut stack, node, &["done", "failed"]).await,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_archived_once(&stack, node, "late-hold").await;
    assert_copies_held(&stack, node, false, "no hold is left").await;
}

#[tokio::test]
async fn a_refused_purge_is_retried_when_transient_and_reported_as_refused_otherwise() {
    let mut stack = stack_with_env(&[]).await;
    // Owned by the administrator: the service account has only its group's assigned
    // access, here without `delete_versions`.
    let node = record_by(&opentext_admin(&stack), "refused", 4100, "FIN-7Y").await;
    let without_purge: Vec<&str> = ALL_RIGHTS
        .iter()
        .copied()
        .filter(|r| *r != "delete_versions")
        .collect();
    set_rights(&stack, node, 1100, &without_purge).await;
    // And the first purge attempt meets an outage (more 503s than the client retries).
    stack
        .sim_admin_post(
            "/faults/next",
            json!({"status": 503, "count": 5, "method": "DELETE", "path_contains": format!("/nodes/{node}/versions")}),
        )
        .await
        .unwrap();
    clear_requests(&stack).await;
    archive_requested(&stack, "refused-1", node).await;
    let (ended, reports) =
        run_until_reports(&mut stack, node, &["release_refused", "done", "failed"]).await;
    assert_eq!(
        ended,
        Ended::State("release_refused".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_eq!(
        reports.first().and_then(|(_, s)| s.as_deref()),
        Some("located"),
        "the outage is retried from the saved step, not failed: {reports:#?}"
    );
    let (_, detail) = workflow(&stack, node).await.unwrap();
    let reason = detail["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("release refused") && reason.contains("'delete_versions' permission"),
        "OpenText's reason: {reason}"
    );
    let n = sim_node(&stack, node).await;
    let versions = n["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 4, "archived versions kept beside the stub");
    assert_eq!(versions[3]["file_name"], "ARCHIVED.txt");
    let stub = version_text(&stack, node, 4).await;
    assert!(stub.contains("Release requested"), "{stub}");
    assert!(!stub.contains("and released"), "{stub}");
    let audit = audit_history(&stack, node).await;
    let refused: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::ReleaseContent)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].outcome, Outcome::Denied);
    assert!(
        !audit
            .iter()
            .any(|e| e.action == AuditAction::Archive && e.outcome == Outcome::Failed),
        "the archive did not fail"
    );

    // Reported, not swallowed: every delivery tries the purge again (no second stub), then
    // the message rests in the DLQ.
    let _ = stack.drain(20).await.unwrap();
    assert_eq!(workflow(&stack, node).await.unwrap().0, "release_refused");
    assert_eq!(dlq_depth(&stack).await, 1);
    let requests = ot_requests(&stack, node).await;
    assert_eq!(count(&requests, "POST", "/versions"), 1, "{requests:#?}");
    assert!(count(&requests, "DELETE", "/versions") > 6, "{requests:#?}");

    // The right granted again: a rerun finishes the release with the same stub.
    set_rights(&stack, node, 1100, &ALL_RIGHTS).await;
    archive_requested(&stack, "refused-2", node).await;
    assert_eq!(
        run_until(&mut stack, node, &["done", "failed"]).await,
        Ended::State("done".into()),
        "{}",
        stack.function.logs().join("\n")
    );
    assert_archived_once(&stack, node, "refused").await;
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
