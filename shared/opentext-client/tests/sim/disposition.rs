//! RM dispositions against the simulator: snapshots, review, performing actions.

use std::sync::Arc;

use opentext_client::model::{
    ActionStatus, DispositionItemRef, RecordUpdate, ReviewChange, ReviewDecision, ServerTimeZone,
    SnapshotDate,
};
use opentext_client::{BytesSource, Client, CreateOptions};
use opentext_sim::SimConfig;
use serde_json::json;

use crate::common::*;

const SEARCH: i64 = 7100;
const SVC_ID: i64 = 1003;

async fn record(c: &Client, parent: i64, record_date: &str) -> i64 {
    let id = c
        .create_document(
            parent,
            &unique("disp"),
            Arc::new(BytesSource::new(&b"record"[..], "r.txt")),
            &CreateOptions::default(),
        )
        .await
        .unwrap()
        .id;
    let details = RecordUpdate {
        record_date: Some(record_date.into()),
        ..RecordUpdate::default()
    };
    c.classify_record(id, RM_FIN, &details).await.unwrap();
    id
}

#[tokio::test]
async fn approved_destroy_deletes_the_record_held_and_pending_are_skipped() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let folder = c
        .create_folder(FINANCE, &unique("disp-folder"), &CreateOptions::default())
        .await
        .unwrap()
        .id;
    let due = record(&c, folder, "2010-01-01").await;
    let held = record(&c, folder, "2011-06-30").await;
    let pending = record(&c, folder, "2012-02-29").await;
    let fresh = record(&c, folder, "2026-01-01").await;
    c.apply_hold(held, HOLD_LIT).await.unwrap();

    let snap = c.start_disposition_search(SEARCH).await.unwrap();
    assert_eq!(snap.record_count, Some(3), "{snap:?}");
    let items = c.disposition_snapshot(SEARCH, &snap.qdate).await.unwrap();
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    assert_eq!(
        ids,
        vec![due, held, pending],
        "the 2026 record is not due for 7 years"
    );
    let first = &items[0];
    assert_eq!(first.disp_action, Some(32));
    assert_eq!(first.review_decision, Some(ReviewDecision::Pending));
    assert_eq!(first.stage_count, 1);
    let calculated = first.calculated_date.as_ref().and_then(|d| d.datetime());
    assert_eq!(
        calculated.map(|d| d.date().to_string()),
        Some("2017-01-01".into())
    );

    let approve = [items[0].item_ref(), items[1].item_ref()];
    c.change_review_decision(
        SVC_ID,
        SEARCH,
        &snap.qdate,
        &approve,
        &ReviewChange::new(ReviewDecision::Approved),
    )
    .await
    .unwrap();
    let all: Vec<DispositionItemRef> = items.iter().map(|i| i.item_ref()).collect();
    let out = c
        .perform_disposition_actions(SVC_ID, SEARCH, &snap.qdate, &all)
        .await
        .unwrap();
    let status: Vec<ActionStatus> = out.iter().map(|o| o.status).collect();
    assert_eq!(
        status,
        vec![
            ActionStatus::Performed,
            ActionStatus::Skipped,
            ActionStatus::Skipped
        ]
    );
    assert!(
        out[1]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("hold")),
        "{out:?}"
    );
    assert!(c.get_node(due).await.unwrap_err().is_not_found());
    assert_eq!(c.get_node(held).await.unwrap().id, held);
    assert_eq!(c.get_node(fresh).await.unwrap().id, fresh);
    let audit = sim.node(held).await["audit"].to_string();
    assert!(audit.contains("Disposition Action Skipped"), "{audit}");

    let snaps = c.disposition_snapshots(SEARCH).await.unwrap();
    let listed = snaps
        .iter()
        .find(|s| s.qdate == snap.qdate)
        .expect("listed");
    assert_eq!(listed.actioned_count, Some(1));
}

#[tokio::test]
async fn snapshots_in_other_qdate_forms_and_time_zones_are_read() {
    let sim = Sim::start_with(SimConfig {
        time_zone: time::macros::offset!(+2),
        ..SimConfig::default()
    })
    .await;
    let zone: ServerTimeZone = "+02:00".parse().unwrap();
    let c = Client::builder(sim.base_url())
        .credentials(opentext_client::Credentials::new(
            "svc-records",
            "svc-records-pass",
        ))
        .retry_policy(fast_retries())
        .time_zone(zone)
        .build()
        .unwrap();
    let id = record(&c, FINANCE, "2026-01-01").await;
    sim.admin_post(
        "/disposition-snapshots",
        json!({"search_id": SEARCH, "qdate": "2026-03-01T10:20:30",
               "items": [{"id": id, "decision": "approve", "disp_action": 32}]}),
    )
    .await;
    let snaps = c.disposition_snapshots(SEARCH).await.unwrap();
    assert_eq!(snaps.len(), 1);
    let instant = snaps[0].qdate.datetime().expect("readable");
    assert_eq!(
        instant.to_string(),
        "2026-03-01 8:20:30.0 +00:00:00",
        "server time is +02:00"
    );
    assert_eq!(snaps[0].qdate.form_value(), "D/2026-03-01:10:20:30");
    // Named in the spec's other forms, the same snapshot.
    for raw in [
        "D/2026-03-01\\:10\\:20\\:30",
        "2026-03-01:10:20:30",
        "2026-03-01T08:20:30Z",
        "2026-03-01",
    ] {
        let q = SnapshotDate::parse_in(raw, zone);
        assert_eq!(q.datetime().map(|_| ()), Some(()), "{raw} reads");
        let items = c.disposition_snapshot(SEARCH, &q).await.unwrap();
        assert_eq!(items.len(), 1, "{raw}");
        assert!(items[0].is_approved());
    }
}

#[tokio::test]
async fn large_snapshots_are_read_across_pages() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let id = record(&c, FINANCE, "2010-01-01").await;
    let items: Vec<_> = (1..=130)
        .map(|s| json!({"id": id, "stage_count": s}))
        .collect();
    sim.admin_post(
        "/disposition-snapshots",
        json!({"search_id": SEARCH, "qdate": "2026-02-01", "items": items}),
    )
    .await;
    let q = SnapshotDate::parse_in("2026-02-01T00:00:00", ServerTimeZone::UTC);
    let read = c.disposition_snapshot(SEARCH, &q).await.unwrap();
    assert_eq!(read.len(), 130);
    assert_eq!(read.last().map(|i| i.stage_count), Some(130));
    let count = sim.count("GET", "/disposition-snapshots/qdate/").await;
    assert_eq!(count, 2, "two pages of 100");
}
