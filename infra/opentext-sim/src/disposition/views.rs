//! Reading snapshots: `GET /api/v2/snapshottable/{id}` (`view_Snapshottable`),
//! `GET /api/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}[/reviewerid/{r}/reviewerstep/{s}]`
//! (`view_dispositionsnapshot`), `GET` / `DELETE /api/v1/disposition/{id}/qdate/{qdate}`
//! (`snapshot_properties`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{SnapItem, Snapshot, qdate, require_disp, search, snapshot_index};
use crate::envelope::Page;
use crate::error::{ApiError, ApiResult};
use crate::perms::parse_id;
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::Store;

/// `snapshot_data`.
pub fn snapshot_json(s: &Snapshot) -> Value {
    let q = qdate::emit(s.qdate);
    json!({
        "id": s.search_id, "qdate": q, "name": q, "type_name": "Disposition Snapshot",
        "snapshot_status": s.snapshot_status(), "review_status": s.review_status(),
        "settings": "", "record_count": s.items.len(), "actioned_count": s.actioned(),
        "hide_finish": s.review_finished, "hide_changereview": s.review_finished,
        "hide_changeaction": false, "hide_performaction": false, "deletable": true,
    })
}

/// `disposition_data.data` (`nodes_properties`): `disp_action` is a string there.
pub fn item_json(store: &Store, s: &Snapshot, i: &SnapItem) -> Value {
    let node = store.nodes.get(&i.node_id);
    let parent_name = store
        .nodes
        .get(&i.parent_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let latest = node.and_then(|n| n.latest());
    let size = latest.map(|v| v.size).unwrap_or(0);
    let official = node.and_then(|n| n.rm.first()).is_some_and(|r| r.official);
    let mut props = json!({
        "id": i.node_id, "name": i.name, "type": i.node_type,
        "type_name": node.map(|n| n.type_name()).unwrap_or("Item"),
        "parent_id": i.parent_id, "parent_name": parent_name, "volume_id": -2000,
        "container": node.is_some_and(|n| n.is_container()), "description": node.map(|n| n.description.clone()).unwrap_or_default(),
        "create_date": node.map(|n| n.create_date.clone()).unwrap_or_default(),
        "modify_date": node.map(|n| n.modify_date.clone()).unwrap_or_default(),
        "create_user_id": node.map(|n| n.create_user_id).unwrap_or(0),
        "modify_user_id": node.map(|n| n.modify_user_id).unwrap_or(0),
        "owner_user_id": node.map(|n| n.owner_user_id).unwrap_or(0),
        "mime_type": latest.map(|v| v.mime_type.clone()).unwrap_or_default(),
        "size": size, "size_formatted": format!("{size} bytes"),
        "reserved": false, "reserved_date": "", "reserved_user_id": 0, "original_id": 0, "icon": "",
    });
    let disp = json!({
        "class_id": i.class_id, "qdate": qdate::emit(s.qdate), "disposition_id": s.search_id,
        "calculated_date": i.calculated_date, "disp_action": i.disp_action.to_string(),
        "action_info": i.action_info, "action_performed": i32::from(i.action_performed),
        "disposition_process": i32::from(!i.action_performed && i.review_decision == 1),
        "review_decision": i.review_decision, "review_comments": i.review_comments,
        "review_comments_data": i.review_comments, "reviewerid": i.reviewer_id,
        "reviewerstep": i.reviewer_step, "stage_count": i.stage_count,
        "make_rendition": false, "num_vers_to_keep": 0, "purge_superseded": false,
        "rmiconsdata": {"class_id": i.class_id, "official": i32::from(official), "show_classify": true,
            "show_hold": true, "show_hold_tab": true, "show_official": true, "show_xref_tab": false},
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut props, disp) {
        a.extend(b);
    }
    props
}

fn page_of(req: &ApiReq) -> Result<Page, ApiError> {
    Ok(Page::from(
        req.params.i64("page")?,
        req.params.i64("limit")?,
        25,
    ))
}

/// `GET /api/v2/snapshottable/{id}`: the search's snapshots, newest first.
pub async fn snapshottable(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let page = page_of(&req)?;
    let store = sim.read();
    require_disp(&store, &caller)?;
    search(&store, id).map_err(|_| ApiError::bad_request("Could not get snapshots"))?;
    let mut snaps: Vec<&Snapshot> = store
        .dispositions
        .snapshots
        .iter()
        .filter(|s| s.search_id == id)
        .collect();
    snaps.sort_by_key(|s| std::cmp::Reverse(s.qdate));
    let rows: Vec<Value> = snaps
        .iter()
        .map(|s| json!({"data": snapshot_json(s)}))
        .collect();
    Ok(Json(json!({
        "paging": page.rm_paging(rows.len()),
        "data": page.slice(&rows),
        "definitions": {},
        "definitions_order": ["qdate", "snapshot_status", "review_status", "record_count", "actioned_count"],
    }))
    .into_response())
}

const ITEM_COLUMNS: [(&str, &str, i64); 6] = [
    ("name", "Name", -1),
    ("calculated_date", "Calculated Date", -7),
    ("disp_action", "Disposition Action", -1),
    ("review_decision", "Review Decision", 2),
    ("stage_count", "Stage", 2),
    ("action_performed", "Action Performed", 2),
];

fn items_response(store: &Store, s: &Snapshot, filter: Option<(i64, i64)>, page: Page) -> Value {
    let rows: Vec<Value> = s
        .items
        .iter()
        .filter(|i| filter.is_none_or(|(r, st)| i.reviewer_id == r && i.reviewer_step == st))
        .map(|i| json!({"data": item_json(store, s, i)}))
        .collect();
    let columns: Vec<Value> = ITEM_COLUMNS
        .iter()
        .map(|(k, n, t)| json!({"key": k, "name": n, "data_type": t, "sort_key": k}))
        .collect();
    json!({
        "collection": {"paging": page.rm_paging(rows.len())},
        "results": {
            "columns": columns, "data": page.slice(&rows), "definitions": {}, "definitions_map": {},
            "definitions_order": ITEM_COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>(),
            "dispNodeID": s.search_id,
        },
    })
}

/// `GET /api/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}`.
pub async fn items(
    State(sim): State<AppState>,
    Path((id, q)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let page = page_of(&req)?;
    let store = sim.read();
    require_disp(&store, &caller)?;
    let i = snapshot_index(&store, id, &q, sim.time_zone)?;
    let s = &store.dispositions.snapshots[i];
    Ok(Json(items_response(&store, s, None, page)).into_response())
}

/// `GET …/qdate/{qdate}/reviewerid/{reviewerid}/reviewerstep/{reviewerstep}`: that reviewer's items.
pub async fn reviewer_items(
    State(sim): State<AppState>,
    Path((id, q, reviewer, step)): Path<(String, String, String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let reviewer = parse_id(&reviewer, "reviewerid")?;
    let step = parse_id(&step, "reviewerstep")?;
    let page = page_of(&req)?;
    let store = sim.read();
    require_disp(&store, &caller)?;
    let i = snapshot_index(&store, id, &q, sim.time_zone)?;
    let s = &store.dispositions.snapshots[i];
    Ok(Json(items_response(&store, s, Some((reviewer, step)), page)).into_response())
}

/// `GET /api/v1/disposition/{id}/qdate/{qdate}`: `snapshot_properties`.
pub async fn properties(
    State(sim): State<AppState>,
    Path((id, q)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id").map_err(|_| ApiError::bad_request("Node ID was not specified"))?;
    let store = sim.read();
    require_disp(&store, &caller)?;
    let i = snapshot_index(&store, id, &q, sim.time_zone)?;
    let s = &store.dispositions.snapshots[i];
    Ok(Json(json!({"priority": "Normal", "reviewStatus": s.review_status(), "snapshotStatus": s.snapshot_status()}))
        .into_response())
}

/// `DELETE /api/v1/disposition/{id}/qdate/{qdate}`.
pub async fn delete(
    State(sim): State<AppState>,
    Path((id, q)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id").map_err(|_| ApiError::bad_request("Node ID was not specified"))?;
    let mut store = sim.write();
    require_disp(&store, &caller)?;
    let i = snapshot_index(&store, id, &q, sim.time_zone)?;
    store.dispositions.snapshots.remove(i);
    Ok(Json(json!({"results": {"ok": true, "errMsg": "", "id": id}})).into_response())
}
