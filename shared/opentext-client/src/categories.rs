//! Categories on nodes: read with metadata, apply, update, remove.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::client::Client;
use crate::envelope::from_value;
use crate::error::{Error, Result};
use crate::http::Req;
use crate::model::{AttributeMetadata, CategoryValues};
use crate::nodes::node_path;

/// Category id of a `{cat}_{attr...}` key.
fn category_of(key: &str) -> Option<i64> {
    key.split('_').next()?.parse().ok()
}

fn cat_entry(map: &mut BTreeMap<i64, CategoryValues>, cat: i64) -> &mut CategoryValues {
    map.entry(cat).or_insert_with(|| CategoryValues {
        category_id: cat,
        ..CategoryValues::default()
    })
}

/// One `results[]` item of the categories answer.
fn parse_item(item: &Value, context: &str) -> Result<Vec<CategoryValues>> {
    let values = item
        .get("data")
        .and_then(|d| d.get("categories"))
        .and_then(|c| c.as_object())
        .cloned()
        .unwrap_or_default();
    let meta = item
        .get("metadata")
        .and_then(|m| m.get("categories"))
        .and_then(|c| c.as_object())
        .cloned()
        .unwrap_or_default();
    let mut by_cat: BTreeMap<i64, CategoryValues> = BTreeMap::new();
    for (k, v) in values {
        if let Some(cat) = category_of(&k) {
            cat_entry(&mut by_cat, cat).values.insert(k, v);
        }
    }
    for (k, m) in meta {
        let Some(cat) = category_of(&k) else { continue };
        let cv = cat_entry(&mut by_cat, cat);
        if k == cat.to_string() {
            cv.name = m.get("name").and_then(|n| n.as_str()).map(str::to_string);
        } else {
            let am: AttributeMetadata = from_value(m, context)?;
            cv.attributes.insert(k, am);
        }
    }
    Ok(by_cat.into_values().collect())
}

/// Form fields for apply/update: scalars as plain fields (what OpenText's own
/// clients send); anything nested forces the `body` JSON form.
fn category_form(category_id: Option<i64>, values: &Map<String, Value>) -> Vec<(String, String)> {
    let mut all = Map::new();
    if let Some(c) = category_id {
        all.insert("category_id".into(), Value::from(c));
    }
    all.extend(values.clone());
    if values.values().any(|v| v.is_array() || v.is_object()) {
        return vec![("body".into(), Value::Object(all).to_string())];
    }
    all.into_iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, s)
        })
        .collect()
}

impl Client {
    /// `GET /api/v2/nodes/{id}/categories?metadata`: every applied category with
    /// values, names and attribute metadata.
    pub async fn get_categories(&self, id: i64) -> Result<Vec<CategoryValues>> {
        let path = format!("{}/categories", node_path(id));
        let v = self.json(&Req::get(&path).query("metadata", "")).await?;
        let mut out: Vec<CategoryValues> = Vec::new();
        match v.get("results") {
            Some(Value::Array(items)) => {
                for it in items {
                    out.extend(parse_item(it, &path)?);
                }
            }
            Some(item @ Value::Object(_)) => out.extend(parse_item(item, &path)?),
            _ => {}
        }
        Ok(out)
    }

    /// One applied category, or `None` when it is not on the node.
    pub async fn get_category(&self, id: i64, category_id: i64) -> Result<Option<CategoryValues>> {
        Ok(self
            .get_categories(id)
            .await?
            .into_iter()
            .find(|c| c.category_id == category_id))
    }

    /// Applies `category_id` with `values` (`{cat}_{attr}` keys; empty = defaults).
    pub async fn apply_category(
        &self,
        id: i64,
        category_id: i64,
        values: &Map<String, Value>,
    ) -> Result<()> {
        check_keys(category_id, values)?;
        let path = format!("{}/categories", node_path(id));
        self.json(&Req::post(path).form(category_form(Some(category_id), values)))
            .await
            .map(|_| ())
    }

    /// Updates attribute values of an applied category (`PUT .../categories/{cat}`).
    pub async fn update_category(
        &self,
        id: i64,
        category_id: i64,
        values: &Map<String, Value>,
    ) -> Result<()> {
        check_keys(category_id, values)?;
        let path = format!("{}/categories/{category_id}", node_path(id));
        self.json(&Req::put(path).form(category_form(None, values)))
            .await
            .map(|_| ())
    }

    /// Sets each category's `values` on the node: applied where the node lacks the category,
    /// updated where it has it (one read of what is applied). Safe to repeat.
    pub async fn set_categories(
        &self,
        id: i64,
        categories: &[(i64, Map<String, Value>)],
    ) -> Result<()> {
        let applied = self.get_categories(id).await?;
        for (category_id, values) in categories {
            if applied.iter().any(|c| c.category_id == *category_id) {
                self.update_category(id, *category_id, values).await?;
            } else {
                self.apply_category(id, *category_id, values).await?;
            }
        }
        Ok(())
    }

    /// Removes a category from the node.
    pub async fn remove_category(&self, id: i64, category_id: i64) -> Result<()> {
        let path = format!("{}/categories/{category_id}", node_path(id));
        self.send(&Req::delete(path)).await.map(|_| ())
    }
}

/// Keys must belong to the category: a typo would otherwise be silently ignored.
fn check_keys(category_id: i64, values: &Map<String, Value>) -> Result<()> {
    match values.keys().find(|k| category_of(k) != Some(category_id)) {
        Some(k) => Err(Error::InvalidArgument(format!(
            "attribute key {k} does not belong to category {category_id}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_values_and_metadata() {
        let item = json!({
            "data": {"categories": {"3100_2": "bucket", "3100_6": 42}},
            "metadata": {"categories": {"3100": {"name": "S3 Provenance"},
                "3100_2": {"name": "Bucket", "type_name": "String", "required": false}}}
        });
        let c = parse_item(&item, "t").unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name.as_deref(), Some("S3 Provenance"));
        assert_eq!(c[0].text(2).as_deref(), Some("bucket"));
        assert_eq!(c[0].value_by_name("Bucket"), Some(&json!("bucket")));
        assert_eq!(c[0].text(6).as_deref(), Some("42"));
    }
}
