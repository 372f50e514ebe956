//! Records Management record details (`/api/v1/nodes/{id}/rmclassifications`).
//! `rm_metadataToken` rotates on every change; PUT (and re-classification) must present the
//! current one or get 409.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::dates::{now_rm, rm_date};
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::{Node, RmRecord};
use crate::nodes::missing_param;
use crate::perms::{effective, parse_id, require, require_rm, visible};
use crate::request::{ApiReq, Caller, Params};
use crate::state::AppState;
use crate::store::{Store, audit_events, new_token};

/// Volume holding the classification tree (reported as `classVolumeID`).
const CLASS_VOLUME_ID: i64 = 2005;

fn stale() -> ApiError {
    ApiError::conflict(
        "Could not update metadata (edit conflict). The rm_metadataToken is missing or stale; read the record details again.",
    )
}

fn record_json(store: &Store, r: &RmRecord, primary: bool) -> Value {
    let class_name = store
        .classifications
        .get(&r.class_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    json!({
        "rmclassification_id": r.class_id, "inherited_rmclassification_id": 0, "default_rmclassification_id": 0,
        "multiple_classifications": "", "name": class_name, "type": 551, "class_selectable": true,
        "management_type": "MANAGED", "file_number": r.file_number, "rsi": r.rsi,
        "record_date": r.record_date, "status": r.status,
        "status_date": r.status_date, "received_date": r.received_date, "essential": r.essential,
        "cycle_period": r.cycle_period, "last_review_date": r.last_review_date,
        "next_review_date": r.next_review_date, "official": r.official, "storage": r.storage,
        "accession": r.accession, "subject": r.subject, "originator": r.originator,
        "addressee": r.addressee, "sent_to": r.sent_to, "establishment": r.establishment,
        "record_officer_id": 0, "records_manager_id": 0, "record_officer_name": "",
        "records_manager_name": "", "secondary_class_ids": 0, "score": 0,
        "is_primary": primary, "record_type": 1, "inherit_from": false, "extradata": "",
    })
}

fn details(store: &Store, n: &Node, caller: &Caller) -> Value {
    let can = caller.admin || store.is_member(caller.id, crate::well_known::GROUP_RECORDS_MANAGERS);
    let can = can && effective(store, n, caller.id).has("edit_attributes");
    let data: Vec<Value> =
        n.rm.iter()
            .enumerate()
            .map(|(i, r)| record_json(store, r, i == 0))
            .collect();
    json!({
        "canBeUnclassified": can && !n.rm.is_empty(), "canFinalize": can && !n.rm.is_empty(),
        "canRemoveClass": can && !n.rm.is_empty(), "canRMClassify": can,
        "classVolumeID": CLASS_VOLUME_ID, "data": data, "definitions": {},
        "fields_order": "rmclassification_id,file_number,rsi,record_date,status,status_date,essential,official,storage,accession,subject,originator",
        "fields_to_show": {}, "haveFAtoClassify": can, "inherit_from": false,
        "inheritanceMetadataUpdate": {}, "multiClass": false,
        "rm_metadataToken": n.rm_token, "showTab": true, "vitalRecordCodes": "VR",
    })
}

/// Applies the record fields present in the request (`status` or `file_status` both accepted).
/// Dates are stored as the RM API writes them, zone-less in the server's zone `tz`.
fn set_fields(
    store: &Store,
    r: &mut RmRecord,
    p: &Params,
    tz: time::UtcOffset,
) -> Result<(), ApiError> {
    let s = |k: &str| p.str(k);
    if let Some(v) = s("rsi").filter(|v| !v.is_empty()) {
        if !store.rsis.values().any(|x| x.name == v) {
            return Err(ApiError::bad_request(format!("Invalid RSI '{v}'")));
        }
        r.rsi = v;
    }
    if let Some(v) = s("status").or_else(|| s("file_status")) {
        if v != r.status {
            r.status_date = now_rm(tz);
        }
        r.status = v;
    }
    if let Some(v) = p.get("official") {
        r.official = match v {
            Value::Bool(b) => b,
            Value::Number(n) => n.as_i64() != Some(0),
            Value::String(x) => matches!(x.to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
            _ => r.official,
        };
    }
    if let Some(v) = p.i64("cycle_period")? {
        if v < 0 {
            return Err(ApiError::bad_request("Incorrect Cycle Period specified."));
        }
        r.cycle_period = v;
    }
    let dates: [(&str, &mut String); 5] = [
        ("record_date", &mut r.record_date),
        ("status_date", &mut r.status_date),
        ("received_date", &mut r.received_date),
        ("last_review_date", &mut r.last_review_date),
        ("next_review_date", &mut r.next_review_date),
    ];
    for (k, field) in dates {
        if let Some(v) = p.str(k) {
            *field = if v.trim().is_empty() {
                v
            } else {
                rm_date(&v, tz)
            };
        }
    }
    let text: [(&str, &mut String); 8] = [
        ("essential", &mut r.essential),
        ("storage", &mut r.storage),
        ("accession", &mut r.accession),
        ("subject", &mut r.subject),
        ("originator", &mut r.originator),
        ("addressee", &mut r.addressee),
        ("sent_to", &mut r.sent_to),
        ("establishment", &mut r.establishment),
    ];
    for (k, field) in text {
        if let Some(v) = p.str(k) {
            *field = v;
        }
    }
    Ok(())
}

/// `GET /api/v1/nodes/{id}/rmclassifications`.
pub async fn get(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, Missing::Rm)?;
    Ok(Json(details(&store, n, &caller)).into_response())
}

fn token_ok(n: &Node, p: &Params) -> bool {
    p.str("rm_metadataToken").is_some_and(|t| t == n.rm_token)
}

/// `POST /api/v1/nodes/{id}/rmclassifications`: applies `class_id` (+ optional record fields).
/// Re-classifying an already classified item needs the current token.
pub async fn apply(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let p = &req.params;
    let class_id = p
        .i64("class_id")?
        .ok_or_else(|| missing_param("class_id"))?;
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Rm)?;
    require_rm(&store, &caller)?;
    require(&store, &caller, n, "edit_attributes")?;
    let class = store
        .classifications
        .get(&class_id)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid RM classification {class_id}")))?;
    let given_token = p.str("rm_metadataToken").filter(|t| !t.is_empty());
    if (!n.rm.is_empty() && !token_ok(n, p)) || (given_token.is_some() && !token_ok(n, p)) {
        return Err(stale());
    }
    if n.rm.iter().any(|r| r.class_id == class_id) {
        return Err(ApiError::bad_request(format!(
            "The item is already classified under '{}'",
            class.name
        )));
    }
    let today = now_rm(sim.time_zone);
    let mut rec = RmRecord {
        class_id,
        file_number: class.file_number.clone(),
        rsi: class.rsi.clone(),
        record_date: today.clone(),
        status: class.status.clone(),
        status_date: today.clone(),
        received_date: today,
        essential: class.essential.clone(),
        storage: class.storage.clone(),
        ..RmRecord::default()
    };
    set_fields(&store, &mut rec, p, sim.time_zone)?;
    let class_name = class.name.clone();
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(Missing::Rm, id))?;
    // Single-classification model: a new class replaces the primary one.
    node.rm = vec![rec];
    node.rm_token = new_token();
    store.audit(
        id,
        audit_events::CLASSIFICATION_APPLIED,
        caller.id,
        class_name,
    );
    let n = &store.nodes[&id];
    Ok(Json(details(&store, n, &caller)).into_response())
}

