//! Records Management: record details and token rotation, holds, RSIs.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn rm_token_rotates_and_a_stale_one_gets_409() {
    let t = start().await;
    let svc = t.login("svc-records", "svc-records-pass").await;
    let (_, v) = json(t.create_doc(&svc, 2101, "inv-7.pdf", b"%PDF").await).await;
    let id = node_id(&v);
    let path = format!("/v1/nodes/{id}/rmclassifications");
    let (_, v) = json(t.get(&svc, &path).await).await;
    assert_eq!(v["data"], json!([]));
    assert_eq!(v["canRMClassify"], true);
    let t0 = v["rm_metadataToken"].as_str().unwrap().to_string();

    let (s, v) = json(
        t.post_form(&svc, &path, &[("class_id", "4100"), ("official", "true")])
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t1 = v["rm_metadataToken"].as_str().unwrap().to_string();
    assert_ne!(t0, t1);
    let rec = &v["data"][0];
    assert_eq!(
        (
            rec["rmclassification_id"].as_i64(),
            rec["rsi"].as_str(),
            rec["official"].as_bool()
        ),
        (Some(4100), Some("FIN-7Y"), Some(true))
    );

    // PUT via `body` JSON with the current token; then the old token is stale.
    let body = json!({"rm_metadataToken": t1, "status": "CLOSED", "storage": "EL"}).to_string();
    let (s, v) = json(t.put_form(&svc, &path, &[("body", &body)]).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t2 = v["rm_metadataToken"].as_str().unwrap().to_string();
    assert_ne!(t1, t2);
    assert_eq!(v["data"][0]["status"], "CLOSED");
    let (s, v) = json(
        t.put_form(
            &svc,
            &path,
            &[("rm_metadataToken", &t1), ("status", "ACTIVE")],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(v["error"].is_string());
    assert_eq!(
        t.put_form(&svc, &path, &[("status", "ACTIVE")])
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        t.put_form(&svc, &path, &[("rm_metadataToken", &t2), ("rsi", "NOPE")])
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Re-classifying needs the token too.
    assert_eq!(
        t.post_form(&svc, &path, &[("class_id", "4102")])
            .await
            .status(),
        StatusCode::CONFLICT
    );

    // Auditors cannot even see Finance records.
    let aud = t.login("auditor", "auditor-pass").await;
    assert_eq!(t.get(&aud, &path).await.status(), StatusCode::BAD_REQUEST);

    assert_eq!(
        t.delete(&svc, &format!("{path}/4100")).await.status(),
        StatusCode::OK
    );
    let (_, v) = json(
        t.get(
            &t.admin_ticket().await,
            &format!("/v2/nodes/{id}/audit?sort=asc_audit_date"),
        )
        .await,
    )
    .await;
    let types: Vec<i64> = v["results"]["data"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_i64().unwrap())
        .collect();
    assert_eq!(types, [1, 264, 266, 265]);
    assert!(
        v["results"]["data"]["audit_event_types"]
            .as_array()
            .unwrap()
            .len()
            > 5
    );
}

#[tokio::test]
async fn holds_list_create_and_rm_v2_error_shape() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let (_, v) = json(t.get(&a, "/v2/holds?page=1&limit=10").await).await;
    assert_eq!(v["results"]["data"]["holds"][0]["HoldName"], "LIT-2026-001");
    assert_eq!(v["collection"]["paging"]["total_count"], 1);
    let r = t
        .post_form(
            &a,
            "/v1/holds",
            &[
                ("type", "Legal"),
                ("name", "LIT-2026-002"),
                ("comment", "c"),
                ("date_applied", "2026-02-01T00:00:00"),
            ],
        )
        .await;
    let (s, v) = json(r).await;
    assert_eq!(s, StatusCode::OK);
    let hid = v["holdID"].as_i64().unwrap();
    let (_, v) = json(t.get(&a, &format!("/v2/holds/{hid}")).await).await;
    assert_eq!(v["hold"]["HoldName"], "LIT-2026-002");
    assert_eq!(v["results"]["data"]["hold"]["ActiveHold"], 1);
    let (s, v) = json(t.get(&a, "/v2/holds/424242").await).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["results"]["ok"], false);
    let (s, v) = json(
        t.http
            .get(t.api("/v2/holds?page=1&limit=1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["results"]["ok"], false);
    // Plain form field hold_id; ordinary users may not apply holds.
    let jd = t.login("jdoe", "jdoe-pass").await;
    assert_eq!(
        t.post_form(
            &jd,
            "/v1/nodes/2101/holds",
            &[("hold_id", &hid.to_string())]
        )
        .await
        .status(),
        StatusCode::OK
    );
    let out = t.login("outsider", "outsider-pass").await;
    assert_eq!(
        t.post_form(
            &out,
            "/v1/nodes/2200/holds",
            &[("hold_id", &hid.to_string())]
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post_form(
            &a,
            "/v1/holds",
            &[("type", "Legal"), ("name", "LIT-2026-002")]
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn rsis_and_schedules_use_the_rm_spec_names() {
    let t = start().await;
    let a = t.admin_ticket().await;
    let (_, v) = json(t.get(&a, "/v2/rsis?page=1&limit=50").await).await;
    let rows = v["results"]["data"]["rsis"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "one row per (RSI, stage)");
    let fin = rows.iter().find(|r| r["RSI"] == "FIN-7Y").unwrap();
    assert_eq!(
        (
            fin["RSIID"].as_i64(),
            fin["RetYears"].as_i64(),
            fin["ActionCode"].as_str()
        ),
        (Some(5100), Some(7), Some("32"))
    );
    let (_, v) = json(t.get(&a, "/v2/rsis/5102").await).await;
    assert_eq!(v["results"]["data"]["rsis"].as_array().unwrap().len(), 2);
    let (_, v) = json(t.get(&a, "/v2/rsis/5102/schedules/5131").await).await;
    assert_eq!(
        (
            v["schedule"]["RetStage"].as_str(),
            v["schedule"]["RetYears"].as_i64()
        ),
        (Some("CLOSED"), Some(10))
    );
    let (s, v) = json(t.get(&a, "/v2/rsis/5102/schedules/1").await).await;
    assert_eq!(
        (s, v["results"]["ok"].as_bool()),
        (StatusCode::BAD_REQUEST, Some(false))
    );
}

/// `YYYY-MM-DDTHH:mm:ss`, no zone: the RM spec's pattern.
fn zone_less(v: &serde_json::Value) -> time::PrimitiveDateTime {
    let s = v.as_str().unwrap_or_else(|| panic!("a date string: {v}"));
    time::PrimitiveDateTime::parse(
        s,
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .unwrap_or_else(|e| panic!("{s:?} is not YYYY-MM-DDTHH:mm:ss: {e}"))
}

#[tokio::test]
async fn rm_dates_are_zone_less_wall_clock_of_the_servers_zone_and_node_dates_rfc3339() {
    let east = time::macros::offset!(+2);
    let t = start_with(opentext_sim::SimConfig {
        time_zone: east,
        ..opentext_sim::SimConfig::default()
    })
    .await;
    let a = t.admin_ticket().await;
    let (_, v) = json(t.create_doc(&a, 2101, "dated.pdf", b"%PDF").await).await;
    let id = node_id(&v);
    let path = format!("/v1/nodes/{id}/rmclassifications");
    let (s, v) = json(
        t.post_form(
            &a,
            &path,
            &[
                ("class_id", "4100"),
                ("record_date", "2026-01-15T00:00:00Z"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rec = &v["data"][0];
    assert_eq!(
        rec["record_date"], "2026-01-15T02:00:00",
        "given with Z, stored at +02:00"
    );
    let wall_clock = {
        let now = time::OffsetDateTime::now_utc().to_offset(east);
        time::PrimitiveDateTime::new(now.date(), now.time())
    };
    let near_now = |d: time::PrimitiveDateTime| (d - wall_clock).whole_seconds().abs() < 60;
    assert!(near_now(zone_less(&rec["status_date"])), "{rec}");
    assert!(near_now(zone_less(&rec["received_date"])), "{rec}");

    let token = v["rm_metadataToken"].as_str().unwrap().to_string();
    let (_, v) = json(
        t.put_form(
            &a,
            &path,
            &[
                ("rm_metadataToken", &token),
                ("record_date", "2026-03-01"),
                ("status_date", "2026-03-02 10:11:12.5"),
                ("next_review_date", "20270101"),
            ],
        )
        .await,
    )
    .await;
    let rec = &v["data"][0];
    assert_eq!(rec["record_date"], "2026-03-01T00:00:00");
    assert_eq!(rec["status_date"], "2026-03-02T10:11:12");
    assert_eq!(rec["next_review_date"], "2027-01-01T00:00:00");

    assert_eq!(
        t.post_form(&a, &format!("/v1/nodes/{id}/holds"), &[("hold_id", "6100")])
            .await
            .status(),
        StatusCode::OK
    );
    let (_, v) = json(t.get(&a, &format!("/v1/nodes/{id}/holds")).await).await;
    assert!(near_now(zone_less(&v["data"][0]["date_applied"])), "{v}");
    let (_, v) = json(
        t.post_form(
            &a,
            "/v1/holds",
            &[
                ("type", "Legal"),
                ("name", "LIT-DATES"),
                ("date_applied", "2026-02-01T08:00:00Z"),
            ],
        )
        .await,
    )
    .await;
    let (_, v) = json(t.get(&a, &format!("/v2/holds/{}", v["holdID"])).await).await;
    assert_eq!(v["hold"]["DateApplied"], "2026-02-01T10:00:00");
    let (_, v) = json(t.get(&a, "/v1/serverinfo").await).await;
    assert!(near_now(zone_less(&v["server"]["current_date"])), "{v}");

    // Node dates: RFC 3339 with a zone (the CS spec's date-time).
    let (_, v) = json(t.get(&a, &format!("/v2/nodes/{id}")).await).await;
    let modified = v["results"]["data"]["properties"]["modify_date"]
        .as_str()
        .unwrap()
        .to_string();
    let modified =
        time::OffsetDateTime::parse(&modified, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{modified:?}: {e}"));
    assert!(
        (time::OffsetDateTime::now_utc() - modified)
            .whole_seconds()
            .abs()
            < 60
    );
}
