use std::collections::BTreeMap;

use super::*;

const EXAMPLE: &str = include_str!("../../examples/policy.yaml");
const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn example() -> Policy {
    Policy::from_yaml(EXAMPLE).unwrap_or_else(|e| panic!("{e}"))
}

fn facts(bucket: &str, key: &str) -> ObjectFacts {
    ObjectFacts {
        bucket: bucket.into(),
        key: key.into(),
        version_id: Some("3HL4kqtJlcpXroDTDmJ".into()),
        size: 1234,
        etag: "\"d41d8cd98f00b204e9800998ecf8427e\"".into(),
        tags: Some(BTreeMap::from([(
            "records-bridge:status".into(),
            "final".into(),
        )])),
        metadata: Some(BTreeMap::from([("Department".into(), "finance".into())])),
        uploaded_at: "2026-11-25T18:52:00.123Z".into(),
    }
}

fn govern(d: Decision) -> Plan {
    match d {
        Decision::Govern(p) => *p,
        other => panic!("expected govern, got {other:?}"),
    }
}

/// Minimal valid policy with `rules` spliced in.
fn with_rules(rules: &str) -> String {
    format!(
        "version: 1\nprovenance:\n  category_id: 3100\n  attributes: {{ bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }}\nrules:\n{rules}"
    )
}

fn errors(src: &str) -> Vec<String> {
    match Policy::from_yaml(src) {
        Err(PolicyError::Invalid(errs)) => errs.iter().map(|e| e.to_string()).collect(),
        other => panic!("expected validation errors, got {other:?}"),
    }
}

#[test]
fn example_policy_validates() {
    let p = example();
    let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["drafts-ignored", "finance-invoices", "legal-contracts"]
    );
    assert_eq!(
        p.provenance
            .attribute_key(ProvenanceField::Sha256)
            .as_deref(),
        Some("3100_7")
    );
    assert_eq!(p.provenance.attribute_key(ProvenanceField::SourceUri), None);
    assert!(p.needs_tags() && p.needs_metadata());
}

#[test]
fn finance_invoice_plan() {
    let f = facts(
        "acme-records-prod",
        "finance/invoices/2026/INV 7: final.pdf",
    );
    let plan = govern(example().evaluate(&f));
    assert_eq!(plan.rule, "finance-invoices");
    assert_eq!(plan.folder_id, 2101);
    assert_eq!(plan.document_name, "INV 7 final.pdf");
    assert_eq!(plan.mode, Mode::Copy);
    assert_eq!(plan.on_existing_name, OnExistingName::NewVersion);
    assert_eq!(plan.classification_id, 4100);
    assert_eq!(
        plan.record,
        RecordDetails {
            rsi: Some("FIN-7Y".into()),
            official: Some(true),
            status: Some("ACTIVE".into()),
            record_date: Some("2026-11-25".into()),
        }
    );
    assert_eq!(
        plan.idempotency_key().as_str(),
        "declare#acme-records-prod#finance/invoices/2026/INV 7: final.pdf#3HL4kqtJlcpXroDTDmJ"
    );

    let cats = plan.category_values(SHA).unwrap();
    assert_eq!(
        cats.len(),
        1,
        "rule attributes merge into the provenance category"
    );
    let v = &cats[0].values;
    assert_eq!(cats[0].id, 3100);
    assert_eq!(v["3100_2"], AttrValue::Text("acme-records-prod".into()));
    assert_eq!(v["3100_3"], AttrValue::Text(f.key.clone()));
    assert_eq!(v["3100_4"], AttrValue::Text("3HL4kqtJlcpXroDTDmJ".into()));
    assert_eq!(
        v["3100_5"],
        AttrValue::Text("d41d8cd98f00b204e9800998ecf8427e".into())
    );
    assert_eq!(v["3100_6"], AttrValue::Integer(1234));
    assert_eq!(v["3100_7"], AttrValue::Text(SHA.into()));
    assert_eq!(
        v["3100_8"].to_form_value(),
        "s3://acme-records-prod/finance/invoices/2026/INV 7: final.pdf?versionId=3HL4kqtJlcpXroDTDmJ"
    );
    assert!(matches!(
        plan.category_values("ABC"),
        Err(PlanError::BadSha256(_))
    ));
    assert!(plan.category_values(&SHA.to_uppercase()).is_err());

    // A plan survives storage with the work item.
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
}

#[test]
fn matching_globs_tags_metadata_and_order() {
    let p = example();
    // `*` in the bucket glob; `**` crosses folders.
    assert!(matches!(
        p.evaluate(&facts("acme-records-prod", "finance/invoices/a.pdf")),
        Decision::Govern(_)
    ));
    assert_eq!(
        p.evaluate(&facts("other-bucket", "finance/invoices/a.pdf")),
        Decision::Ungoverned
    );
    assert_eq!(
        p.evaluate(&facts("acme-records-prod", "finance/other/a.pdf")),
        Decision::Ungoverned
    );
    // Tag must equal.
    let mut f = facts("acme-records-prod", "finance/invoices/a.pdf");
    f.tags = Some(BTreeMap::from([(
        "records-bridge:status".into(),
        "draft".into(),
    )]));
    assert_eq!(p.evaluate(&f), Decision::Ungoverned);
    // Metadata must equal (names case-insensitive, values exact).
    let mut f = facts("acme-records-prod", "finance/invoices/a.pdf");
    f.metadata = Some(BTreeMap::from([("department".into(), "Finance".into())]));
    assert_eq!(p.evaluate(&f), Decision::Ungoverned);
    // Ignore rule matches first, even for an otherwise governed object.
    assert_eq!(
        p.evaluate(&facts("acme-records-prod", "drafts/finance/invoices/a.pdf")),
        Decision::Ignore {
            rule: "drafts-ignored".into()
        }
    );
    assert_eq!(
        p.evaluate(&facts("acme-records-prod", "finance/invoices/")),
        Decision::FolderMarker
    );
    // `*` does not cross '/': legal-contracts wants `**/*.pdf`.
    let single = Policy::from_yaml(&with_rules(
        "  - name: top\n    match: { key: \"legal/*.pdf\" }\n    action: ignore\n",
    ))
    .unwrap();
    assert!(matches!(
        single.evaluate(&facts("b", "legal/a.pdf")),
        Decision::Ignore { .. }
    ));
    assert_eq!(
        single.evaluate(&facts("b", "legal/x/a.pdf")),
        Decision::Ungoverned
    );
}

