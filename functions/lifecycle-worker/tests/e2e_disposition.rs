//! P4 certified destruction end to end: the real `lifecycle-worker` binary takes a
//! `disposition.approved` event for a snapshot of the simulator's disposition search, re-reads
//! holds and retention, deletes every linked S3 version in moto (gone, not a delete marker),
//! signs one certificate with the stack's KMS key into the WORM audit bucket, and tells
//! OpenText; anything held or retained is refused, audited, reported and left as it was.

mod disposition_support;
mod governance_support;

use aws_sdk_s3::types::{ObjectLockLegalHold, ObjectLockLegalHoldStatus};
use disposition_support::*;
use governance_support::*;
use records_domain::disposition::{VersionDisposal, verify};
use records_domain::{AuditAction, Outcome};

#[tokio::test]
async fn approved_disposition_deletes_every_version_and_writes_one_certificate_that_verifies() {
    let stack = stack().await;
    let (node, versions) = expired_record(&stack, "ledger-2010", 2).await;
    let qdate = approved_snapshot(&stack, &[node], "2026-12-01T09:00:00").await;

    let failed = send(&stack, &approved("disp-ok-1", &qdate, false)).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));
    for v in &versions {
        assert!(gone(&stack, v).await, "{} is gone", v.version_id);
    }
    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1, "one certificate");
    let verified = verify(&certs[0].1, &public_key(&stack).await).expect("it verifies");
    let cert = verified.certificate;
    assert!(!cert.dry_run);
    assert_eq!(cert.approval.disposition_search_id, SEARCH);
    assert_eq!(cert.records.len(), 1);
    let listed: Vec<&str> = cert.records[0]
        .versions
        .iter()
        .map(|v| v.version_id.as_str())
        .collect();
    for v in &versions {
        assert!(listed.contains(&v.version_id.as_str()));
    }
    for v in &cert.records[0].versions {
        assert!(
            matches!(v.disposal, VersionDisposal::Deleted { .. }),
            "{v:?}"
        );
        assert_eq!(v.sha256.as_deref().map(str::len), Some(64));
    }
    // OpenText was told: the record's own disposition action was performed (Destroy).
    let node_view = stack.sim_admin(&format!("nodes/{node}")).await.unwrap();
    assert_eq!(node_view["deleted"], true, "{node_view}");
    // Audited per version, naming the certificate.
    let trail = audit_of(&stack, &versions[0]).await;
    assert!(trail.iter().any(|e| e.action == AuditAction::Dispose
        && e.outcome == Outcome::Succeeded
        && e.details["certificate_id"] == cert.certificate_id.as_str()));

    // Delivered again: nothing deleted twice, still one certificate.
    let failed = send(&stack, &approved("disp-ok-2", &qdate, false)).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));
    assert_eq!(certificates(&stack).await.len(), 1);
}

