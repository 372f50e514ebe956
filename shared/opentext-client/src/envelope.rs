//! Unwrapping OpenText's response envelopes, leniently (the OpenAPI types many
//! single objects as arrays; real servers differ by version).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Paging;

/// Deserializes `v` into `T`, naming the call on failure.
pub(crate) fn from_value<T: DeserializeOwned>(v: Value, context: &str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::unexpected(context, e.to_string()))
}

/// `results.data` of a v2 single-item answer (`results` an object, or an array of one).
pub(crate) fn v2_data(v: &Value) -> Option<&Value> {
    let results = v.get("results")?;
    let item = match results {
        Value::Array(a) => a.first()?,
        other => other,
    };
    item.get("data")
}

/// `results.data.<section>` of a v2 single-item answer.
pub(crate) fn v2_section<'a>(v: &'a Value, section: &str) -> Option<&'a Value> {
    v2_data(v)?.get(section)
}

/// `results.data.<section>` as `T`, or an error naming the call.
pub(crate) fn v2_section_as<T: DeserializeOwned>(
    v: &Value,
    section: &str,
    context: &str,
) -> Result<T> {
    let s = v2_section(v, section)
        .ok_or_else(|| Error::unexpected(context, format!("missing results.data.{section}")))?;
    from_value(s.clone(), context)
}

/// The items of a v2 list answer: `results[].data.<section>`.
pub(crate) fn v2_list_sections<T: DeserializeOwned>(
    v: &Value,
    section: &str,
    context: &str,
) -> Result<Vec<T>> {
    match v.get("results") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|it| it.get("data").and_then(|d| d.get(section)))
            .map(|s| from_value(s.clone(), context))
            .collect(),
        // Some servers answer an empty list as `{}`.
        Some(Value::Object(o)) if o.is_empty() => Ok(Vec::new()),
        Some(other) => match other.get("data").and_then(|d| d.get(section)) {
            Some(Value::Array(a)) => a.iter().map(|s| from_value(s.clone(), context)).collect(),
            Some(s) => Ok(vec![from_value(s.clone(), context)?]),
            None => Ok(Vec::new()),
        },
        None => Err(Error::unexpected(context, "missing results")),
    }
}

/// A list under `results.data.<key>` (RM v2 lists: holds, rsis, audit).
pub(crate) fn v2_data_list<T: DeserializeOwned>(
    v: &Value,
    key: &str,
    context: &str,
) -> Result<Vec<T>> {
    match v2_data(v).and_then(|d| d.get(key)) {
        Some(Value::Array(a)) => a.iter().map(|x| from_value(x.clone(), context)).collect(),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(other) => Ok(vec![from_value(other.clone(), context)?]),
    }
}

/// A v1 list under `data` (an array, or a single object).
pub(crate) fn v1_data_list<T: DeserializeOwned>(v: &Value, context: &str) -> Result<Vec<T>> {
    match v.get("data") {
        Some(Value::Array(a)) => a.iter().map(|x| from_value(x.clone(), context)).collect(),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(other) => Ok(vec![from_value(other.clone(), context)?]),
    }
}

/// `collection.paging`, or top-level paging keys (v1 and some RM calls).
pub(crate) fn paging(v: &Value) -> Paging {
    let p = v
        .get("collection")
        .and_then(|c| c.get("paging"))
        .or_else(|| v.get("paging"))
        .unwrap_or(v);
    serde_json::from_value(p.clone()).unwrap_or_default()
}
