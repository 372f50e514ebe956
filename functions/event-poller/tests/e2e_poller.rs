//! The poller end to end: the real binary on a schedule-shaped event, the simulator over
//! HTTP, moto's DynamoDB and SQS. Runs twice, and overlapping, must send each event once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use local_stack::function::FunctionProcess;
use local_stack::runtime_api::RuntimeApi;
use local_stack::stack::{Stack, StackOptions};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, Client, CreateOptions, NodeUpdate};
use serde_json::{Value, json};
use test_support::opentext::admin_client as admin;
use test_support::policy::{FINANCE, policy};
use test_support::stack::OptionsExt;

fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-25T12:00:00Z",
        "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:123456789012:rule/records-bridge-poller"],
        "detail": {}
    })
}

/// The poller watches the policy's destinations (here Finance, 2101) and the archive folder.
async fn start() -> Stack {
    let options = StackOptions::new(env!("CARGO_BIN_EXE_event-poller"), "EventPollerFunction")
        .with_policy(&policy(&[FINANCE]))
        .with_parameters(&[("ArchiveFolderIds", "2200")]);
    test_support::stack::start(options).await
}

async fn document(ot: &Client, name: &str) -> i64 {
    let src = Arc::new(BytesSource::new(
        bytes::Bytes::from_static(b"content"),
        name,
    ));
    ot.create_document(2101, name, src, &CreateOptions::default())
        .await
        .unwrap()
        .id
}

async fn invoke(runtime: &RuntimeApi) -> Value {
    let out = runtime
        .invoke(&scheduled_event(), Duration::from_secs(60))
        .await
        .unwrap();
    out.response()
        .cloned()
        .unwrap_or_else(|| panic!("poller failed: {out:?}"))
}

/// Every message on the lifecycle queue, as events (taken off it).
async fn sent_events(stack: &Stack) -> Vec<Value> {
    test_support::queue::take_all(stack, "LifecycleQueue").await
}

fn by_type(events: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry(e["type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    m
}

#[tokio::test]
async fn runs_twice_and_overlapping_send_each_event_once() {
    let stack = start().await;
    let ot = admin(&stack);
    let held = document(&ot, "held.pdf").await;
    let moving = document(&ot, "moving.pdf").await;
    ot.apply_rm_classification(
        held,
        4100,
        &RecordUpdate {
            status: Some("ACTIVE".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
    ot.apply_hold(held, 6100).await.unwrap();

    // A second poller process: two Lambda instances whose runs overlap.
    let runtime2 = RuntimeApi::start("EventPollerFunction").await.unwrap();
    let _second = FunctionProcess::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_event-poller")),
        &runtime2.address(),
        "EventPollerFunction",
        &stack.env,
        false,
    )
    .unwrap();
    runtime2
        .wait_first_poll(Duration::from_secs(30))
        .await
        .unwrap();

    let (a, b) = tokio::join!(invoke(&stack.runtime), invoke(&runtime2));
    assert!(
        a["errors"].as_array().unwrap().is_empty() && b["errors"].as_array().unwrap().is_empty(),
        "{a} {b}"
    );
    invoke(&stack.runtime).await; // a later run: nothing new
    let first = sent_events(&stack).await;
    assert_eq!(
        by_type(&first),
        BTreeMap::from([
            ("hold.applied".to_string(), 1),
            ("record.status_changed".to_string(), 1)
        ]),
        "{first:#?}"
    );
    assert!(
        first
            .iter()
            .all(|e| e["node_id"] == held && e["source"] == "poller")
    );

    // Changes between runs: hold removed, status changed, a record moved to the archive folder.
    ot.remove_hold(held, 6100).await.unwrap();
    let token = ot
        .rm_classifications(held)
        .await
        .unwrap()
        .rm_metadata_token
        .unwrap();
    ot.update_record_details(
        held,
        &token,
        &RecordUpdate {
            status: Some("ARCHIVE".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    ot.update_node(
        moving,
        &NodeUpdate {
            parent_id: Some(2200),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let (a, b) = tokio::join!(invoke(&stack.runtime), invoke(&runtime2));
    let sent_now = a["events_sent"].as_u64().unwrap() + b["events_sent"].as_u64().unwrap();
    invoke(&runtime2).await;
    let second = sent_events(&stack).await;
    assert_eq!(
        sent_now as usize,
        second.len(),
        "reports agree with the queue"
    );
    assert_eq!(
        by_type(&second),
        BTreeMap::from([
            ("hold.removed".to_string(), 1),
            ("node.moved".to_string(), 1),
            ("record.status_changed".to_string(), 1),
        ]),
        "{second:#?}"
    );
    let moved = second.iter().find(|e| e["type"] == "node.moved").unwrap();
    assert_eq!(moved["node_id"], moving);
    assert_eq!(moved["data"]["to_parent_id"], 2200);
    let status = second
        .iter()
        .find(|e| e["type"] == "record.status_changed")
        .unwrap();
    assert_eq!(status["data"]["status"], "ARCHIVE");
    // Every event satisfies the contract the intake enforces.
    for e in first.iter().chain(&second) {
        records_domain::LifecycleEvent::parse(e.to_string().as_bytes()).unwrap();
    }
}

#[tokio::test]
async fn a_run_that_cannot_reach_opentext_reports_it_and_sends_nothing() {
    let stack = start().await;
    let ot = admin(&stack);
    let held = document(&ot, "held.pdf").await;
    ot.apply_hold(held, 6100).await.unwrap();
    stack
        .sim_admin_post(
            "faults/next",
            json!({"status": 400, "count": 1, "path_contains": "/holds"}),
        )
        .await
        .unwrap();
    let report = invoke(&stack.runtime).await;
    assert_eq!(report["events_sent"], 0);
    assert!(!report["errors"].as_array().unwrap().is_empty(), "{report}");
    assert!(sent_events(&stack).await.is_empty());
    // The next run sees the node afresh: nothing was lost.
    invoke(&stack.runtime).await;
    assert_eq!(
        by_type(&sent_events(&stack).await),
        BTreeMap::from([("hold.applied".to_string(), 1)])
    );
}
