//! P2 archive tier, the pure part: where each version goes in the archive bucket and the
//! workflow state saved after every step, so a rerun finishes a crashed attempt without a
//! second copy or an unverified release. How long a copy is locked comes from
//! [`crate::retention::retention_target`] (the same rule P3 applies to S3-resident records).

use serde::{Deserialize, Serialize};

use crate::idempotency::IdempotencyKey;
use crate::retention::RetentionTarget;

/// The archive bucket key of one version: `archive/{node}/v{n}/{file name}`. The file name is
/// kept readable but cannot add path segments.
pub fn archive_key(node_id: u64, version_number: u32, file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = name.trim();
    let name = if name.is_empty() || name == "." || name == ".." {
        "content"
    } else {
        name
    };
    format!("archive/{node_id}/v{version_number}/{name}")
}

/// The workflow key of archiving one node (one archive per record, whatever triggered it).
pub fn archive_workflow_key(node_id: u64) -> IdempotencyKey {
    IdempotencyKey::from_parts("archive", &[&node_id.to_string()])
}

/// Workflow states, in order. `failed` is terminal like `done`.
pub mod states {
    pub const CLAIMED: &str = "claimed";
    pub const COPYING: &str = "copying";
    pub const VERIFIED: &str = "verified";
    pub const LOCATED: &str = "located";
    pub const RELEASED: &str = "released";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const TERMINAL: &[&str] = &[DONE, FAILED];
}

/// One version to archive, frozen when copying starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCopy {
    pub version_number: u32,
    pub file_name: String,
    pub size: u64,
    pub key: String,
}

/// One copy made and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedCopy {
    pub version_number: u32,
    pub key: String,
    /// The S3 version id of the copy.
    pub s3_version_id: Option<String>,
    pub size: u64,
    /// Hex SHA-256 of OpenText's bytes as streamed.
    pub sha256: String,
    /// Set once HeadObject showed the stored size and checksum equal OpenText's.
    #[serde(default)]
    pub verified: bool,
}

/// The workflow detail, saved with every state change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveProgress {
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub planned: Vec<PlannedCopy>,
    #[serde(default)]
    pub copies: Vec<ArchivedCopy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<RetentionTarget>,
    /// The version number of the release stub, once added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stub_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ArchiveProgress {
    pub fn copy_of(&self, version_number: u32) -> Option<&ArchivedCopy> {
        self.copies
            .iter()
            .find(|c| c.version_number == version_number)
    }

    /// Planned versions not yet copied.
    pub fn remaining(&self) -> impl Iterator<Item = &PlannedCopy> {
        self.planned
            .iter()
            .filter(|p| self.copy_of(p.version_number).is_none())
    }

    /// Release is allowed only when every planned version has a verified copy.
    pub fn all_verified(&self) -> bool {
        !self.planned.is_empty()
            && self.planned.iter().all(|p| {
                self.copy_of(p.version_number)
                    .is_some_and(|c| c.verified && c.size == p.size)
            })
    }

    /// The archive location written on the record: `s3://bucket/archive/{node}/` and the
    /// copies' keys with their S3 version ids.
    pub fn location(&self, node_id: u64) -> String {
        format!("s3://{}/archive/{node_id}/", self.bucket)
    }

    /// The text of the stub version left in OpenText after release.
    pub fn stub_text(&self, node_id: u64) -> String {
        let mut s = format!(
            "records-bridge: the content of node {node_id} was archived to {} and released.\n",
            self.location(node_id)
        );
        for c in &self.copies {
            s.push_str(&format!(
                "v{} s3://{}/{}{} size={} sha256={}\n",
                c.version_number,
                self.bucket,
                c.key,
                c.s3_version_id
                    .as_deref()
                    .map(|v| format!("?versionId={v}"))
                    .unwrap_or_default(),
                c.size,
                c.sha256
            ));
        }
        s
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