/// `PUT /api/v1/nodes/{id}/rmclassifications`: record details; needs `rm_metadataToken`.
pub async fn update(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let p = &req.params;
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Rm)?;
    require_rm(&store, &caller)?;
    require(&store, &caller, n, "edit_attributes")?;
    if n.rm.is_empty() {
        return Err(ApiError::bad_request(
            "Cannot retrieve node record details: the item is not classified",
        ));
    }
    if !token_ok(n, p) {
        return Err(stale());
    }
    let mut rec = n.rm[0].clone();
    if let Some(c) = p.i64("class_id")?.filter(|c| *c != rec.class_id) {
        let class = store
            .classifications
            .get(&c)
            .ok_or_else(|| ApiError::bad_request(format!("Invalid RM classification {c}")))?;
        rec.class_id = c;
        rec.file_number = class.file_number.clone();
    }
    set_fields(&store, &mut rec, p, sim.time_zone)?;
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(Missing::Rm, id))?;
    node.rm[0] = rec;
    node.rm_token = new_token();
    store.audit(
        id,
        audit_events::RECORD_DETAILS_CHANGED,
        caller.id,
        "record details",
    );
    let n = &store.nodes[&id];
    Ok(Json(details(&store, n, &caller)).into_response())
}

/// `DELETE /api/v1/nodes/{id}/rmclassifications/{class_id}` (token optional, checked if given).
pub async fn remove(
    State(sim): State<AppState>,
    Path((id, class)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let class_id = parse_id(&class, "class_id")?;
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Rm)?;
    require_rm(&store, &caller)?;
    require(&store, &caller, n, "edit_attributes")?;
    if req
        .params
        .str("rm_metadataToken")
        .is_some_and(|t| !t.is_empty() && t != n.rm_token)
    {
        return Err(stale());
    }
    if !n.rm.iter().any(|r| r.class_id == class_id) {
        return Err(ApiError::bad_request(format!(
            "The item is not classified under {class_id}"
        )));
    }
    let node = store
        .live_mut(id)
        .ok_or_else(|| ApiError::missing(Missing::Rm, id))?;
    node.rm.retain(|r| r.class_id != class_id);
    node.rm_token = new_token();
    store.audit(
        id,
        audit_events::CLASSIFICATION_REMOVED,
        caller.id,
        format!("class {class_id}"),
    );
    let n = &store.nodes[&id];
    Ok(Json(details(&store, n, &caller)).into_response())
}
