//! Test harness: an in-process simulator per test, admin helpers, client factories.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use opentext_client::{Client, ContentReader, ContentSource, Credentials, RetryPolicy};
use opentext_sim::{SimConfig, SimServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

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

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
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

/// Deterministic pseudo-random content of any size, generated as it is read
/// and hashed on the way (the last opened reader's digest is kept).
pub struct GeneratedSource {
    len: u64,
    name: String,
    block: Arc<Vec<u8>>,
    digest: Arc<Mutex<Option<String>>>,
}

impl GeneratedSource {
    pub fn new(len: u64, name: &str) -> Self {
        // One 1 MiB block of xorshift noise; each block is stamped with its index.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut block = Vec::with_capacity(1 << 20);
        while block.len() < 1 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            block.extend_from_slice(&x.to_le_bytes());
        }
        GeneratedSource {
            len,
            name: name.to_string(),
            block: Arc::new(block),
            digest: Arc::new(Mutex::new(None)),
        }
    }

    /// SHA-256 of the bytes the last reader produced (after it hit EOF).
    pub fn sha256(&self) -> Option<String> {
        self.digest.lock().unwrap().clone()
    }
}

impl ContentSource for GeneratedSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn file_name(&self) -> &str {
        &self.name
    }
    fn mime_type(&self) -> &str {
        "application/octet-stream"
    }
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>> {
        let r = GenReader {
            pos: 0,
            len: self.len,
            block: self.block.clone(),
            hasher: Some(Sha256::new()),
            digest: self.digest.clone(),
        };
        async move { Ok(Box::new(r) as ContentReader) }.boxed()
    }
}

struct GenReader {
    pos: u64,
    len: u64,
    block: Arc<Vec<u8>>,
    hasher: Option<Sha256>,
    digest: Arc<Mutex<Option<String>>>,
}

impl AsyncRead for GenReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos >= this.len {
            if let Some(h) = this.hasher.take() {
                *this.digest.lock().unwrap() = Some(hex::encode(h.finalize()));
            }
            return Poll::Ready(Ok(()));
        }
        let bs = this.block.len() as u64;
        let off = (this.pos % bs) as usize;
        let n = (buf.remaining() as u64)
            .min(bs - off as u64)
            .min(this.len - this.pos) as usize;
        let start = buf.filled().len();
        buf.put_slice(&this.block[off..off + n]);
        // Stamp the block index into its first 8 bytes so blocks differ.
        if off < 8 {
            let stamp = (this.pos / bs).to_le_bytes();
            let upto = (8 - off).min(n);
            buf.filled_mut()[start..start + upto].copy_from_slice(&stamp[off..off + upto]);
        }
        if let Some(h) = this.hasher.as_mut() {
            h.update(&buf.filled()[start..start + n]);
        }
        this.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}
