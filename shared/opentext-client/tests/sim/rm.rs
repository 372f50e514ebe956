use std::sync::Arc;

use opentext_client::model::{NewHold, RecordUpdate};
use opentext_client::{AuditQuery, BytesSource, CreateOptions, Error};

use crate::common::*;

async fn new_doc(c: &opentext_client::Client, parent: i64) -> i64 {
    c.create_document(
        parent,
        &unique("rec"),
        Arc::new(BytesSource::new(&b"record"[..], "r.txt")),
        &CreateOptions::default(),
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn record_details_apply_update_and_stale_token_conflict() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let id = new_doc(&c, FINANCE).await;

    let before = c.rm_classifications(id).await.unwrap();
    assert!(before.data.is_empty());

    let details = RecordUpdate {
        record_date: Some("2026-01-31".into()),
        status: Some("ACTIVE".into()),
        rsi: Some("FIN-7Y".into()),
        ..RecordUpdate::default()
    };
    c.apply_rm_classification(id, RM_FIN, &details, before.rm_metadata_token.as_deref())
        .await
        .unwrap();
    let rm = c.rm_classifications(id).await.unwrap();
    let rec = rm.primary().expect("classified");
    assert_eq!(rec.rmclassification_id, Some(RM_FIN));
    assert_eq!(rec.rsi.as_deref(), Some("FIN-7Y"));
    assert_eq!(rec.status_code(), Some("ACTIVE"));
    assert_eq!(rec.official, Some(false));
    let record_date = rec
        .record_date
        .as_ref()
        .and_then(|d| d.datetime())
        .expect("record date");
    assert_eq!(record_date.date().to_string(), "2026-01-31");
    let token1 = rm.rm_metadata_token.clone().expect("token");

    let official = RecordUpdate {
        official: Some(true),
        ..RecordUpdate::default()
    };
    c.update_record_details(id, &token1, &official)
        .await
        .unwrap();
    let rm2 = c.rm_classifications(id).await.unwrap();
    assert_eq!(rm2.primary().unwrap().official, Some(true));
    assert_ne!(
        rm2.rm_metadata_token.as_deref(),
        Some(token1.as_str()),
        "token rotates"
    );

    // A second writer still holding the old token loses.
    let err = c
        .update_record_details(id, &token1, &official)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { status: 409, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn holds_create_apply_inherit_list_remove() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let all = c.list_all_holds().await.unwrap();
    let lit = all.iter().find(|h| h.id == HOLD_LIT).expect("seeded hold");
    assert_eq!(lit.name, "LIT-2026-001");
    assert_eq!(lit.hold_type.as_deref(), Some("Legal"));
    assert_eq!(c.get_hold(HOLD_LIT).await.unwrap().name, "LIT-2026-001");

    let name = unique("HOLD");
    let hold_id = c
        .create_hold(&NewHold {
            name: name.clone(),
            hold_type: "Legal".into(),
            comment: Some("test".into()),
            date_applied: "2026-02-01T00:00:00".into(),
            ..NewHold::default()
        })
        .await
        .unwrap();
    assert!(
        c.list_all_holds()
            .await
            .unwrap()
            .iter()
            .any(|h| h.id == hold_id && h.name == name)
    );

    let folder = c
        .create_folder(FINANCE, &unique("held"), &CreateOptions::default())
        .await
        .unwrap();
    let doc = new_doc(&c, folder.id).await;
    c.apply_hold(folder.id, hold_id).await.unwrap();
    c.apply_hold(doc, HOLD_LIT).await.unwrap();

    let holds = c.node_holds(doc).await.unwrap();
    let ids: Vec<i64> = holds.iter().map(|h| h.hold_id).collect();
    assert!(ids.contains(&hold_id), "inherited hold listed: {holds:?}");
    assert!(ids.contains(&HOLD_LIT));

    // Held items cannot be deleted.
    assert!(c.delete_node(doc).await.is_err());

    c.remove_hold(doc, HOLD_LIT).await.unwrap();
    c.remove_hold(folder.id, hold_id).await.unwrap();
    assert!(c.node_holds(doc).await.unwrap().is_empty());
    let err = c.remove_hold(doc, HOLD_LIT).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}

#[tokio::test]
async fn rsis_list_and_schedule() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let page = c.list_rsis(1, 50).await.unwrap();
    let fin = page
        .items
        .iter()
        .find(|r| r.id == RSI_FIN)
        .expect("FIN-7Y listed");
    assert_eq!(fin.name, "FIN-7Y");

    let rsi = c.get_rsi(RSI_FIN).await.unwrap();
    assert!(!rsi.stages.is_empty(), "{rsi:?}");
    let stage = &rsi.stages[0];
    assert_eq!(stage.years, Some(7));
    let one = c
        .get_rsi_stage(RSI_FIN, stage.schedule_id.expect("schedule id"))
        .await
        .unwrap();
    assert_eq!(one.years, Some(7));

    let perm = c.get_rsi(5101).await.unwrap();
    assert_eq!(perm.name, "HR-PERM");
    assert!(c.get_rsi(987_654).await.is_err());
}

#[tokio::test]
async fn node_audit_is_paged() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let id = new_doc(&c, FINANCE).await;
    c.apply_rm_classification(id, RM_FIN, &RecordUpdate::default(), None)
        .await
        .unwrap();
    let page = c.node_audit(id, &AuditQuery::default()).await.unwrap();
    assert!(page.entries.len() >= 2, "{page:?}");
    assert!(
        page.entries
            .iter()
            .all(|e| e.audit_date.as_ref().and_then(|d| d.datetime()).is_some())
    );
    assert!(page.entries.iter().any(|e| e.user_id == Some(1003)));

    let first = c
        .node_audit(
            id,
            &AuditQuery {
                limit: 1,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(first.entries.len(), 1);
    assert!(first.paging.total_count.unwrap_or(0) >= 2);
}

#[tokio::test]
async fn every_date_the_client_returns_is_read_in_the_servers_time_zone() {
    use opentext_client::ListOptions;
    use opentext_client::model::ServerTimeZone;
    let zone: ServerTimeZone = "+02:00".parse().unwrap();
    let sim = Sim::start_with(opentext_sim::SimConfig {
        time_zone: zone.offset(),
        ..opentext_sim::SimConfig::default()
    })
    .await;
    let c = opentext_client::Client::builder(sim.base_url())
        .credentials(opentext_client::Credentials::new(
            "svc-records",
            "svc-records-pass",
        ))
        .time_zone(zone)
        .build()
        .unwrap();
    assert_eq!(c.time_zone(), zone);
    let id = new_doc(&c, FINANCE).await;
    let details = RecordUpdate {
        record_date: Some("2026-01-15T00:00:00Z".into()),
        status: Some("ACTIVE".into()),
        ..RecordUpdate::default()
    };
    c.apply_rm_classification(id, RM_FIN, &details, None)
        .await
        .unwrap();
    c.apply_hold(id, HOLD_LIT).await.unwrap();

    let rm = c.rm_classifications(id).await.unwrap();
    let rec = rm.primary().unwrap();
    let record_date = rec.record_date.as_ref().unwrap();
    assert_eq!(
        record_date.as_str(),
        "2026-01-15T02:00:00",
        "the server's form"
    );
    assert_eq!(
        record_date.to_rfc3339().unwrap(),
        "2026-01-15T00:00:00Z",
        "the instant sent"
    );
    let now = time::OffsetDateTime::now_utc();
    let near_now = |d: &opentext_client::model::OtDateTime| {
        assert_eq!(d.zone(), zone, "{d:?}");
        (d.instant().unwrap() - now).whole_seconds().abs() < 60
    };
    assert!(near_now(rec.status_date.as_ref().unwrap()));
    let holds = c.node_holds(id).await.unwrap();
    let applied = holds[0].date_applied.as_ref().unwrap();
    assert!(!applied.has_zone() && near_now(applied), "{applied:?}");
    // Read as UTC, the same text would be two hours off.
    let as_utc = opentext_client::model::OtDateTime::parse(applied.as_str());
    assert_eq!(
        (applied.instant().unwrap() - as_utc.instant().unwrap()).whole_hours(),
        -2
    );

    let hold = c.get_hold(HOLD_LIT).await.unwrap();
    assert_eq!(hold.date_applied.as_ref().unwrap().zone(), zone);
    let page = c.list_holds(1, 10).await.unwrap();
    assert!(
        page.items
            .iter()
            .all(|h| h.date_applied.as_ref().is_some_and(|d| d.zone() == zone))
    );
    // Node, version and audit dates carry the zone too (sent with one, so unmoved by it).
    let node = c.get_node(id).await.unwrap();
    assert!(near_now(node.modify_date.as_ref().unwrap()));
    let children = c
        .list_all_children(FINANCE, &ListOptions::default())
        .await
        .unwrap();
    assert!(
        children
            .iter()
            .all(|n| n.create_date.as_ref().is_some_and(|d| d.zone() == zone))
    );
    let versions = c.list_versions(id).await.unwrap();
    assert!(near_now(versions[0].create_date.as_ref().unwrap()));
    assert!(near_now(
        c.latest_version(id)
            .await
            .unwrap()
            .create_date
            .as_ref()
            .unwrap()
    ));
    let audit = c.node_audit(id, &AuditQuery::default()).await.unwrap();
    assert!(
        audit
            .entries
            .iter()
            .all(|e| near_now(e.audit_date.as_ref().unwrap()))
    );
}

/// The governance questions every pattern asks, answered by the client: which holds are in
/// force, which RSI a name means, declare-or-update a record, apply-or-update categories.
#[tokio::test]
async fn governance_helpers_answer_as_the_server_would() {
    let sim = Sim::start().await;
    let c = sim.svc();
    let folder = c
        .create_folder(FINANCE, &unique("gov"), &CreateOptions::default())
        .await
        .unwrap()
        .id;
    let doc = new_doc(&c, folder).await;
    assert!(c.active_hold_ids(doc).await.unwrap().is_empty());
    c.apply_hold(folder, HOLD_LIT).await.unwrap();
    c.apply_hold(doc, HOLD_LIT).await.unwrap();
    assert_eq!(
        c.active_hold_ids(doc).await.unwrap(),
        [HOLD_LIT],
        "direct and inherited, once"
    );

    let rsi = c
        .find_rsi("fin-7y")
        .await
        .unwrap()
        .expect("names compared as the server does");
    assert_eq!(rsi.id, RSI_FIN);
    assert!(c.find_rsi("NO-SUCH-RSI").await.unwrap().is_none());

    let details = RecordUpdate {
        rsi: Some("FIN-7Y".into()),
        official: Some(true),
        ..Default::default()
    };
    c.classify_record(doc, RM_FIN, &details).await.unwrap();
    let status = RecordUpdate {
        status: Some("ACTIVE".into()),
        ..Default::default()
    };
    // Already classified: the second call updates the record details under a fresh token.
    c.classify_record(doc, RM_FIN, &status).await.unwrap();
    let rm = c.rm_classifications(doc).await.unwrap();
    assert_eq!(rm.data.len(), 1, "classified once");
    assert_eq!(rm.primary().unwrap().rsi.as_deref(), Some("FIN-7Y"));
    assert_eq!(rm.primary().unwrap().status_code(), Some("ACTIVE"));

    let values = |v: &str| {
        let mut m = serde_json::Map::new();
        m.insert(format!("{CAT_S3}_2"), serde_json::json!(v));
        m
    };
    c.set_categories(doc, &[(CAT_S3, values("first"))])
        .await
        .unwrap();
    c.set_categories(doc, &[(CAT_S3, values("second"))])
        .await
        .unwrap();
    let cat = c.get_category(doc, CAT_S3).await.unwrap().expect("applied");
    assert_eq!(
        cat.values[&format!("{CAT_S3}_2")],
        "second",
        "updated, not applied twice"
    );
}
