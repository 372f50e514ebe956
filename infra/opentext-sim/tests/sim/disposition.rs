//! RM dispositions: which records a search finds, qdate forms, review, performing actions.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;

const SEARCH: i64 = 7100;

/// A document under `parent` classified under `class` with these record fields.
async fn record(t: &T, a: &str, parent: i64, class: &str, fields: &[(&str, &str)]) -> i64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!("rec-{}.txt", N.fetch_add(1, Ordering::Relaxed));
    let (_, v) = json(t.create_doc(a, parent, &name, b"x").await).await;
    let id = node_id(&v);
    let mut form = vec![("class_id", class)];
    form.extend_from_slice(fields);
    let r = t
        .post_form(a, &format!("/v1/nodes/{id}/rmclassifications"), &form)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    id
}

async fn run_search(t: &T, a: &str) -> String {
    let (s, v) = json(
        t.post_form(a, &format!("/v1/nodes/{SEARCH}/startdispsearch"), &[])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["results"]["data"]["qdate"].as_str().unwrap().to_string()
}

async fn items(t: &T, a: &str, q: &str) -> Vec<Value> {
    let q = q.replace('/', "%2F");
    let (s, v) = json(
        t.get(
            a,
            &format!("/v2/nodes/{SEARCH}/disposition-snapshots/qdate/{q}"),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["results"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["data"].clone())
        .collect()
}

#[tokio::test]
async fn a_search_finds_records_whose_first_stage_is_due() {
    let t = start_with(opentext_sim::SimConfig::default()).await;
    let a = t.admin_ticket().await;
    let f = t.create_folder(&a, 2101, "due").await;
    let old = record(&t, &a, f, "4100", &[("record_date", "2018-05-31")]).await;
    let young = record(&t, &a, f, "4100", &[("record_date", "2025-01-01")]).await;
    let perm = record(&t, &a, f, "4101", &[("record_date", "1990-01-01")]).await;
    let event_open = record(&t, &a, f, "4102", &[("record_date", "2000-01-01")]).await;
    let event_closed = record(&t, &a, f, "4102", &[("status", "CLOSED")]).await;
    let q = run_search(&t, &a).await;
    assert_eq!(q.len(), 19, "YYYY-MM-DDTHH:mm:ss: {q}");
    let got = items(&t, &a, &q).await;
    let ids: Vec<i64> = got.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(
        ids,
        vec![old, event_closed],
        "young {young}, permanent {perm}, open event {event_open}"
    );
    assert_eq!(got[0]["calculated_date"], "2025-05-31T00:00:00");
    assert_eq!(
        (
            got[0]["disp_action"].as_str(),
            got[1]["disp_action"].as_str()
        ),
        (Some("32"), Some("1"))
    );
    assert_eq!(
        (
            got[0]["review_decision"].as_i64(),
            got[0]["stage_count"].as_i64()
        ),
        (Some(0), Some(1))
    );
    let (_, list) = json(t.get(&a, &format!("/v2/snapshottable/{SEARCH}")).await).await;
    assert_eq!(list["data"][0]["data"]["qdate"], q.as_str());
    assert_eq!(list["data"][0]["data"]["record_count"], 2);
    assert_eq!(list["paging"]["total_count"], 1);
}

#[tokio::test]
async fn every_qdate_form_names_the_snapshot_and_bad_ones_are_400() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let id = record(&t, &a, 2101, "4100", &[("record_date", "2001-01-01")]).await;
    t.admin_post(
        "/disposition-snapshots",
        json!({"search_id": SEARCH, "qdate": "2026-03-01T10:20:30", "items": [{"id": id}]}),
    )
    .await;
    for q in [
        "2026-03-01T10:20:30",
        "2026-03-01",
        "D/2026-03-01:10:20:30",
        "D/2026-03-01\\:10\\:20\\:30",
        "2026-03-01:10:20:30",
        "2026-03-01T10:20:30Z",
    ] {
        let qs = q.replace('/', "%2F").replace('\\', "%5C");
        let (s, v) = json(
            t.get(&a, &format!("/v1/disposition/{SEARCH}/qdate/{qs}"))
                .await,
        )
        .await;
        assert_eq!(
            (s, v["reviewStatus"].as_str()),
            (StatusCode::OK, Some("Not Reviewed")),
            "{q}"
        );
    }
    let (s, v) = json(
        t.get(&a, &format!("/v1/disposition/{SEARCH}/qdate/2026-03-02"))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].as_str().unwrap().contains("no snapshot"), "{v}");
    let (s, v) = json(
        t.get(&a, &format!("/v1/disposition/{SEARCH}/qdate/soon"))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Invalid snapshot date"),
        "{v}"
    );
    let (s, _) = json(t.get(&a, "/v2/snapshottable/424242").await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Outsiders have no RM privilege.
    let o = t.login("outsider", "outsider-pass").await;
    let (s, v) = json(
        t.post_form(&o, &format!("/v1/nodes/{SEARCH}/startdispsearch"), &[])
            .await,
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Insufficient Permissions"))
    );
}

#[tokio::test]
async fn review_then_perform_destroys_approved_and_skips_held_and_pending() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let f = t.create_folder(&a, 2101, "perform").await;
    let gone = record(&t, &a, f, "4100", &[("record_date", "2001-01-01")]).await;
    let held = record(&t, &a, f, "4100", &[("record_date", "2002-01-01")]).await;
    let waiting = record(&t, &a, f, "4100", &[("record_date", "2003-01-01")]).await;
    let r = t
        .post_form(&a, &format!("/v1/nodes/{held}/holds?hold_id=6100"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let q = run_search(&t, &a).await;
    let d = format!("D/{}", q.replacen('T', ":", 1));
    let path = |op: &str| format!("/v1/members/1001/disposition/{op}");
    // Unknown item: 400 and nothing changes.
    let (s, v) = json(
        t.post_form(
            &a,
            &path("changereviewdecision"),
            &[
                ("objIdList", "1_1"),
                ("decision", "approve"),
                ("dispNodeID", "7100"),
                ("qDate", &d),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = json(
        t.post_form(
            &a,
            &path("changereviewdecision"),
            &[
                ("objIdList", &format!("{gone}_1")),
                ("objIdList", &format!("{held}_1")),
                ("decision", "maybe"),
                ("dispNodeID", "7100"),
                ("qDate", &d),
            ],
        )
        .await,
    )
    .await;
    assert!(
        s == StatusCode::BAD_REQUEST && v["error"].as_str().unwrap().contains("maybe"),
        "{v}"
    );
    let ids = format!("{gone}_1 {held}_1");
    let (s, v) = json(
        t.post_form(
            &a,
            &path("changereviewdecision"),
            &[
                ("objIdList", &ids),
                ("decision", "approve"),
                ("dispNodeID", "7100"),
                ("qDate", &d),
                ("reviewComment", "expired"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, v["results"]["data"]["count"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{v}"
    );
    let (s, v) = json(
        t.post_form(
            &a,
            &path("performactions"),
            &[
                ("applyto", "allPages"),
                ("dispNodeID", "7100"),
                ("qdate", &q),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let report = v["results"]["data"]["items"].as_array().unwrap().clone();
    let performed: Vec<bool> = report
        .iter()
        .map(|i| i["performed"].as_bool().unwrap())
        .collect();
    assert_eq!(performed, vec![true, false, false], "{report:?}");
    assert!(
        report[1]["message"]
            .as_str()
            .unwrap()
            .contains("on hold (LIT-2026-001)")
    );
    assert!(
        report[2]["message"]
            .as_str()
            .unwrap()
            .contains("not approved")
    );
    assert_eq!(
        t.get(&a, &format!("/v2/nodes/{gone}")).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.get(&a, &format!("/v2/nodes/{held}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.get(&a, &format!("/v2/nodes/{waiting}")).await.status(),
        StatusCode::OK
    );
    let gone_audit = t.admin_json(&format!("/nodes/{gone}")).await["audit"].clone();
    assert!(audit_names(&gone_audit).contains(&"Disposition Action Performed"));
    let held_audit = t.admin_json(&format!("/nodes/{held}")).await["audit"].clone();
    assert!(audit_names(&held_audit).contains(&"Disposition Action Skipped"));
    let after = items(&t, &a, &q).await;
    assert_eq!(after[0]["action_performed"], 1);
    assert_eq!(after[0]["review_comments"], "expired");
    // An actioned item's decision is final; finishing the review closes it for everyone.
    let (s, _) = json(
        t.post_form(
            &a,
            &path("changereviewdecision"),
            &[
                ("objIdList", &format!("{gone}_1")),
                ("decision", "reject"),
                ("dispNodeID", "7100"),
                ("qDate", &d),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = json(
        t.post_form(
            &a,
            &path("finishreview"),
            &[("dispNodeID", "7100"), ("qdate", &q.replacen('T', ":", 1))],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, props) = json(
        t.get(&a, &format!("/v1/disposition/{SEARCH}/qdate/{q}"))
            .await,
    )
    .await;
    assert_eq!(
        (
            props["reviewStatus"].as_str(),
            props["snapshotStatus"].as_str()
        ),
        (Some("Review Complete"), Some("Actions Performed"))
    );
    let (s, _) = json(
        t.post_form(
            &a,
            &path("changereviewdecision"),
            &[
                ("objIdList", &format!("{waiting}_1")),
                ("decision", "approve"),
                ("dispNodeID", "7100"),
                ("qDate", &d),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn change_actions_and_reviewer_views_and_delete() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let s = t
        .admin_post(
            "/disposition-searches",
            json!({"name": "Reviewed search", "reviewer_id": 1001}),
        )
        .await;
    let sid = s["id"].as_i64().unwrap();
    let (st, _) = json(
        t.http
            .post(t.admin("/disposition-searches"))
            .json(&json!({"name": "REVIEWED SEARCH"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "names compare case-folded");
    let id = record(&t, &a, 2101, "4100", &[("record_date", "2001-01-01")]).await;
    let (_, v) = json(
        t.post_form(&a, &format!("/v1/nodes/{sid}/startdispsearch"), &[])
            .await,
    )
    .await;
    let q = v["results"]["data"]["qdate"].as_str().unwrap().to_string();
    let view = |r: i64| {
        format!("/v2/nodes/{sid}/disposition-snapshots/qdate/{q}/reviewerid/{r}/reviewerstep/1")
    };
    let (_, mine) = json(t.get(&a, &view(1001)).await).await;
    assert_eq!(mine["results"]["data"][0]["data"]["id"], id);
    let (_, other) = json(t.get(&a, &view(1003)).await).await;
    assert_eq!(other["results"]["data"].as_array().map(Vec::len), Some(0));
    let form = [
        ("objIdList", format!("{id}_1")),
        ("dispAction", "1".into()),
        ("statusCode", "CLOSED".into()),
        ("dispNodeID", sid.to_string()),
        ("qdate", q.clone()),
    ];
    let r = t
        .http
        .post(t.api("/v1/members/1000/disposition/changeactions"))
        .header("OTCSTicket", &a)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, v) = json(t.get(&a, &view(1001)).await).await;
    assert_eq!(
        (
            v["results"]["data"][0]["data"]["disp_action"].as_str(),
            v["results"]["data"][0]["data"]["action_info"].as_str()
        ),
        (Some("1"), Some("CLOSED"))
    );
    let bad = [
        ("applyTo", "allPages"),
        ("dispAction", "99"),
        ("dispNodeID", &sid.to_string()),
        ("qdate", &q),
    ];
    assert_eq!(
        t.post_form(&a, "/v1/members/1000/disposition/changeactions", &bad)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        t.delete(&a, &format!("/v1/disposition/{sid}/qdate/{q}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        t.get(&a, &view(1001)).await.status(),
        StatusCode::BAD_REQUEST
    );
    let snaps = t
        .admin_json(&format!("/disposition-snapshots?search_id={sid}"))
        .await;
    assert_eq!(snaps.as_array().map(Vec::len), Some(0));
}
