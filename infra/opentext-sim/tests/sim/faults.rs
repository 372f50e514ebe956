//! Fault injection: one-shot failures with Retry-After, dropped connections, rates, latency.

use std::time::{Duration, Instant};

use opentext_sim::{Faults, SimConfig};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn next_n_failures_carry_retry_after_and_only_match_their_path() {
    let t = start().await;
    let a = t.admin_ticket().await;
    t.admin_post(
        "/faults/next",
        json!({"status": 503, "count": 2, "retry_after_secs": 1, "path_contains": "/nodes"}),
    )
    .await;
    // Not matching: passes.
    assert_eq!(t.get(&a, "/v1/auth").await.status(), StatusCode::OK);
    for _ in 0..2 {
        let r = t.get(&a, "/v2/nodes/2000").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "1");
        assert!(r.headers().get("otcsticket").is_none());
        let (_, v) = json(r).await;
        assert!(v["error"].is_string());
    }
    assert_eq!(t.get(&a, "/v2/nodes/2000").await.status(), StatusCode::OK);
    // Admin endpoints are never faulted.
    t.admin_post("/faults/next", json!({"status": 500, "count": 1}))
        .await;
    assert_eq!(t.admin_json("/health").await, json!({"ok": true}));
    assert_eq!(
        t.get(&a, "/v2/nodes/2000").await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    let log = t.admin_json("/requests").await;
    let statuses: Vec<i64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_i64().unwrap())
        .collect();
    assert!(
        statuses.ends_with(&[200, 503, 503, 200, 500]),
        "{statuses:?}"
    );
    assert!(
        !log.to_string().contains(&a),
        "no tickets in the request log"
    );
}

#[tokio::test]
async fn dropped_connections_get_no_response() {
    let t = start().await;
    let a = t.admin_ticket().await;
    t.admin_post("/faults/next", json!({"drop": true, "count": 1}))
        .await;
    let err = t
        .http
        .get(t.api("/v2/nodes/2000"))
        .header("OTCSTicket", &a)
        .send()
        .await
        .expect_err("dropped");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    // A fresh connection works again.
    assert_eq!(t.get(&a, "/v2/nodes/2000").await.status(), StatusCode::OK);
    // Also while a multipart body is still being sent.
    t.admin_post(
        "/faults/next",
        json!({"drop": true, "count": 1, "path_contains": "/v2/nodes"}),
    )
    .await;
    let r = t.create_doc_result(&a).await;
    assert!(r.is_err());
}

impl T {
    async fn create_doc_result(&self, ticket: &str) -> reqwest::Result<reqwest::Response> {
        let form = reqwest::multipart::Form::new()
            .text("type", "144")
            .text("parent_id", "2200")
            .text("name", "dropped.bin")
            .part(
                "file",
                reqwest::multipart::Part::bytes(vec![7u8; 1 << 20]).file_name("d.bin"),
            );
        self.post_multipart(ticket, "/v2/nodes", form).await
    }
}

#[tokio::test]
async fn standing_faults_from_config_and_admin_api() {
    let mut faults = Faults {
        latency_ms: 150,
        ..Faults::default()
    };
    faults.add_error_rate("429=1.0").unwrap();
    faults.retry_after_secs = Some(2);
    let t = start_with(SimConfig {
        faults,
        ..SimConfig::default()
    })
    .await;
    let started = Instant::now();
    let r = t.http.get(t.api("/v1/ping")).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");

    let r = t.http.put(t.admin("/faults")).json(&json!({"latency_ms": 0, "error_rates": {"503": 0.0}, "drop_rate": 0.0, "retry_after_secs": null})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let f = t.admin_json("/faults").await;
    assert_eq!(f["error_rates"], json!({"503": 0.0}));
    assert_eq!(
        t.http.get(t.api("/v1/ping")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let bad = t
        .http
        .put(t.admin("/faults"))
        .json(&json!({"error_rates": {"503": 2.0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let m = t.admin_json("/memory").await;
    assert!(m["rss_bytes"].as_u64().unwrap() > 0);
}
