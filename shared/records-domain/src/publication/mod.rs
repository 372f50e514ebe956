//! P7 controlled publication, the pure part: the five gates a version must pass before it
//! is published ([`check_gates`]), the published copy's path on the distribution
//! ([`cdn_path`]), and the workflow's states and saved progress ([`state`]).
//!
//! Gates are checked on what OpenText says now, never on what an event claims: an event
//! only says "look again".

pub mod state;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::policy::publication::{ApprovalSource, Audience, PublicationPolicy};

pub use state::{LiveCopy, PlannedCopy, PublicationProgress, PublicationState, Removal, Standing};

/// The workflow item of one node's publication.
pub fn publication_workflow_key(node_id: u64) -> crate::IdempotencyKey {
    crate::IdempotencyKey::from_parts("publication", &[&node_id.to_string()])
}

/// A gate of publication, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// An RM classification is present.
    Classified,
    /// The approval the policy names is given.
    Approved,
    /// An official record (when the policy requires it).
    Declared,
    /// No hold in force, direct or inherited.
    NotHeld,
    /// The version asked for is the latest approved one, and it exists.
    LatestApproved,
}

impl Gate {
    /// The refusal's stable code, as audit events and operators see it.
    pub fn refusal_code(self) -> &'static str {
        match self {
            Gate::Classified => "unclassified",
            Gate::Approved => "unapproved",
            Gate::Declared => "not_official",
            Gate::NotHeld => "held",
            Gate::LatestApproved => "stale_version",
        }
    }
}

/// One failed gate and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRefusal {
    pub gate: Gate,
    pub code: String,
    pub reason: String,
}

impl GateRefusal {
    fn new(gate: Gate, reason: String) -> Self {
        GateRefusal {
            gate,
            code: gate.refusal_code().to_string(),
            reason,
        }
    }
}

/// What OpenText says about the document now (read by the workflow, judged here).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateFacts {
    /// At least one RM classification is applied.
    pub classified: bool,
    /// The primary classification's official flag.
    pub official: Option<bool>,
    /// RM status (`status` / `file_status`).
    pub rm_status: Option<String>,
    /// The approval attribute's value, as OpenText sent it.
    pub approval_value: Option<serde_json::Value>,
    /// The approved-version attribute's value, as OpenText sent it.
    pub approved_version: Option<serde_json::Value>,
    /// Holds in force.
    pub holds: Vec<i64>,
    /// The document's version numbers.
    pub versions: Vec<u32>,
}

/// The approved version to publish, or every gate that failed (each with its reason).
/// `asked` is the version a request named, if it named one.
pub fn check_gates(
    policy: &PublicationPolicy,
    facts: &GateFacts,
    asked: Option<u32>,
) -> Result<u32, Vec<GateRefusal>> {
    let mut refused = Vec::new();
    if !facts.classified {
        refused.push(GateRefusal::new(
            Gate::Classified,
            "the document has no RM classification".into(),
        ));
    }
    match &policy.approval.source {
        ApprovalSource::Attribute { attribute, values } => {
            let given = texts(facts.approval_value.as_ref());
            if !given.iter().any(|g| values.iter().any(|v| same_text(g, v))) {
                refused.push(GateRefusal::new(
                    Gate::Approved,
                    format!(
                        "approval attribute {} is {} (approved: {})",
                        attribute.key(),
                        shown(&given),
                        values.join(", ")
                    ),
                ));
            }
        }
        ApprovalSource::RmStatus(statuses) => {
            let status = facts.rm_status.as_deref().unwrap_or_default();
            if !statuses.iter().any(|s| same_text(status, s)) {
                refused.push(GateRefusal::new(
                    Gate::Approved,
                    format!(
                        "RM status is {} (approved: {})",
                        if status.is_empty() { "not set" } else { status },
                        statuses.join(", ")
                    ),
                ));
            }
        }
    }
    // Only a classified document can be a record; unclassified says it already.
    if policy.require_official && facts.classified && facts.official != Some(true) {
        refused.push(GateRefusal::new(
            Gate::Declared,
            "the document is not an official record".into(),
        ));
    }
    if !facts.holds.is_empty() {
        refused.push(GateRefusal::new(
            Gate::NotHeld,
            format!("holds {:?} are in force", facts.holds),
        ));
    }
    let approved = version_number(facts.approved_version.as_ref());
    let version_attr = policy.approval.version_attribute.key();
    match approved {
        None => refused.push(GateRefusal::new(
            Gate::LatestApproved,
            format!("attribute {version_attr} names no approved version"),
        )),
        Some(v) if !facts.versions.contains(&v) => refused.push(GateRefusal::new(
            Gate::LatestApproved,
            format!(
                "the approved version {v} does not exist (versions: {:?})",
                facts.versions
            ),
        )),
        Some(v) => {
            if let Some(a) = asked.filter(|a| *a != v) {
                refused.push(GateRefusal::new(
                    Gate::LatestApproved,
                    format!("version {a} was asked for; the latest approved version is {v}"),
                ));
            }
        }
    }
    match approved {
        Some(v) if refused.is_empty() => Ok(v),
        _ => Err(refused),
    }
}

/// Attribute values as text: a multi-value attribute gives each value.
fn texts(v: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items.iter().flat_map(|i| texts(Some(i))).collect(),
        Some(other) => vec![other.to_string()],
    }
}

fn shown(values: &[String]) -> String {
    if values.is_empty() {
        "not set".into()
    } else {
        format!("{values:?}")
    }
}

/// Values compared as Content Server compares attribute text: trimmed, ignoring case.
fn same_text(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A version number from an attribute value: `2`, `"2"`, `"2.0"` (a major version), or the
/// first of a multi-value attribute.
fn version_number(v: Option<&serde_json::Value>) -> Option<u32> {
    let first = texts(v).into_iter().next()?;
    let whole = first.strip_suffix(".0").unwrap_or(&first);
    whole.parse().ok().filter(|n| *n > 0)
}

/// Characters escaped in a distribution path: controls, space and what URLs or
/// CloudFront's invalidation syntax give a meaning (`*` is its wildcard); non-ASCII is
/// always escaped.
const PATH_ESCAPED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^')
    .add(b'[')
    .add(b']')
    .add(b'*');

/// The published copy's path on the distribution (origin path `/public`), percent-encoded
/// as an invalidation and a viewer URL want it; `None` for an internal copy, which the
/// distribution never serves.
pub fn cdn_path(key: &str) -> Option<String> {
    let rest = key.strip_prefix(Audience::Public.prefix())?;
    Some(format!("/{}", utf8_percent_encode(rest, PATH_ESCAPED)))
}

/// The copy's public URL on the distribution whose base URL is `base`.
pub fn public_url(base: &str, key: &str) -> Option<String> {
    Some(format!("{}{}", base.trim_end_matches('/'), cdn_path(key)?))
}

#[cfg(test)]
mod tests;
