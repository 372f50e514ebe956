//! Records policy fixtures. Every suite's policy records provenance into the simulator's
//! category 3100 ([`PROVENANCE`]); the `finance/` rule ([`FINANCE`]) is the one the declare
//! tests, the poller's and the bench share. A suite's own rules stay in the suite and are
//! put after the same header with [`policy`].

/// The policy's version and provenance category (the simulator seeds category 3100 with
/// these attribute ids).
pub const PROVENANCE: &str = r#"
version: 1
provenance:
  category_id: 3100
  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }
"#;

/// `finance/` → folder 2101 (Finance), copied, new versions on the same name, RM
/// classification 4100 with RSI FIN-7Y, and the source URI in attribute 3100_8.
pub const FINANCE: &str = r#"  - name: finance
    match: { key_prefix: "finance/" }
    destination: { folder_id: 2101 }
    mode: copy
    on_existing_name: new_version
    classification: { id: 4100 }
    record: { rsi: FIN-7Y, official: true, status: ACTIVE, record_date: upload_time }
    categories:
      - id: 3100
        attributes: { "3100_8": "s3://{bucket}/{key}?versionId={version_id}" }
"#;

/// A whole policy: [`PROVENANCE`], then `rules:` followed by `parts` in order (rules, and
/// after them any other section, e.g. `archive:`).
pub fn policy(parts: &[&str]) -> String {
    let mut out = format!("{PROVENANCE}rules:\n");
    for part in parts {
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_the_header_then_its_rules_in_order() {
        let p = policy(&[FINANCE, "  - name: last\n"]);
        assert!(p.starts_with(PROVENANCE));
        let finance = p.find("name: finance").unwrap();
        assert!(p.find("rules:\n").unwrap() < finance);
        assert!(finance < p.find("name: last").unwrap());
    }

    #[cfg(feature = "stack")]
    #[test]
    fn the_shared_rule_is_a_valid_policy() {
        let p = records_domain::Policy::from_yaml(&policy(&[FINANCE])).expect("valid");
        assert_eq!(p.rules.len(), 1);
    }
}
