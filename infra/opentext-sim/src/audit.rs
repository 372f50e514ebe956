//! Per-node audit trail: `GET /api/v2/nodes/{id}/audit?limit&page&sort&where_type&where_user_id`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::envelope::{Page, self_link};
use crate::error::{ApiResult, Missing};
use crate::perms::{parse_id, visible};
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::audit_events;

pub async fn list(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let p = &req.params;
    let where_type = p.i64("where_type")?;
    let where_user = p.i64("where_user_id")?;
    let start = p.str("where_audit_date_start").filter(|s| !s.is_empty());
    let end = p.str("where_audit_date_end").filter(|s| !s.is_empty());
    let store = sim.read();
    let n = visible(
        &store,
        &caller,
        id,
        Missing::Access(axum::http::StatusCode::BAD_REQUEST),
    )?;
    let mut events: Vec<Value> = n
        .audit
        .iter()
        .filter(|e| where_type.is_none_or(|t| e.event_type == t))
        .filter(|e| where_user.is_none_or(|u| e.user_id == u))
        // Day granularity: compare the YYYY-MM-DD prefix.
        .filter(|e| start.as_ref().is_none_or(|s| day(&e.audit_date) >= day(s)))
        .filter(|e| end.as_ref().is_none_or(|s| day(&e.audit_date) <= day(s)))
        .map(|e| {
            json!({"id": id, "event_type": e.event_type, "audit_date": e.audit_date, "user_id": e.user_id,
                   "agent_id": e.agent_id, "target_user_id": e.target_user_id,
                   "audit_language_code": "en", "audit_name": e.audit_name})
        })
        .collect();
    let sort = p.str("sort").unwrap_or_else(|| "desc_audit_date".into());
    // Records are appended in time order, so id order is date order.
    if sort.starts_with("desc") {
        events.reverse();
    }
    let page = Page::from(p.i64("page")?, p.i64("limit")?, 25);
    let types: Vec<Value> = audit_events::ALL
        .iter()
        .map(|(i, n)| json!({"id": i, "name": n}))
        .collect();
    Ok(Json(json!({
        "collection": {"paging": page.paging(events.len()), "sorting": {"sort": [{"key": "sort", "value": sort}]}},
        "links": self_link("GET", &format!("/api/v2/nodes/{id}/audit")),
        "results": {"data": {"audit": page.slice(&events), "audit_event_types": types}},
    }))
    .into_response())
}

/// The `YYYY-MM-DD` prefix (the whole text if shorter; never a cut inside a character).
fn day(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}
