//! The WebDriver wire: answers and their errors, selectors, and the one blocking request
//! drop needs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// The key W3C WebDriver gives an element reference in JSON.
pub(super) const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error as chromedriver reports it (`no such element`, `stale element
/// reference`, ...), kept typed so callers can tell "not there yet" from a real failure.
#[derive(Debug, Clone)]
pub struct WebDriverError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // chromedriver's messages carry a long "(Session info: ...)" tail: the first line says it.
        let first = self.message.lines().next().unwrap_or_default();
        write!(f, "WebDriver {} ({}): {first}", self.error, self.status)
    }
}

impl std::error::Error for WebDriverError {}

/// The body's `value`, or the WebDriver error it reports.
pub(super) async fn value_of(resp: reqwest::Response) -> Result<Value> {
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .with_context(|| format!("WebDriver answer ({status}) is not JSON"))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if let Some(error) = value.get("error").and_then(Value::as_str) {
        return Err(WebDriverError {
            status: status.as_u16(),
            error: error.to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        }
        .into());
    }
    if !status.is_success() {
        bail!("WebDriver answered {status}: {body}");
    }
    Ok(value)
}

pub(super) fn is_error(e: &anyhow::Error, kind: &str) -> bool {
    e.downcast_ref::<WebDriverError>()
        .is_some_and(|w| w.error == kind)
}

pub(super) fn by_css(css: &str) -> Value {
    json!({ "using": "css selector", "value": css })
}

/// One request to chromedriver over a plain socket, waiting for its whole answer (so
/// Chromium has quit before chromedriver is killed). chromedriver keeps the connection
/// open whatever `Connection: close` says, so the answer ends at its `Content-Length`.
pub(super) fn request_blocking(base: &str, method: &str, path: &str) -> std::io::Result<()> {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0usize);
            if answer.len() >= end + 4 + length {
                return Ok(());
            }
        }
    }
}
