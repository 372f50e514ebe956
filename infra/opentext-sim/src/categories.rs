//! Categories: flat `{cat}_{attr}` values, validated against the seeded definitions.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use serde_json::{Map, Value, json};

use crate::envelope::{v2_results, v2_single};
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::{AttributeDef, CategoryDef, Node};
use crate::perms::{parse_id, require, visible};
use crate::request::{ApiReq, Params};
use crate::state::AppState;
use crate::store::{Store, audit_events, new_token, now_iso};

type Values = Vec<(String, Value)>;

fn cat_of(key: &str) -> Option<i64> {
    key.split('_').next()?.parse().ok()
}

/// `roles.categories` given at creation: flat (v2) or nested per category (v1 style).
pub fn roles_categories(p: &Params) -> Result<Vec<(i64, Values)>, ApiError> {
    let roles = match p.get("roles") {
        Some(Value::String(s)) if !s.trim().is_empty() => serde_json::from_str(&s)
            .map_err(|_| ApiError::bad_request("Body parameter is invalid: 'roles' is not JSON"))?,
        Some(v @ Value::Object(_)) => v,
        _ => return Ok(Vec::new()),
    };
    let Some(cats) = roles.get("categories").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut out: BTreeMap<i64, Values> = BTreeMap::new();
    for (k, v) in cats {
        let cat = cat_of(k).ok_or_else(|| {
            ApiError::bad_request(format!("Invalid attribute entry found: '{k}'"))
        })?;
        match v {
            // Nested (v1): {"3100": {"3100_2": "x"}}
            Value::Object(inner) if !k.contains('_') => out
                .entry(cat)
                .or_default()
                .extend(inner.iter().map(|(a, b)| (a.clone(), b.clone()))),
            _ => out.entry(cat).or_default().push((k.clone(), v.clone())),
        }
    }
    Ok(out.into_iter().collect())
}

/// Form/body fields for one category: every key starting with `{cat}_`.
pub fn values_from_params(p: &Params, cat: i64) -> Values {
    let prefix = format!("{cat}_");
    p.keys()
        .into_iter()
        .filter(|k| k.starts_with(&prefix))
        .filter_map(|k| p.get(&k).map(|v| (k, v)))
        .collect()
}

fn coerce(def: &AttributeDef, key: &str, v: &Value) -> Result<Value, String> {
    let bad = || {
        format!(
            "Invalid value {v} for attribute '{}' ({key}): expected {}",
            def.name, def.kind
        )
    };
    if let Value::Array(items) = v {
        if !def.multi_value {
            return Err(format!(
                "Attribute '{}' ({key}) takes a single value",
                def.name
            ));
        }
        return items
            .iter()
            .map(|i| coerce(def, key, i))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if v.is_null() || v.as_str().is_some_and(|s| s.is_empty()) {
        return Ok(Value::Null);
    }
    match def.kind.as_str() {
        "integer" => match v {
            Value::Number(n) if n.is_i64() => Ok(v.clone()),
            Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| bad()),
            _ => Err(bad()),
        },
        "boolean" => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if matches!(s.as_str(), "true" | "false") => {
                Ok(Value::Bool(s == "true"))
            }
            _ => Err(bad()),
        },
        "date" => {
            let s = v.as_str().ok_or_else(bad)?;
            let d = s.get(..10).ok_or_else(bad)?;
            let ok = d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-';
            if ok { Ok(v.clone()) } else { Err(bad()) }
        }
        _ => match v {
            Value::String(_) => Ok(v.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(v.to_string())),
            _ => Err(bad()),
        },
    }
}

