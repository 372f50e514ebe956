//! In-memory records of the simulated Content Server. Content bytes live on disk (see `blobs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::perms::Perms;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    /// Primary (default) group.
    #[serde(default)]
    pub group_id: i64,
    /// System administrator: bypasses every permission check.
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub members: Vec<i64>,
}

/// Per-node access control list, copied from the parent at creation like Content Server does.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    pub owner: Perms,
    pub group: Perms,
    pub public: Perms,
    /// Assigned access: (member id, rights) in insertion order.
    pub custom: Vec<(i64, Perms)>,
}

#[derive(Debug, Clone)]
pub struct Version {
    pub number: i64,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
    pub mime_type: String,
    pub blob: PathBuf,
    pub create_date: String,
    pub owner_id: i64,
    pub description: String,
    pub major: bool,
    pub external_source: Option<String>,
    pub external_identity: Option<String>,
    pub external_identity_type: Option<String>,
    pub external_create_date: Option<String>,
    pub external_modify_date: Option<String>,
}

/// One RM classification applied to a node, with its record details.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RmRecord {
    pub class_id: i64,
    pub file_number: String,
    pub rsi: String,
    pub record_date: String,
    pub status: String,
    pub status_date: String,
    pub received_date: String,
    pub essential: String,
    pub official: bool,
    pub storage: String,
    pub accession: String,
    pub subject: String,
    pub originator: String,
    pub addressee: String,
    pub sent_to: String,
    pub establishment: String,
    pub cycle_period: i64,
    pub last_review_date: String,
    pub next_review_date: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppliedHold {
    pub hold_id: i64,
    pub applied_by: i64,
    pub date_applied: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub event_type: i64,
    pub audit_name: String,
    pub audit_date: String,
    pub user_id: i64,
    pub agent_id: i64,
    pub target_user_id: i64,
    /// Free-text detail (not part of the REST shape; shown in the admin view).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
    pub node_type: i64,
    pub description: String,
    pub create_date: String,
    pub modify_date: String,
    pub create_user_id: i64,
    pub modify_user_id: i64,
    pub owner_user_id: i64,
    pub owner_group_id: i64,
    pub external_source: Option<String>,
    pub external_identity: Option<String>,
    pub external_identity_type: Option<String>,
    pub external_create_date: Option<String>,
    pub external_modify_date: Option<String>,
    pub versions: Vec<Version>,
    /// Applied categories: category id to flat attribute values (`{cat}_{attr}` keys).
    pub categories: BTreeMap<i64, BTreeMap<String, Value>>,
    pub rm: Vec<RmRecord>,
    /// Rotates on every RM change; a PUT must present the current value.
    pub rm_token: String,
    /// Rotates on every node/category change (`state` flag, optimistic locking).
    pub metadata_token: String,
    pub holds: Vec<AppliedHold>,
    pub acl: Acl,
    pub deleted: bool,
    pub audit: Vec<AuditEvent>,
}

impl Node {
    pub fn is_container(&self) -> bool {
        !matches!(self.node_type, 144 | 140 | 1 | 131 | 749)
    }

    pub fn type_name(&self) -> &'static str {
        match self.node_type {
            0 => "Folder",
            1 => "Shortcut",
            131 => "Category",
            132 => "Category Folder",
            133 => "Categories Volume",
            136 => "Compound Document",
            140 => "URL",
            141 => "Enterprise Workspace",
            142 => "Personal Workspace",
            144 => "Document",
            198 => "Classification Volume",
            199 => "Classification",
            550 => "Records Management Volume",
            751 => "Email Folder",
            848 => "Business Workspace",
            _ => "Item",
        }
    }

    pub fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeDef {
    /// Attribute number: the key is `{category}_{id}`.
    pub id: i64,
    pub name: String,
    /// `string`, `integer`, `date` or `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub multi_value: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryDef {
    pub id: i64,
    pub name: String,
    pub attributes: Vec<AttributeDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Classification {
    pub id: i64,
    pub name: String,
    pub file_number: String,
    /// Default RSI name given to records classified here.
    #[serde(default)]
    pub rsi: String,
    #[serde(default)]
    pub essential: String,
    #[serde(default)]
    pub storage: String,
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RsiStage {
    pub id: i64,
    pub stage: String,
    pub object_type: String,
    pub event_type: i64,
    pub date_to_use: i64,
    #[serde(default)]
    pub rule_code: String,
    #[serde(default)]
    pub years: i64,
    #[serde(default)]
    pub months: i64,
    #[serde(default)]
    pub days: i64,
    pub action_code: i64,
    #[serde(default)]
    pub action_description: String,
    #[serde(default)]
    pub disposition: String,
    #[serde(default)]
    pub event_rule: String,
    #[serde(default = "one")]
    pub approval_flag: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rsi {
    pub id: i64,
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub description: String,
    pub status: String,
    pub status_date: String,
    pub create_date: String,
    pub stages: Vec<RsiStage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hold {
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub hold_type: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub alternate_id: String,
    #[serde(default)]
    pub parent_id: i64,
    pub date_applied: String,
    #[serde(default)]
    pub date_to_remove: String,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub created_by: i64,
}

fn yes() -> bool {
    true
}
