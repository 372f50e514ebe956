//! P3 OpenText → S3 end to end: the real `lifecycle-worker` binary takes lifecycle events
//! from its queue in moto and pushes holds, retention and disposition status to S3 Object
//! Lock and tags on every S3 version linked to the record, asking the simulator over HTTP.

mod governance_support;

use governance_support::*;
use opentext_client::model::NewHold;
use records_domain::{AuditAction, Outcome};
use serde_json::json;

#[tokio::test]
async fn hold_on_turns_on_every_linked_version_and_off_only_when_no_hold_remains() {
    let stack = stack().await;
    let node = record(&stack, "contract-a", 4100, "FIN-7Y", "2026-01-15T00:00:00Z").await;
    let versions = linked_versions(&stack, node, "finance/contract-a.pdf", 2).await;
    let ot = opentext(&stack);

    ot.apply_hold(node as i64, 6100).await.unwrap();
    deliver(
        &stack,
        "h-1",
        "hold.applied",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    for v in &versions {
        assert!(
            lock_of(&stack, v).await.legal_hold,
            "legal hold ON on {}",
            v.version_id
        );
    }

    // A second hold on the folder (inherited): removing the direct one keeps the S3 hold.
    let folder_hold = ot
        .create_hold(&NewHold {
            name: "LIT-2026-002".into(),
            hold_type: "Legal".into(),
            date_applied: "2026-11-25T00:00:00".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    ot.apply_hold(2101, folder_hold).await.unwrap();
    ot.remove_hold(node as i64, 6100).await.unwrap();
    deliver(
        &stack,
        "h-2",
        "hold.removed",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    for v in &versions {
        assert!(
            lock_of(&stack, v).await.legal_hold,
            "an inherited hold is still in force: legal hold stays ON"
        );
    }

    ot.remove_hold(2101, folder_hold).await.unwrap();
    deliver(
        &stack,
        "h-3",
        "hold.removed",
        node,
        json!({"hold_id": folder_hold}),
    )
    .await;
    for v in &versions {
        assert!(
            !lock_of(&stack, v).await.legal_hold,
            "no hold left: legal hold OFF"
        );
        let trail = audit_of(&stack, v).await;
        let syncs: Vec<_> = trail
            .iter()
            .filter(|e| e.action == AuditAction::HoldSync && e.outcome == Outcome::Succeeded)
            .map(|e| {
                e.details["legal_hold"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(syncs, ["ON", "ON", "OFF"], "{trail:?}");
    }

    // Redelivery of the same event changes nothing and writes the same audit event id.
    deliver(
        &stack,
        "h-3",
        "hold.removed",
        node,
        json!({"hold_id": folder_hold}),
    )
    .await;
    assert!(!lock_of(&stack, &versions[0]).await.legal_hold);
}

#[tokio::test]
async fn retention_extension_applies_and_shortening_is_refused_in_compliance_mode() {
    let stack = stack().await;
    let node = record(&stack, "ledger", 4100, "FIN-7Y", "2026-01-15T00:00:00Z").await;
    let versions = linked_versions(&stack, node, "finance/ledger.csv", 2).await;

    // FIN-7Y: 7 years from the record date.
    deliver(&stack, "r-1", "retention.changed", node, json!({})).await;
    for v in &versions {
        let lock = lock_of(&stack, v).await;
        assert_eq!(lock.mode.as_deref(), Some("COMPLIANCE"));
        assert_eq!(lock.until, Some(epoch("2033-01-15T00:00:00Z")));
    }

    // A later record date extends the lock.
    set_record_date(&stack, node, "2027-03-01T00:00:00Z").await;
    deliver(&stack, "r-2", "retention.changed", node, json!({})).await;
    for v in &versions {
        assert_eq!(
            lock_of(&stack, v).await.until,
            Some(epoch("2034-03-01T00:00:00Z"))
        );
    }

    // An earlier one would shorten a COMPLIANCE lock: refused, audited with the reason.
    set_record_date(&stack, node, "2026-06-01T00:00:00Z").await;
    deliver(&stack, "r-3", "retention.changed", node, json!({})).await;
    for v in &versions {
        let lock = lock_of(&stack, v).await;
        assert_eq!(
            lock.until,
            Some(epoch("2034-03-01T00:00:00Z")),
            "not shortened"
        );
        let trail = audit_of(&stack, v).await;
        let denied = trail
            .iter()
            .find(|e| e.action == AuditAction::RetentionSync && e.outcome == Outcome::Denied)
            .unwrap_or_else(|| panic!("a refusal in the audit trail: {trail:?}"));
        assert!(
            denied
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("COMPLIANCE")
        );
    }

    // The refusal is ours: moto itself accepts shortening a COMPLIANCE lock.
    let scratch = linked_versions(&stack, node + 1_000_000, "finance/scratch.txt", 1).await;
    let s3 = stack.s3();
    for until in ["2034-01-01T00:00:00Z", "2030-01-01T00:00:00Z"] {
        s3.put_object_retention()
            .bucket(&scratch[0].bucket)
            .key(&scratch[0].key)
            .version_id(&scratch[0].version_id)
            .retention(
                aws_sdk_s3::types::ObjectLockRetention::builder()
                    .mode(aws_sdk_s3::types::ObjectLockRetentionMode::Compliance)
                    .retain_until_date(aws_smithy_types::DateTime::from_secs(epoch(until)))
                    .build(),
            )
            .send()
            .await
            .expect("moto accepts");
    }
    assert_eq!(
        lock_of(&stack, &scratch[0]).await.until,
        Some(epoch("2030-01-01T00:00:00Z"))
    );
}

#[tokio::test]
async fn event_based_retention_holds_until_dated_and_disposition_status_becomes_a_tag() {
    let stack = stack().await;
    let node = record(
        &stack,
        "contract-b",
        4102,
        "LEG-EVENT",
        "2026-02-01T00:00:00Z",
    )
    .await;
    let versions = linked_versions(&stack, node, "legal/contract-b.pdf", 1).await;
    let v = &versions[0];

    deliver(&stack, "e-1", "retention.changed", node, json!({})).await;
    let lock = lock_of(&stack, v).await;
    assert!(
        lock.legal_hold,
        "event-based retention is kept as a legal hold"
    );
    assert_eq!(lock.until, None);
    assert_eq!(
        tags_of(&stack, v).await["records-bridge:retention"],
        "awaiting-event"
    );

    // No OpenText hold at all, yet the legal hold stays: the retention still needs it.
    deliver(
        &stack,
        "e-2",
        "hold.removed",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    assert!(lock_of(&stack, v).await.legal_hold);

    deliver(
        &stack,
        "d-1",
        "disposition.status_changed",
        node,
        json!({"status": "approved for destruction"}),
    )
    .await;
    let tags = tags_of(&stack, v).await;
    assert_eq!(
        tags["records-bridge:disposition"],
        "approved for destruction"
    );
    assert_eq!(tags["owner"], "finance-team", "the owner's tags are kept");
}

#[tokio::test]
async fn a_record_without_linked_versions_is_nothing_to_do() {
    let stack = stack().await;
    let node = record(&stack, "unlinked", 4100, "FIN-7Y", "2026-01-15T00:00:00Z").await;
    deliver(
        &stack,
        "n-1",
        "hold.applied",
        node,
        json!({"hold_id": 6100}),
    )
    .await;
    assert!(
        stack
            .function
            .logs()
            .join("\n")
            .contains("governs no S3 object version"),
        "nothing to do is said"
    );
}
