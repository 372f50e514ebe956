//! Tickets, OTDS tokens and request encodings.

use std::time::Duration;

use crate::common::*;
use opentext_sim::SimConfig;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_refreshes_ticket_on_every_success_and_rejects_bad_credentials() {
    let t = start().await;
    let ticket = t.admin_ticket().await;
    let r = t.get(&ticket, "/v1/auth").await;
    assert_eq!(r.status(), StatusCode::OK);
    let fresh = r
        .headers()
        .get("otcsticket")
        .expect("fresh ticket header")
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(fresh, ticket);
    let (_, v) = json(r).await;
    assert_eq!(v["data"]["name"], "Admin");
    // Both the old and the refreshed ticket belong to the live session.
    assert_eq!(
        t.get(&fresh, "/v2/nodes/2000").await.status(),
        StatusCode::OK
    );

    let bad = t
        .http
        .post(t.api("/v1/auth"))
        .form(&[("username", "Admin"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    let (s, v) = json(bad).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"].as_str().unwrap().contains("Invalid username"));

    let missing = t
        .http
        .post(t.api("/v1/auth"))
        .form(&[("username", "Admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let none = t.http.get(t.api("/v2/nodes/2000")).send().await.unwrap();
    let (s, v) = json(none).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"].is_string());
    assert!(v.get("ticket").is_none());
}

#[tokio::test]
async fn tickets_expire_after_idle_time_and_on_admin_request() {
    let t = start_with(SimConfig {
        ticket_idle_timeout: Duration::from_millis(400),
        ..SimConfig::default()
    })
    .await;
    let ticket = t.admin_ticket().await;
    // Activity keeps the session alive.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            t.get(&ticket, "/v2/nodes/2000").await.status(),
            StatusCode::OK
        );
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (s, v) = json(t.get(&ticket, "/v2/nodes/2000").await).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["error"].as_str().unwrap().contains("expired"));

    let t2 = start().await;
    let ticket = t2.admin_ticket().await;
    t2.admin_post("/tickets/expire", json!({})).await;
    assert_eq!(
        t2.get(&ticket, "/v2/nodes/2000").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let again = t2.admin_ticket().await;
    assert_eq!(
        t2.get(&again, "/v2/nodes/2000").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let t = start().await;
    let ticket = t.admin_ticket().await;
    let r = t.delete(&ticket, "/v1/auth").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("otcsticket").is_none());
    assert_eq!(
        t.get(&ticket, "/v2/nodes/2000").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn otds_tokens_work_as_bearer_and_otdsticket() {
    let t = start().await;
    let v = t.admin_post("/otds-tokens", json!({"user": "jdoe"})).await;
    let token = v["token"].as_str().unwrap();
    let r = t
        .http
        .get(t.api("/v1/auth"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let otcs = r
        .headers()
        .get("otcsticket")
        .expect("OTCS ticket header")
        .to_str()
        .unwrap()
        .to_string();
    let (_, v) = json(r).await;
    assert_eq!(v["data"]["id"], 1001);
    assert_eq!(
        t.get(&otcs, "/v2/nodes/2101").await.status(),
        StatusCode::OK
    );
    let r = t
        .http
        .get(t.api("/v2/nodes/2101"))
        .header("OTDSTicket", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .http
        .get(t.api("/v2/nodes/2101"))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // OTDS REST credentials endpoint, outside the CGI path.
    let base = t.sim.base_url().replace("/otcs/cs.exe", "");
    let r = t
        .http
        .post(format!("{base}/otdsws/rest/authentication/credentials"))
        .json(&json!({"userName": "svc-records", "password": "svc-records-pass"}))
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["userId"], "svc-records");
    let r = t
        .http
        .get(t.api("/v1/auth"))
        .header("OTDSTicket", v["ticket"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (_, v) = json(r).await;
    assert_eq!(v["data"]["id"], 1003);
}

#[tokio::test]
async fn json_bodies_are_refused_and_body_field_plus_plain_fields_are_accepted() {
    let t = start().await;
    let ticket = t.admin_ticket().await;
    let r = t
        .http
        .post(t.api("/v2/nodes"))
        .header("OTCSTicket", &ticket)
        .json(&json!({"type": 0, "parent_id": 2200, "name": "json"}))
        .send()
        .await
        .unwrap();
    let (s, v) = json(r).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["error"].is_string());

    // `body` JSON string in a urlencoded form, plus a plain field it overrides.
    let body = json!({"type": 0, "parent_id": 2200, "name": "from-body"}).to_string();
    let r = t
        .post_form(&ticket, "/v2/nodes", &[("body", &body), ("name", "plain")])
        .await;
    let (s, v) = json(r).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["results"]["data"]["properties"]["name"], "from-body");

    let r = t.get(&ticket, "/v2/nosuchthing").await;
    let (s, v) = json(r).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "The REST API URL could not be found in the mappings registry"
    );
    let r = t
        .http
        .patch(t.api("/v2/nodes/2000"))
        .header("OTCSTicket", &ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
