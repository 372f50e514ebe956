//! Test harness: an in-process simulator per test, admin helpers, client factories.

use std::time::Duration;

use opentext_client::{Client, Credentials, RetryPolicy};
use opentext_sim::{SimConfig, SimServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
// Deterministic content of any size, generated as it is read and hashed on the way.
pub use test_support::content::Generated as GeneratedSource;
pub use test_support::hashing::sha256_hex;

pub const FINANCE: i64 = 2101;
pub const HR: i64 = 2102;
pub const CAT_S3: i64 = 3100;
pub const RM_FIN: i64 = 4100;
pub const RSI_FIN: i64 = 5100;
pub const HOLD_LIT: i64 = 6100;

pub struct Sim {
    pub server: SimServer,
    pub admin: String,
    pub http: reqwest::Client,
}

impl Sim {
    pub async fn start() -> Sim {
        Self::start_with(SimConfig::default()).await
    }

    pub async fn start_with(config: SimConfig) -> Sim {
        let server = SimServer::start(config).await.expect("simulator starts");
        Sim {
            admin: server.admin_url().to_string(),
            server,
            http: reqwest::Client::new(),
        }
    }

    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// The integration's service account, with fast retries.
    pub fn svc(&self) -> Client {
        self.client("svc-records", "svc-records-pass")
    }

    pub fn client(&self, user: &str, password: &str) -> Client {
        Client::builder(self.base_url())
            .credentials(Credentials::new(user, password))
            .retry_policy(fast_retries())
            .build()
            .expect("client builds")
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "admin GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn admin_send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.admin))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "admin {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        self.admin_send(reqwest::Method::POST, path, body).await
    }

    /// The request log: `[{method,path,status,user}]`.
    pub async fn requests(&self) -> Vec<Value> {
        let v = self.admin_get("/requests").await;
        match v {
            Value::Array(a) => a,
            other => other
                .get("requests")
                .and_then(|r| r.as_array())
                .cloned()
                .unwrap_or_default(),
        }
    }

    pub async fn clear_requests(&self) {
        let r = self
            .http
            .delete(format!("{}/requests", self.admin))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Log entries with this method whose path contains `needle`.
    pub async fn count(&self, method: &str, needle: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r["method"].as_str() == Some(method))
            .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(needle)))
            .count()
    }

    pub async fn fault_next(&self, fault: Value) {
        self.admin_post("/faults/next", fault).await;
    }

    pub async fn expire_tickets(&self) {
        self.admin_post("/tickets/expire", json!({})).await;
    }

    pub async fn otds_token(&self, user: &str) -> String {
        let v = self
            .admin_post("/otds-tokens", json!({ "user": user }))
            .await;
        v["token"].as_str().expect("token").to_string()
    }

    pub async fn node(&self, id: i64) -> Value {
        self.admin_get(&format!("/nodes/{id}")).await
    }
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        jitter: true,
        max_retry_after: Duration::from_secs(10),
    }
}

pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Hashes a download stream without holding it.
pub async fn hash_download(d: opentext_client::Download) -> (u64, String) {
    use futures_util::StreamExt;
    let mut h = Sha256::new();
    let mut n = 0u64;
    let mut s = d.stream;
    while let Some(chunk) = s.next().await {
        let chunk = chunk.expect("download chunk");
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    (n, hex::encode(h.finalize()))
}
