//! What the workflow store keeps for one declaration between attempts: the state (with its
//! data), the plan it started under, and what OpenText returned so far.

use serde::{Deserialize, Serialize};

use records_domain::{DeclarationState, Plan};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DeclarationState>,
    /// Frozen at evaluation: a resumed attempt finishes under the plan it started with,
    /// even if the policy changed in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The chunked upload session an attempt opened: the next attempt cancels it if the
    /// attempt died before finishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_key: Option<String>,
    /// Set when the plan's name was taken by another object's document: what took it, and
    /// the name the record was declared under instead (audited with the declaration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_clash: Option<NameClash>,
}

/// A name taken by a document that is not this object's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameClash {
    pub name: String,
    /// The node holding the name, when the service account can see it.
    pub taken_by: Option<u64>,
    pub declared_as: String,
}

impl Progress {
    pub fn parse(detail: &str) -> Progress {
        serde_json::from_str(detail).unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("progress is plain data")
    }
}

/// Names the store refuses to claim again. `skipped` is not among them: a later tagging
/// event may make a skipped version governed.
pub const TERMINAL: &[&str] = &["done", "failed"];