#[tokio::test]
async fn holds_and_unended_retention_are_refused_with_their_reasons_and_nothing_is_deleted() {
    let stack = stack().await;
    let ot = opentext(&stack);
    // 1: an OpenText hold on the record.
    let (held, held_versions) = expired_record(&stack, "held-2010", 1).await;
    ot.apply_hold(held as i64, 6100).await.unwrap();
    // 2: an S3 legal hold on one of its versions.
    let (locked, locked_versions) = expired_record(&stack, "legal-hold-2010", 2).await;
    stack
        .s3()
        .put_object_legal_hold()
        .bucket(&locked_versions[1].bucket)
        .key(&locked_versions[1].key)
        .version_id(&locked_versions[1].version_id)
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // 3: retention not ended (a record date of this year: FIN-7Y runs to 2033).
    let young = record(&stack, "young-2026", 4100, "FIN-7Y", "2026-01-15T00:00:00Z").await;
    let young_versions = linked_versions(&stack, young, "finance/young-2026.pdf", 1).await;

    let qdate = approved_snapshot(&stack, &[held, locked, young], "2026-12-01T10:00:00").await;
    let failed = send(&stack, &approved("disp-refuse-1", &qdate, false)).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));

    for v in held_versions
        .iter()
        .chain(&locked_versions)
        .chain(&young_versions)
    {
        assert!(
            !gone(&stack, v).await,
            "{} was left as it was",
            v.version_id
        );
    }
    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1);
    let refused = &certs[0].1.certificate["refused"];
    let reasons = |node: u64| -> String {
        refused
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["node_id"] == node)
            .map(|r| r["reasons"].to_string())
            .unwrap_or_default()
    };
    assert!(reasons(held).contains("opentext_hold"), "{refused}");
    assert!(reasons(locked).contains("s3_legal_hold"), "{refused}");
    assert!(
        reasons(young).contains("disposition_date_not_reached")
            || reasons(young).contains("retention_not_ended"),
        "{refused}"
    );
    assert!(
        certs[0].1.certificate["records"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Audited with the reason, and reported back: the review item is rejected with it.
    let trail = test_support::audit::of_node(&stack, held).await;
    assert!(trail.iter().any(|e| e.action == AuditAction::Dispose
        && e.outcome == Outcome::Denied
        && e.reason.as_deref().is_some_and(|r| r.contains("hold"))));
    let snapshots = stack
        .sim_admin(&format!("disposition-snapshots?search_id={SEARCH}"))
        .await
        .unwrap();
    let text = snapshots.to_string();
    assert!(text.contains("records-bridge did not destroy"), "{text}");
    for n in [held, locked, young] {
        let view = stack.sim_admin(&format!("nodes/{n}")).await.unwrap();
        assert_ne!(view["deleted"], true, "record {n} is left as it was");
    }
}

#[tokio::test]
async fn a_dry_run_deletes_nothing_and_writes_a_draft() {
    let stack = stack().await;
    let (node, versions) = expired_record(&stack, "draft-2010", 1).await;
    let qdate = approved_snapshot(&stack, &[node], "2026-12-01T11:00:00").await;
    let failed = send(&stack, &approved("disp-dry-1", &qdate, true)).await;
    assert!(failed.is_empty(), "{}", failed_logs(&stack, &failed));
    assert!(!gone(&stack, &versions[0]).await);
    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1);
    let cert = verify(&certs[0].1, &public_key(&stack).await)
        .unwrap()
        .certificate;
    assert!(cert.dry_run, "marked as a draft in the signed document");
    assert!(cert.certificate_id.contains("draft"));
    assert_eq!(
        cert.records[0].versions[0].disposal,
        VersionDisposal::WouldDelete
    );
    let view = stack.sim_admin(&format!("nodes/{node}")).await.unwrap();
    assert_ne!(view["deleted"], true, "OpenText is not told of a dry run");
}