/// Checks keys and types; returns the category's full value map (unset attributes are null).
pub fn validate(
    def: &CategoryDef,
    base: Option<&BTreeMap<String, Value>>,
    values: &Values,
) -> Result<BTreeMap<String, Value>, String> {
    let mut out: BTreeMap<String, Value> = base.cloned().unwrap_or_else(|| {
        def.attributes
            .iter()
            .map(|a| (format!("{}_{}", def.id, a.id), Value::Null))
            .collect()
    });
    for (key, v) in values {
        let attr = key.strip_prefix(&format!("{}_", def.id)).unwrap_or("");
        if attr == "1" {
            continue; // the category itself (`{}` or a metadata token)
        }
        let def_attr = attr
            .parse::<i64>()
            .ok()
            .and_then(|a| def.attributes.iter().find(|x| x.id == a))
            .ok_or_else(|| {
                format!(
                    "Invalid attribute entry found: '{key}' is not an attribute of '{}'",
                    def.name
                )
            })?;
        out.insert(key.clone(), coerce(def_attr, key, v)?);
    }
    Ok(out)
}

pub fn validate_all(
    store: &Store,
    cats: Vec<(i64, Values)>,
) -> Result<BTreeMap<i64, BTreeMap<String, Value>>, String> {
    let mut out = BTreeMap::new();
    for (cat, values) in cats {
        let def = store
            .categories
            .get(&cat)
            .ok_or_else(|| format!("Category {cat} does not exist"))?;
        out.insert(cat, validate(def, None, &values)?);
    }
    Ok(out)
}

/// All applied categories as one flat map (`fields=categories`).
pub fn category_fields_json(n: &Node) -> Value {
    let mut m = Map::new();
    for (cat, vals) in &n.categories {
        m.insert(format!("{cat}_1"), json!({}));
        m.extend(vals.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Object(m)
}

fn attr_meta(def: &CategoryDef, a: &AttributeDef) -> Value {
    let (code, name) = match a.kind.as_str() {
        "integer" => (2, "Integer"),
        "date" => (-7, "Date"),
        "boolean" => (5, "Boolean"),
        _ => (-1, "String"),
    };
    json!({"key": format!("{}_{}", def.id, a.id), "name": a.name, "type": code, "type_name": name,
           "required": a.required, "multi_value": a.multi_value, "persona": "", "read_only": false})
}

fn category_result(def: &CategoryDef, vals: &BTreeMap<String, Value>, with_meta: bool) -> Value {
    let mut cats = Map::new();
    cats.insert(format!("{}_1", def.id), json!({}));
    cats.extend(vals.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut r = json!({"data": {"categories": cats}});
    if with_meta {
        let mut meta = Map::new();
        meta.insert(def.id.to_string(), json!({"key": def.id.to_string(), "name": def.name, "type": -18, "type_name": "Category"}));
        let mut order = vec![def.id.to_string()];
        for a in &def.attributes {
            meta.insert(format!("{}_{}", def.id, a.id), attr_meta(def, a));
            order.push(format!("{}_{}", def.id, a.id));
        }
        r["metadata"] = json!({"categories": meta});
        r["metadata_order"] = json!({"categories": order});
    }
    r
}

/// `GET /api/v2/nodes/{id}/categories[?metadata]`.
pub async fn list(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, Missing::Server)?;
    let meta = req.params.flag("metadata");
    let results: Vec<Value> = n
        .categories
        .iter()
        .filter_map(|(cat, vals)| {
            store
                .categories
                .get(cat)
                .map(|d| category_result(d, vals, meta))
        })
        .collect();
    Ok(v2_results(
        &format!("/api/v2/nodes/{id}/categories"),
        results,
    ))
}

/// `GET /api/v2/nodes/{id}/categories/{cat}`.
pub async fn get_one(
    State(sim): State<AppState>,
    Path((id, cat)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let (id, cat) = (
        parse_id(&id, "id")?,
        parse_id(cat.trim_end_matches('/'), "category_id")?,
    );
    let store = sim.read();
    let n = visible(&store, &caller, id, Missing::Server)?;
    let (def, vals) = applied(&store, n, cat)?;
    let r = category_result(def, vals, req.params.flag("metadata"));
    Ok(v2_single(
        "GET",
        &format!("/api/v2/nodes/{id}/categories/{cat}"),
        r,
    ))
}

fn applied<'a>(
    store: &'a Store,
    n: &'a Node,
    cat: i64,
) -> Result<(&'a CategoryDef, &'a BTreeMap<String, Value>), ApiError> {
    match (store.categories.get(&cat), n.categories.get(&cat)) {
        (Some(d), Some(v)) => Ok((d, v)),
        _ => Err(ApiError::bad_request(format!(
            "Category ID '{cat}' is not a category on node '{}'",
            n.id
        ))),
    }
}

/// `POST /api/v2/nodes/{id}/categories`: `category_id` plus `{cat}_{attr}` fields.
pub async fn add(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let cat = req
        .params
        .i64("category_id")?
        .ok_or_else(|| crate::nodes::missing_param("category_id"))?;
    let values = values_from_params(&req.params, cat);
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Server)?;
    require(&store, &caller, n, "edit_attributes")?;
    let def = store.categories.get(&cat).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid datatype specified for argument 'category_id': {cat} is not a category"
        ))
    })?;
    if n.categories.contains_key(&cat) {
        return Err(ApiError::bad_request(format!(
            "The attribute group '{}' already exists",
            def.name
        )));
    }
    let vals = validate(def, None, &values).map_err(ApiError::bad_request)?;
    save(
        &mut store,
        id,
        cat,
        Some(vals),
        caller.id,
        audit_events::CATEGORY_ADDED,
    );
    Ok(v2_single(
        "POST",
        &format!("/api/v2/nodes/{id}/categories"),
        json!({}),
    ))
}

