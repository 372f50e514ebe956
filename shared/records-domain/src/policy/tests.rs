use std::collections::BTreeMap;

use super::*;

// What a policy may not say, and the warnings and defaults it is read with.
mod validation;

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
fn category_values_split_into_what_the_create_carries_and_what_needs_the_hash() {
    let f = facts(
        "acme-records-prod",
        "finance/invoices/2026/INV 7: final.pdf",
    );
    let plan = govern(example().evaluate(&f));
    let before = plan.category_values_before_hash().unwrap();
    let after = plan.category_values_needing_hash(SHA).unwrap();
    assert_eq!(before.len(), 1);
    assert!(
        !before[0].values.contains_key("3100_7"),
        "no hash before the upload"
    );
    assert_eq!(
        before[0].values["3100_2"],
        AttrValue::Text("acme-records-prod".into())
    );
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].values.keys().collect::<Vec<_>>(),
        vec!["3100_7"],
        "only the hash is left"
    );
    // Together they are exactly the whole set.
    let mut joined = before[0].values.clone();
    joined.extend(after[0].values.clone());
    assert_eq!(joined, plan.category_values(SHA).unwrap()[0].values);
    assert!(plan.category_values_needing_hash("ABC").is_err());

    // A rule attribute templated with `{sha256}` waits for the hash too.
    let mut templated = plan.clone();
    templated.categories = vec![CategorySpec {
        id: 3200,
        attributes: BTreeMap::from([
            (
                "3200_2".to_string(),
                AttrSpec::Template(Template::parse("sha {sha256}").unwrap()),
            ),
            (
                "3200_3".to_string(),
                AttrSpec::Literal(AttrValue::Text("fixed".into())),
            ),
        ]),
    }];
    let before = templated.category_values_before_hash().unwrap();
    let after = templated.category_values_needing_hash(SHA).unwrap();
    let cat = |v: &[CategoryValues]| v.iter().find(|c| c.id == 3200).cloned();
    assert_eq!(
        cat(&before).unwrap().values.keys().collect::<Vec<_>>(),
        vec!["3200_3"]
    );
    assert_eq!(
        cat(&after).unwrap().values["3200_2"],
        AttrValue::Text(format!("sha {SHA}"))
    );
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