#[test]
fn first_match_wins() {
    let p = Policy::from_yaml(&with_rules(
        "  - name: a\n    match: { key_prefix: \"x/\" }\n    action: ignore\n\
         \x20 - name: b\n    match: { key_prefix: \"x/y/\" }\n    action: ignore\n",
    ))
    .unwrap();
    assert_eq!(p.evaluate(&facts("b", "x/y/z")).rule(), Some("a"));
}

#[test]
fn unfetched_facts_fail_instead_of_ungoverning() {
    let mut f = facts("acme-records-prod", "finance/invoices/a.pdf");
    f.tags = None;
    assert_eq!(
        example().evaluate(&f),
        Decision::Failed {
            rule: "finance-invoices".into(),
            error: PlanError::FactsMissing("tags".into())
        }
    );
}

#[test]
fn legal_contract_reference_with_metadata_date_and_name() {
    let p = example();
    let mut f = facts("acme-records-eu", "legal/contracts/2026/acme/msa.pdf");
    f.metadata = Some(BTreeMap::from([
        ("contract-id".into(), "C-42".into()),
        ("signed-date".into(), "2026-01-15".into()),
    ]));
    let plan = govern(p.evaluate(&f));
    assert_eq!(
        (plan.mode, plan.on_existing_name),
        (Mode::Reference, OnExistingName::Refuse)
    );
    assert_eq!(plan.document_name, "C-42 msa.pdf");
    assert_eq!(plan.record.record_date.as_deref(), Some("2026-01-15"));
    assert_eq!(plan.record.status, None);

    f.metadata
        .as_mut()
        .unwrap()
        .insert("signed-date".into(), "2026-01-15T23:00:00-05:00".into());
    assert_eq!(
        govern(p.evaluate(&f)).record.record_date.as_deref(),
        Some("2026-01-16")
    );

    f.metadata
        .as_mut()
        .unwrap()
        .insert("signed-date".into(), "15/01/2026".into());
    assert!(matches!(
        p.evaluate(&f),
        Decision::Failed {
            error: PlanError::BadRecordDate { .. },
            ..
        }
    ));

    f.metadata.as_mut().unwrap().remove("contract-id");
    assert_eq!(
        p.evaluate(&f),
        Decision::Failed {
            rule: "legal-contracts".into(),
            error: PlanError::MissingMetadata("contract-id".into())
        }
    );
}

#[test]
fn name_longer_than_248_is_cut_keeping_extension() {
    let key = format!("finance/invoices/{}.pdf", "ü".repeat(300));
    let plan = govern(example().evaluate(&facts("acme-records-x", &key)));
    assert_eq!(plan.document_name.chars().count(), MAX_NODE_NAME_CHARS);
    assert!(plan.document_name.ends_with("ü.pdf"));
}

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
fn unversioned_object_provenance_and_source_uri() {
    let mut f = facts("b", "k.txt");
    f.version_id = None;
    assert_eq!(source_uri(&f), "s3://b/k.txt");
    f.version_id = Some("v9".into());
    assert_eq!(source_uri(&f), "s3://b/k.txt?versionId=v9");
}

#[test]
fn double_star_matches_zero_or_more_folders() {
    let p = example();
    let mut f = facts("acme-records-eu", "legal/contracts/msa.pdf");
    f.metadata = Some(BTreeMap::from([
        ("contract-id".into(), "C-1".into()),
        ("signed-date".into(), "2026-01-15".into()),
    ]));
    assert_eq!(p.evaluate(&f).rule(), Some("legal-contracts"));
    f.key = "legal/contracts/msa.docx".into();
    assert_eq!(p.evaluate(&f), Decision::Ungoverned);
    f.key = "Legal/contracts/msa.pdf".into();
    assert_eq!(
        p.evaluate(&f),
        Decision::Ungoverned,
        "keys match case-sensitively"
    );
}

#[test]
fn decisions_serialise_for_logs_and_storage() {
    let p = example();
    for d in [
        p.evaluate(&facts("acme-records-prod", "finance/invoices/a.pdf")),
        p.evaluate(&facts("acme-records-prod", "drafts/a.pdf")),
        p.evaluate(&facts("nope", "a.pdf")),
        p.evaluate(&facts("acme-records-prod", "legal/contracts/a.pdf")),
        Decision::FolderMarker,
    ] {
        let j = serde_json::to_value(&d).unwrap();
        assert!(j["decision"].is_string(), "{j}");
        assert_eq!(serde_json::from_value::<Decision>(j).unwrap(), d);
    }
    let failed =
        serde_json::to_value(p.evaluate(&facts("acme-records-prod", "legal/contracts/a.pdf")))
            .unwrap();
    assert_eq!(
        failed,
        serde_json::json!({"decision": "failed", "rule": "legal-contracts", "error": {"missing_metadata": "contract-id"}})
    );
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
    let demo = include_str!("../../../../infra/local-stack/demo/policy.yaml");
    let p = Policy::from_yaml(demo).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    // The example keeps `{basename}`-style names, and is told so.
    assert!(!example().warnings.is_empty());
}
