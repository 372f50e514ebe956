use std::collections::BTreeMap;

use crate::lifecycle::{LifecycleActor, LifecycleEvent, LifecycleEventType};
use crate::policy::{Policy, PolicyError};

use super::*;

const BASE: &str = "version: 1\nprovenance:\n  category_id: 3100\n  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }\nrules:\n  - name: all\n    match: {}\n    action: ignore\n";

const GOOD: &str = "publication:\n  triggers:\n    - folder_id: 2300\n    - approval\n    - request\n  approval:\n    status_attribute: \"3300_2\"\n    approved_values: [Approved, Released]\n    version_attribute: \"3300_3\"\n  audience: public\n  key: \"manuals/{node_id}/{name}\"\n";

fn policy(section: &str) -> Policy {
    Policy::from_yaml(&format!("{BASE}{section}")).unwrap()
}

fn errors(section: &str) -> Vec<String> {
    match Policy::from_yaml(&format!("{BASE}{section}")) {
        Err(PolicyError::Invalid(errs)) => errs.iter().map(|e| e.to_string()).collect(),
        other => panic!("expected validation errors, got {other:?}"),
    }
}

fn event(t: LifecycleEventType, data: &[(&str, serde_json::Value)]) -> LifecycleEvent {
    LifecycleEvent {
        schema: 1,
        event_id: "e1".into(),
        event_type: t,
        node_id: 10001,
        version: None,
        occurred_at: "2026-11-25T00:00:00Z".into(),
        actor: LifecycleActor {
            user_id: None,
            name: None,
        },
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        source: None,
    }
}

#[test]
fn a_good_section_validates_with_its_defaults() {
    let p = policy(GOOD).publication.unwrap();
    assert_eq!(
        p.triggers,
        vec![
            PublicationTrigger::FolderId(2300),
            PublicationTrigger::Approval,
            PublicationTrigger::Request
        ]
    );
    assert_eq!(p.audience, Audience::Public);
    assert!(
        p.require_official,
        "declared is a gate unless the policy says not"
    );
    assert_eq!(p.content_type, ContentTypeSource::FromOpentext);
    assert_eq!(p.cache_control, "public, max-age=300");
    assert!(!p.attachment);
    assert_eq!(p.approval.version_attribute.key(), "3300_3");
    assert_eq!(p.approval.category_ids(), vec![3300]);
    assert!(Policy::from_yaml(BASE).unwrap().publication.is_none());
}

#[test]
fn every_mistake_is_named_by_its_field() {
    let bad = "publication:\n  triggers: [{folder_id: 0}, sometimes]\n  approval:\n    status_attribute: \"33002\"\n  audience: everyone\n  key: \"static.pdf\"\n  content_type: pdf\n  cache_control: \"\"\n  content_disposition: download\n";
    let errs = errors(bad).join("\n");
    for field in [
        "publication.triggers[0]",
        "publication.triggers[1]",
        "publication.approval.version_attribute: missing",
        "publication.approval.status_attribute",
        "publication.approval.approved_values",
        "publication.audience",
        "publication.key: must use",
        "publication.content_type",
        "publication.cache_control",
        "publication.content_disposition",
    ] {
        assert!(errs.contains(field), "{field} not in:\n{errs}");
    }
    let both = "publication:\n  triggers: [request]\n  approval: { status_attribute: \"3300_2\", rm_status: [APPROVED], version_attribute: \"3300_3\" }\n  audience: internal\n  key: \"{name}\"\n";
    assert!(errors(both).join("\n").contains("exactly one of"));
    let unknown = "publication:\n  triggers: [request]\n  approval: { rm_status: [APPROVED], version_attribute: \"3300_3\" }\n  audience: internal\n  key: \"{title}\"\n";
    assert!(
        errors(unknown)
            .join("\n")
            .contains("{title} is not a placeholder")
    );
    let slash = "publication:\n  triggers: [request]\n  approval: { rm_status: [APPROVED], version_attribute: \"3300_3\" }\n  audience: internal\n  key: \"/{name}\"\n";
    assert!(errors(slash).join("\n").contains("starts with '/'"));
}

