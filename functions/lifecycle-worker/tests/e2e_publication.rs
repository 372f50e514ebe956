//! P7 controlled publication end to end: the real `lifecycle-worker` binary takes lifecycle
//! events from its queue in moto, asks the simulator every gate, and publishes the approved
//! version to the template's publication bucket, replacing and withdrawing it (with
//! invalidations on the template's distribution in moto) as the record changes.

mod disposition_support;
mod governance_support;
mod publication_support;

use publication_support::*;
use records_domain::{AuditAction, Outcome};
use serde_json::json;

#[tokio::test]
async fn each_failing_gate_refuses_alone_with_its_reason_and_nothing_is_written() {
    let stack = stack().await;
    let cases = [
        (
            "unclassified",
            Setup {
                classified: false,
                ..Setup::PASSING
            },
            "no RM classification",
        ),
        (
            "unapproved",
            Setup {
                approval: Some("Draft"),
                ..Setup::PASSING
            },
            "\"Draft\"",
        ),
        (
            "not_official",
            Setup {
                official: false,
                ..Setup::PASSING
            },
            "not an official record",
        ),
        (
            "held",
            Setup {
                held: true,
                ..Setup::PASSING
            },
            "6100",
        ),
    ];
    let mut nodes = Vec::new();
    for (code, setup, _) in &cases {
        let node = document(&stack, &format!("manual-{code}"), *setup).await;
        moved_in(&stack, &format!("in-{code}"), node).await;
        nodes.push(node);
    }
    // Stale: version 1 asked for through the intake while version 2 is the approved one.
    let stale = document(&stack, "manual-stale", Setup::PASSING).await;
    send(
        &stack,
        "ask-stale",
        "publication.requested",
        stale,
        Some(1),
        json!({}),
    )
    .await;
    run(&stack).await;

    let expected = cases
        .iter()
        .map(|(code, _, says)| (*code, *says))
        .chain([("stale_version", "latest approved version is 2")]);
    for (node, (code, says)) in nodes.iter().copied().chain([stale]).zip(expected) {
        let (state, detail) = item(&stack, node).await.expect("publication item");
        assert_eq!(state, "refused", "{code}: {detail}");
        let refusals = detail["refusals"].as_array().expect("refusals");
        assert_eq!(refusals.len(), 1, "{code} fails alone: {refusals:?}");
        assert_eq!(refusals[0]["code"], code);
        assert!(
            refusals[0]["reason"].as_str().unwrap().contains(says),
            "{code}: {refusals:?}"
        );
        assert!(
            objects(&stack, node).await.is_empty(),
            "{code}: nothing written"
        );
        let denied = audited(&stack, node, AuditAction::Publish, Outcome::Denied).await;
        assert_eq!(denied.len(), 1, "{code}: one refusal audited");
        assert!(denied[0].reason.as_deref().unwrap().contains(code));
    }
}

