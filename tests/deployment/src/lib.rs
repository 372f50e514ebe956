//! Deployment contract tests live in `tests/`: they read `template.yaml` and check the
//! promises the README makes about what a `sam deploy` creates. What they share is here.

use serde_norway::Value;

/// `template.yaml`, parsed (intrinsic functions stay tagged values: `!Ref X`, `!Sub "…"`).
pub fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every resource of type `kind`: its logical id and its `Properties`.
pub fn resources_of<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(k, r)| (k.as_str().unwrap(), &r["Properties"]))
        .collect()
}

/// `v` as YAML text, for "mentions" checks.
pub fn yaml_text(v: &Value) -> String {
    serde_norway::to_string(v).unwrap()
}

/// The `Allow` statements under `Policies[].Statement[]` (a `!If`-wrapped document is not
/// looked into).
pub fn allow_statements(policies: &Value) -> impl Iterator<Item = &Value> {
    policies
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|doc| doc["Statement"].as_sequence().into_iter().flatten())
        .filter(|st| st["Effect"].as_str() == Some("Allow"))
}

/// The first policy statement (under `Policies[].Statement[]`) granting `action`.
pub fn statement_with<'a>(policies: &'a Value, action: &str) -> Option<&'a Value> {
    allow_statements(policies).find(|st| yaml_text(&st["Action"]).contains(action))
}

/// Whether a statement is about P7's publication: it names the publication bucket or
/// distribution, or grants a CloudFront action.
pub fn is_publication_grant(statement: &Value) -> bool {
    yaml_text(&statement["Resource"]).contains("Publication")
        || yaml_text(&statement["Action"]).contains("cloudfront:")
}
