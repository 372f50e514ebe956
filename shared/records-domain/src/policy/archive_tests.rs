use std::collections::BTreeMap;

use crate::lifecycle::{LifecycleActor, LifecycleEvent, LifecycleEventType};
use crate::policy::{Policy, PolicyError};

use super::*;

const BASE: &str = "version: 1\nprovenance:\n  category_id: 3100\n  attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 }\nrules:\n  - name: all\n    match: {}\n    action: ignore\n";

fn with_archive(section: &str) -> String {
    format!("{BASE}archive:\n{section}")
}

fn errors(src: &str) -> Vec<String> {
    match Policy::from_yaml(src) {
        Err(PolicyError::Invalid(errs)) => errs.iter().map(|e| e.to_string()).collect(),
        other => panic!("expected validation errors, got {other:?}"),
    }
}

fn event(t: LifecycleEventType, key: &str, value: serde_json::Value) -> LifecycleEvent {
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
        data: BTreeMap::from([(key.to_string(), value)]),
        source: None,
    }
}

#[test]
fn a_policy_without_archive_stays_valid() {
    assert_eq!(Policy::from_yaml(BASE).unwrap().archive, None);
}

#[test]
fn the_documented_section_validates() {
    let p = Policy::from_yaml(&with_archive(
        "  triggers:\n    - { status: ARCHIVE }\n    - { folder_id: 2200 }\n  versions: all\n  storage_class: GLACIER_IR\n  retention_mode: COMPLIANCE\n  release_content: true\n  location_attribute: \"3100_9\"\n  rm_storage: S3-ARCHIVE\n",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let a = p.archive.unwrap();
    assert_eq!(
        a.triggers,
        [
            ArchiveTrigger::Status("ARCHIVE".into()),
            ArchiveTrigger::FolderId(2200)
        ]
    );
    assert_eq!(a.versions, VersionSelection::All);
    assert_eq!(a.retention_mode, RetentionMode::Compliance);
    assert!(a.release_content);
    assert_eq!(a.location_category_id(), 3100);
    assert_eq!(a.rm_storage.as_deref(), Some("S3-ARCHIVE"));
}

#[test]
fn defaults_are_all_versions_and_no_release() {
    let a = Policy::from_yaml(&with_archive(
        "  triggers: [{ status: ARCHIVE }]\n  storage_class: STANDARD\n  retention_mode: GOVERNANCE\n  location_attribute: 3100_9\n",
    ))
    .unwrap()
    .archive
    .unwrap();
    assert_eq!(a.versions, VersionSelection::All);
    assert!(!a.release_content);
    assert_eq!(a.rm_storage, None);
}

#[test]
fn every_mistake_names_its_field() {
    let errs = errors(&with_archive(
        "  triggers:\n    - { status: ARCHIVE, folder_id: 2200 }\n    - { folder_id: 0 }\n  versions: some\n  storage_class: COLD\n  retention_mode: compliance\n  location_attribute: \"9\"\n",
    ));
    let expected = [
        "archive.triggers[0]: give exactly one of status or folder_id",
        "archive.triggers[1].folder_id: must be a positive folder id",
        "archive.versions: \"some\": expected all or latest",
        "archive.storage_class: \"COLD\"",
        "archive.retention_mode: \"compliance\"",
        "archive.location_attribute: \"9\"",
    ];
    assert_eq!(errs.len(), expected.len(), "{errs:#?}");
    for (e, want) in errs.iter().zip(expected) {
        assert!(e.starts_with(want), "{e} should start with {want}");
    }
    let errs = errors(&with_archive("  storage_class: STANDARD\n"));
    assert!(
        errs.iter()
            .any(|e| e.starts_with("archive.triggers: missing"))
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("archive.retention_mode: missing"))
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("archive.location_attribute: missing"))
    );
}

#[test]
fn unknown_fields_are_refused() {
    let err = Policy::from_yaml(&with_archive(
        "  triggers: [{ status: ARCHIVE }]\n  storage_class: STANDARD\n  retention_mode: GOVERNANCE\n  location_attribute: 3100_9\n  relase_content: true\n",
    ))
    .unwrap_err();
    assert!(
        matches!(&err, PolicyError::Parse(m) if m.contains("relase_content")),
        "{err}"
    );
}

#[test]
fn triggers_match_their_event_only() {
    let status = ArchiveTrigger::Status("ARCHIVE".into());
    let folder = ArchiveTrigger::FolderId(2200);
    let changed = event(
        LifecycleEventType::RecordStatusChanged,
        "status",
        "archive".into(),
    );
    assert!(status.matches(&changed));
    assert!(!folder.matches(&changed));
    let moved = event(LifecycleEventType::NodeMoved, "to_parent_id", 2200.into());
    assert!(folder.matches(&moved));
    assert!(!status.matches(&moved));
    let elsewhere = event(LifecycleEventType::NodeMoved, "to_parent_id", 2101.into());
    assert!(!folder.matches(&elsewhere));
    let active = event(
        LifecycleEventType::RecordStatusChanged,
        "status",
        "ACTIVE".into(),
    );
    assert!(!status.matches(&active));
}

#[test]
fn release_needs_every_version_archived() {
    let errs = errors(&with_archive(
        "  triggers: [{ status: ARCHIVE }]\n  versions: latest\n  storage_class: STANDARD\n  retention_mode: GOVERNANCE\n  location_attribute: 3100_9\n  release_content: true\n",
    ));
    assert_eq!(
        errs,
        [
            "archive.release_content: requires `versions: all` (releasing purges every version in OpenText)"
        ]
    );
}
