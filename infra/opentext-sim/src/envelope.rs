//! Response envelopes (REFERENCE §0): v1 `{"data":…}`, v2 single `{"links","results":{…}}`,
//! v2 list `{"collection":{"paging","sorting"},"links","results":[…]}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::model::{Node, Version};

pub fn self_link(method: &str, href: &str) -> Value {
    json!({"data": {"self": {"body": "", "content_type": "", "href": href, "method": method, "name": ""}}})
}

/// v2 single item: `results` is an object (the spec's array typing is wrong, REFERENCE §0).
pub fn v2_single(method: &str, href: &str, results: Value) -> Response {
    Json(json!({"links": self_link(method, href), "results": results})).into_response()
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: usize,
    pub limit: usize,
}

impl Page {
    /// `page` is 1-based; out-of-range values fall back to defaults rather than erroring.
    pub fn from(page: Option<i64>, limit: Option<i64>, default_limit: usize) -> Page {
        Page {
            page: page.filter(|p| *p >= 1).map(|p| p as usize).unwrap_or(1),
            limit: limit
                .filter(|l| *l >= 1)
                .map(|l| l as usize)
                .unwrap_or(default_limit),
        }
    }

    pub fn slice<T: Clone>(&self, all: &[T]) -> Vec<T> {
        let start = (self.page - 1).saturating_mul(self.limit);
        all.iter().skip(start).take(self.limit).cloned().collect()
    }

    /// `collection.paging` as v2 lists report it.
    pub fn paging(&self, total: usize) -> Value {
        let page_total = if total == 0 {
            1
        } else {
            total.div_ceil(self.limit)
        };
        let start = (self.page - 1) * self.limit;
        let shown = total.saturating_sub(start).min(self.limit);
        let (range_min, range_max) = if shown == 0 {
            (0, 0)
        } else {
            (start + 1, start + shown)
        };
        json!({
            "page": self.page, "limit": self.limit, "page_total": page_total,
            "range_min": range_min, "range_max": range_max, "total_count": total,
        })
    }
}

impl Page {
    /// RM v2 lists report only `limit, page, page_total, total_count` (RM spec `Paging`).
    pub fn rm_paging(&self, total: usize) -> Value {
        let mut p = self.paging(total);
        if let Some(m) = p.as_object_mut() {
            m.remove("range_min");
            m.remove("range_max");
        }
        p
    }
}

pub fn v2_list(href: &str, paging: Value, sort: &str, results: Vec<Value>) -> Response {
    Json(json!({
        "collection": {"paging": paging, "sorting": {"sort": [{"key": "sort", "value": sort}]}},
        "links": self_link("GET", href),
        "results": results,
    }))
    .into_response()
}

/// v2 list without paging (categories, permissions): `{"links","results":[…]}`.
pub fn v2_results(href: &str, results: Vec<Value>) -> Response {
    Json(json!({"links": self_link("GET", href), "results": results})).into_response()
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref()
        .map(|s| Value::String(s.clone()))
        .unwrap_or(Value::Null)
}

/// Node properties as v2 (and, with a few extras, v1) report them.
pub fn node_properties(n: &Node, child_count: usize) -> Value {
    let latest = n.latest();
    json!({
        "id": n.id,
        "parent_id": n.parent_id,
        "volume_id": -2000,
        "name": n.name,
        "name_multilingual": {"en": n.name},
        "description": n.description,
        "description_multilingual": {"en": n.description},
        "type": n.node_type,
        "type_name": n.type_name(),
        "container": n.is_container(),
        "container_size": if n.is_container() { child_count } else { 0 },
        "size": if n.is_container() { json!(child_count) } else { json!(latest.map(|v| v.size).unwrap_or(0)) },
        "size_formatted": if n.is_container() { format!("{child_count} Items") } else { format_size(latest.map(|v| v.size).unwrap_or(0)) },
        "mime_type": latest.map(|v| Value::String(v.mime_type.clone())).unwrap_or(Value::Null),
        "create_date": n.create_date,
        "create_user_id": n.create_user_id,
        "modify_date": n.modify_date,
        "modify_user_id": n.modify_user_id,
        "owner_user_id": n.owner_user_id,
        "owner_group_id": n.owner_group_id,
        "owner": n.owner_user_id,
        "external_source": opt(&n.external_source),
        "external_identity": opt(&n.external_identity),
        "external_identity_type": opt(&n.external_identity_type),
        "external_create_date": opt(&n.external_create_date),
        "external_modify_date": opt(&n.external_modify_date),
        "reserved": false,
        "reserved_user_id": 0,
        "reserved_date": null,
        "versionable": n.node_type == 144,
        "advanced_versioning": false,
        "versions_control_advanced": false,
        "hidden": false,
        "permissions_model": "advanced",
        "status": null,
        "favorite": false,
    })
}

fn format_size(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{} KB", b.div_ceil(1 << 10)),
        b => format!("{b} bytes"),
    }
}

/// Version fields (REFERENCE §2.2); `version_number` counts from 1.
pub fn version_json(n: &Node, v: &Version) -> Value {
    json!({
        "id": n.id,
        "version_id": n.id * 1000 + v.number,
        "version_number": v.number,
        "version_number_major": if v.major { v.number } else { 0 },
        "version_number_minor": if v.major { 0 } else { v.number },
        "version_major_number": if v.major { v.number } else { 0 },
        "version_minor_number": if v.major { 0 } else { v.number },
        "version_number_name": v.number.to_string(),
        "name": n.name,
        "file_name": v.file_name,
        "file_size": v.size,
        "file_type": v.file_name.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default(),
        "mime_type": v.mime_type,
        "description": v.description,
        "create_date": v.create_date,
        "modify_date": v.create_date,
        "file_create_date": v.create_date,
        "file_modify_date": v.create_date,
        "owner_id": v.owner_id,
        "provider_id": n.id * 1000 + v.number,
        "provider_name": "sim-efs",
        "locked": false,
        "locked_date": null,
        "locked_user_id": null,
        "has_generation": false,
        "external_source": opt(&v.external_source),
        "external_identity": opt(&v.external_identity),
        "external_identity_type": opt(&v.external_identity_type),
        "external_create_date": opt(&v.external_create_date),
        "external_modify_date": opt(&v.external_modify_date),
    })
}
