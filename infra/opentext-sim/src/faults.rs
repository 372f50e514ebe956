//! Fault injection and the per-request bookkeeping wrapped around every `/otcs/cs.exe/api` call:
//! latency, error rates, one-shot failures, dropped connections, request log, ticket refresh.

use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Faults;
use crate::conn::ConnHandle;
use crate::request::ReqCtx;
use crate::routes::API_PREFIX;
use crate::state::{AppState, RequestLog, lock};

/// `POST /sim/admin/faults/next`: the next `count` matching calls fail (or drop).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneShot {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub drop: bool,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only calls whose path ends so (e.g. `/2`: the second part of a chunked upload).
    #[serde(default)]
    pub path_ends_with: Option<String>,
    /// Only calls with this HTTP method (e.g. `POST`, to fail a create but not the lookups).
    #[serde(default)]
    pub method: Option<String>,
}

const MAX_LOG: usize = 20_000;

fn one() -> u32 {
    1
}

#[derive(Debug, Default)]
pub struct FaultState {
    pub standing: Faults,
    pub next: Vec<OneShot>,
}

enum Decision {
    Pass,
    Fail(u16, Option<u64>),
    Drop,
}

fn decide(state: &mut FaultState, method: &str, path: &str) -> Decision {
    if let Some(i) = state.next.iter().position(|r| {
        r.path_contains
            .as_ref()
            .is_none_or(|p| path.contains(p.as_str()))
            && r.path_ends_with
                .as_ref()
                .is_none_or(|p| path.ends_with(p.as_str()))
            && r.method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }) {
        let rule = state.next[i].clone();
        state.next[i].count = state.next[i].count.saturating_sub(1);
        if state.next[i].count == 0 {
            state.next.remove(i);
        }
        if rule.drop {
            return Decision::Drop;
        }
        return Decision::Fail(
            rule.status.unwrap_or(503),
            rule.retry_after_secs.or(state.standing.retry_after_secs),
        );
    }
    let mut rng = rand::rng();
    let f = &state.standing;
    if f.drop_rate > 0.0 && rng.random::<f64>() < f.drop_rate {
        return Decision::Drop;
    }
    for (code, rate) in &f.error_rates {
        if *rate > 0.0 && rng.random::<f64>() < *rate {
            return Decision::Fail(code.parse().unwrap_or(503), f.retry_after_secs);
        }
    }
    Decision::Pass
}

fn injected(status: u16, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let msg = format!(
        "Injected fault: {} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("")
    );
    let mut resp = (code, Json(json!({"error": msg.trim_end()}))).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    resp
}

/// Outermost layer of the CS API: faults first, then the handler, then ticket refresh + log.
pub async fn api_layer(State(sim): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    // This layer sits on the nested API router, which sees paths without the CGI prefix.
    let path = format!("{API_PREFIX}{}", req.uri().path());
    let (latency, decision) = {
        let mut f = lock(&sim.faults);
        (f.standing.latency_ms, decide(&mut f, &method, &path))
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let log = |status: u16, user: Option<String>| {
        let mut log = lock(&sim.requests);
        // Bounded: long demo runs must not grow without limit.
        if log.len() >= MAX_LOG {
            log.drain(..MAX_LOG / 10);
        }
        log.push(RequestLog {
            method: method.clone(),
            path: path.clone(),
            status,
            user,
        });
    };
    match decision {
        Decision::Drop => {
            if let Some(ConnectInfo(conn)) = req.extensions().get::<ConnectInfo<ConnHandle>>() {
                conn.kill();
            }
            log(0, None);
            // Never written: the connection is already dead.
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Decision::Fail(status, retry_after) => {
            log(status, None);
            return injected(status, retry_after);
        }
        Decision::Pass => {}
    }
    let ctx = ReqCtx::default();
    req.extensions_mut().insert(ctx.clone());
    let mut resp = next.run(req).await;
    if resp.status().is_success()
        && let Some(sid) = ctx.session()
    {
        let ticket = lock(&sim.tickets).mint(sid);
        if let Ok(v) = HeaderValue::from_str(&ticket) {
            resp.headers_mut().insert("otcsticket", v);
        }
    }
    log(resp.status().as_u16(), ctx.user_name());
    resp
}
