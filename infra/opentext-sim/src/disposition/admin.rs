//! Admin endpoints (`/sim/admin/…`) for disposition tests:
//!
//! * `POST /disposition-searches` `{"name", "start_container"?, "rsis"?, "reviewer_id"?}` →
//!   the new search (names compared with Unicode case folding: a clash is 409);
//!   `GET /disposition-searches` lists them.
//! * `POST /disposition-snapshots` `{"search_id", "qdate"?, "items":[{"id", "decision"?,
//!   "disp_action"?, "stage_count"?, "calculated_date"?, "reviewer_id"?, "reviewer_step"?}]}`
//!   → a snapshot with exactly these items (qdate in any accepted form, default now; the
//!   nodes must exist). `GET /disposition-snapshots?search_id=` lists snapshots with their items.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{DispSearch, QDate, SnapItem, Snapshot, parse_decision, qdate};
use crate::dates::{fmt_rm, now_local};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/disposition-searches",
            get(list_searches).post(create_search),
        )
        .route(
            "/disposition-snapshots",
            get(list_snapshots).post(create_snapshot),
        )
}

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

#[derive(Deserialize)]
struct NewSearch {
    name: String,
    #[serde(default)]
    start_container: i64,
    #[serde(default)]
    rsis: Vec<String>,
    #[serde(default)]
    reviewer_id: i64,
}

async fn create_search(State(sim): State<AppState>, Json(r): Json<NewSearch>) -> Response {
    let name = r.name.trim().to_string();
    if name.is_empty() {
        return err(StatusCode::BAD_REQUEST, "name is required");
    }
    let mut store = sim.write();
    if store.dispositions.search_named(&name).is_some() {
        return err(
            StatusCode::CONFLICT,
            format!("a disposition search named '{name}' exists"),
        );
    }
    if r.start_container != 0 && store.live(r.start_container).is_none() {
        return err(StatusCode::BAD_REQUEST, "start_container is no live node");
    }
    let id = store.alloc_id();
    let s = DispSearch {
        id,
        name,
        start_container: r.start_container,
        rsis: r.rsis,
        reviewer_id: r.reviewer_id,
    };
    store.dispositions.searches.insert(id, s.clone());
    Json(json!(s)).into_response()
}

async fn list_searches(State(sim): State<AppState>) -> Json<Value> {
    let store = sim.read();
    Json(json!(
        store.dispositions.searches.values().collect::<Vec<_>>()
    ))
}

#[derive(Deserialize)]
struct NewItem {
    id: i64,
    #[serde(default)]
    decision: Option<Value>,
    #[serde(default)]
    disp_action: Option<i64>,
    #[serde(default)]
    stage_count: Option<i64>,
    #[serde(default)]
    calculated_date: Option<String>,
    #[serde(default)]
    reviewer_id: Option<i64>,
    #[serde(default)]
    reviewer_step: Option<i64>,
}

#[derive(Deserialize)]
struct NewSnapshot {
    search_id: i64,
    #[serde(default)]
    qdate: Option<String>,
    #[serde(default)]
    items: Vec<NewItem>,
}

fn decision_of(v: &Option<Value>) -> Result<i64, String> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|d| (0..=2).contains(d))
            .ok_or_else(|| format!("bad decision {n}")),
        Some(Value::String(s)) => parse_decision(s).map_err(|e| e.message),
        Some(other) => Err(format!("bad decision {other}")),
    }
}

async fn create_snapshot(State(sim): State<AppState>, Json(r): Json<NewSnapshot>) -> Response {
    let tz = sim.time_zone;
    let at = match &r.qdate {
        Some(q) => match QDate::parse(q, tz) {
            Ok(q) => q.at,
            Err(e) => return err(StatusCode::BAD_REQUEST, e.message),
        },
        None => now_local(tz),
    };
    let mut store = sim.write();
    let Some(def) = store.dispositions.searches.get(&r.search_id).cloned() else {
        return err(StatusCode::NOT_FOUND, "no such disposition search");
    };
    if store
        .dispositions
        .snapshots
        .iter()
        .any(|s| s.search_id == def.id && s.qdate == at)
    {
        return err(
            StatusCode::CONFLICT,
            format!("snapshot {} exists", qdate::emit(at)),
        );
    }
    let mut items = Vec::new();
    for it in &r.items {
        let Some(n) = store.nodes.get(&it.id) else {
            return err(StatusCode::BAD_REQUEST, format!("no node {}", it.id));
        };
        let decision = match decision_of(&it.decision) {
            Ok(d) => d,
            Err(e) => return err(StatusCode::BAD_REQUEST, e),
        };
        let reviewer = it.reviewer_id.unwrap_or(def.reviewer_id);
        items.push(SnapItem {
            node_id: n.id,
            name: n.name.clone(),
            parent_id: n.parent_id,
            node_type: n.node_type,
            class_id: n.rm.first().map(|r| r.class_id).unwrap_or(0),
            calculated_date: it.calculated_date.clone().unwrap_or_else(|| fmt_rm(at)),
            disp_action: it.disp_action.unwrap_or(32),
            action_info: String::new(),
            review_decision: decision,
            review_comments: String::new(),
            reviewer_id: reviewer,
            reviewer_step: it.reviewer_step.unwrap_or(if reviewer > 0 { 1 } else { 0 }),
            stage_count: it.stage_count.unwrap_or(1),
            action_performed: false,
            outcome: String::new(),
        });
    }
    let count = items.len();
    store.dispositions.snapshots.push(Snapshot {
        search_id: def.id,
        qdate: at,
        items,
        review_finished: false,
        actions_run: false,
    });
    Json(json!({"search_id": def.id, "qdate": qdate::emit(at), "record_count": count}))
        .into_response()
}

async fn list_snapshots(
    State(sim): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let want = match q.get("search_id").map(|s| s.parse::<i64>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return err(StatusCode::BAD_REQUEST, "search_id must be an integer"),
    };
    let store = sim.read();
    let out: Vec<Value> = store
        .dispositions
        .snapshots
        .iter()
        .filter(|s| want.is_none_or(|w| s.search_id == w))
        .map(|s| {
            json!({"search_id": s.search_id, "qdate": qdate::emit(s.qdate),
                "snapshot_status": s.snapshot_status(), "review_status": s.review_status(),
                "review_finished": s.review_finished, "items": s.items})
        })
        .collect();
    Json(Value::Array(out)).into_response()
}
