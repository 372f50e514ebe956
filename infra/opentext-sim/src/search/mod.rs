//! `POST /api/v2/search` (CS REST `GetRegionsInfo2`; REFERENCE §5): form fields `where` (the
//! LQL subset of [`lql`]), `page` (1-based), `limit` (default 10), `sort`
//! (`asc_|desc_` + `OTName` / `OTObjectDate` / `OTObjectID`; default: id order, the sim's
//! "relevance"), `select` (`{'OTName','OTObjectDate',…}`: the regions to return). Other fields
//! (`lookfor`, `within`, `options`, …) are accepted and ignored.
//!
//! The answer follows `search_SearchInfo`: `collection.{paging,searching,sorting}`, `links`,
//! `results[]{data:{properties,versions?,regions},search_result_metadata}`. Only live nodes the
//! caller may `see` are found. A real index lags behind writes; the sim answers at once.

pub mod lql;

use std::sync::atomic::{AtomicI64, Ordering};

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use crate::envelope::{Page, node_properties, self_link, version_json};
use crate::error::{ApiError, ApiResult};
use crate::model::Node;
use crate::nodes::child_count;
use crate::perms::effective;
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::Store;

static CACHE_ID: AtomicI64 = AtomicI64::new(1);

const REGIONS: [&str; 5] = [
    "OTName",
    "OTObjectDate",
    "OTSubType",
    "OTParentID",
    "OTObjectID",
];

fn regions(n: &Node, wanted: &[String], tz: time::UtcOffset) -> Value {
    let mut m = Map::new();
    for r in wanted {
        let v = match r.as_str() {
            "OTName" => json!(n.name),
            "OTObjectDate" => json!(
                lql::object_date(n, tz)
                    .map(|d| format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day()))
                    .unwrap_or_default()
            ),
            "OTSubType" => json!(n.node_type.to_string()),
            "OTParentID" => json!(n.parent_id.to_string()),
            "OTObjectID" => json!(n.id.to_string()),
            _ => continue,
        };
        m.insert(r.clone(), v);
    }
    Value::Object(m)
}

/// `select`: region names in quotes or separated by commas; unknown ones are left out.
fn selected(raw: Option<String>) -> Vec<String> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return REGIONS.iter().map(|s| s.to_string()).collect();
    };
    raw.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|s| REGIONS.contains(s))
        .map(str::to_string)
        .collect()
}

fn sort(found: &mut [&Node], sort: &str, tz: time::UtcOffset) -> Result<String, ApiError> {
    let (desc, key) = match sort.split_once('_') {
        Some(("desc", k)) => (true, k),
        Some(("asc", k)) => (false, k),
        _ => (false, sort),
    };
    match key {
        "" | "relevance" => return Ok("relevance".into()),
        "OTName" => found.sort_by_key(|n| (n.name.to_lowercase(), n.id)),
        "OTObjectDate" => {
            found.sort_by_key(|n| (lql::object_date(n, tz), n.create_date.clone(), n.id))
        }
        "OTObjectID" => found.sort_by_key(|n| n.id),
        other => {
            return Err(ApiError::bad_request(format!(
                "Invalid sort '{other}': the simulator sorts by OTName, OTObjectDate or OTObjectID"
            )));
        }
    }
    if desc {
        found.reverse();
    }
    Ok(format!("{}_{key}", if desc { "desc" } else { "asc" }))
}

fn result(store: &Store, n: &Node, wanted: &[String], tz: time::UtcOffset) -> Value {
    let mut data = json!({
        "properties": node_properties(n, child_count(store, n.id)),
        "regions": regions(n, wanted, tz),
    });
    let version = n.latest().map(|v| v.number).unwrap_or(0);
    if let Some(v) = n.latest() {
        data["versions"] = version_json(n, v);
    }
    json!({
        "data": data,
        "links": {"parent": {"id": n.parent_id}},
        "search_result_metadata": {
            "current_version": true,
            "object_href": format!("/api/v2/nodes/{}", n.id),
            "object_id": format!("DataId={}&Version={version}", n.id),
            "result_type": 264, "source_id": 0,
            "version_type": if version > 0 { Value::from("current") } else { Value::Null },
        },
    })
}

pub async fn search(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let p = &req.params;
    let clauses = lql::parse(&p.str("where").unwrap_or_default())?;
    let page = Page::from(p.i64("page")?, p.i64("limit")?, 10);
    let wanted = selected(p.str("select"));
    let tz = sim.time_zone;
    let store = sim.read();
    let mut found: Vec<&Node> = store
        .nodes
        .values()
        .filter(|n| !n.deleted && lql::matches(n, &clauses, tz))
        .filter(|n| effective(&store, n, caller.id).has("see"))
        .collect();
    let sort_label = sort(&mut found, &p.str("sort").unwrap_or_default(), tz)?;
    let results: Vec<Value> = page
        .slice(&found)
        .into_iter()
        .map(|n| result(&store, n, &wanted, tz))
        .collect();
    let mut paging = page.paging(found.len());
    let (lo, hi) = (paging["range_min"].clone(), paging["range_max"].clone());
    paging["result_header_string"] = json!(format!("Results {lo} to {hi} of {}", found.len()));
    let cache_id = CACHE_ID.fetch_add(1, Ordering::Relaxed);
    Ok(Json(json!({
        "collection": {
            "paging": paging,
            "searching": {"cache_id": cache_id, "result_title": "Search Results", "regions_order": wanted,
                "regions_metadata": {}, "facets": {}},
            "sorting": {"sort": [sort_label]},
        },
        "links": self_link("POST", "/api/v2/search"),
        "results": results,
    }))
    .into_response())
}