#[tokio::test]
async fn an_approved_record_is_published_once_with_its_bytes_hash_and_headers() {
    let stack = stack().await;
    let node = document(&stack, "Safety Manual", Setup::PASSING).await;
    moved_in(&stack, "in-1", node).await;
    run(&stack).await;

    let (state, detail) = item(&stack, node).await.expect("item");
    assert_eq!(state, "published", "{detail}");
    let key = format!("public/manuals/{node}/Safety Manual.pdf");
    assert_eq!(detail["live"]["key"], key.as_str());
    assert_eq!(detail["live"]["version"], 2, "the approved version, not v1");
    let v2 = &contents("Safety Manual")[1];
    assert_eq!(
        &body(&stack, &key).await,
        v2,
        "bytes equal OpenText's version 2"
    );
    assert_eq!(detail["live"]["sha256"], sha256_hex(v2).as_str());

    let head = stack
        .s3()
        .head_object()
        .bucket(bucket(&stack))
        .key(&key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.checksum_sha256(),
        Some(test_support::hashing::sha256_b64(v2).as_str()),
        "x-amz-checksum-sha256 is OpenText's hash"
    );
    assert_eq!(head.content_type(), Some("application/pdf"));
    assert_eq!(head.cache_control(), Some("public, max-age=600"));
    assert!(
        head.content_disposition()
            .is_some_and(|d| d.starts_with("inline;")),
        "{:?}",
        head.content_disposition()
    );
    let meta = head.metadata().expect("metadata");
    assert_eq!(meta["otcs-node-id"], node.to_string());
    assert_eq!(meta["otcs-version"], "2");
    assert_eq!(meta["otcs-sha256"], sha256_hex(v2));
    assert_eq!(
        detail["live"]["s3_version_id"].as_str(),
        head.version_id(),
        "the publication records the S3 version"
    );
    let url = detail["live"]["url"].as_str().expect("public url");
    assert!(
        url.starts_with("https://")
            && url.ends_with(&format!("/manuals/{node}/Safety%20Manual.pdf")),
        "{url}"
    );
    let published = audited(&stack, node, AuditAction::Publish, Outcome::Succeeded).await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].hashes.sha256.clone(), Some(sha256_hex(v2)));

    // The same request again, the approval event, and a direct request: still one copy.
    moved_in(&stack, "in-1", node).await;
    approval_changed(&stack, "approval-1", node).await;
    send(
        &stack,
        "ask-1",
        "publication.requested",
        node,
        None,
        json!({}),
    )
    .await;
    run(&stack).await;
    assert_eq!(objects(&stack, node).await.len(), 1, "one publication");
    assert_eq!(
        audited(&stack, node, AuditAction::Publish, Outcome::Succeeded)
            .await
            .len(),
        1
    );
    assert!(invalidated(&stack).await.is_empty(), "nothing replaced yet");
}

