//! The optional `archive:` section (P2): when a record reaches the archive stage, which of its
//! versions are copied to the Object Lock archive bucket, how, and what happens afterwards.
//!
//! ```yaml
//! archive:
//!   triggers:                       # any one matches
//!     - { status: ARCHIVE }         # record.status_changed with data.status == ARCHIVE
//!     - { folder_id: 2200 }         # node.moved with data.to_parent_id == 2200
//!   versions: all                   # all | latest
//!   storage_class: GLACIER_IR       # S3 storage class of the copies
//!   retention_mode: COMPLIANCE      # Object Lock mode: COMPLIANCE | GOVERNANCE
//!   release_content: true           # release OpenText content once every copy is verified
//!   location_attribute: "3100_9"    # category attribute receiving the archive location
//!   rm_storage: S3-ARCHIVE          # optional: RM "storage" record detail set on archive
//! ```

use serde::{Deserialize, Serialize};

use super::validate::ValidationError;
use crate::lifecycle::{LifecycleEvent, LifecycleEventType};

/// S3 storage classes an archive copy may use.
pub const STORAGE_CLASSES: [&str; 7] = [
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
];
/// Longest RM storage code accepted (OpenText's field is short).
const MAX_RM_STORAGE: usize = 32;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArchiveDoc {
    pub triggers: Option<Vec<TriggerDoc>>,
    pub versions: Option<String>,
    pub storage_class: Option<String>,
    pub retention_mode: Option<String>,
    pub release_content: Option<bool>,
    pub location_attribute: Option<String>,
    pub rm_storage: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TriggerDoc {
    pub status: Option<String>,
    pub folder_id: Option<u64>,
}

/// What starts archiving a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveTrigger {
    /// `record.status_changed` to this RM status (compared case-insensitively).
    Status(String),
    /// `node.moved` into this folder.
    FolderId(u64),
}

impl ArchiveTrigger {
    pub fn matches(&self, event: &LifecycleEvent) -> bool {
        match (self, event.event_type) {
            (ArchiveTrigger::Status(s), LifecycleEventType::RecordStatusChanged) => event
                .data
                .get("status")
                .and_then(|v| v.as_str())
                .is_some_and(|v| v.eq_ignore_ascii_case(s)),
            (ArchiveTrigger::FolderId(f), LifecycleEventType::NodeMoved) => {
                event
                    .data
                    .get("to_parent_id")
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                    == Some(*f)
            }
            _ => false,
        }
    }
}

/// Which versions are archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSelection {
    All,
    Latest,
}

/// S3 Object Lock retention mode of the copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RetentionMode {
    /// Nobody, not even the root user, can shorten or remove it.
    Compliance,
    /// Users with `s3:BypassGovernanceRetention` can.
    Governance,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Compliance => "COMPLIANCE",
            RetentionMode::Governance => "GOVERNANCE",
        }
    }
}

impl From<RetentionMode> for crate::retention::LockMode {
    fn from(mode: RetentionMode) -> Self {
        match mode {
            RetentionMode::Compliance => crate::retention::LockMode::Compliance,
            RetentionMode::Governance => crate::retention::LockMode::Governance,
        }
    }
}

/// The validated `archive:` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivePolicy {
    pub triggers: Vec<ArchiveTrigger>,
    pub versions: VersionSelection,
    pub storage_class: String,
    pub retention_mode: RetentionMode,
    pub release_content: bool,
    /// `{category}_{attribute}`, e.g. `3100_9`.
    pub location_attribute: String,
    pub rm_storage: Option<String>,
}

impl ArchivePolicy {
    /// Whether `event` starts archiving.
    pub fn triggered_by(&self, event: &LifecycleEvent) -> bool {
        self.triggers.iter().any(|t| t.matches(event))
    }

    /// The category id of `location_attribute` (validated to parse).
    pub fn location_category_id(&self) -> u64 {
        parse_attribute_key(&self.location_attribute)
            .map(|(c, _)| c)
            .unwrap_or_default()
    }
}

fn parse_attribute_key(s: &str) -> Option<(u64, u32)> {
    let (c, a) = s.split_once('_')?;
    Some((c.parse().ok()?, a.parse().ok()?))
}

/// Findings about the archive section, each under `archive.`.
struct Findings<'a>(&'a mut Vec<ValidationError>);

impl Findings<'_> {
    fn push(&mut self, field: &str, message: String) {
        self.0.push(ValidationError {
            rule: None,
            field: format!("archive.{field}"),
            message,
        })
    }
}

