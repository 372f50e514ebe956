//! P2 archive tier end to end: the real `lifecycle-worker` binary takes lifecycle events from
//! its queue in moto, streams a record's versions from the simulator into the template's
//! Object Lock archive bucket, verifies them, records the location and releases the content.

mod archive_support;

use archive_support::*;
use aws_sdk_s3::types::{ChecksumMode, ObjectLockMode};
use records_domain::{AuditAction, Outcome};
use serde_json::json;

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
async fn a_checksum_mismatch_or_a_hold_means_no_release_is_ever_attempted() {
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

    // A record under hold is archived but never released.
    let held = record(&stack, "held").await;
    opentext(&stack)
        .apply_hold(held as i64, 6100)
        .await
        .expect("hold");
    clear_requests(&stack).await;
    archive_requested(&stack, "held-1", held).await;
    assert_eq!(
        run_until(&mut stack, held, &["done", "failed"]).await,
        Ended::State("failed".into())
    );
    let (_, detail) = workflow(&stack, held).await.unwrap();
    assert!(
        detail["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("under hold 6100"),
        "{detail}"
    );
    assert_eq!(archive_versions(&stack, held).await.len(), 3, "copies kept");
    let requests = ot_requests(&stack, held).await;
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
