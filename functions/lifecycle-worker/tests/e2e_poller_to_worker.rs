//! P3 through the poller, end to end, in OpenText's own date format: a Content Server whose
//! clock is at +02:00 writes the RM API's zone-less `YYYY-MM-DDTHH:mm:ss`; the real
//! `event-poller` binary derives the events from the REST API, the real `lifecycle-worker`
//! binary takes them from the queue and turns the S3 legal hold ON. P4 the same way: the
//! poller reads a disposition search's completed review and the worker destroys what it
//! approved, with a certificate.

mod disposition_support;
mod governance_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use governance_support::*;
use local_stack::stack::{Sim, Stack};
use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, CreateOptions};
use records_domain::{AuditAction, LifecycleEvent, Outcome};
use serde_json::{Value, json};
use test_support::stack::OptionsExt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The Content Server's zone: the simulator's clock and the functions' setting.
const SERVER_ZONE: &str = "+02:00";

/// The `event-poller` binary beside this package's (Cargo exposes only a package's own
/// binaries to its tests; `make test` builds every function before any test runs). Building it
/// here with `cargo build -p` would compile its dependencies again with other features.
fn poller_binary() -> PathBuf {
    let worker = PathBuf::from(env!("CARGO_BIN_EXE_lifecycle-worker"));
    let poller = worker.with_file_name(format!("event-poller{}", std::env::consts::EXE_SUFFIX));
    assert!(
        poller.exists(),
        "{} is not built: run `cargo build --workspace` (make test builds it)",
        poller.display()
    );
    poller
}

async fn stack() -> Stack {
    let options = governance_support::options().with_parameters(&[
        ("OpenTextTimeZone", SERVER_ZONE),
        ("DispositionSearchIds", "7100"),
    ]);
    let sim = opentext_sim::SimServer::start(opentext_sim::SimConfig {
        time_zone: opentext_sim::dates::parse_zone(SERVER_ZONE).unwrap(),
        ..opentext_sim::SimConfig::default()
    })
    .await
    .expect("simulator");
    Stack::start_with_sim(options, Sim::InProcess(sim))
        .await
        .expect("stack starts")
}

fn scheduled_event() -> Value {
    json!({
        "version": "0", "id": "7f3b1c52-6a0e-4d0f-9a57-2f0b9a3c1d11", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-12-01T05:40:00Z",
        "region": "us-east-1", "resources": [], "detail": {}
    })
}

/// The messages on the lifecycle queue, left there for the worker.
async fn queued_events(stack: &Stack) -> Vec<Value> {
    test_support::queue::peek(stack, "LifecycleQueue").await
}