#[tokio::test]
async fn a_crash_after_the_first_deletion_is_finished_by_the_next_delivery_with_one_certificate() {
    use test_support::stack::OptionsExt;
    let stack = test_support::stack::start(
        options().with_env(&[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", "disposition-delete")]),
    )
    .await;
    let (node, versions) = expired_record(&stack, "crash-2010", 2).await;
    let qdate = approved_snapshot(&stack, &[node], "2026-12-01T12:00:00").await;
    test_support::queue::send(
        &stack,
        "LifecycleQueue",
        &approved("disp-crash", &qdate, false).to_string(),
    )
    .await;
    let first = stack.poll().await.expect("poll");
    assert!(
        first.function_error.is_some() || !first.failed_ids.is_empty(),
        "it crashed"
    );
    let deleted = {
        let mut n = 0;
        for v in &versions {
            if gone(&stack, v).await {
                n += 1;
            }
        }
        n
    };
    assert_eq!(deleted, 1, "one version deleted before the crash");
    assert!(certificates(&stack).await.is_empty());

    let mut stack = stack;
    stack
        .restart_function(std::collections::BTreeMap::from([(
            "RECORDS_BRIDGE_FAULT_CRASH_AFTER".to_string(),
            String::new(),
        )]))
        .await
        .expect("restart without the crash");
    // The crashed attempt's lease first has to lapse (a redelivery meanwhile is told to
    // retry); then the next delivery resumes from the saved progress.
    let reports = stack.drain(20).await.expect("drain");
    assert!(
        reports.last().is_some_and(|r| r.failed_ids.is_empty()),
        "the last delivery settles it: {}",
        stack.function.logs().join("\n")
    );
    for v in &versions {
        assert!(gone(&stack, v).await);
    }
    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1, "one certificate");
    let cert = verify(&certs[0].1, &public_key(&stack).await)
        .unwrap()
        .certificate;
    assert_eq!(cert.records[0].versions.len(), 2);
    for v in &cert.records[0].versions {
        assert!(
            matches!(v.disposal, VersionDisposal::Deleted { .. }),
            "{v:?}"
        );
    }
}

#[tokio::test]
async fn a_tampered_certificate_fails_verification() {
    let stack = stack().await;
    let (node, _) = expired_record(&stack, "tamper-2010", 1).await;
    let qdate = approved_snapshot(&stack, &[node], "2026-12-01T13:00:00").await;
    assert!(
        send(&stack, &approved("disp-tamper", &qdate, false))
            .await
            .is_empty()
    );
    let (_, cert) = certificates(&stack).await.pop().unwrap();
    let key = public_key(&stack).await;
    assert!(verify(&cert, &key).is_ok());
    let mut changed = cert.clone();
    changed.certificate["records"][0]["versions"][0]["version_id"] = "another-version".into();
    assert!(
        verify(&changed, &key).is_err(),
        "a changed version id fails"
    );
    let mut one_byte = cert.clone();
    let name = one_byte.certificate["records"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    one_byte.certificate["records"][0]["name"] = format!("{name}x").into();
    assert!(verify(&one_byte, &key).is_err(), "one more byte fails");
}

#[tokio::test]
async fn a_hold_placed_between_a_crash_and_the_rerun_keeps_the_rest_and_certifies_what_went() {
    use test_support::stack::OptionsExt;
    let mut stack = test_support::stack::start(
        options().with_env(&[("RECORDS_BRIDGE_FAULT_CRASH_AFTER", "disposition-delete")]),
    )
    .await;
    let (node, versions) = expired_record(&stack, "late-hold-2010", 2).await;
    let qdate = approved_snapshot(&stack, &[node], "2026-12-01T14:00:00").await;
    test_support::queue::send(
        &stack,
        "LifecycleQueue",
        &approved("disp-late-hold", &qdate, false).to_string(),
    )
    .await;
    stack.poll().await.expect("poll");
    // A records manager places a hold before the rerun.
    opentext(&stack)
        .apply_hold(node as i64, 6100)
        .await
        .unwrap();
    stack
        .restart_function(std::collections::BTreeMap::from([(
            "RECORDS_BRIDGE_FAULT_CRASH_AFTER".to_string(),
            String::new(),
        )]))
        .await
        .expect("restart without the crash");
    stack.drain(20).await.expect("drain");
    let mut remaining = 0;
    for v in &versions {
        if !gone(&stack, v).await {
            remaining += 1;
        }
    }
    assert_eq!(
        remaining, 1,
        "the version not yet deleted stays under the hold"
    );
    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1);
    let cert = verify(&certs[0].1, &public_key(&stack).await)
        .unwrap()
        .certificate;
    assert_eq!(cert.records.len(), 1, "what went is certified");
    assert_eq!(cert.records[0].versions.len(), 1);
    assert!(matches!(
        cert.records[0].versions[0].disposal,
        VersionDisposal::Deleted { .. }
    ));
    assert_eq!(cert.refused.len(), 1, "the rest is refused with its reason");
    assert!(
        serde_json::to_string(&cert.refused[0])
            .unwrap()
            .contains("opentext_hold")
    );
}
