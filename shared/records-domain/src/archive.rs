//! P2 archive tier, the pure part: where each version goes in the archive bucket and the
//! workflow state saved after every step, so a rerun finishes a crashed attempt without a
//! second copy or an unverified release. How long a copy is locked comes from
//! [`crate::retention::retention_target`] (the same rule P3 applies to S3-resident records).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::idempotency::IdempotencyKey;
use crate::retention::{RetentionTarget, legal_hold_wanted};
use crate::workflow::WorkflowState;

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

/// Where one node's archive stands: the archive workflow's states, saved after every step
/// (`claimed → copying → verified → located → released → done`, or `failed` with its
/// reason). `failed` is terminal like `done`.
///
/// Two states end an attempt without ending the archive, and are never terminal (a later
/// attempt, e.g. on `hold.removed` or a redelivery, claims them again and resumes the release):
/// - `release_deferred`: archived, verified and located, but a hold is in force, so OpenText's
///   content is kept; the copies carry an S3 legal hold.
/// - `release_refused`: archived, verified and located, but OpenText refused the purge (the
///   detail's `reason` is OpenText's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveState {
    /// New: nothing planned yet.
    Claimed,
    /// The versions and the lock are planned; copies are made (saved after each).
    Copying,
    /// Every copy's size, SHA-256 and lock checked against OpenText's bytes.
    Verified,
    /// The archive location is on the record. The release (if the policy asks) starts here,
    /// and the release stub, once added, is saved here too.
    Located,
    /// Under hold: the release waits; the copies are legally held.
    ReleaseDeferred,
    /// OpenText refused the purge: the release is tried again by the next attempt.
    ReleaseRefused,
    /// OpenText's archived versions are purged; only the stub is left.
    Released,
    Done,
    Failed,
}

impl ArchiveState {
    pub const ALL: [ArchiveState; 9] = [
        ArchiveState::Claimed,
        ArchiveState::Copying,
        ArchiveState::Verified,
        ArchiveState::Located,
        ArchiveState::ReleaseDeferred,
        ArchiveState::ReleaseRefused,
        ArchiveState::Released,
        ArchiveState::Done,
        ArchiveState::Failed,
    ];

    /// The name the workflow store keeps (the names items were always saved under).
    pub const fn as_str(self) -> &'static str {
        match self {
            ArchiveState::Claimed => "claimed",
            ArchiveState::Copying => "copying",
            ArchiveState::Verified => "verified",
            ArchiveState::Located => "located",
            ArchiveState::ReleaseDeferred => "release_deferred",
            ArchiveState::ReleaseRefused => "release_refused",
            ArchiveState::Released => "released",
            ArchiveState::Done => "done",
            ArchiveState::Failed => "failed",
        }
    }

    /// The state stored under `name`, if it is an archive state.
    pub fn parse(name: &str) -> Option<Self> {
        <Self as WorkflowState>::parse(name)
    }

    /// Never claimed again: `done` and `failed` (not `release_deferred`, `release_refused`).
    pub fn is_terminal(self) -> bool {
        matches!(self, ArchiveState::Done | ArchiveState::Failed)
    }
}

impl fmt::Display for ArchiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every legal move of an archive. Anything not listed is illegal. A state may be saved
/// again (`copying` after each copy, `located` with the release stub, `release_deferred` when
/// a hold is still in force). The release's states (`located`, `release_deferred`,
/// `release_refused`) lead to one another, to `released` and to `done` (without a release:
/// `release_content: false`); `failed` is reached from any state that is not terminal.
pub const ARCHIVE_TRANSITIONS: &[(ArchiveState, ArchiveState)] = {
    use ArchiveState::*;
    &[
        (Claimed, Copying),
        (Claimed, Failed),
        (Copying, Copying),
        (Copying, Verified),
        (Copying, Failed),
        (Verified, Located),
        (Verified, Failed),
        (Located, Located),
        (Located, ReleaseDeferred),
        (Located, ReleaseRefused),
        (Located, Released),
        (Located, Done),
        (Located, Failed),
        (ReleaseDeferred, Located),
        (ReleaseDeferred, ReleaseDeferred),
        (ReleaseDeferred, ReleaseRefused),
        (ReleaseDeferred, Released),
        (ReleaseDeferred, Done),
        (ReleaseDeferred, Failed),
        (ReleaseRefused, Located),
        (ReleaseRefused, ReleaseDeferred),
        (ReleaseRefused, ReleaseRefused),
        (ReleaseRefused, Released),
        (ReleaseRefused, Done),
        (ReleaseRefused, Failed),
        (Released, Done),
        (Released, Failed),
    ]
};

impl WorkflowState for ArchiveState {
    const WORKFLOW: &'static str = "archive";
    const STATES: &'static [Self] = &ArchiveState::ALL;
    const TRANSITIONS: &'static [(Self, Self)] = ARCHIVE_TRANSITIONS;

    fn as_str(self) -> &'static str {
        ArchiveState::as_str(self)
    }
}

/// The archive states' names as the workflow store keeps them ([`ArchiveState::as_str`]).
pub mod states {
    use super::ArchiveState;

    pub const CLAIMED: &str = ArchiveState::Claimed.as_str();
    pub const COPYING: &str = ArchiveState::Copying.as_str();
    pub const VERIFIED: &str = ArchiveState::Verified.as_str();
    pub const LOCATED: &str = ArchiveState::Located.as_str();
    pub const RELEASE_DEFERRED: &str = ArchiveState::ReleaseDeferred.as_str();
    pub const RELEASE_REFUSED: &str = ArchiveState::ReleaseRefused.as_str();
    pub const RELEASED: &str = ArchiveState::Released.as_str();
    pub const DONE: &str = ArchiveState::Done.as_str();
    pub const FAILED: &str = ArchiveState::Failed.as_str();
    /// Never claimed again ([`ArchiveState::is_terminal`]).
    pub const TERMINAL: &[&str] = &[DONE, FAILED];
}

/// The description of the release stub version (at most 255 characters in OpenText). True
/// whether or not the purge that follows it succeeds.
pub const STUB_DESCRIPTION: &str =
    "Archived to S3 by records-bridge; release of the archived versions requested";

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
    /// OpenText holds in force when last asked (after copying; when the release was
    /// deferred). While non-empty the copies carry an S3 legal hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<i64>,
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

    /// Whether the archive copies must carry an S3 legal hold: while an OpenText hold is in
    /// force, and always when their retention has no date yet (awaiting an event, permanent).
    pub fn copy_legal_hold_wanted(&self, holds_in_force: bool) -> bool {
        legal_hold_wanted(
            holds_in_force,
            self.lock.as_ref().and_then(RetentionTarget::hold_tag),
        )
    }

    /// The text of the stub version added to release OpenText's content. It is written before
    /// the purge of the archived versions and stays the current version whether or not the
    /// purge succeeds (a hold applied meanwhile, a refusal), so it says only what is true in
    /// both cases: the copies exist and were verified; the release is requested, and any
    /// archived version still listed beside it has not been released.
    pub fn stub_text(&self, node_id: u64) -> String {
        let versions: Vec<String> = self
            .copies
            .iter()
            .map(|c| format!("v{}", c.version_number))
            .collect();
        let mut s = format!(
            "records-bridge: the content of node {node_id} is archived to S3 at {}.\n\
             Each copy below was verified against OpenText's bytes (size and SHA-256) before \
             this version was added.\n\
             Release requested: versions {} are purged from OpenText once no hold or refusal \
             prevents it. Any of them still listed beside this version has not been released; \
             records-bridge's audit trail records the release when it happens.\n",
            self.location(node_id),
            versions.join(", ")
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