#[tokio::test]
async fn zone_less_hold_dates_through_poller_and_worker_to_the_s3_legal_hold() {
    let stack = stack().await;
    let ot = opentext(&stack);
    // A reference record in the governed (watched) folder, classified, its S3 version linked.
    let node = ot
        .create_document(
            2103,
            "nda-contoso.pdf",
            Arc::new(BytesSource::new(
                b"{\"manifest\":true}".to_vec(),
                "nda-contoso.pdf.json",
            )),
            &CreateOptions::default(),
        )
        .await
        .expect("create record")
        .id;
    let details = RecordUpdate {
        official: Some(true),
        status: Some("ACTIVE".into()),
        ..Default::default()
    };
    ot.apply_rm_classification(node, 4100, &details, None)
        .await
        .expect("classify");
    let versions = linked_versions(&stack, node as u64, "legal/nda-contoso.pdf", 1).await;
    assert!(!lock_of(&stack, &versions[0]).await.legal_hold);

    // OpenText applies a hold; its API says when, in its own form: no zone.
    ot.apply_hold(node, 6100).await.unwrap();
    let applied = ot.node_holds(node).await.unwrap()[0]
        .date_applied
        .clone()
        .expect("date_applied");
    assert!(!applied.has_zone(), "the RM API's form: {applied:?}");
    let status_date = ot.rm_classifications(node).await.unwrap().data[0]
        .status_date
        .clone()
        .expect("status_date");
    assert!(!status_date.has_zone(), "{status_date:?}");

    let poller = stack
        .companion(&poller_binary(), "EventPollerFunction", false)
        .await
        .expect("poller starts");
    let report = poller
        .runtime
        .invoke(&scheduled_event(), Duration::from_secs(60))
        .await
        .unwrap();
    let report = report
        .response()
        .cloned()
        .unwrap_or_else(|| panic!("poller failed: {report:?}"));
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["events_sent"], 2, "{report}");

    // What the poller wrote: RFC 3339 with a zone, the instant OpenText meant.
    let events = queued_events(&stack).await;
    let hold = events
        .iter()
        .find(|e| e["type"] == "hold.applied")
        .unwrap_or_else(|| panic!("a hold.applied event: {events:#?}"));
    let occurred_at = hold["occurred_at"].as_str().unwrap();
    let at = OffsetDateTime::parse(occurred_at, &Rfc3339)
        .unwrap_or_else(|e| panic!("{occurred_at:?} is not RFC 3339 with a zone: {e}"));
    let skew = (OffsetDateTime::now_utc() - at).whole_seconds().abs();
    assert!(
        skew < 120,
        "{occurred_at} is {skew} s from now: zone-less {applied} was not read at {SERVER_ZONE}"
    );
    assert_eq!(hold["node_id"], node);
    assert_eq!(hold["source"], "poller");
    for e in &events {
        LifecycleEvent::parse(e.to_string().as_bytes()).unwrap_or_else(|err| panic!("{e}: {err}"));
    }

    // The worker takes them: none refused, none left for the DLQ.
    let reports = stack.drain(10).await.expect("drain");
    let handled: usize = reports.iter().map(|r| r.received).sum();
    let failed: Vec<_> = reports.iter().flat_map(|r| r.failed_ids.clone()).collect();
    assert!(
        failed.is_empty(),
        "refused: {failed:?}\n{}",
        stack.function.logs().join("\n")
    );
    assert_eq!(handled, 2);
    assert!(
        lock_of(&stack, &versions[0]).await.legal_hold,
        "the S3 legal hold is ON"
    );
    let trail = audit_of(&stack, &versions[0]).await;
    assert!(
        trail.iter().any(|e| e.action == AuditAction::HoldSync
            && e.outcome == Outcome::Succeeded
            && e.details["legal_hold"] == "ON"),
        "{trail:?}"
    );
}

/// One scheduled run of the poller; its report.
async fn poll_once(stack: &Stack) -> Value {
    let poller = stack
        .companion(&poller_binary(), "EventPollerFunction", false)
        .await
        .expect("poller starts");
    let report = poller
        .runtime
        .invoke(&scheduled_event(), Duration::from_secs(60))
        .await
        .unwrap();
    report
        .response()
        .cloned()
        .unwrap_or_else(|| panic!("poller failed: {report:?}"))
}

#[tokio::test]
async fn a_completed_review_read_by_the_poller_is_destroyed_by_the_worker_with_a_certificate() {
    use disposition_support::{approved_snapshot, certificates, expired_record, gone};
    use opentext_client::model::SnapshotDate;
    use records_domain::disposition::ApprovalSource;

    let stack = stack().await;
    let ot = opentext(&stack);
    let (node, versions) = expired_record(&stack, "ledger-2009", 1).await;
    let qdate = approved_snapshot(&stack, &[node], "2026-12-01T08:00:00").await;

    // Approved but the review not finished: the poller sends nothing yet.
    let report = poll_once(&stack).await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["events_sent"], 0, "{report}");

    let me = ot.whoami().await.unwrap();
    ot.finish_disposition_review(
        me.id,
        disposition_support::SEARCH as i64,
        &SnapshotDate::parse_in(qdate.clone(), ot.time_zone()),
        None,
    )
    .await
    .expect("finish the review");
    let report = poll_once(&stack).await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["events_sent"], 1, "{report}");
    let events = queued_events(&stack).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["type"], "disposition.approved");
    assert_eq!(events[0]["source"], "poller");

    let reports = stack.drain(10).await.expect("drain");
    let failed: Vec<_> = reports.iter().flat_map(|r| r.failed_ids.clone()).collect();
    assert!(
        failed.is_empty(),
        "refused: {failed:?}\n{}",
        stack.function.logs().join("\n")
    );
    assert!(gone(&stack, &versions[0]).await, "the version is gone");
    let certs = certificates(&stack).await;
    assert_eq!(certs.len(), 1);
    let cert = records_domain::disposition::verify(
        &certs[0].1,
        &disposition_support::public_key(&stack).await,
    )
    .expect("it verifies")
    .certificate;
    assert_eq!(cert.approval.source, ApprovalSource::Snapshot);
    assert_eq!(cert.records[0].node_id, node);

    // The next run: the actions are performed, nothing is sent again.
    let report = poll_once(&stack).await;
    assert_eq!(report["events_sent"], 0, "{report}");
}
