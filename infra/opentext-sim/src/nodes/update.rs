//! `PUT /api/v2/nodes/{id}`: rename, new description and move, checked in full before the
//! node changes, then applied with one audit entry per kind of change.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::json;

use super::{MAX_NAME, missing_param, touch_parent};
use crate::envelope::v2_single;
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::Node;
use crate::perms::{parse_id, require, visible};
use crate::request::{ApiReq, Caller, Params};
use crate::state::AppState;
use crate::store::{Store, audit_events, new_token, now_iso};

/// An audit event (`audit_events::*`) and its detail.
type AuditEntry = ((i64, &'static str), String);

/// The fields a caller may change; absent ones stay as they are.
struct UpdateRequest {
    name: Option<String>,
    description: Option<String>,
    parent_id: Option<i64>,
    /// Optimistic concurrency: when given, it must match the node's current token.
    metadata_token: Option<String>,
}

/// The checked change: what the node becomes and the audit entries that say so.
struct Plan {
    name: String,
    description: Option<String>,
    old_parent: i64,
    target_parent: i64,
    events: Vec<AuditEntry>,
}

/// `PUT /api/v2/nodes/{id}`: `name`, `description`, `parent_id` (move), `metadata_token`.
pub async fn update(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let ask = parse_update(&req.params)?;
    let mut store = sim.write();
    let plan = plan_update(&store, &caller, id, ask)?;
    apply_update(&mut store, id, caller.id, plan)?;
    Ok(v2_single("PUT", &format!("/api/v2/nodes/{id}"), json!({})))
}

fn parse_update(p: &Params) -> Result<UpdateRequest, ApiError> {
    Ok(UpdateRequest {
        name: p.str("name").map(|s| s.trim().to_string()),
        description: p.str("description"),
        parent_id: p.i64("parent_id")?,
        metadata_token: p.str("metadata_token").filter(|t| !t.is_empty()),
    })
}

/// Every check, in Content Server's order (rights, edit conflict, name, destination, name
/// free there), before anything changes.
fn plan_update(
    store: &Store,
    caller: &Caller,
    id: i64,
    ask: UpdateRequest,
) -> Result<Plan, ApiError> {
    let n = visible(store, caller, id, Missing::Access(StatusCode::BAD_REQUEST))?;
    require(store, caller, n, "modify")?;
    if ask
        .metadata_token
        .as_ref()
        .is_some_and(|t| *t != n.metadata_token)
    {
        return Err(ApiError::conflict(
            "Could not update metadata (edit conflict).",
        ));
    }
    check_new_name(ask.name.as_deref())?;
    let mut events = Vec::new();
    let target_parent = ask.parent_id.unwrap_or(n.parent_id);
    let final_name = ask.name.clone().unwrap_or_else(|| n.name.clone());
    if target_parent != n.parent_id {
        check_move(store, caller, n, target_parent)?;
        events.push((
            audit_events::MOVE,
            format!("{} -> {target_parent}", n.parent_id),
        ));
    }
    if store.name_taken(target_parent, &final_name, Some(id)) {
        return Err(ApiError::server(format!(
            "An item with the name '{final_name}' already exists."
        )));
    }
    if ask.name.as_ref().is_some_and(|nn| *nn != n.name) {
        events.push((
            audit_events::RENAME,
            format!("'{}' -> '{final_name}'", n.name),
        ));
    }
    if ask
        .description
        .as_ref()
        .is_some_and(|d| *d != n.description)
    {
        events.push((audit_events::PROPERTIES_CHANGED, "description".into()));
    }
    Ok(Plan {
        name: final_name,
        description: ask.description,
        old_parent: n.parent_id,
        target_parent,
        events,
    })
}

/// A new name must not be blank (after trimming) nor too long.
fn check_new_name(name: Option<&str>) -> Result<(), ApiError> {
    let Some(name) = name else {
        return Ok(());
    };
    if name.is_empty() {
        return Err(missing_param("name"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "The name may not exceed {MAX_NAME} characters."
        )));
    }
    Ok(())
}

/// The destination must be visible, take new items from the caller, be a container and not
/// be the node itself or anything beneath it.
fn check_move(
    store: &Store,
    caller: &Caller,
    n: &Node,
    target_parent: i64,
) -> Result<(), ApiError> {
    let dest = visible(
        store,
        caller,
        target_parent,
        Missing::Access(StatusCode::BAD_REQUEST),
    )?;
    require(store, caller, dest, "add_items")?;
    if !dest.is_container()
        || target_parent == n.id
        || store.descendants(n.id).contains(&target_parent)
    {
        return Err(ApiError::bad_request(format!(
            "Could not move '{}' into {target_parent}",
            n.name
        )));
    }
    Ok(())
}

/// Writes the change, a fresh metadata token and the audit entries; after a move both the
/// old and the new parent count as modified.
fn apply_update(store: &mut Store, id: i64, user_id: i64, plan: Plan) -> Result<(), ApiError> {
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(Missing::Server, id))?;
    node.name = plan.name;
    if let Some(d) = plan.description {
        node.description = d;
    }
    node.parent_id = plan.target_parent;
    node.modify_date = now_iso();
    node.modify_user_id = user_id;
    node.metadata_token = new_token();
    for (ev, detail) in plan.events {
        store.audit(id, ev, user_id, detail);
    }
    if plan.old_parent != plan.target_parent {
        touch_parent(store, plan.old_parent, user_id);
        touch_parent(store, plan.target_parent, user_id);
    }
    Ok(())
}
