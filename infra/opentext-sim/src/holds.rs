//! RM holds: list/get (v2, PascalCase, RM error shape), create (v1), apply/remove on nodes (v1).
//! A hold applies to the node and everything beneath it; while active it blocks deletion.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::dates::{now_rm, rm_date};
use crate::envelope::Page;
use crate::error::{ApiError, ApiResult};
use crate::model::Hold;
use crate::nodes::missing_param;
use crate::perms::{effective, parse_id, require_rm};
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::{Store, audit_events};

fn hold_json(store: &Store, h: &Hold) -> Value {
    json!({
        "HoldID": h.id, "HoldName": h.name, "ActiveHold": if h.active { 1 } else { 0 },
        "OBJECT": 833, "ApplyPatron": store.user_name(h.created_by), "DateApplied": h.date_applied,
        "HoldComment": h.comment, "HoldType": h.hold_type, "DateToRemove": h.date_to_remove,
        "DateRemoved": "", "RemovalPatron": "", "RemovalComment": "",
        "EditDate": h.date_applied, "EditPatron": store.user_name(h.created_by),
        "AlternateHoldID": h.alternate_id, "ParentID": h.parent_id,
    })
}

/// `GET /api/v2/holds?page&limit`.
pub async fn list(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    req.caller().map_err(ApiError::rm)?;
    let page = Page::from(
        req.params.i64("page").map_err(ApiError::rm)?,
        req.params.i64("limit").map_err(ApiError::rm)?,
        25,
    );
    let store = sim.read();
    let all: Vec<Value> = store.holds.values().map(|h| hold_json(&store, h)).collect();
    let paging = page.rm_paging(all.len());
    Ok(Json(json!({
        "collection": {"paging": paging},
        "results": {"ok": true, "data": {"holds": page.slice(&all)}},
    }))
    .into_response())
}

/// `GET /api/v2/holds/{id}` (or `?holdname=`): the spec's top-level `hold` plus the
/// `results.data.hold` form clients also read.
pub async fn get_one(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    req.caller().map_err(ApiError::rm)?;
    let by_name = req.params.str("holdname").filter(|s| !s.is_empty());
    let id = match by_name {
        Some(_) => 0,
        None => parse_id(&id, "id").map_err(ApiError::rm)?,
    };
    let store = sim.read();
    let h = store
        .holds
        .values()
        .find(|h| {
            by_name
                .as_ref()
                .map_or(h.id == id, |n| h.name.eq_ignore_ascii_case(n))
        })
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Hold {} does not exist",
                by_name.unwrap_or(id.to_string())
            ))
            .rm()
        })?;
    let hold = hold_json(&store, h);
    Ok(
        Json(json!({"hold": hold, "results": {"ok": true, "errMsg": "", "data": {"hold": hold}}}))
            .into_response(),
    )
}

/// `POST /api/v1/holds`: `type`, `name` (required), `comment`, `alternate_id`, `parent_id`,
/// `date_applied`, `date_to_remove` → `{"holdID":N}`.
pub async fn create(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let p = &req.params;
    let name = p
        .str("name")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing_param("name"))?;
    let hold_type = p
        .str("type")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing_param("type"))?;
    let mut store = sim.write();
    require_rm(&store, &caller)?;
    if store
        .holds
        .values()
        .any(|h| h.name.eq_ignore_ascii_case(&name))
    {
        return Err(ApiError::bad_request(format!(
            "Could not insert into the Hold Disposition table: a hold named '{name}' already exists"
        )));
    }
    let id = store.alloc_id();
    let hold = Hold {
        id,
        name,
        hold_type,
        comment: p.str("comment").unwrap_or_default(),
        alternate_id: p.str("alternate_id").unwrap_or_default(),
        parent_id: p.i64("parent_id")?.unwrap_or(0),
        date_applied: p
            .str("date_applied")
            .filter(|s| !s.is_empty())
            .map(|d| rm_date(&d, sim.time_zone))
            .unwrap_or_else(|| now_rm(sim.time_zone)),
        date_to_remove: p
            .str("date_to_remove")
            .filter(|s| !s.is_empty())
            .map(|d| rm_date(&d, sim.time_zone))
            .unwrap_or_default(),
        active: true,
        created_by: caller.id,
    };
    store.holds.insert(id, hold);
    Ok(Json(json!({"holdID": id})).into_response())
}

