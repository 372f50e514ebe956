//! `/sim/admin/...`: JSON endpoints for tests and demos (state views, faults, tickets).
//! Not part of Content Server; never subject to fault injection or authentication.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::mint_otds_token;
use crate::config::Faults;
use crate::faults::OneShot;
use crate::model::Node;
use crate::state::{AppState, lock};
use crate::store::Store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/nodes", get(nodes))
        .route("/nodes/{id}", get(node))
        .route("/requests", get(requests).delete(clear_requests))
        .route(
            "/faults",
            get(get_faults).put(put_faults).delete(reset_faults),
        )
        .route("/faults/next", post(next_fault))
        .route("/tickets/expire", post(expire_tickets))
        .route("/uploads", get(open_uploads))
        .route("/uploads/expire", post(expire_uploads))
        .route("/otds-tokens", post(otds_token))
        .route("/memory", get(memory))
        .merge(crate::disposition::admin::router())
        .merge(crate::otds_oauth::admin_router())
        .fallback(|| async { err(StatusCode::NOT_FOUND, "unknown admin endpoint") })
}

fn err(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"error": msg}))).into_response()
}

async fn health() -> Json<Value> {
    Json(json!({"ok": true}))
}

async fn node(State(sim): State<AppState>, Path(id): Path<i64>) -> Response {
    let store = sim.read();
    match store.nodes.get(&id) {
        Some(n) => Json(admin_view(&store, n)).into_response(),
        None => err(StatusCode::NOT_FOUND, "no such node"),
    }
}

async fn nodes(State(sim): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(parent) = q.get("parent_id").and_then(|p| p.parse::<i64>().ok()) else {
        return err(StatusCode::BAD_REQUEST, "parent_id is required");
    };
    let store = sim.read();
    let out: Vec<Value> = store
        .nodes
        .values()
        .filter(|n| n.parent_id == parent)
        .map(|n| admin_view(&store, n))
        .collect();
    Json(Value::Array(out)).into_response()
}

async fn requests(State(sim): State<AppState>) -> Response {
    Json(json!(*lock(&sim.requests))).into_response()
}

async fn clear_requests(State(sim): State<AppState>) -> Json<Value> {
    lock(&sim.requests).clear();
    Json(json!({"ok": true}))
}

async fn get_faults(State(sim): State<AppState>) -> Json<Value> {
    let f = lock(&sim.faults);
    let mut v = json!(f.standing);
    v["pending_next"] = json!(f.next);
    Json(v)
}

async fn put_faults(State(sim): State<AppState>, Json(f): Json<Faults>) -> Response {
    let bad_rate = f
        .error_rates
        .iter()
        .any(|(k, r)| k.parse::<u16>().is_err() || !(0.0..=1.0).contains(r));
    if bad_rate || !(0.0..=1.0).contains(&f.drop_rate) {
        return err(
            StatusCode::BAD_REQUEST,
            "error_rates keys must be status codes; rates within 0..=1",
        );
    }
    lock(&sim.faults).standing = f.clone();
    Json(json!(f)).into_response()
}

async fn reset_faults(State(sim): State<AppState>) -> Json<Value> {
    let mut f = lock(&sim.faults);
    f.standing = Faults::default();
    f.next.clear();
    Json(json!({"ok": true}))
}

async fn next_fault(State(sim): State<AppState>, Json(rule): Json<OneShot>) -> Response {
    if !rule.drop && rule.status.is_none_or(|s| !(100..=599).contains(&s)) {
        return err(
            StatusCode::BAD_REQUEST,
            "give \"status\" (100..599) or \"drop\":true",
        );
    }
    if rule.count == 0 {
        return err(StatusCode::BAD_REQUEST, "count must be at least 1");
    }
    lock(&sim.faults).next.push(rule.clone());
    Json(json!({"ok": true, "queued": rule})).into_response()
}

async fn expire_tickets(State(sim): State<AppState>) -> Json<Value> {
    let n = lock(&sim.tickets).expire_all();
    Json(json!({"ok": true, "sessions_expired": n}))
}

/// The chunked upload sessions still open (neither used by a create nor cancelled).
async fn open_uploads(State(sim): State<AppState>) -> Json<Value> {
    let keys: Vec<String> = lock(&sim.uploads).keys().cloned().collect();
    Json(json!({"open": keys.len(), "upload_keys": keys}))
}

async fn expire_uploads(State(sim): State<AppState>) -> Json<Value> {
    let n = crate::multipart::expire_all(&sim);
    Json(json!({"ok": true, "sessions_expired": n}))
}

#[derive(Deserialize)]
struct TokenReq {
    user: Value,
}

async fn otds_token(State(sim): State<AppState>, Json(r): Json<TokenReq>) -> Response {
    let user = {
        let store = sim.read();
        match &r.user {
            Value::String(s) => store.user_by_name(s).map(|u| u.id),
            Value::Number(n) => n.as_i64().filter(|id| store.users.contains_key(id)),
            _ => None,
        }
    };
    match user {
        Some(id) => Json(json!({"token": mint_otds_token(&sim, id)})).into_response(),
        None => err(StatusCode::NOT_FOUND, "no such user"),
    }
}

/// RSS of this process from /proc (Linux); zeros elsewhere.
async fn memory() -> Json<Value> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Json(json!({"rss_bytes": kib("VmRSS:") * 1024, "peak_rss_bytes": kib("VmHWM:") * 1024}))
}

/// Internal view for `/sim/admin/nodes/{id}`.
pub fn admin_view(store: &Store, n: &Node) -> Value {
    let holds: Vec<Value> = n.holds.iter().map(|h| json!(h)).collect();
    let cats: HashMap<String, Value> = n
        .categories
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "id": n.id, "name": n.name, "parent_id": n.parent_id, "type": n.node_type,
        "deleted": n.deleted, "description": n.description,
        "owner_user_id": n.owner_user_id,
        "external_source": n.external_source, "external_identity": n.external_identity,
        "external_identity_type": n.external_identity_type,
        "versions": n.versions.iter().map(|v| json!({
            "version_number": v.number, "size": v.size, "sha256": v.sha256,
            "mime_type": v.mime_type, "file_name": v.file_name,
            "external_identity": v.external_identity, "external_identity_type": v.external_identity_type,
            "description": v.description, "blob": v.blob,
        })).collect::<Vec<_>>(),
        "categories": cats,
        "rm": {"records": n.rm, "rm_metadataToken": n.rm_token},
        "holds": holds,
        "holds_in_force": store.holds_in_force(n.id).iter().map(|(h, direct)| json!({"hold_id": h, "direct": direct})).collect::<Vec<_>>(),
        "audit": n.audit,
    })
}
