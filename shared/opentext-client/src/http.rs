//! One request, end to end: auth header, send, ticket refresh, one re-auth on
//! 401, status check, all inside the retry loop.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use tracing::Instrument;

use crate::auth::{Identity, Secret};
use crate::client::Client;
use crate::error::{Error, Result, classify, rm_error_message};
use crate::retry;

/// Builds a fresh multipart form for each attempt (bodies are streams, consumed once).
pub(crate) type FormFactory =
    Arc<dyn Fn() -> BoxFuture<'static, Result<reqwest::multipart::Form>> + Send + Sync>;

/// Request body variants the OpenText API uses.
#[derive(Clone)]
pub(crate) enum Body {
    Empty,
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, String)>),
    /// `multipart/form-data`; `resendable` says whether another attempt may build it again.
    Multipart {
        make: FormFactory,
        resendable: Arc<dyn Fn() -> bool + Send + Sync>,
    },
}

/// A request description that can be sent any number of times.
#[derive(Clone)]
pub(crate) struct Req {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Body,
}

impl Req {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Req {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Body::Empty,
        }
    }
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    pub fn query(mut self, k: &str, v: impl ToString) -> Self {
        self.query.push((k.to_string(), v.to_string()));
        self
    }
    pub fn query_opt(self, k: &str, v: Option<impl ToString>) -> Self {
        match v {
            Some(v) => self.query(k, v),
            None => self,
        }
    }
    pub fn form(mut self, fields: Vec<(String, String)>) -> Self {
        self.body = Body::Form(fields);
        self
    }
    /// A single `body` form field holding JSON, as the classic v2 endpoints want.
    pub fn json_body_field(self, body: &Value) -> Self {
        self.form(vec![("body".to_string(), body.to_string())])
    }
    pub fn multipart(
        mut self,
        make: FormFactory,
        resendable: Arc<dyn Fn() -> bool + Send + Sync>,
    ) -> Self {
        self.body = Body::Multipart { make, resendable };
        self
    }

    fn can_resend(&self) -> bool {
        match &self.body {
            Body::Multipart { resendable, .. } => resendable(),
            _ => true,
        }
    }
}

/// The auth header for one attempt; `generation` is set for the service ticket.
struct AuthHeader {
    name: HeaderName,
    value: HeaderValue,
    generation: Option<u64>,
}

static OTCS_TICKET: HeaderName = HeaderName::from_static("otcsticket");
static OTDS_TICKET: HeaderName = HeaderName::from_static("otdsticket");

impl Client {
    /// Sends `req` with retries; returns the successful response, body unread.
    pub(crate) async fn send(&self, req: &Req) -> Result<Response> {
        self.send_with(req, |r| async move { Ok(r) }).await
    }

    /// Sends `req` with retries and runs `read` on the response inside the same
    /// attempt, so a body that fails half-way is retried too.
    pub(crate) async fn send_with<T, F, Fut>(&self, req: &Req, read: F) -> Result<T>
    where
        F: Fn(Response) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let may_retry = || req.can_resend();
        let span = tracing::debug_span!("otcs", method = %req.method, path = %req.path);
        retry::run(
            &self.inner.retry,
            self.deadline,
            &req.path,
            &may_retry,
            || async {
                let resp = self.attempt(req).await?;
                read(resp).await
            },
        )
        .instrument(span)
        .await
    }

    /// Sends `req` and parses the JSON answer (RM's `ok:false` becomes an error).
    pub(crate) async fn json(&self, req: &Req) -> Result<Value> {
        let context = req.path.clone();
        self.send_with(req, |resp| {
            let context = context.clone();
            async move {
                let status = resp.status();
                let bytes = resp.bytes().await.map_err(Error::from_reqwest)?;
                parse_json(status, &bytes, &context)
            }
        })
        .await
    }

    async fn auth_header(&self) -> Result<AuthHeader> {
        Ok(match &self.identity {
            Identity::Service => {
                let (t, g) = self
                    .inner
                    .tickets
                    .current(|| self.inner.login(self.deadline))
                    .await?;
                AuthHeader {
                    name: OTCS_TICKET.clone(),
                    value: t.header_value("")?,
                    generation: Some(g),
                }
            }
            Identity::Bearer(s) => AuthHeader {
                name: AUTHORIZATION,
                value: s.header_value("Bearer ")?,
                generation: None,
            },
            Identity::OtdsTicket(s) => AuthHeader {
                name: OTDS_TICKET.clone(),
                value: s.header_value("")?,
                generation: None,
            },
            Identity::OtcsTicket(s) => AuthHeader {
                name: OTCS_TICKET.clone(),
                value: s.header_value("")?,
                generation: None,
            },
        })
    }

    /// One attempt (plus the one re-auth retry on 401 for the service identity).
    async fn attempt(&self, req: &Req) -> Result<Response> {
        let auth = self.auth_header().await?;
        let mut resp = self.send_once(req, &auth).await?;
        let mut used = auth;
        if resp.status() == StatusCode::UNAUTHORIZED
            && let Some(seen) = used.generation
            && req.can_resend()
        {
            drop(resp);
            tracing::debug!("401: re-authenticating once");
            let (t, g) = self
                .inner
                .tickets
                .renew(seen, || self.inner.login(self.deadline))
                .await?;
            used = AuthHeader {
                name: OTCS_TICKET.clone(),
                value: t.header_value("")?,
                generation: Some(g),
            };
            resp = self.send_once(req, &used).await?;
        }
        if let (Some(g), Some(fresh)) = (used.generation, resp.headers().get(&OTCS_TICKET))
            && let Ok(fresh) = fresh.to_str()
            && !fresh.is_empty()
        {
            self.inner.tickets.refresh(g, Secret::new(fresh)).await;
        }
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(error_from_response(resp).await)
        }
    }

    async fn send_once(&self, req: &Req, auth: &AuthHeader) -> Result<Response> {
        let url = format!("{}{}", self.inner.base_url, req.path);
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url)
            .header(auth.name.clone(), auth.value.clone());
        if !req.query.is_empty() {
            rb = rb.query(&req.query);
        }
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(tokio::time::Instant::now());
            rb = rb.timeout(left.max(std::time::Duration::from_millis(1)));
        }
        rb = match &req.body {
            Body::Empty => rb,
            Body::Form(f) => rb.form(f),
            Body::Multipart { make, .. } => rb.multipart(make().await?),
        };
        rb.send().await.map_err(Error::from_reqwest)
    }
}

/// Reads an error body (capped: proxies may send large HTML pages) and classifies it.
pub(crate) async fn error_from_response(resp: Response) -> Error {
    const CAP: usize = 64 * 1024;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_secs);
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                body.extend_from_slice(&c[..c.len().min(CAP - body.len())]);
                if body.len() >= CAP {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Error::from_status(status, &body, retry_after)
}

pub(crate) fn parse_json(status: StatusCode, bytes: &Bytes, context: &str) -> Result<Value> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        Error::unexpected(
            context,
            format!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ),
        )
    })?;
    if let Some(msg) = rm_error_message(&v) {
        return Err(classify(status.as_u16(), msg, None));
    }
    Ok(v)
}
