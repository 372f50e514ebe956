//! Category values (`{cat}_{attr}` keys) and their metadata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient;

/// One category applied to a node, with its attribute values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CategoryValues {
    /// Category id (the `{cat}` in `{cat}_{attr}`).
    pub category_id: i64,
    /// Category name (only when metadata was requested).
    pub name: Option<String>,
    /// Values keyed `{cat}_{attr}` (and `{cat}_{set}_{row}_{attr}` in sets).
    pub values: BTreeMap<String, Value>,
    /// Attribute metadata keyed like `values` (only when metadata was requested).
    pub attributes: BTreeMap<String, AttributeMetadata>,
}

impl CategoryValues {
    /// The value of attribute `attr` (e.g. 2 for `{cat}_2`).
    pub fn value(&self, attr: i64) -> Option<&Value> {
        self.values.get(&format!("{}_{attr}", self.category_id))
    }

    /// The value of the attribute named `name` (needs metadata).
    pub fn value_by_name(&self, name: &str) -> Option<&Value> {
        let key = self
            .attributes
            .iter()
            .find(|(_, m)| m.name.as_deref() == Some(name))
            .map(|(k, _)| k)?;
        self.values.get(key)
    }

    /// The value as a string (strings as-is, numbers formatted).
    pub fn text(&self, attr: i64) -> Option<String> {
        match self.value(attr)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

/// Metadata of one attribute (`metadata.categories["{cat}_{attr}"]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AttributeMetadata {
    /// Display name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// Type name (e.g. `String`, `Integer`, `Date`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub type_name: Option<String>,
    /// Whether a value is required.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub required: Option<bool>,
    /// Whether several values are allowed.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub multi_value: Option<bool>,
    /// Maximum length for text attributes.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_length: Option<i64>,
}
