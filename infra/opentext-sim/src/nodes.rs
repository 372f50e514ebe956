//! Node calls: create (v2, in `create`), get (v1, v2), browse children, update/move (in
//! `update`), delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::envelope::{Page, node_properties, v2_list, v2_single};
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::Node;
use crate::node_view::{fields, metadata_section, node_data};
use crate::perms::{effective, parse_id, require, visible};
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::{Store, audit_events, now_iso};

mod create;
mod update;

pub use create::create;
pub use update::update;

pub const MAX_NAME: usize = 248;

pub fn child_count(store: &Store, id: i64) -> usize {
    store.children(id).count()
}

fn touch_parent(store: &mut Store, parent_id: i64, user: i64) {
    if let Some(p) = store.nodes.get_mut(&parent_id) {
        p.modify_date = now_iso();
        p.modify_user_id = user;
    }
}

pub fn missing_param(name: &str) -> ApiError {
    ApiError::bad_request(format!("Missing required parameter '{name}'"))
}

/// `GET /api/v2/nodes/{id}`.
pub async fn get_v2(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, Missing::Get)?;
    let f = fields(&req);
    let mut results = json!({"data": node_data(&store, n, &f)});
    if req.params.flag("metadata") {
        results["metadata"] = metadata_section(n);
        results["metadata_order"] =
            json!({"properties": ["id", "name", "description", "type", "parent_id"]});
    }
    if req.params.flag("state") {
        results["state"] = json!({"properties": {"metadata_token": n.metadata_token}});
    }
    Ok(v2_single("GET", &format!("/api/v2/nodes/{id}"), results))
}

/// `GET /api/v1/nodes/{id}`: v1 shape `{"data":{…},"type","type_name"}`.
pub async fn get_v1(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, Missing::Get)?;
    let data = node_properties(n, child_count(&store, id));
    Ok(
        Json(json!({"data": data, "type": n.node_type, "type_name": n.type_name()}))
            .into_response(),
    )
}

fn type_matches(n: &Node, filters: &[i64]) -> bool {
    filters.is_empty()
        || filters.iter().any(|t| match *t {
            -1 => n.is_container(),
            -2 => true,
            -3 => !n.is_container(),
            t => n.node_type == t,
        })
}

fn sort_key(n: &Node, key: &str) -> (String, i64) {
    match key {
        "create_date" => (n.create_date.clone(), n.id),
        "modify_date" => (n.modify_date.clone(), n.id),
        "size" => (
            String::new(),
            n.latest().map(|v| v.size as i64).unwrap_or(0),
        ),
        "type" => (String::new(), n.node_type),
        "id" => (String::new(), n.id),
        _ => (n.name.to_lowercase(), n.id),
    }
}

/// `GET /api/v2/nodes/{id}/nodes`: `where_name` (contains, case-insensitive), `where_type`,
/// `sort`, `page` (1-based), `limit` (default 100).
pub async fn children(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let p = &req.params;
    let store = sim.read();
    let parent = visible(&store, &caller, id, Missing::Server)?;
    require(&store, &caller, parent, "see_contents")?;
    let name_filter = p
        .str("where_name")
        .map(|s| s.to_lowercase())
        .filter(|s| !s.is_empty());
    let mut types = Vec::new();
    for raw in p.query_all("where_type") {
        for t in raw.split(',').filter(|s| !s.trim().is_empty()) {
            types.push(parse_id(t, "where_type")?);
        }
    }
    let mut kids: Vec<&Node> = store
        .children(id)
        .filter(|n| effective(&store, n, caller.id).has("see"))
        .filter(|n| {
            name_filter
                .as_ref()
                .is_none_or(|f| n.name.to_lowercase().contains(f))
        })
        .filter(|n| type_matches(n, &types))
        .collect();
    let sort = p.str("sort").unwrap_or_else(|| "asc_name".into());
    let (desc, key) = match sort.split_once('_') {
        Some(("desc", k)) => (true, k.to_string()),
        Some(("asc", k)) => (false, k.to_string()),
        _ => (false, sort.clone()),
    };
    kids.sort_by_key(|n| sort_key(n, &key));
    if desc {
        kids.reverse();
    }
    let page = Page::from(p.i64("page")?, p.i64("limit")?, 100);
    let f = fields(&req);
    let results: Vec<Value> = page
        .slice(&kids)
        .into_iter()
        .map(|n| json!({"data": node_data(&store, n, &f)}))
        .collect();
    let sort_label = if desc {
        format!("desc_{key}")
    } else {
        format!("asc_{key}")
    };
    Ok(v2_list(
        &format!("/api/v2/nodes/{id}/nodes"),
        page.paging(kids.len()),
        &sort_label,
        results,
    ))
}

/// `DELETE /api/v2/nodes/{id}`: refused (400) while a hold applies to the node, one of its
/// ancestors or anything beneath it.
pub async fn delete(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Server)?;
    require(&store, &caller, n, "delete")?;
    let mut subtree = vec![id];
    subtree.extend(store.descendants(id));
    for nid in &subtree {
        if let Some((hold_id, _)) = store.holds_in_force(*nid).first() {
            let hold = store
                .holds
                .get(hold_id)
                .map(|h| h.name.clone())
                .unwrap_or_default();
            let what = store
                .nodes
                .get(nid)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            return Err(ApiError::bad_request(format!(
                "Could not process object, invalid action 'delete'. '{what}' is on hold ({hold}) and cannot be deleted."
            )));
        }
    }
    let parent = n.parent_id;
    for nid in &subtree {
        if let Some(x) = store.nodes.get_mut(nid) {
            x.deleted = true;
        }
        store.audit(
            *nid,
            audit_events::DELETE,
            caller.id,
            "moved to the Recycle Bin",
        );
    }
    touch_parent(&mut store, parent, caller.id);
    Ok(v2_single(
        "DELETE",
        &format!("/api/v2/nodes/{id}"),
        json!({}),
    ))
}
