//! The publication workflow's states and what it saves after each step.
//!
//! One item per node (`publication#{node}`), never finished: it rests in `published`,
//! `refused` or `withdrawn` between events, and every later event of the node claims it
//! again. `writing` and `removing` are the two steps with effects in S3; their plan is
//! saved before the effect, so a crashed attempt resumes them rather than guessing.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::GateRefusal;
use crate::workflow::WorkflowState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicationState {
    /// New: nothing decided yet.
    Claimed,
    /// A version passed every gate and is being written (`progress.writing`).
    Writing,
    /// A copy is live (`progress.live`).
    Published,
    /// Copies are being removed (`progress.removing`), then the item rests where it says.
    Removing,
    /// A standing request whose gates fail: nothing is published; a later change of the
    /// node is checked again.
    Refused,
    /// No standing request (withdrawn, moved out of the publish folder, gone): nothing is
    /// published until a new request.
    Withdrawn,
    /// An error retrying could not fix; the next event of the node tries again.
    Failed,
}

impl PublicationState {
    pub const ALL: [PublicationState; 7] = [
        PublicationState::Claimed,
        PublicationState::Writing,
        PublicationState::Published,
        PublicationState::Removing,
        PublicationState::Refused,
        PublicationState::Withdrawn,
        PublicationState::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PublicationState::Claimed => "claimed",
            PublicationState::Writing => "writing",
            PublicationState::Published => "published",
            PublicationState::Removing => "removing",
            PublicationState::Refused => "refused",
            PublicationState::Withdrawn => "withdrawn",
            PublicationState::Failed => "failed",
        }
    }

    /// Where the item waits for the next event (no step in flight).
    pub fn is_resting(self) -> bool {
        !matches!(self, PublicationState::Writing | PublicationState::Removing)
    }
}

impl fmt::Display for PublicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every legal move: from a resting state to any step or resting state; `writing` on to
/// `published` (or `removing` the copy it replaced); `removing` on to where it rests. Only
/// `writing`, `removing` and a `failed` attempt with its copy still live reach `published`.
pub const PUBLICATION_TRANSITIONS: &[(PublicationState, PublicationState)] = {
    use PublicationState::*;
    &[
        (Claimed, Writing),
        (Claimed, Refused),
        (Claimed, Withdrawn),
        (Claimed, Failed),
        (Writing, Writing),
        (Writing, Published),
        (Writing, Removing),
        (Writing, Failed),
        (Published, Published),
        (Published, Writing),
        (Published, Removing),
        (Published, Failed),
        (Removing, Removing),
        (Removing, Published),
        (Removing, Refused),
        (Removing, Withdrawn),
        (Removing, Failed),
        (Refused, Writing),
        (Refused, Refused),
        (Refused, Withdrawn),
        (Refused, Failed),
        (Withdrawn, Writing),
        (Withdrawn, Refused),
        (Withdrawn, Withdrawn),
        (Withdrawn, Failed),
        // A copy live before the failure is found live again.
        (Failed, Published),
        (Failed, Writing),
        (Failed, Removing),
        (Failed, Refused),
        (Failed, Withdrawn),
        (Failed, Failed),
    ]
};

impl WorkflowState for PublicationState {
    const WORKFLOW: &'static str = "publication";
    const STATES: &'static [Self] = &PublicationState::ALL;
    const TRANSITIONS: &'static [(Self, Self)] = PUBLICATION_TRANSITIONS;

    fn as_str(self) -> &'static str {
        PublicationState::as_str(self)
    }
}

/// What keeps a document requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// It sits in this publish folder; moving out withdraws it.
    Folder(u64),
    /// The policy's approval trigger: approved means requested.
    Approval,
    /// An explicit request through the intake, until withdrawn.
    Request,
}

/// The copy that is live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCopy {
    pub version: u32,
    pub key: String,
    pub s3_version_id: Option<String>,
    /// Hex SHA-256 of OpenText's bytes (S3 checked the body against it).
    pub sha256: String,
    pub size: u64,
    pub published_at: String,
    /// On the distribution (public copies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The version being written, saved before the write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCopy {
    pub version: u32,
    pub key: String,
}

/// What a removal takes down, why, and where the item rests after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub key: String,
    /// These S3 versions only (a replaced copy at the same key); empty: every version and
    /// delete marker of the key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Keys whose every version goes too: a copy an interrupted attempt wrote and no
    /// decision kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    pub reason: String,
    /// `published` (the replacement is live), `refused` or `withdrawn`.
    pub then: PublicationState,
    /// The paths invalidated once the copies are gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalidate: Vec<String>,
    /// Removal's audit event is the event id of the removal itself, so a resumed removal
    /// writes the same one.
    pub removal_id: String,
}

/// The item's detail, saved after every step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationProgress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Standing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveCopy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writing: Option<PlannedCopy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removing: Option<Removal>,
    /// The gates that failed at the last check (state `refused`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<GateRefusal>,
    /// Why it rests where it does (refused, withdrawn, failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The copies that were live before, newest last (each removed when replaced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<LiveCopy>,
}

/// The most copies [`PublicationProgress::history`] keeps (the audit log keeps them all).
pub const MAX_HISTORY: usize = 20;

impl PublicationProgress {
    /// Moves the live copy to the history (bounded).
    pub fn retire_live(&mut self) {
        if let Some(old) = self.live.take() {
            self.history.push(old);
            let excess = self.history.len().saturating_sub(MAX_HISTORY);
            self.history.drain(..excess);
        }
    }
}
