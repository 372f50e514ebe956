//! Calling a function that sits behind a Lambda Function URL, locally: the request JSON
//! exactly as AWS sends it (payload format 2.0: lower-cased headers, repeated headers joined
//! with commas, `isBase64Encoded`), the response AWS expects back, signing helpers for the
//! event intake. `Stack` runs such a function (it has no SQS source); call it with
//! [`call`] on `stack.runtime`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::runtime_api::{Outcome, RuntimeApi};

const URL_ID: &str = "localurlid0000000000000000000000";

/// The event a Function URL delivers for one HTTP request. A body is sent base64-encoded
/// when `base64` is true (AWS does so for non-text content types).
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> Value {
    let mut joined: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in headers {
        joined
            .entry(k.to_ascii_lowercase())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(v);
            })
            .or_insert_with(|| v.to_string());
    }
    let host = format!("{URL_ID}.lambda-url.us-east-1.on.aws");
    joined.entry("host".into()).or_insert(host.clone());
    joined
        .entry("x-forwarded-proto".into())
        .or_insert("https".into());
    joined
        .entry("x-forwarded-for".into())
        .or_insert("127.0.0.1".into());
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // A query string travels apart from the path, as Function URLs deliver it.
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": host,
            "domainPrefix": URL_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": joined.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": "",
            "timeEpoch": now_ms,
        },
        "isBase64Encoded": base64,
    });
    // Payload 2.0 carries the request's cookies apart from its headers.
    if let Some(cookie) = joined.remove("cookie") {
        event["cookies"] = Value::Array(
            cookie
                .split(';')
                .map(|c| Value::String(c.trim().to_string()))
                .filter(|c| c.as_str().is_some_and(|s| !s.is_empty()))
                .collect(),
        );
        event["headers"] = serde_json::to_value(&joined).unwrap_or_default();
    }
    if !body.is_empty() {
        let text = if base64 {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(body)
        } else {
            String::from_utf8_lossy(body).into_owned()
        };
        event["body"] = Value::String(text);
    }
    event
}

/// What the function answered, as the Function URL turns it into HTTP.
#[derive(Debug, Clone)]
pub struct UrlResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// `Set-Cookie` values (payload 2.0 returns them apart, in `cookies`).
    pub cookies: Vec<String>,
    pub body: String,
}

impl UrlResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Invokes `request` through the emulator. A function error is what AWS answers as 502.
pub async fn call(runtime: &RuntimeApi, request: &Value, timeout: Duration) -> Result<UrlResponse> {
    match runtime.invoke(request, timeout).await? {
        Outcome::Response(v) => {
            let status = v["statusCode"]
                .as_u64()
                .context("response has no statusCode")? as u16;
            let headers = v["headers"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let cookies = v["cookies"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let body = v["body"].as_str().unwrap_or("");
            let body = if v["isBase64Encoded"].as_bool() == Some(true) {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            } else {
                body.to_string()
            };
            Ok(UrlResponse {
                status,
                headers,
                cookies,
                body,
            })
        }
        Outcome::Error(e) => Ok(UrlResponse {
            status: 502,
            headers: BTreeMap::new(),
            cookies: Vec::new(),
            body: e.to_string(),
        }),
    }
}

/// The intake's signature headers for `body` at `timestamp` (unix seconds) under `key`.
pub fn signed_headers(key: &str, timestamp: i64, body: &[u8]) -> Vec<(String, String)> {
    use records_domain::callback_signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
    let ts = timestamp.to_string();
    let sig = sign(key.as_bytes(), &ts, body);
    vec![
        (TIMESTAMP_HEADER.to_string(), ts),
        (SIGNATURE_HEADER.to_string(), format!("v1={sig}")),
    ]
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A Function URL in front of a function, over real HTTP on a loopback port (what a browser
/// or curl talks to): each request becomes the payload 2.0 event, the answer its status,
/// headers, cookies and body. The Function URL's `x-forwarded-proto` is `http` here.
pub struct UrlServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for UrlServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(runtime: RuntimeApi) -> Result<UrlServer> {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::IntoResponse;

    let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let runtime = runtime.clone();
        async move {
            let mut pairs: Vec<(String, String)> = headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            pairs.push(("x-forwarded-proto".into(), "http".into()));
            let refs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let path = uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let text = std::str::from_utf8(&body).is_ok();
            let event = request(method.as_str(), &path, &refs, &body, !text);
            match call(&runtime, &event, Duration::from_secs(60)).await {
                Ok(r) => {
                    let mut out = axum::http::Response::builder().status(r.status);
                    for (k, v) in &r.headers {
                        out = out.header(k, v);
                    }
                    for c in &r.cookies {
                        out = out.header("set-cookie", c);
                    }
                    out.body(axum::body::Body::from(r.body))
                        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
                }
                Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
            }
        }
    };
    let app = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(UrlServer { url, task })
}