#[tokio::test]
async fn a_newer_approved_version_replaces_the_copy_and_invalidates_its_path() {
    let stack = stack().await;
    let ot = opentext(&stack);
    let node = document(&stack, "handbook", Setup::PASSING).await;
    moved_in(&stack, "in-1", node).await;
    run(&stack).await;
    let first = item(&stack, node).await.unwrap().1["live"].clone();

    // Version 3 added: not approved yet, so the copy stays version 2.
    let v3 = b"handbook: third edition".to_vec();
    ot.add_version(
        node as i64,
        std::sync::Arc::new(opentext_client::BytesSource::new(
            v3.clone(),
            "handbook.pdf",
        )),
        &opentext_client::VersionOptions::default(),
    )
    .await
    .unwrap();
    send(
        &stack,
        "v3-added",
        "node.version_added",
        node,
        Some(3),
        json!({}),
    )
    .await;
    run(&stack).await;
    assert_eq!(item(&stack, node).await.unwrap().1["live"], first);

    // Version 3 approved: published over version 2, whose S3 version is removed.
    set_approval(&ot, node, Some("Approved"), Some(3)).await;
    approval_changed(&stack, "approval-3", node).await;
    run(&stack).await;
    let (state, detail) = item(&stack, node).await.unwrap();
    assert_eq!(state, "published", "{detail}");
    assert_eq!(detail["live"]["version"], 3);
    let key = format!("public/manuals/{node}/handbook.pdf");
    assert_eq!(body(&stack, &key).await, v3);
    let left = objects(&stack, node).await;
    assert_eq!(left.len(), 1, "the replaced version is gone: {left:?}");
    assert_eq!(
        Some(left[0].1.as_str()),
        detail["live"]["s3_version_id"].as_str()
    );
    assert_eq!(
        invalidated(&stack).await,
        vec![format!("/manuals/{node}/handbook.pdf")]
    );
    let removed = audited(&stack, node, AuditAction::Withdraw, Outcome::Succeeded).await;
    assert_eq!(removed.len(), 1);
    assert!(
        removed[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("replaced by version 3")
    );
}

#[tokio::test]
async fn a_hold_an_unapproval_and_a_withdrawal_each_remove_and_invalidate_the_copy() {
    let stack = stack().await;
    let ot = opentext(&stack);
    let held = document(&stack, "held-manual", Setup::PASSING).await;
    let unapproved = document(&stack, "revoked-manual", Setup::PASSING).await;
    let withdrawn = document(&stack, "withdrawn-manual", Setup::PASSING).await;
    for n in [held, unapproved, withdrawn] {
        moved_in(&stack, &format!("in-{n}"), n).await;
    }
    run(&stack).await;
    for n in [held, unapproved, withdrawn] {
        assert_eq!(item(&stack, n).await.unwrap().0, "published");
    }

    ot.apply_hold(held as i64, HOLD).await.unwrap();
    send(
        &stack,
        "hold-1",
        "hold.applied",
        held,
        None,
        json!({"hold_id": HOLD}),
    )
    .await;
    set_approval(&ot, unapproved, Some("Revoked"), Some(2)).await;
    approval_changed(&stack, "revoked-1", unapproved).await;
    send(
        &stack,
        "withdraw-1",
        "publication.withdrawn",
        withdrawn,
        None,
        json!({"reason": "superseded by the 2027 manual"}),
    )
    .await;
    run(&stack).await;

    for (node, state, says) in [
        (held, "refused", "held"),
        (unapproved, "refused", "unapproved"),
        (withdrawn, "withdrawn", "superseded by the 2027 manual"),
    ] {
        let (s, detail) = item(&stack, node).await.unwrap();
        assert_eq!(s, state, "{detail}");
        assert!(detail["live"].is_null());
        assert!(
            objects(&stack, node).await.is_empty(),
            "no version or delete marker left readable"
        );
        let removed = audited(&stack, node, AuditAction::Withdraw, Outcome::Succeeded).await;
        assert_eq!(removed.len(), 1, "{node}");
        assert!(removed[0].reason.as_deref().unwrap().contains(says));
    }
    let paths = invalidated(&stack).await;
    for n in [held, unapproved, withdrawn] {
        let name = item(&stack, n).await.unwrap().1["history"][0]["key"]
            .as_str()
            .unwrap()
            .trim_start_matches("public")
            .to_string();
        assert!(
            paths.contains(&name.replace(' ', "%20")),
            "{name} in {paths:?}"
        );
    }

    // The hold lifted: the standing request is checked again and the copy comes back.
    ot.remove_hold(held as i64, HOLD).await.unwrap();
    send(
        &stack,
        "hold-off",
        "hold.removed",
        held,
        None,
        json!({"hold_id": HOLD}),
    )
    .await;
    // A withdrawn document stays down on other changes.
    send(
        &stack,
        "v-added",
        "node.version_added",
        withdrawn,
        Some(2),
        json!({}),
    )
    .await;
    run(&stack).await;
    assert_eq!(item(&stack, held).await.unwrap().0, "published");
    assert_eq!(objects(&stack, held).await.len(), 1);
    assert_eq!(item(&stack, withdrawn).await.unwrap().0, "withdrawn");
    assert!(objects(&stack, withdrawn).await.is_empty());
}

#[tokio::test]
async fn moving_out_of_the_publish_folder_withdraws_and_a_crash_after_the_write_publishes_once() {
    let mut stack = stack_with(
        &[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", "publication-written")],
        &[("MaxReceiveCount", "1000")],
    )
    .await;
    // Short, so the dead attempt's lease (deadline + 5 s) expires soon; longer than the 10 s
    // kept back for bookkeeping.
    stack.source_mut().invoke_timeout = std::time::Duration::from_secs(15);
    let node = document(&stack, "crash-manual", Setup::PASSING).await;
    moved_in(&stack, "in-1", node).await;
    // The first attempt dies right after its write; the redelivery adopts that copy.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while stack.function.try_status().is_none() {
        assert!(std::time::Instant::now() < give_up, "never crashed");
        let _ = stack.poll().await;
    }
    assert_eq!(
        item(&stack, node).await.unwrap().0,
        "writing",
        "crashed after the write"
    );
    assert_eq!(objects(&stack, node).await.len(), 1, "the copy was written");
    stack
        .restart_function(Default::default())
        .await
        .expect("restart without the fault");
    stack.source_mut().invoke_timeout = std::time::Duration::from_secs(15);
    // The dead attempt's live lease makes the next deliveries retry until it expires.
    while item(&stack, node)
        .await
        .is_none_or(|(s, _)| s != "published")
    {
        assert!(
            std::time::Instant::now() < give_up,
            "not published after the crash\n{}",
            stack.function.logs().join("\n")
        );
        let _ = stack.poll().await;
    }
    assert_eq!(item(&stack, node).await.unwrap().0, "published");
    assert_eq!(objects(&stack, node).await.len(), 1, "one copy, adopted");
    assert_eq!(
        audited(&stack, node, AuditAction::Publish, Outcome::Succeeded)
            .await
            .len(),
        1
    );

    // Approved again (the approval trigger now stands too), then moved out of Publications
    // into Finance: taken out of publication all the same, nothing stays readable.
    approval_changed(&stack, "approval-again", node).await;
    run(&stack).await;
    assert_eq!(item(&stack, node).await.unwrap().1["standing"], "approval");
    opentext(&stack)
        .update_node(
            node as i64,
            &opentext_client::NodeUpdate {
                parent_id: Some(2101),
                ..Default::default()
            },
        )
        .await
        .expect("move");
    send(
        &stack,
        "out-1",
        "node.moved",
        node,
        None,
        json!({"to_parent_id": 2101, "from_parent_id": PUBLISH_FOLDER}),
    )
    .await;
    run(&stack).await;
    let (state, detail) = item(&stack, node).await.unwrap();
    assert_eq!(state, "withdrawn", "{detail}");
    assert!(
        detail["reason"]
            .as_str()
            .unwrap()
            .contains("moved out of publish folder 2300")
    );
    assert!(objects(&stack, node).await.is_empty());
    assert_eq!(
        invalidated(&stack).await,
        vec![format!("/manuals/{node}/crash-manual.pdf")]
    );
}

#[tokio::test]
async fn a_disposed_record_loses_its_published_copy() {
    let stack = stack().await;
    let node = document(&stack, "retired-procedure", Setup::PASSING).await;
    // Declared from S3 (its source versions linked), and its FIN-7Y retention ran out.
    let sources =
        governance_support::linked_versions(&stack, node, "finance/retired-procedure.pdf", 2).await;
    opentext(&stack)
        .update_record_details_now(
            node as i64,
            &opentext_client::model::RecordUpdate {
                record_date: Some("2010-01-15".into()),
                ..Default::default()
            },
        )
        .await
        .expect("record date");
    moved_in(&stack, "in-1", node).await;
    run(&stack).await;
    assert_eq!(item(&stack, node).await.unwrap().0, "published");

    let qdate = disposition_support::approved_snapshot(&stack, &[node], "2026-12-01").await;
    let failed = disposition_support::send(
        &stack,
        &disposition_support::approved("disp-1", &qdate, false),
    )
    .await;
    assert!(failed.is_empty(), "{}", stack.function.logs().join("\n"));
    for v in &sources {
        assert!(
            disposition_support::gone(&stack, v).await,
            "destroyed: {v:?}"
        );
    }

    let (state, detail) = item(&stack, node).await.unwrap();
    assert_eq!(
        state,
        "withdrawn",
        "{detail}\n{}",
        stack.function.logs().join("\n")
    );
    assert!(
        detail["reason"]
            .as_str()
            .unwrap()
            .contains("destroyed under disposition certificate"),
        "{detail}"
    );
    assert!(
        objects(&stack, node).await.is_empty(),
        "nothing of it stays readable"
    );
    assert_eq!(
        invalidated(&stack).await,
        vec![format!("/manuals/{node}/retired-procedure.pdf")]
    );
}
