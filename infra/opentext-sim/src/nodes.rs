//! Node calls: create (v2), get (v1, v2), browse children, update/move, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::categories::roles_categories;
use crate::content::{Content, take_content};
use crate::envelope::{Page, node_properties, v2_list, v2_single};
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::{Acl, Node};
use crate::node_view::{Fields, fields, metadata_section, node_data};
use crate::perms::{effective, parse_id, require, visible};
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::{Store, audit_events, new_token, now_iso};
use crate::versions::new_version;

pub const MAX_NAME: usize = 248;

pub fn child_count(store: &Store, id: i64) -> usize {
    store.children(id).count()
}

/// `POST /api/v2/nodes`: folders (form or multipart) and documents (`file` or `upload_key`).
pub async fn create(State(sim): State<AppState>, mut req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let p = &req.params;
    let node_type = p.i64("type")?.ok_or_else(|| missing_param("type"))?;
    let parent_id = p
        .i64("parent_id")?
        .ok_or_else(|| missing_param("parent_id"))?;
    let name = p
        .str("name")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let name = name.ok_or_else(|| missing_param("name"))?;
    let type_name = match node_type {
        0 => "Folder",
        144 => "Document",
        140 => "URL",
        t => return Err(ApiError::bad_request(format!("Subtype {t} not registered"))),
    };
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "Could not create a new {type_name}. The name may not exceed {MAX_NAME} characters."
        )));
    }
    let categories = roles_categories(p)?;
    let upload_key = p.str("upload_key").filter(|k| !k.is_empty());
    if node_type == 144 && req.file.is_none() && upload_key.is_none() {
        return Err(missing_param("file"));
    }
    let description = p.str("description").unwrap_or_default();
    let ext = |k: &str| p.str(k).filter(|s| !s.is_empty());
    let (src, ident, ident_type, ext_c, ext_m) = (
        ext("external_source"),
        ext("external_identity"),
        ext("external_identity_type"),
        ext("external_create_date"),
        ext("external_modify_date"),
    );
    let version_desc = p.str("version_description").unwrap_or_default();
    let file = req.file.take();

    let mut store = sim.write();
    let parent = visible(
        &store,
        &caller,
        parent_id,
        Missing::Access(axum::http::StatusCode::BAD_REQUEST),
    )?;
    if !parent.is_container() {
        return Err(ApiError::bad_request(format!(
            "Could not create a new {type_name}"
        )));
    }
    require(&store, &caller, parent, "add_items")?;
    if store.name_taken(parent_id, &name, None) {
        return Err(ApiError::server(format!(
            "An item with the name '{name}' already exists."
        )));
    }
    let validated = crate::categories::validate_all(&store, categories)
        .map_err(|m| ApiError::bad_request(format!("Could not create a new {type_name}. {m}")))?;
    let acl = Acl {
        ..parent.acl.clone()
    };
    let owner_group_id = store.users.get(&caller.id).map(|u| u.group_id).unwrap_or(0);
    let content: Option<Content> = if node_type == 144 {
        let mut c = take_content(&sim, caller.id, file, upload_key.as_deref())?;
        if c.file_name.is_empty() {
            c.file_name = name.clone();
        }
        Some(c)
    } else {
        None
    };
    let id = store.alloc_id();
    let now = now_iso();
    let mut node = Node {
        id,
        parent_id,
        name: name.clone(),
        node_type,
        description,
        create_date: now.clone(),
        modify_date: now,
        create_user_id: caller.id,
        modify_user_id: caller.id,
        owner_user_id: caller.id,
        owner_group_id,
        external_source: src.clone(),
        external_identity: ident.clone(),
        external_identity_type: ident_type.clone(),
        external_create_date: ext_c.clone(),
        external_modify_date: ext_m.clone(),
        versions: Vec::new(),
        categories: validated,
        rm: Vec::new(),
        rm_token: new_token(),
        metadata_token: new_token(),
        holds: Vec::new(),
        acl,
        deleted: false,
        audit: Vec::new(),
    };
    if let Some(c) = content {
        let mut v = new_version(1, c, caller.id, version_desc, true);
        v.external_source = src;
        v.external_identity = ident;
        v.external_identity_type = ident_type;
        v.external_create_date = ext_c;
        v.external_modify_date = ext_m;
        node.versions.push(v);
    }
    let cats: Vec<i64> = node.categories.keys().copied().collect();
    store.nodes.insert(id, node);
    store.audit(
        id,
        audit_events::CREATE,
        caller.id,
        format!("created '{name}' in {parent_id}"),
    );
    for c in cats {
        store.audit(
            id,
            audit_events::CATEGORY_ADDED,
            caller.id,
            format!("category {c}"),
        );
    }
    touch_parent(&mut store, parent_id, caller.id);
    let n = &store.nodes[&id];
    let f = Fields {
        props: None,
        versions: (node_type == 144).then_some(true),
        categories: false,
        permissions: false,
    };
    Ok(v2_single(
        "POST",
        "/api/v2/nodes",
        json!({"data": node_data(&store, n, &f)}),
    ))
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