/// `PUT /api/v2/nodes/{id}/categories/{cat}`: updates the given attributes only.
pub async fn update(
    State(sim): State<AppState>,
    Path((id, cat)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let (id, cat) = (
        parse_id(&id, "id")?,
        parse_id(cat.trim_end_matches('/'), "category_id")?,
    );
    let values = values_from_params(&req.params, cat);
    if values.is_empty() {
        return Err(ApiError::bad_request(
            "Parameters are required for PUT, POST, and DELETE requests",
        ));
    }
    let token = req.params.str("metadata_token").filter(|t| !t.is_empty());
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Server)?;
    require(&store, &caller, n, "edit_attributes")?;
    if token.is_some_and(|t| t != n.metadata_token) {
        return Err(ApiError::conflict(
            "Could not update metadata (edit conflict).",
        ));
    }
    let (def, current) = applied(&store, n, cat)?;
    let vals = validate(def, Some(current), &values).map_err(ApiError::bad_request)?;
    save(
        &mut store,
        id,
        cat,
        Some(vals),
        caller.id,
        audit_events::ATTRIBUTE_VALUE_CHANGED,
    );
    Ok(v2_single(
        "PUT",
        &format!("/api/v2/nodes/{id}/categories/{cat}"),
        json!({}),
    ))
}

/// `DELETE /api/v2/nodes/{id}/categories/{cat}`.
pub async fn remove(
    State(sim): State<AppState>,
    Path((id, cat)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let (id, cat) = (
        parse_id(&id, "id")?,
        parse_id(cat.trim_end_matches('/'), "category_id")?,
    );
    let mut store = sim.write();
    let n = visible(&store, &caller, id, Missing::Server)?;
    require(&store, &caller, n, "edit_attributes")?;
    applied(&store, n, cat)?;
    save(
        &mut store,
        id,
        cat,
        None,
        caller.id,
        audit_events::CATEGORY_REMOVED,
    );
    Ok(v2_single(
        "DELETE",
        &format!("/api/v2/nodes/{id}/categories/{cat}"),
        json!({}),
    ))
}

fn save(
    store: &mut Store,
    id: i64,
    cat: i64,
    vals: Option<BTreeMap<String, Value>>,
    user: i64,
    ev: (i64, &str),
) {
    if let Some(n) = store.live_mut(id) {
        match vals {
            Some(v) => n.categories.insert(cat, v),
            None => n.categories.remove(&cat),
        };
        n.modify_date = now_iso();
        n.modify_user_id = user;
        n.metadata_token = new_token();
    }
    store.audit(id, ev, user, format!("category {cat}"));
}
