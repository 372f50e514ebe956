//! Document versions: list, get one, latest (v1), add (v1 and v2). Numbers count from 1.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::content::Content;
use crate::content::take_content;
use crate::envelope::{Page, node_properties, v2_list, v2_single, version_json};
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::Version;
use crate::nodes::{child_count, missing_param};
use crate::perms::{parse_id, require, visible};
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::{audit_events, new_token, now_iso};

const NOT_FOUND_400: Missing = Missing::Access(axum::http::StatusCode::BAD_REQUEST);

pub fn new_version(
    number: i64,
    c: Content,
    owner: i64,
    description: String,
    major: bool,
) -> Version {
    Version {
        number,
        file_name: c.file_name,
        size: c.size,
        sha256: c.sha256,
        mime_type: c.mime_type,
        blob: c.blob,
        create_date: now_iso(),
        owner_id: owner,
        description,
        major,
        external_source: None,
        external_identity: None,
        external_identity_type: None,
        external_create_date: None,
        external_modify_date: None,
    }
}

/// `GET /api/v2/nodes/{id}/versions?page&limit&order=asc|desc`.
pub async fn list(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, NOT_FOUND_400)?;
    let mut all: Vec<Value> = n
        .versions
        .iter()
        .map(|v| json!({"data": {"versions": version_json(n, v)}}))
        .collect();
    let desc = req
        .params
        .str("order")
        .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
    if desc {
        all.reverse();
    }
    let page = Page::from(req.params.i64("page")?, req.params.i64("limit")?, 100);
    let sort = if desc {
        "desc_version_number"
    } else {
        "asc_version_number"
    };
    Ok(v2_list(
        &format!("/api/v2/nodes/{id}/versions"),
        page.paging(all.len()),
        sort,
        page.slice(&all),
    ))
}

/// `GET /api/v2/nodes/{id}/versions/{n}` → `results.data.versions`.
pub async fn get_one(
    State(sim): State<AppState>,
    Path((id, num)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let num = parse_id(&num, "version_number")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, NOT_FOUND_400)?;
    let v = n
        .versions
        .iter()
        .find(|v| v.number == num)
        .ok_or_else(|| ApiError::missing(NOT_FOUND_400, id))?;
    Ok(v2_single(
        "GET",
        &format!("/api/v2/nodes/{id}/versions/{num}"),
        json!({"data": {"versions": version_json(n, v)}}),
    ))
}

/// `GET /api/v1/nodes/{id}/versions/latest` → `{"data":{…}}` (v1 has the alias, v2 does not).
pub async fn latest_v1(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, NOT_FOUND_400)?;
    let v = n
        .latest()
        .ok_or_else(|| ApiError::missing(NOT_FOUND_400, id))?;
    Ok(Json(json!({"data": version_json(n, v)})).into_response())
}

/// Adds a version; shared by v1 and v2. Adding is allowed under hold (only deletion is not).
fn add(sim: &AppState, id: &str, mut req: ApiReq) -> Result<(i64, i64), ApiError> {
    let caller = req.caller()?;
    let id = parse_id(id, "id")?;
    let p = &req.params;
    let description = p.str("description").unwrap_or_default();
    if description.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "The version description may not exceed 255 characters.",
        ));
    }
    let major = p.bool("add_major_version").unwrap_or(false);
    let upload_key = p.str("upload_key").filter(|k| !k.is_empty());
    let ext = |k: &str| p.str(k).filter(|s| !s.is_empty());
    let (src, ident, ident_type, ext_c, ext_m) = (
        ext("external_source"),
        ext("external_identity"),
        ext("external_identity_type"),
        ext("external_create_date"),
        ext("external_modify_date"),
    );
    if req.file.is_none() && upload_key.is_none() {
        return Err(missing_param("file"));
    }
    let file = req.file.take();
    let mut store = sim.write();
    let n = visible(&store, &caller, id, NOT_FOUND_400)?;
    require(&store, &caller, n, "modify")?;
    if major {
        require(&store, &caller, n, "add_major_version")?;
    }
    if n.node_type != 144 {
        return Err(ApiError::bad_request(
            "Could not process object, invalid action 'addversion'",
        ));
    }
    let mut content = take_content(sim, caller.id, file, upload_key.as_deref())?;
    if content.file_name.is_empty() {
        content.file_name = n.name.clone();
    }
    let number = n.versions.last().map(|v| v.number).unwrap_or(0) + 1;
    let mut v = new_version(number, content, caller.id, description, major);
    v.external_source = src;
    v.external_identity = ident;
    v.external_identity_type = ident_type;
    v.external_create_date = ext_c;
    v.external_modify_date = ext_m;
    let size = v.size;
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(NOT_FOUND_400, id))?;
    node.versions.push(v);
    node.modify_date = now_iso();
    node.modify_user_id = caller.id;
    node.metadata_token = new_token();
    store.audit(
        id,
        audit_events::ADD_VERSION,
        caller.id,
        format!("version {number}, {size} bytes"),
    );
    Ok((id, number))
}

/// `POST /api/v2/nodes/{id}/versions` (multipart `file` or `upload_key`).
pub async fn add_v2(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let (id, number) = add(&sim, &id, req)?;
    let store = sim.read();
    let n = &store.nodes[&id];
    let v = n
        .versions
        .iter()
        .find(|v| v.number == number)
        .ok_or_else(|| ApiError::server("version vanished"))?;
    Ok(v2_single(
        "POST",
        &format!("/api/v2/nodes/{id}/versions"),
        json!({"data": {"properties": node_properties(n, child_count(&store, id)), "versions": version_json(n, v)}}),
    ))
}

/// `POST /api/v1/nodes/{id}/versions` → `{"id","version_number"}`.
pub async fn add_v1(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let (id, number) = add(&sim, &id, req)?;
    Ok(Json(json!({"id": id, "version_number": number})).into_response())
}

/// `DELETE /api/v2/nodes/{id}/versions?number_to_keep=N` (`purgeVersion`): keeps the newest N
/// versions (default 1). Refused while a hold applies, like deleting the node.
pub async fn purge(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let keep = match req.params.i64("number_to_keep")? {
        None => 1,
        Some(k) if k >= 1 => k as usize,
        Some(_) => return Err(ApiError::server("Invalid value for NumberToKeep")),
    };
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Server)?;
    require(&store, &caller, n, "delete_versions")?;
    if n.node_type != 144 {
        return Err(ApiError::server(format!(
            "Could not process object, type '{}' has no role 'versions'",
            n.node_type
        )));
    }
    if let Some((hold_id, _)) = store.holds_in_force(id).first() {
        let hold = store
            .holds
            .get(hold_id)
            .map(|h| h.name.clone())
            .unwrap_or_default();
        return Err(ApiError::bad_request(format!(
            "Could not process object, invalid action 'purge versions'. '{}' is on hold ({hold}).",
            n.name
        )));
    }
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(NOT_FOUND_400, id))?;
    let purged = node.versions.len().saturating_sub(keep);
    let removed: Vec<Version> = node.versions.drain(..purged).collect();
    node.modify_date = now_iso();
    node.modify_user_id = caller.id;
    node.metadata_token = new_token();
    for v in &removed {
        // Content of a purged version is gone for good.
        let _ = std::fs::remove_file(&v.blob);
    }
    store.audit(
        id,
        audit_events::DELETE,
        caller.id,
        format!("purged {purged} version(s), kept {keep}"),
    );
    Ok(v2_single(
        "DELETE",
        &format!("/api/v2/nodes/{id}/versions"),
        json!([]),
    ))
}
