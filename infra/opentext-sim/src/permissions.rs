//! Node permissions: list, effective rights of a member, and assigned-access changes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::envelope::{Page, v2_results, v2_single};
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::Node;
use crate::perms::{Perms, effective, parse_id, require, visible};
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::{Store, audit_events};

const NOT_FOUND: Missing = Missing::Access(StatusCode::INTERNAL_SERVER_ERROR);

fn entry(p: Perms, right_id: Value, kind: &str) -> Value {
    json!({"permissions": p.names(), "right_id": right_id, "type": kind})
}

/// Owner, owner group, public access and assigned access entries of a node.
pub fn acl_entries(n: &Node) -> Value {
    let mut out = vec![
        entry(n.acl.owner, json!(n.owner_user_id), "owner"),
        entry(n.acl.group, json!(n.owner_group_id), "group"),
        entry(n.acl.public, Value::Null, "public"),
    ];
    out.extend(
        n.acl
            .custom
            .iter()
            .map(|(m, p)| entry(*p, json!(m), "custom")),
    );
    Value::Array(out)
}

/// `GET /api/v2/nodes/{id}/permissions`.
pub async fn list(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, NOT_FOUND)?;
    let entries: Vec<Value> = acl_entries(n)
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| json!({"data": {"permissions": e}}))
        .collect();
    let page = Page::from(req.params.i64("page")?, req.params.i64("limit")?, 100);
    Ok(v2_results(
        &format!("/api/v2/nodes/{id}/permissions"),
        page.slice(&entries),
    ))
}

/// `GET /api/v2/nodes/{id}/permissions/effective/{member_id}`: anyone may ask about themselves;
/// asking about someone else needs `edit_permissions`.
pub async fn effective_of(
    State(sim): State<AppState>,
    Path((id, member)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let member = parse_id(&member, "right_id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, NOT_FOUND)?;
    if member != caller.id {
        require(&store, &caller, n, "edit_permissions")?;
    }
    if !store.users.contains_key(&member) && !store.groups.contains_key(&member) {
        return Err(ApiError::bad_request(format!(
            "Invalid datatype specified for argument 'right_id': member {member} does not exist"
        )));
    }
    let p = effective(&store, n, member);
    Ok(v2_single(
        "GET",
        &format!("/api/v2/nodes/{id}/permissions/effective/{member}"),
        json!({"data": {"permissions": entry(p, json!(member), "custom")}}),
    ))
}

fn parse_perms(req: &ApiReq) -> Result<Perms, ApiError> {
    let names: Vec<String> = match req.params.get("permissions") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => match serde_json::from_str::<Vec<String>>(&s) {
            Ok(v) => v,
            Err(_) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
        },
        _ => return Err(crate::nodes::missing_param("permissions")),
    };
    Perms::from_names(&names).map_err(ApiError::bad_request)
}

/// Applies `f` to the node and, per `apply_to` (0 item, 1 sub-items, 2 both, 3 item + children),
/// to its sub-items; each changed node gets a "Permission Changed" audit record.
fn apply(store: &mut Store, id: i64, apply_to: i64, user: i64, f: impl Fn(&mut Node)) {
    let mut targets = Vec::new();
    if apply_to != 1 {
        targets.push(id);
    }
    match apply_to {
        1 | 2 => targets.extend(store.descendants(id)),
        3 => targets.extend(store.children(id).map(|c| c.id).collect::<Vec<_>>()),
        _ => {}
    }
    for t in targets {
        if let Some(n) = store.live_mut(t) {
            f(n);
        }
        store.audit(t, audit_events::PERMISSION_CHANGED, user, "assigned access");
    }
}

async fn set_custom(
    sim: AppState,
    id: String,
    member: Option<String>,
    req: ApiReq,
    remove: bool,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let member = match member {
        Some(m) => parse_id(&m, "right_id")?,
        None => req
            .params
            .i64("right_id")?
            .ok_or_else(|| crate::nodes::missing_param("right_id"))?,
    };
    let perms = if remove {
        Perms::NONE
    } else {
        parse_perms(&req)?
    };
    let apply_to = req.params.i64("apply_to")?.unwrap_or(0);
    let mut store = sim.write();
    let n = visible(&store, &caller, id, NOT_FOUND)?;
    require(&store, &caller, n, "edit_permissions")?;
    if !store.users.contains_key(&member) && !store.groups.contains_key(&member) {
        return Err(ApiError::bad_request(format!(
            "Member {member} does not exist"
        )));
    }
    apply(&mut store, id, apply_to, caller.id, |n| {
        n.acl.custom.retain(|(m, _)| *m != member);
        if !remove {
            n.acl.custom.push((member, perms));
        }
    });
    Ok(v2_single(
        "POST",
        &format!("/api/v2/nodes/{id}/permissions/custom"),
        json!({}),
    ))
}

/// `POST /api/v2/nodes/{id}/permissions/custom` with `body`=`{"right_id","permissions","apply_to"}`.
pub async fn add_custom(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    set_custom(sim, id, None, req, false).await
}

/// `PUT /api/v2/nodes/{id}/permissions/custom/{right_id}`.
pub async fn update_custom(
    State(sim): State<AppState>,
    Path((id, member)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    set_custom(sim, id, Some(member), req, false).await
}

/// `DELETE /api/v2/nodes/{id}/permissions/custom/{right_id}`.
pub async fn delete_custom(
    State(sim): State<AppState>,
    Path((id, member)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    set_custom(sim, id, Some(member), req, true).await
}
