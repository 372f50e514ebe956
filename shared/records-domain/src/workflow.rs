//! The declaration workflow (P1): states, the legal transitions (one table),
//! and the work item the AWS adapter persists.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::idempotency::{IdempotencyKey, ObjectVersion};
use crate::policy::Plan;

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

pub fn can_transition(from: StateKind, to: StateKind) -> bool {
    TRANSITIONS.contains(&(from, to))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal declaration transition {from} -> {to}")]
pub struct IllegalTransition {
    pub from: StateKind,
    pub to: StateKind,
}

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
    let (f, t) = (from.kind(), to.kind());
    if can_transition(f, t) {
        Ok(to)
    } else {
        Err(IllegalTransition { from: f, to: t })
    }
}

/// The current time as both forms the item stores (the caller's clock; the
/// domain has none).
#[derive(Debug, Clone, Copy)]
pub struct Now<'a> {
    /// Unix seconds, for lease comparisons in conditional writes.
    pub epoch_secs: i64,
    pub rfc3339: &'a str,
}

/// Why a worker may not take an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("already declared")]
    AlreadyDone,
    #[error("failed ({0}); needs an operator replay")]
    Failed(String),
    #[error("leased by {owner} until {expires_at}")]
    Leased { owner: String, expires_at: i64 },
}

/// One declaration's durable record; the AWS adapter persists it as is and
/// turns [`WorkItem::claim`]'s rules into a conditional write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkItem {
    pub key: IdempotencyKey,
    pub object: ObjectVersion,
    pub state: DeclarationState,
    /// Claims so far, including the current one.
    pub attempts: u32,
    pub lease_owner: Option<String>,
    /// Unix seconds.
    pub lease_expires_at: Option<i64>,
    /// The rule that decided, once evaluated.
    pub rule: Option<String>,
    /// The plan in force: a resumed attempt follows it even if the policy changed.
    pub plan: Option<Plan>,
    pub node_id: Option<u64>,
    pub version_number: Option<u32>,
    pub sha256: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_error: Option<String>,
}

impl WorkItem {
    pub fn new(key: IdempotencyKey, object: ObjectVersion, now: Now<'_>) -> Self {
        WorkItem {
            key,
            object,
            state: DeclarationState::Received,
            attempts: 0,
            lease_owner: None,
            lease_expires_at: None,
            rule: None,
            plan: None,
            node_id: None,
            version_number: None,
            sha256: None,
            created_at: now.rfc3339.to_string(),
            updated_at: now.rfc3339.to_string(),
            last_error: None,
        }
    }

    /// Take (or renew, for the same owner) the lease. A fresh or skipped item
    /// moves to Claimed; an in-progress one keeps its state so the attempt resumes.
    /// `replay` lets an operator reopen a Failed item.
    pub fn claim(
        &mut self,
        owner: &str,
        lease_secs: i64,
        now: Now<'_>,
        replay: bool,
    ) -> Result<(), ClaimError> {
        match &self.state {
            DeclarationState::Done => return Err(ClaimError::AlreadyDone),
            DeclarationState::Failed { reason } if !replay => {
                return Err(ClaimError::Failed(reason.clone()));
            }
            _ => {}
        }
        if let (Some(o), Some(exp)) = (&self.lease_owner, self.lease_expires_at)
            && o != owner
            && exp > now.epoch_secs
        {
            return Err(ClaimError::Leased {
                owner: o.clone(),
                expires_at: exp,
            });
        }
        if matches!(
            self.state.kind(),
            StateKind::Received | StateKind::Skipped | StateKind::Failed
        ) {
            self.state =
                transition(&self.state, DeclarationState::Claimed).expect("edge is in the table");
        }
        self.attempts += 1;
        self.lease_owner = Some(owner.to_string());
        self.lease_expires_at = Some(now.epoch_secs + lease_secs);
        self.updated_at = now.rfc3339.to_string();
        Ok(())
    }

    /// Move to `to` if the table allows it, keeping node id and version when
    /// entering Uploaded, and dropping the lease once settled.
    pub fn advance(&mut self, to: DeclarationState, now: Now<'_>) -> Result<(), IllegalTransition> {
        let next = transition(&self.state, to)?;
        match &next {
            DeclarationState::Uploaded {
                node_id,
                version_number,
            } => {
                self.node_id = Some(*node_id);
                self.version_number = Some(*version_number);
            }
            DeclarationState::Failed { reason } => self.last_error = Some(reason.clone()),
            _ => {}
        }
        if next.kind().is_settled() {
            self.lease_owner = None;
            self.lease_expires_at = None;
        }
        self.state = next;
        self.updated_at = now.rfc3339.to_string();
        Ok(())
    }

    /// A retryable error: the state stays, the next attempt resumes.
    pub fn record_retryable_error(&mut self, error: &str, now: Now<'_>) {
        self.last_error = Some(error.to_string());
        self.lease_owner = None;
        self.lease_expires_at = None;
        self.updated_at = now.rfc3339.to_string();
    }
}

#[cfg(test)]
mod tests;