/// Validates the section; every finding names its field under `archive.`.
pub(crate) fn validate_archive(
    doc: ArchiveDoc,
    errors: &mut Vec<ValidationError>,
) -> Option<ArchivePolicy> {
    let before = errors.len();
    let mut f = Findings(errors);
    let triggers = triggers(doc.triggers, &mut f);
    let versions = match doc.versions.as_deref() {
        None | Some("all") => VersionSelection::All,
        Some("latest") => VersionSelection::Latest,
        Some(v) => {
            f.push("versions", format!("{v:?}: expected all or latest"));
            VersionSelection::All
        }
    };
    let storage_class = storage_class(doc.storage_class, &mut f);
    let retention_mode = retention_mode(doc.retention_mode.as_deref(), &mut f);
    let location_attribute = location_attribute(doc.location_attribute, &mut f);
    let rm_storage = match doc.rm_storage {
        Some(s) if s.trim().is_empty() || s.chars().count() > MAX_RM_STORAGE => {
            f.push(
                "rm_storage",
                format!("{s:?}: 1-{MAX_RM_STORAGE} characters"),
            );
            None
        }
        other => other,
    };
    let release_content = doc.release_content.unwrap_or(false);
    if release_content && versions != VersionSelection::All {
        // Release purges every version: each must have a verified copy first.
        f.0.push(ValidationError {
            rule: None,
            field: "archive.release_content".into(),
            message: "requires `versions: all` (releasing purges every version in OpenText)".into(),
        });
    }
    (f.0.len() == before).then_some(ArchivePolicy {
        triggers,
        versions,
        storage_class,
        retention_mode,
        release_content,
        location_attribute,
        rm_storage,
    })
}

fn triggers(doc: Option<Vec<TriggerDoc>>, f: &mut Findings) -> Vec<ArchiveTrigger> {
    let mut triggers = Vec::new();
    match doc {
        None => f.push("triggers", "missing: at least one trigger".into()),
        Some(t) if t.is_empty() => f.push("triggers", "empty: at least one trigger".into()),
        Some(t) => {
            for (i, t) in t.into_iter().enumerate() {
                match (t.status, t.folder_id) {
                    (Some(s), None) if !s.trim().is_empty() => {
                        triggers.push(ArchiveTrigger::Status(s.trim().to_string()))
                    }
                    (Some(_), None) => f.push(&format!("triggers[{i}].status"), "empty".into()),
                    (None, Some(0)) => f.push(
                        &format!("triggers[{i}].folder_id"),
                        "must be a positive folder id".into(),
                    ),
                    (None, Some(id)) => triggers.push(ArchiveTrigger::FolderId(id)),
                    _ => f.push(
                        &format!("triggers[{i}]"),
                        "give exactly one of status or folder_id".into(),
                    ),
                }
            }
        }
    }
    triggers
}

fn storage_class(doc: Option<String>, f: &mut Findings) -> String {
    match doc {
        None => {
            f.push(
                "storage_class",
                format!("missing: one of {}", STORAGE_CLASSES.join(", ")),
            );
            String::new()
        }
        Some(c) if STORAGE_CLASSES.contains(&c.as_str()) => c,
        Some(c) => {
            f.push(
                "storage_class",
                format!("{c:?}: expected one of {}", STORAGE_CLASSES.join(", ")),
            );
            String::new()
        }
    }
}

fn retention_mode(doc: Option<&str>, f: &mut Findings) -> RetentionMode {
    match doc {
        Some("COMPLIANCE") => RetentionMode::Compliance,
        Some("GOVERNANCE") => RetentionMode::Governance,
        None => {
            f.push("retention_mode", "missing: COMPLIANCE or GOVERNANCE".into());
            RetentionMode::Compliance
        }
        Some(m) => {
            f.push(
                "retention_mode",
                format!("{m:?}: expected COMPLIANCE or GOVERNANCE"),
            );
            RetentionMode::Compliance
        }
    }
}

fn location_attribute(doc: Option<String>, f: &mut Findings) -> String {
    match doc {
        None => {
            f.push(
                "location_attribute",
                "missing: the category attribute that records the archive location".into(),
            );
            String::new()
        }
        Some(a) => match parse_attribute_key(&a) {
            Some((c, n)) if c > 0 && n >= 2 => a,
            _ => {
                f.push(
                    "location_attribute",
                    format!(
                        "{a:?}: expected {{category}}_{{attribute}} with attribute >= 2, e.g. \"3100_9\""
                    ),
                );
                String::new()
            }
        },
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
