//! P4 business events end to end: the real `lifecycle-worker` binary takes a business event
//! (bare, and as the EventBridge event the bus's rule forwards) from its queue in moto, finds
//! the business object's records through the workflow table's GSI, sets their record date and
//! status in the simulator, and replaces the "awaiting event" legal hold on every linked S3
//! version by Object Lock retention counted from the event.

mod governance_support;

use governance_support::*;
use records_aws::business_index::BusinessIndex;
use records_domain::{AuditAction, BusinessObject, ObjectVersion, Outcome};
use serde_json::json;

/// The governance rule, and what a `contract.expired` changes.
fn policy() -> String {
    format!(
        "{}business_events:\n  - event_type: contract.expired\n    object_type: contract\n    status: CLOSED\n",
        POLICY.as_str()
    )
}

async fn stack() -> local_stack::stack::Stack {
    use test_support::stack::OptionsExt;
    let policy = policy();
    test_support::stack::start(options().with_policy(&policy)).await
}

/// Indexes the record under the contract, as the declare function does when it declares.
async fn index(
    stack: &local_stack::stack::Stack,
    node: u64,
    contract: &str,
    v: &records_aws::links::LinkedVersion,
) {
    let index = BusinessIndex::new(stack.dynamodb(), stack.resource("WorkflowTable"));
    let writes = index.index_writes(
        node,
        &[BusinessObject::new("contract", contract)],
        &ObjectVersion::new(&v.bucket, &v.key, Some(&v.version_id)),
    );
    stack
        .dynamodb()
        .transact_write_items()
        .set_transact_items(Some(writes))
        .send()
        .await
        .expect("index the record");
}

fn contract_expired(event_id: &str, contract: &str) -> serde_json::Value {
    json!({
        "schema": 1, "event_id": event_id, "event_type": "contract.expired",
        "business_object": {"type": "Contract", "id": contract},
        "occurred_at": "2026-11-30T16:00:00+01:00", "source": "contracts-prod",
    })
}

/// Sends one message and drains the queue; the ids of the messages that failed.
async fn send_and_drain(
    stack: &local_stack::stack::Stack,
    body: &serde_json::Value,
) -> Vec<String> {
    test_support::queue::send(stack, "LifecycleQueue", &body.to_string()).await;
    let reports = stack.drain(10).await.expect("drain");
    reports.iter().flat_map(|r| r.failed_ids.clone()).collect()
}

#[tokio::test]
async fn a_business_event_dates_the_record_and_turns_the_awaiting_hold_into_retention() {
    let stack = stack().await;
    let node = record(
        &stack,
        "contract-p4",
        4102,
        "LEG-EVENT",
        "2026-02-01T00:00:00Z",
    )
    .await;
    let versions = linked_versions(&stack, node, "legal/contract-p4.pdf", 2).await;
    for v in &versions {
        index(&stack, node, "K-2026-17", v).await;
    }
    deliver(&stack, "p4-e-1", "retention.changed", node, json!({})).await;
    for v in &versions {
        let lock = lock_of(&stack, v).await;
        assert!(
            lock.legal_hold && lock.until.is_none(),
            "awaiting its event"
        );
    }

    let failed = send_and_drain(&stack, &contract_expired("crm-4711", "K-2026-17")).await;
    assert!(failed.is_empty(), "{}", stack.function.logs().join("\n"));

    // OpenText: record date = the event's (UTC) date, status CLOSED.
    let rm = opentext(&stack)
        .rm_classifications(node as i64)
        .await
        .unwrap();
    let details = rm.primary().expect("classified");
    assert_eq!(details.status.as_deref(), Some("CLOSED"));
    let record_date = details.record_date.as_ref().unwrap().instant().unwrap();
    assert_eq!(record_date.date(), time::macros::date!(2026 - 11 - 30));
    // S3: LEG-EVENT's stages after the event (0 years, then 10 years CLOSED) from that date,
    // COMPLIANCE, and the awaiting-event legal hold gone (no OpenText hold is in force).
    let ten_years = record_date.replace_year(2036).unwrap().unix_timestamp();
    for v in &versions {
        let lock = lock_of(&stack, v).await;
        assert_eq!(lock.until, Some(ten_years), "{}", v.version_id);
        assert_eq!(lock.mode.as_deref(), Some("COMPLIANCE"));
        assert!(!lock.legal_hold, "the awaiting-event hold is lifted");
        assert_eq!(
            tags_of(&stack, v).await["records-bridge:retention"],
            "dated"
        );
    }
    let trail = test_support::audit::of_node(&stack, node).await;
    assert!(
        trail.iter().any(|e| e.action == AuditAction::BusinessEvent
            && e.outcome == Outcome::Succeeded
            && e.details["business_object"] == "contract#K-2026-17"),
        "the record's change is audited: {trail:?}"
    );

    // The same event again, as the EventBridge rule delivers it: nothing shortens, nothing fails.
    let envelope = json!({
        "version": "0", "id": "crm-4711", "detail-type": "contract.expired",
        "source": "contracts-prod", "account": "123456789012", "time": "2026-11-30T15:00:00Z",
        "region": "us-east-1", "resources": [],
        "detail": {"business_object": {"type": "contract", "id": "K-2026-17"}},
    });
    let failed = send_and_drain(&stack, &envelope).await;
    assert!(failed.is_empty(), "{}", stack.function.logs().join("\n"));
    for v in &versions {
        assert_eq!(lock_of(&stack, v).await.until, Some(ten_years));
    }
}

#[tokio::test]
async fn an_event_for_an_unknown_business_object_is_audited_and_kept_for_redelivery() {
    let stack = stack().await;
    let failed = send_and_drain(&stack, &contract_expired("crm-404", "K-NOBODY")).await;
    // The one message fails each time it is delivered: it stays on the queue (the records
    // may be on their way in), then the dead-letter queue keeps it.
    assert!(!failed.is_empty(), "the unmatched event is not settled");
    assert!(failed.iter().all(|id| id == &failed[0]), "{failed:?}");
    let history = test_support::audit::history(&stack, "records-bridge").await;
    let reported = history.iter().find(|e| {
        e.action == AuditAction::BusinessEvent && e.details["business_event_id"] == "crm-404"
    });
    let reported = reported.unwrap_or_else(|| panic!("audited: {history:?}"));
    assert_eq!(reported.outcome, Outcome::Failed);
    assert!(
        reported
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no records found for Contract K-NOBODY")),
        "{reported:?}"
    );
}

#[tokio::test]
async fn an_event_type_the_policy_does_not_name_changes_nothing() {
    let stack = stack().await;
    let mut event = contract_expired("crm-x", "K-2026-17");
    event["event_type"] = "contract.renewed".into();
    let failed = send_and_drain(&stack, &event).await;
    assert!(failed.is_empty(), "settled: nothing to do");
    let history = test_support::audit::history(&stack, "records-bridge").await;
    assert!(
        history
            .iter()
            .any(|e| e.action == AuditAction::BusinessEvent
                && e.outcome == Outcome::Skipped
                && e.details["business_event_id"] == "crm-x")
    );
}
