//! An emulator of the AWS Lambda Runtime API (the endpoints a custom runtime polls), so the
//! real compiled function binary runs locally exactly as on Lambda: it long-polls
//! `invocation/next`, then posts a response or an error.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Result, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, oneshot};

/// How an invocation ended, as the function reported it.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The body posted to `…/{id}/response`.
    Response(serde_json::Value),
    /// The body posted to `…/{id}/error` (`{"errorType","errorMessage"}`).
    Error(serde_json::Value),
}

impl Outcome {
    pub fn response(&self) -> Option<&serde_json::Value> {
        match self {
            Outcome::Response(v) => Some(v),
            Outcome::Error(_) => None,
        }
    }
}

struct Pending {
    request_id: String,
    payload: Vec<u8>,
    deadline_ms: u128,
}

#[derive(Default)]
struct Inner {
    queue: Mutex<VecDeque<Pending>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<serde_json::Value>>,
    polls: std::sync::atomic::AtomicU64,
    polled: Notify,
}

/// Cheap to clone (a Function URL front and the stack share one); the server stops when
/// the last clone is dropped.
#[derive(Clone)]
pub struct RuntimeApi {
    addr: SocketAddr,
    inner: Arc<Inner>,
    /// Held only for its drop: the last clone stops the server.
    _server: Arc<ServerTask>,
    function_arn: String,
}

/// Aborts the Runtime API server when dropped.
struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    /// Serves the Runtime API on a free loopback port.
    pub async fn start(function_name: &str) -> Result<Self> {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            inner,
            _server: Arc::new(ServerTask(server)),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues one invocation and waits for the function's answer.
    pub async fn invoke(&self, payload: &serde_json::Value, timeout: Duration) -> Result<Outcome> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (tx, rx) = oneshot::channel();
        self.inner
            .waiting
            .lock()
            .unwrap()
            .insert(request_id.clone(), tx);
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
        self.inner.queue.lock().unwrap().push_back(Pending {
            request_id: request_id.clone(),
            payload: serde_json::to_vec(payload)?,
            deadline_ms: now_ms + timeout.as_millis(),
        });
        self.inner.queued.notify_one();
        match tokio::time::timeout(timeout + Duration::from_secs(5), rx).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err(anyhow!("invocation {request_id} was dropped")),
            Err(_) => {
                self.inner.waiting.lock().unwrap().remove(&request_id);
                Err(anyhow!(
                    "invocation {request_id} timed out after {timeout:?} (init error: {:?})",
                    self.init_error()
                ))
            }
        }
    }

    /// What the function posted to `init/error`, if it failed to start.
    pub fn init_error(&self) -> Option<serde_json::Value> {
        self.inner.init_error.lock().unwrap().clone()
    }

    /// Waits until the function has polled `invocation/next` at least once (it is ready).
    pub async fn wait_first_poll(&self, timeout: Duration) -> Result<()> {
        let wait = async {
            loop {
                let notified = self.inner.polled.notified();
                if self.inner.polls.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| anyhow!("function did not poll within {timeout:?}"))
    }

    pub fn function_arn(&self) -> &str {
        &self.function_arn
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    inner
        .polls
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    inner.polled.notify_waiters();
    let pending = loop {
        let notified = inner.queued.notified();
        if let Some(p) = inner.queue.lock().unwrap().pop_front() {
            break p;
        }
        notified.await;
    };
    let mut headers = HeaderMap::new();
    let set = |h: &mut HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(
        &mut headers,
        "lambda-runtime-aws-request-id",
        pending.request_id,
    );
    set(
        &mut headers,
        "lambda-runtime-deadline-ms",
        pending.deadline_ms.to_string(),
    );
    set(
        &mut headers,
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:local".into(),
    );
    set(
        &mut headers,
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
    );
    set(&mut headers, "content-type", "application/json".into());
    (StatusCode::OK, headers, pending.payload).into_response()
}

fn parse(body: &Bytes) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    complete(&inner, &id, Outcome::Response(parse(&body)))
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    complete(&inner, &id, Outcome::Error(parse(&body)))
}

fn complete(inner: &Inner, id: &str, outcome: Outcome) -> StatusCode {
    match inner.waiting.lock().unwrap().remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    *inner.init_error.lock().unwrap() = Some(parse(&body));
    StatusCode::ACCEPTED
}
