use super::*;

#[test]
fn every_error_names_rule_and_field() {
    let src = with_rules(
        r#"  - name: finance-invoices
    match: { bucket: "acme-[", key: "a/**", key_prefix: "a/" }
    mode: cpy
    on_existing_name: overwrite
    document_name: "{basename}-{sha256}"
    record: { record_date: "metadata:" , rsi: "" }
    categories:
      - id: 3100
        attributes: { "3100_7": "x", "31008": "y", "3101_2": "z", "3100_1": "w", "3100_9": "{nope}", "3100_10": 1.5 }
  - name: finance-invoices
    match: { metadata: { "x-amz-meta-dept": fin } }
    action: ignore
    destination: { folder_id: 2101 }
  - name: "bad name!"
    match: {}
    action: archive
  - match: { key_prefix: "/abs" }
    destination: { folder_id: 0 }
    mode: copy
    on_existing_name: refuse
"#,
    );
    let errs = errors(&src);
    let expected = [
        r#"rules[0] "finance-invoices": match.bucket: invalid glob "acme-[": unclosed character class; missing ']'"#,
        r#"rules[0] "finance-invoices": match: key and key_prefix are exclusive; use one"#,
        r#"rules[0] "finance-invoices": destination: missing: a governing rule needs destination.folder_id"#,
        r#"rules[0] "finance-invoices": document_name: {sha256} is not known until the content has streamed; use it in category attributes"#,
        r#"rules[0] "finance-invoices": mode: unknown mode "cpy" (expected copy or reference)"#,
        r#"rules[0] "finance-invoices": on_existing_name: unknown value "overwrite" (expected new_version or refuse)"#,
        r#"rules[0] "finance-invoices": classification: missing: declaring needs an RM classification id"#,
        r#"rules[0] "finance-invoices": record.rsi: empty: omit it instead"#,
        r#"rules[0] "finance-invoices": record.record_date: "metadata:": expected upload_time, none or metadata:<name>"#,
        r#"rules[0] "finance-invoices": categories[0].attributes."31008": key is not of the form {cat}_{attr} (e.g. 3100_2)"#,
        r#"rules[0] "finance-invoices": categories[0].attributes."3100_1": attribute 1: numbers start at 2 ({cat}_1 is the category itself)"#,
        r#"rules[0] "finance-invoices": categories[0].attributes."3100_10": fractional number 1.5 is not supported; quote the value"#,
        r#"rules[0] "finance-invoices": categories[0].attributes."3100_7": set by provenance.attributes.sha256: the bridge records it, a rule may not"#,
        r#"rules[0] "finance-invoices": categories[0].attributes."3100_9": unknown placeholder {nope} (known: "#,
        r#"rules[0] "finance-invoices": categories[0].attributes."3101_2": belongs to category 3101, not to category 3100 listed here"#,
        r#"rules[1] "finance-invoices": name: duplicate: rules[0] already uses "finance-invoices""#,
        r#"rules[1] "finance-invoices": match.metadata."x-amz-meta-dept": write the name without the x-amz-meta- prefix"#,
        r#"rules[1] "finance-invoices": destination: not allowed on an `action: ignore` rule"#,
        r#"rules[2] "bad name!": name: "bad name!" must be 1-64 characters of letters, digits, '.', '_' or '-'"#,
        r#"rules[2] "bad name!": action: unknown action "archive" (expected govern or ignore)"#,
        r#"rules[3]: name: missing"#,
        r#"rules[3]: match: unreachable: rules[2] "bad name!" matches every object first"#,
        r#"rules[3]: match.key_prefix: "/abs": S3 keys do not start with '/'"#,
        r#"rules[3]: destination.folder_id: must be a positive node id"#,
        r#"rules[3]: classification: missing: declaring needs an RM classification id"#,
    ];
    for want in expected {
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "missing {want:?} in:\n{}",
            errs.join("\n")
        );
    }
    assert_eq!(
        errs.len(),
        expected.len(),
        "unexpected extra errors:\n{}",
        errs.join("\n")
    );
}

#[test]
fn top_level_errors() {
    let errs = errors(
        "version: 2\nprovenance:\n  category_id: 3100\n  attributes: { bucket: 2, key: 2, size: 1 }\nrules: []\n",
    );
    for want in [
        "version: unsupported version 2 (expected 1)",
        "provenance.attributes.key: attribute 2 is also mapped to bucket",
        "provenance.attributes.version_id: missing: required for the chain of custody",
        "provenance.attributes.etag: missing",
        "provenance.attributes.size: attribute 1: numbers start at 2",
        "provenance.attributes.sha256: missing",
        "rules: empty: a policy needs at least one rule",
    ] {
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "missing {want:?} in:\n{}",
            errs.join("\n")
        );
    }
    assert!(
        !errs.iter().any(|e| e.contains("source_uri")),
        "source_uri is optional"
    );
    let errs = errors("rules:\n  - name: a\n    match: {}\n    action: ignore\n");
    assert_eq!(
        errs,
        [
            "version: missing (this crate reads version 1)",
            "provenance: missing: every declared record must carry its S3 provenance"
        ]
    );
}