#[test]
fn a_key_without_the_node_id_is_allowed_with_a_warning() {
    let p = policy(&GOOD.replace("manuals/{node_id}/{name}", "manuals/{name}"));
    assert!(p.publication.is_some());
    assert!(
        p.warnings
            .iter()
            .any(|w| w.field == "publication.key" && w.message.contains("{node_id}"))
    );
    assert!(policy(GOOD).warnings.is_empty());
}

#[test]
fn requests_are_the_triggers_the_policy_lists() {
    let p = policy(GOOD).publication.unwrap();
    let moved = |to: serde_json::Value| {
        p.requested_by(&event(
            LifecycleEventType::NodeMoved,
            &[("to_parent_id", to)],
        ))
    };
    assert!(moved(2300.into()));
    assert!(moved("2300".into()), "ids sent as text");
    assert!(!moved(2400.into()));
    let attrs = |c: u64| {
        p.requested_by(&event(
            LifecycleEventType::AttributesChanged,
            &[("category_id", c.into())],
        ))
    };
    assert!(attrs(3300));
    assert!(!attrs(3100), "another category is no approval");
    assert!(p.requested_by(&event(LifecycleEventType::PublicationRequested, &[])));
    assert!(!p.requested_by(&event(LifecycleEventType::VersionAdded, &[])));
    let only_folder = policy(
        &GOOD
            .replace("    - approval\n", "")
            .replace("    - request\n", ""),
    )
    .publication
    .unwrap();
    assert!(!only_folder.requested_by(&event(LifecycleEventType::PublicationRequested, &[])));
}

#[test]
fn keys_render_under_the_audience_and_stay_usable() {
    let t = KeyTemplate::parse("manuals/{node_id}/{stem}-v{version}.{extension}").unwrap();
    let facts = |name| KeyFacts {
        node_id: 7,
        name,
        version: 3,
    };
    assert_eq!(
        t.render(Audience::Public, &facts("Safety Manual.pdf"))
            .unwrap(),
        "public/manuals/7/Safety Manual-v3.pdf"
    );
    assert_eq!(
        t.render(Audience::Internal, &facts("a/b\\c\u{7}.pdf"))
            .unwrap(),
        "internal/manuals/7/a-b-c--v3.pdf",
        "a name never adds a key segment"
    );
    let name = KeyTemplate::parse("{name}").unwrap();
    assert_eq!(
        name.render(Audience::Public, &facts("..")).unwrap(),
        "public/unnamed"
    );
    let long = "é".repeat(600);
    let err = name.render(Audience::Public, &facts(&long)).unwrap_err();
    assert!(err.contains("1024"), "{err}");
}

#[test]
fn an_rm_status_approval_is_a_request_and_a_move_out_is_named() {
    let p = policy(
        "publication:\n  triggers: [approval, {folder_id: 2300}]\n  approval: { rm_status: [APPROVED], version_attribute: \"3300_3\" }\n  audience: public\n  key: \"{node_id}/{name}\"\n",
    )
    .publication
    .unwrap();
    let status = |s: &str| {
        p.requested_by(&event(
            LifecycleEventType::RecordStatusChanged,
            &[("status", s.into())],
        ))
    };
    assert!(status("approved"));
    assert!(!status("ACTIVE"));
    assert!(
        !attribute_policy_requested_by_status(),
        "an attribute approval is not read from the status"
    );
    let moved = |from: u64, to: u64| {
        p.moved_out_by(&event(
            LifecycleEventType::NodeMoved,
            &[("from_parent_id", from.into()), ("to_parent_id", to.into())],
        ))
    };
    assert_eq!(moved(2300, 2101), Some(2300));
    assert_eq!(moved(2101, 2300), None, "a move in is no move out");
    assert_eq!(moved(2101, 2102), None);
}

fn attribute_policy_requested_by_status() -> bool {
    policy(GOOD).publication.unwrap().requested_by(&event(
        LifecycleEventType::RecordStatusChanged,
        &[("status", "Approved".into())],
    ))
}
