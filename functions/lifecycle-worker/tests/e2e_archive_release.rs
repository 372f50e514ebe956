//! P2 end to end, the release: a held record is archived and its release deferred until no
//! hold is left (a hold applied after the stub too, and the stub says only what stays true);
//! a refused purge is retried when transient and reported as refused otherwise.

mod archive_support;

use archive_support::*;
use records_domain::{AuditAction, Outcome};
use serde_json::json;

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
        let h = test_support::s3::head(&stack, &archive_bucket(&stack), &key, &version_id).await;
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