/// `PUT /api/v2/nodes/{id}`: `name`, `description`, `parent_id` (move), `metadata_token`.
pub async fn update(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let p = &req.params;
    let new_name = p.str("name").map(|s| s.trim().to_string());
    let new_desc = p.str("description");
    let new_parent = p.i64("parent_id")?;
    let token = p.str("metadata_token").filter(|t| !t.is_empty());
    let mut store = sim.write();
    let n = visible(
        &store,
        &caller,
        id,
        Missing::Access(axum::http::StatusCode::BAD_REQUEST),
    )?;
    require(&store, &caller, n, "modify")?;
    if token.as_ref().is_some_and(|t| *t != n.metadata_token) {
        return Err(ApiError::conflict(
            "Could not update metadata (edit conflict).",
        ));
    }
    let mut events: Vec<((i64, &str), String)> = Vec::new();
    let target_parent = new_parent.unwrap_or(n.parent_id);
    if let Some(name) = &new_name {
        if name.is_empty() {
            return Err(missing_param("name"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(ApiError::bad_request(format!(
                "The name may not exceed {MAX_NAME} characters."
            )));
        }
    }
    let final_name = new_name.clone().unwrap_or_else(|| n.name.clone());
    if target_parent != n.parent_id {
        let dest = visible(
            &store,
            &caller,
            target_parent,
            Missing::Access(axum::http::StatusCode::BAD_REQUEST),
        )?;
        require(&store, &caller, dest, "add_items")?;
        if !dest.is_container()
            || target_parent == id
            || store.descendants(id).contains(&target_parent)
        {
            return Err(ApiError::bad_request(format!(
                "Could not move '{}' into {target_parent}",
                n.name
            )));
        }
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
    if new_name.as_ref().is_some_and(|nn| *nn != n.name) {
        events.push((
            audit_events::RENAME,
            format!("'{}' -> '{final_name}'", n.name),
        ));
    }
    if new_desc.as_ref().is_some_and(|d| *d != n.description) {
        events.push((audit_events::PROPERTIES_CHANGED, "description".into()));
    }
    let old_parent = n.parent_id;
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(Missing::Server, id))?;
    node.name = final_name;
    if let Some(d) = new_desc {
        node.description = d;
    }
    node.parent_id = target_parent;
    node.modify_date = now_iso();
    node.modify_user_id = caller.id;
    node.metadata_token = new_token();
    for (ev, detail) in events {
        store.audit(id, ev, caller.id, detail);
    }
    if old_parent != target_parent {
        touch_parent(&mut store, old_parent, caller.id);
        touch_parent(&mut store, target_parent, caller.id);
    }
    Ok(v2_single("PUT", &format!("/api/v2/nodes/{id}"), json!({})))
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
