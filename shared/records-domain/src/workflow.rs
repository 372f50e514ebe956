//! Workflow states: what every workflow's states are ([`WorkflowState`]: a closed set of names
//! the workflow store keeps, moved only along one table of legal transitions), and the
//! declaration workflow's (P1: [`DeclarationState`], [`StateKind`], [`TRANSITIONS`]). The
//! archive workflow's (P2) are [`ArchiveState`](crate::archive::ArchiveState).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A workflow's states: each a name the workflow store keeps (unchanged, so stored items
/// still read), and one table of the legal moves between them. A move the table does not
/// list is a bug in the workflow, never made.
pub trait WorkflowState: Copy + Eq + fmt::Debug + fmt::Display + Sized + 'static {
    /// The workflow's name, as errors say it (`declaration`, `archive`).
    const WORKFLOW: &'static str;
    /// Every state.
    const STATES: &'static [Self];
    /// Every legal edge. Anything not listed is illegal.
    const TRANSITIONS: &'static [(Self, Self)];

    /// The name the workflow store keeps.
    fn as_str(self) -> &'static str;

    /// The state stored under `name`, if it is one of this workflow's.
    fn parse(name: &str) -> Option<Self> {
        Self::STATES.iter().copied().find(|s| s.as_str() == name)
    }

    fn can_move_to(self, to: Self) -> bool {
        Self::TRANSITIONS.contains(&(self, to))
    }

    /// Checks the edge: `to` if the table has it, else the illegal move.
    fn move_to(self, to: Self) -> Result<Self, IllegalTransition<Self>> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

/// Where one object version's declaration stands.
///
/// Retryable errors do not change the state: the item keeps its state, records
/// `last_error`, and the next attempt resumes from there. `Failed` is only for
/// errors that retrying cannot fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeclarationState {
    /// The event is recorded; nobody works on it yet.
    Received,
    /// A worker holds the lease and is evaluating the policy.
    Claimed,
    /// Content is being sent; a resumed attempt first looks for a version
    /// carrying this item's external identity under `folder_id`/`name`.
    Uploading { folder_id: u64, name: String },
    /// The node or version exists (provenance categories are applied next).
    Uploaded { node_id: u64, version_number: u32 },
    /// Categories, RM classification and record details are applied.
    Classified,
    /// The S3 object carries the node id and state tags.
    Tagged,
    /// Declared. Final: never declared again.
    Done,
    /// Not retryable (policy refused, plan impossible, object gone). An
    /// operator replay may reopen it.
    Failed { reason: String },
    /// Ungoverned, ignored by a rule, or a folder marker. A later event (e.g.
    /// `ObjectTagging:Put` adding the tag a rule wants) may re-evaluate it.
    Skipped { reason: String },
}

/// The state without its data: what the transition table is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    Received,
    Claimed,
    Uploading,
    Uploaded,
    Classified,
    Tagged,
    Done,
    Failed,
    Skipped,
}

impl StateKind {
    pub const ALL: [StateKind; 9] = [
        StateKind::Received,
        StateKind::Claimed,
        StateKind::Uploading,
        StateKind::Uploaded,
        StateKind::Classified,
        StateKind::Tagged,
        StateKind::Done,
        StateKind::Failed,
        StateKind::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Received => "received",
            StateKind::Claimed => "claimed",
            StateKind::Uploading => "uploading",
            StateKind::Uploaded => "uploaded",
            StateKind::Classified => "classified",
            StateKind::Tagged => "tagged",
            StateKind::Done => "done",
            StateKind::Failed => "failed",
            StateKind::Skipped => "skipped",
        }
    }

    /// No worker moves a settled item on by itself.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            StateKind::Done | StateKind::Failed | StateKind::Skipped
        )
    }
}

impl fmt::Display for StateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every legal edge. Anything not listed is illegal.
pub const TRANSITIONS: &[(StateKind, StateKind)] = {
    use StateKind::*;
    &[
        (Received, Claimed),
        (Received, Skipped),
        (Received, Failed), // e.g. an undecodable key
        (Claimed, Uploading),
        (Claimed, Skipped),
        (Claimed, Failed),
        (Uploading, Uploaded),
        (Uploading, Failed), // e.g. name exists and the rule says refuse
        (Uploaded, Classified),
        (Uploaded, Failed),
        (Classified, Tagged),
        (Classified, Failed),
        (Tagged, Done),
        // A later event for the same version re-evaluates (tags may now match).
        (Skipped, Claimed),
        // Operator replay after fixing the cause.
        (Failed, Claimed),
    ]
};

impl WorkflowState for StateKind {
    const WORKFLOW: &'static str = "declaration";
    const STATES: &'static [Self] = &StateKind::ALL;
    const TRANSITIONS: &'static [(Self, Self)] = TRANSITIONS;

    fn as_str(self) -> &'static str {
        StateKind::as_str(self)
    }
}

pub fn can_transition(from: StateKind, to: StateKind) -> bool {
    from.can_move_to(to)
}

/// A move the workflow's table does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition<S = StateKind> {
    pub from: S,
    pub to: S,
}

impl<S: WorkflowState> fmt::Display for IllegalTransition<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "illegal {} transition {} -> {}",
            S::WORKFLOW,
            self.from,
            self.to
        )
    }
}

impl<S: WorkflowState> std::error::Error for IllegalTransition<S> {}

impl DeclarationState {
    pub fn kind(&self) -> StateKind {
        match self {
            DeclarationState::Received => StateKind::Received,
            DeclarationState::Claimed => StateKind::Claimed,
            DeclarationState::Uploading { .. } => StateKind::Uploading,
            DeclarationState::Uploaded { .. } => StateKind::Uploaded,
            DeclarationState::Classified => StateKind::Classified,
            DeclarationState::Tagged => StateKind::Tagged,
            DeclarationState::Done => StateKind::Done,
            DeclarationState::Failed { .. } => StateKind::Failed,
            DeclarationState::Skipped { .. } => StateKind::Skipped,
        }
    }
}

/// Check the edge and return the new state.
pub fn transition(
    from: &DeclarationState,
    to: DeclarationState,
) -> Result<DeclarationState, IllegalTransition> {
    from.kind().move_to(to.kind()).map(|_| to)
}

#[cfg(test)]
mod tests;