#[test]
fn unknown_fields_are_parse_errors_with_a_path() {
    let src = with_rules("  - name: a\n    match: { bukcet: \"x\" }\n    action: ignore\n");
    let Err(PolicyError::Parse(msg)) = Policy::from_yaml(&src) else {
        panic!("expected a parse error");
    };
    assert!(msg.contains("unknown field `bukcet`"), "{msg}");
    assert!(msg.contains("rules[0]"), "the parser names the rule: {msg}");
    assert!(matches!(
        Policy::from_yaml("version: 1\ntypo: true\n"),
        Err(PolicyError::Parse(_))
    ));
    assert!(matches!(
        Policy::from_yaml(": : :\n  - ["),
        Err(PolicyError::Parse(_))
    ));
}

#[test]
fn defaults_and_literals() {
    let p = Policy::from_yaml(&with_rules(
        r#"  - name: all
    match: {}
    destination: { folder_id: 2102 }
    mode: copy
    on_existing_name: refuse
    classification: { id: 4101 }
    categories:
      - id: 3100
        attributes: { "3100_8": "literal {{braces}}", "3100_9": 7 }
      - id: 3200
        attributes: { "3200_2": true, "3200_3": "{sha256}" }
"#,
    ))
    .unwrap();
    assert!(!p.needs_tags() && !p.needs_metadata());
    let plan = govern(p.evaluate(&facts("any", "hr/x.txt")));
    assert_eq!(
        plan.document_name, "x.txt",
        "document_name defaults to {{basename}}"
    );
    assert_eq!(
        plan.record.record_date.as_deref(),
        Some("2026-11-25"),
        "record_date defaults to upload_time"
    );
    assert_eq!(
        (plan.record.rsi.clone(), plan.record.official),
        (None, None)
    );
    let cats = plan.category_values(SHA).unwrap();
    assert_eq!(
        cats[0].values["3100_8"],
        AttrValue::Text("literal {braces}".into())
    );
    assert_eq!(cats[0].values["3100_9"], AttrValue::Integer(7));
    assert_eq!(cats[1].id, 3200);
    assert_eq!(cats[1].values["3200_2"], AttrValue::Bool(true));
    assert_eq!(cats[1].values["3200_3"], AttrValue::Text(SHA.into()));
}

#[test]
fn a_name_template_that_can_collide_is_warned_about_and_the_clash_choice_is_read() {
    let rule = |name: &str, clash: &str| {
        with_rules(&format!(
            "  - name: r\n    match: {{ key_prefix: \"in/\" }}\n    destination: {{ folder_id: 2101 }}\n    document_name: \"{name}\"\n    mode: copy\n    on_existing_name: new_version\n{clash}    classification: {{ id: 4100 }}\n    record: {{ official: true, record_date: upload_time }}\n"
        ))
    };
    let p = Policy::from_yaml(&rule("{basename}", "")).unwrap();
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    let w = p.warnings[0].to_string();
    assert!(
        w.contains("rules[0] \"r\": document_name") && w.contains("disambiguated"),
        "{w}"
    );
    let RuleAction::Govern(g) = &p.rules[0].action else {
        panic!("govern")
    };
    assert_eq!(g.on_name_clash, OnNameClash::Disambiguate, "the default");

    let p = Policy::from_yaml(&rule("{basename}", "    on_name_clash: refuse\n")).unwrap();
    assert!(p.warnings[0].to_string().contains("refused"));
    for unique in [
        "{key}",
        "{dirname}-{basename}",
        "{dirname}/{stem}.{extension}",
    ] {
        let p = Policy::from_yaml(&rule(unique, "")).unwrap();
        assert!(p.warnings.is_empty(), "{unique}: {:?}", p.warnings);
    }
    let errs = errors(&rule("{key}", "    on_name_clash: overwrite\n"));
    assert!(
        errs[0].contains("on_name_clash: unknown value \"overwrite\""),
        "{errs:?}"
    );
}

#[test]
fn the_demo_policy_cannot_give_two_objects_one_name() {
    let demo = include_str!("../../../../../infra/local-stack/demo/policy.yaml");
    let p = Policy::from_yaml(demo).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // The example keeps `{basename}`-style names, and is told so.
    assert!(!example().warnings.is_empty());
}

const IGNORE_ALL: &str = "  - name: nothing\n    match: {}\n    action: ignore\n";

#[test]
fn a_presigned_url_lifetime_above_15_minutes_is_refused_at_load() {
    let ok = format!(
        "{}access:\n  url_lifetime_seconds: 900\n  holds_block_access: true\n",
        with_rules(IGNORE_ALL)
    );
    let p = Policy::from_yaml(&ok).expect("900 s is the limit");
    assert_eq!(p.access.url_lifetime.as_secs(), 900);
    assert!(p.access.holds_block_access);
    let long = format!(
        "{}access:\n  url_lifetime_seconds: 901\n",
        with_rules(IGNORE_ALL)
    );
    let errs = errors(&long);
    assert_eq!(
        errs,
        vec!["access.url_lifetime_seconds: 901 s: a presigned URL lives 1 to 900 seconds (15 minutes)".to_string()]
    );
    let default = Policy::from_yaml(&with_rules(IGNORE_ALL)).unwrap();
    assert_eq!(default.access.url_lifetime.as_secs(), 60);
}