fn no_access() -> ApiError {
    ApiError::bad_request("Accessibility error. Not enough permissions")
}

/// `GET /api/v1/nodes/{id}/holds`: direct holds and those inherited from ancestors.
pub async fn node_holds(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = store
        .live(id)
        .filter(|n| effective(&store, n, caller.id).has("see"))
        .ok_or_else(no_access)?;
    let mut data = Vec::new();
    let carriers = std::iter::once(n).chain(store.ancestors(id));
    for (depth, carrier) in carriers.enumerate() {
        for a in &carrier.holds {
            let Some(h) = store.holds.get(&a.hold_id) else {
                continue;
            };
            data.push(json!({
                "id": carrier.id, "name": carrier.name, "subtype": carrier.node_type,
                "parent_id": carrier.parent_id, "hold_id": h.id, "hold_name": h.name,
                "hold_appliedmethod": if depth == 0 { "Direct" } else { "Inherited" },
                "hold_type": h.hold_type, "userid": a.applied_by, "docxreftyp": "", "queryid": 0,
                "hold_comment": h.comment, "active": h.active,
                "applied_by": store.user_name(a.applied_by), "date_applied": a.date_applied,
                "removable": depth == 0,
            }));
        }
    }
    Ok(Json(json!({"data": data, "definitions": {}})).into_response())
}

/// `POST /api/v1/nodes/{id}/holds`: `hold_id` as query param, form field or inside `body`.
pub async fn apply(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let hold_id = req
        .params
        .i64("hold_id")?
        .ok_or_else(|| missing_param("hold_id"))?;
    let mut store = sim.write();
    let n = store
        .live(id)
        .filter(|n| effective(&store, n, caller.id).has("see"))
        .ok_or_else(no_access)?;
    require_rm(&store, &caller)?;
    let h = store
        .holds
        .get(&hold_id)
        .ok_or_else(|| ApiError::bad_request(format!("Hold {hold_id} does not exist")))?;
    if !h.active {
        return Err(ApiError::bad_request(format!(
            "Hold '{}' is not active",
            h.name
        )));
    }
    if n.holds.iter().any(|a| a.hold_id == hold_id) {
        return Err(ApiError::bad_request("Object already has this Hold"));
    }
    let name = h.name.clone();
    if let Some(node) = store.live_mut(id) {
        node.holds.push(crate::model::AppliedHold {
            hold_id,
            applied_by: caller.id,
            date_applied: now_rm(sim.time_zone),
        });
    }
    store.audit(id, audit_events::HOLD_APPLIED, caller.id, name);
    Ok(Json(json!({"results": {"ok": true, "errMsg": "", "id": hold_id}})).into_response())
}

/// `DELETE /api/v1/nodes/{id}/holds/{hold_id}`: only a directly applied hold can be removed.
pub async fn remove(
    State(sim): State<AppState>,
    Path((id, hold)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let hold_id = parse_id(&hold, "hold_id")?;
    let mut store = sim.write();
    let n = store
        .live(id)
        .filter(|n| effective(&store, n, caller.id).has("see"))
        .ok_or_else(no_access)?;
    require_rm(&store, &caller)?;
    if !n.holds.iter().any(|a| a.hold_id == hold_id) {
        return Err(ApiError::bad_request("Object does not have this Hold"));
    }
    let name = store
        .holds
        .get(&hold_id)
        .map(|h| h.name.clone())
        .unwrap_or_default();
    if let Some(node) = store.live_mut(id) {
        node.holds.retain(|a| a.hold_id != hold_id);
    }
    store.audit(id, audit_events::HOLD_REMOVED, caller.id, name);
    Ok(Json(json!({"results": {"ok": true, "errMsg": "", "id": hold_id}})).into_response())
}
