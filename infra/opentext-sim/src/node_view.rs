//! How a node is rendered in v2 `results.data`: `fields=` selection, `metadata` and `state`.

use serde_json::{Map, Value, json};

use crate::categories::category_fields_json;
use crate::envelope::{node_properties, version_json};
use crate::model::Node;
use crate::nodes::child_count;
use crate::request::ApiReq;
use crate::store::Store;

/// Which `results.data` sections a v2 call asked for with `fields=`.
pub struct Fields {
    pub props: Option<Vec<String>>,
    pub versions: Option<bool>,
    pub categories: bool,
    pub permissions: bool,
}

pub fn fields(req: &ApiReq) -> Fields {
    let mut f = Fields {
        props: None,
        versions: None,
        categories: false,
        permissions: false,
    };
    for raw in req.params.query_all("fields") {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("properties") {
            let inner = rest.trim_start_matches('{').trim_end_matches('}');
            if !inner.is_empty() {
                f.props = Some(inner.split(',').map(|s| s.trim().to_string()).collect());
            }
        } else if raw.starts_with("versions") {
            f.versions = Some(raw.contains("element(0)"));
        } else if raw.starts_with("categories") {
            f.categories = true;
        } else if raw.starts_with("permissions") {
            f.permissions = true;
        }
    }
    f
}

/// `results.data` for one node, honouring `fields`.
pub fn node_data(store: &Store, n: &Node, f: &Fields) -> Value {
    let mut props = node_properties(n, child_count(store, n.id));
    if let (Some(keep), Value::Object(m)) = (&f.props, &mut props) {
        m.retain(|k, _| keep.iter().any(|x| x == k));
    }
    let mut data = Map::new();
    data.insert("properties".into(), props);
    if let Some(latest_only) = f.versions {
        let vs: Vec<Value> = n
            .versions
            .iter()
            .rev()
            .map(|v| version_json(n, v))
            .collect();
        let v = if latest_only {
            vs.into_iter().next().unwrap_or(Value::Null)
        } else {
            Value::Array(vs)
        };
        data.insert("versions".into(), v);
    }
    if f.categories {
        data.insert("categories".into(), category_fields_json(n));
    }
    if f.permissions {
        data.insert("permissions".into(), crate::permissions::acl_entries(n));
    }
    Value::Object(data)
}

pub fn metadata_section(n: &Node) -> Value {
    let props = node_properties(n, 0);
    let keys: Vec<String> = props
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let defs: Map<String, Value> = keys
        .iter()
        .map(|k| (k.clone(), json!({"key": k, "name": k, "persona": "", "read_only": k != "name" && k != "description"})))
        .collect();
    json!({"properties": defs})
}
