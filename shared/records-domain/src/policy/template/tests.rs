use super::*;
use std::collections::BTreeMap;

fn facts(key: &str) -> ObjectFacts {
    ObjectFacts {
        bucket: "acme-records-prod".into(),
        key: key.into(),
        version_id: Some("v1".into()),
        size: 42,
        etag: "\"abc\"".into(),
        tags: Some(BTreeMap::from([("dept".into(), "fin".into())])),
        metadata: Some(BTreeMap::from([("invoice-no".into(), "INV-7".into())])),
        uploaded_at: "2026-11-25T23:30:00-02:00".into(),
    }
}

fn render(t: &str, key: &str) -> Result<String, PlanError> {
    Template::parse(t).unwrap().render(&facts(key), Some("ff"))
}

#[test]
fn placeholders_render() {
    let k = "finance/invoices/2026/inv 7.pdf";
    assert_eq!(render("{basename}", k).unwrap(), "inv 7.pdf");
    assert_eq!(render("{stem}|{extension}", k).unwrap(), "inv 7|pdf");
    assert_eq!(render("{dirname}", k).unwrap(), "finance/invoices/2026");
    assert_eq!(
        render("s3://{bucket}/{key}", k).unwrap(),
        "s3://acme-records-prod/finance/invoices/2026/inv 7.pdf"
    );
    assert_eq!(
        render("{version_id} {etag} {size} {sha256}", k).unwrap(),
        "v1 abc 42 ff"
    );
    // 23:30 at -02:00 is the next day in UTC.
    assert_eq!(render("{upload_date}", k).unwrap(), "2026-11-26");
    assert_eq!(
        render("{meta:Invoice-No} {tag:dept}", k).unwrap(),
        "INV-7 fin"
    );
    assert_eq!(
        render("{{literal}} {basename}", "x").unwrap(),
        "{literal} x"
    );
    assert_eq!(render("{stem}.{extension}", ".env").unwrap(), ".env.");
}

#[test]
fn missing_values_fail() {
    assert_eq!(
        render("{meta:nope}", "a"),
        Err(PlanError::MissingMetadata("nope".into()))
    );
    assert_eq!(
        render("{tag:nope}", "a"),
        Err(PlanError::MissingTag("nope".into()))
    );
    let t = Template::parse("{sha256}").unwrap();
    assert_eq!(
        t.render(&facts("a"), None),
        Err(PlanError::Sha256NotYetKnown)
    );
    let mut f = facts("a");
    f.tags = None;
    assert_eq!(
        Template::parse("{tag:x}").unwrap().render(&f, None),
        Err(PlanError::FactsMissing("tags".into()))
    );
}

#[test]
fn parse_errors() {
    assert!(matches!(Template::parse("{nope}"), Err(TemplateError::Unknown(n)) if n == "nope"));
    assert_eq!(
        Template::parse("ab{basename"),
        Err(TemplateError::Unclosed(2))
    );
    assert_eq!(Template::parse("a}b"), Err(TemplateError::StrayClose(1)));
    assert_eq!(
        Template::parse("{meta:}"),
        Err(TemplateError::EmptyName("meta:".into()))
    );
    assert!(Template::parse("{a{b}").is_err());
}

#[test]
fn template_serde_roundtrip() {
    let t = Template::parse("{basename}").unwrap();
    let j = serde_json::to_string(&t).unwrap();
    assert_eq!(j, "\"{basename}\"");
    assert_eq!(serde_json::from_str::<Template>(&j).unwrap(), t);
    assert!(serde_json::from_str::<Template>("\"{bad}\"").is_err());
}

#[test]
fn sanitize_removes_colons_keeps_unicode() {
    assert_eq!(
        sanitize_node_name("Re: café 12:30.pdf").unwrap(),
        "Re café 1230.pdf"
    );
    assert_eq!(sanitize_node_name("  tab\there\n ").unwrap(), "tabhere");
    assert_eq!(
        sanitize_node_name("日本語の請求書.pdf").unwrap(),
        "日本語の請求書.pdf"
    );
    assert!(matches!(
        sanitize_node_name(" : "),
        Err(PlanError::EmptyName(_))
    ));
}

#[test]
fn disambiguated_names_are_per_object_and_fit() {
    let a = disambiguate_node_name("same.pdf", "b", "x/same.pdf");
    let b = disambiguate_node_name("same.pdf", "b", "y/same.pdf");
    assert_ne!(a, b);
    assert!(a.starts_with("same [s3 ") && a.ends_with("].pdf"), "{a}");
    assert_eq!(a, disambiguate_node_name("same.pdf", "b", "x/same.pdf"));
    let long = format!("{}.pdf", "é".repeat(247));
    let out = disambiguate_node_name(&long, "b", "k");
    assert_eq!(out.chars().count(), MAX_NODE_NAME_CHARS, "{out}");
    assert!(out.ends_with("].pdf"));
    let plain = disambiguate_node_name("README", "b", "k");
    assert!(plain.starts_with("README [s3 ") && plain.ends_with(']'));
}

#[test]
fn sanitize_truncates_to_248_chars_keeping_extension() {
    let long = format!("{}.pdf", "é".repeat(300));
    let out = sanitize_node_name(&long).unwrap();
    assert_eq!(out.chars().count(), MAX_NODE_NAME_CHARS);
    assert!(out.ends_with("é.pdf"));

    let exact = "a".repeat(248);
    assert_eq!(sanitize_node_name(&exact).unwrap(), exact);

    let no_ext = "b".repeat(400);
    assert_eq!(sanitize_node_name(&no_ext).unwrap().chars().count(), 248);

    // An absurd "extension" is not preserved.
    let weird = format!("x.{}", "y".repeat(300));
    assert_eq!(sanitize_node_name(&weird).unwrap().chars().count(), 248);
}
