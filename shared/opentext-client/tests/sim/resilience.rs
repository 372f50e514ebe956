use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentext_client::{Client, Credentials, Error, Identity, RetryPolicy, Secret};
use opentext_sim::SimConfig;
use serde_json::json;
use tokio::time::Instant;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_expiry_mid_sequence_reauths_exactly_once_for_20_concurrent_calls() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.get_node(FINANCE).await.unwrap();
    assert_eq!(sim.count("POST", "/api/v1/auth").await, 1);

    sim.expire_tickets().await;
    sim.clear_requests().await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.get_node(FINANCE).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().id, FINANCE);
    }
    assert_eq!(
        sim.count("POST", "/api/v1/auth").await,
        1,
        "single-flight re-auth"
    );
    let ok = sim
        .requests()
        .await
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/api/v2/nodes/2101"))
                && r["status"] == 200
        })
        .count();
    assert_eq!(ok, 20);
    assert!(
        sim.count("GET", "/api/v2/nodes/2101").await > 20,
        "at least one call met the expired ticket"
    );
}

#[tokio::test]
async fn idle_ticket_timeout_is_recovered() {
    let cfg = SimConfig {
        ticket_idle_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let sim = Sim::start_with(cfg).await;
    let c = sim.svc();
    c.get_node(FINANCE).await.unwrap();
    tokio::time::sleep(Duration::from_millis(450)).await;
    c.get_node(FINANCE).await.unwrap();
    assert_eq!(sim.count("POST", "/api/v1/auth").await, 2);
}

#[tokio::test]
async fn retries_injected_503_then_succeeds() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.login().await.unwrap();
    sim.fault_next(json!({"status": 503, "count": 2, "path_contains": "/nodes/2101"}))
        .await;
    let n = c.get_node(FINANCE).await.unwrap();
    assert_eq!(n.id, FINANCE);
    assert_eq!(
        sim.count("GET", "/api/v2/nodes/2101").await,
        3,
        "two 503s + success"
    );
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.login().await.unwrap();
    sim.fault_next(
        json!({"status": 429, "count": 1, "retry_after_secs": 1, "path_contains": "/nodes/2101"}),
    )
    .await;
    let started = Instant::now();
    c.get_node(FINANCE).await.unwrap();
    // The backoff (20 ms) was replaced by the server's 1 s.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.count("GET", "/api/v2/nodes/2101").await, 2);

    // With less time left than Retry-After, the retry is not attempted.
    sim.fault_next(
        json!({"status": 429, "count": 1, "retry_after_secs": 5, "path_contains": "/nodes/2101"}),
    )
    .await;
    sim.clear_requests().await;
    let deadline = Instant::now() + Duration::from_secs(2);
    let err = c
        .with_deadline(deadline)
        .get_node(FINANCE)
        .await
        .unwrap_err();
    assert!(
        Instant::now() < deadline,
        "gave up without sleeping into the deadline"
    );
    match err {
        Error::DeadlineExceeded { attempts, last } => {
            assert_eq!(attempts, 1);
            assert_eq!(last.and_then(|e| e.status()), Some(429));
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
    assert_eq!(sim.count("GET", "/api/v2/nodes/2101").await, 1);
}

#[tokio::test]
async fn no_retry_on_400_and_403() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.login().await.unwrap();
    for (status, forbidden) in [(400, false), (403, true)] {
        sim.clear_requests().await;
        sim.fault_next(json!({"status": status, "count": 3, "path_contains": "/nodes/2101"}))
            .await;
        let err = c.get_node(FINANCE).await.unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(matches!(err, Error::Forbidden { .. }), forbidden, "{err:?}");
        assert!(!err.is_retryable());
        assert_eq!(
            sim.count("GET", "/api/v2/nodes/2101").await,
            1,
            "one attempt for {status}"
        );
        // Drain the remaining injected faults.
        for _ in 0..2 {
            let _ = c.get_node(FINANCE).await;
        }
    }
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.login().await.unwrap();
    sim.fault_next(json!({"drop": true, "count": 1, "path_contains": "/nodes/2101"}))
        .await;
    assert_eq!(c.get_node(FINANCE).await.unwrap().id, FINANCE);
}

#[tokio::test]
async fn deadline_exceeded_on_slow_server_and_on_persistent_503() {
    let sim = Sim::start().await;
    let c = sim.svc();
    c.login().await.unwrap();

    sim.fault_next(json!({"status": 503, "count": 100, "path_contains": "/nodes/2101"}))
        .await;
    let patient = Client::builder(sim.base_url())
        .credentials(Credentials::new("svc-records", "svc-records-pass"))
        .retry_policy(RetryPolicy {
            max_retries: 100,
            ..fast_retries()
        })
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_millis(700);
    let err = patient
        .with_deadline(deadline)
        .get_node(FINANCE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { attempts, .. } if attempts > 1),
        "{err:?}"
    );
    assert!(Instant::now() <= deadline + Duration::from_millis(500));
    assert!(err.to_string().contains("deadline"));

    // An already-passed deadline sends nothing.
    sim.clear_requests().await;
    let err = c
        .with_deadline(Instant::now())
        .get_node(HR)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { attempts: 0, .. }),
        "{err:?}"
    );
    assert_eq!(sim.count("GET", "/nodes/2102").await, 0);

    // A slow answer is cut at the deadline.
    sim.admin_send(reqwest::Method::PUT, "/faults", json!({"latency_ms": 2000}))
        .await;
    let started = Instant::now();
    let err = c
        .with_timeout(Duration::from_millis(300))
        .get_node(HR)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn bad_credentials_are_unauthorized_and_not_retried() {
    let sim = Sim::start().await;
    let c = sim.client("svc-records", "wrong");
    let err = c.get_node(FINANCE).await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(sim.count("POST", "/api/v1/auth").await, 1);
}

/// Collects tracing output so the test can search it for secrets.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_appear_in_debug_or_logs() {
    let sim = Sim::start().await;
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A ticket obtained out of band, used as an identity.
    let raw: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/auth", sim.base_url()))
        .form(&[("username", "jdoe"), ("password", "jdoe-pass")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket = raw["ticket"].as_str().unwrap().to_string();
    let token = sim.otds_token("jdoe").await;

    let c = sim.svc();
    c.get_node(FINANCE).await.unwrap();
    sim.expire_tickets().await;
    c.get_node(FINANCE).await.unwrap(); // re-auth path logged too
    let as_ticket = c.as_identity(Identity::OtcsTicket(Secret::new(ticket.clone())));
    let _ = as_ticket.get_node(FINANCE).await;
    let as_bearer = c.as_identity(Identity::Bearer(Secret::new(token.clone())));
    as_bearer.get_node(FINANCE).await.unwrap();
    let _ = c.with_timeout(Duration::from_secs(5)).get_node(1).await;

    let debug = format!(
        "{c:?} {as_ticket:?} {as_bearer:?} {:?} {:?}",
        Credentials::new("svc-records", "svc-records-pass"),
        Secret::new(token.clone())
    );
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(!logs.is_empty(), "tracing captured something");
    for haystack in [&debug, &logs] {
        assert!(!haystack.contains("svc-records-pass"));
        assert!(!haystack.contains(&ticket));
        assert!(!haystack.contains(&token));
    }
    assert!(debug.contains("redacted"));
}
