//! Content Server types: nodes, versions, users, paging, uploads, permissions, audit.

use serde::{Deserialize, Serialize};

use super::date::{OtDateTime, in_zone, opt_date};
use super::lenient;

/// Node type numbers used by this crate (`type` / `subtype`).
pub mod node_type {
    /// Folder.
    pub const FOLDER: i64 = 0;
    /// Category definition.
    pub const CATEGORY: i64 = 131;
    /// Enterprise Workspace.
    pub const ENTERPRISE_WORKSPACE: i64 = 141;
    /// Document.
    pub const DOCUMENT: i64 = 144;
    /// RM hold.
    pub const HOLD: i64 = 833;
}

/// A node's v2 `properties`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Node {
    /// Node id.
    #[serde(deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Parent container id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub parent_id: Option<i64>,
    /// Name (unique within the parent).
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Node type (144 document, 0 folder, ...).
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_i64")]
    pub node_type: Option<i64>,
    /// Type name, e.g. "Document".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub type_name: Option<String>,
    /// Whether the node holds children.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub container: bool,
    /// Size in bytes (documents) or child count (containers), as the server reports it.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub size: Option<i64>,
    /// MIME type of the current version.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub mime_type: Option<String>,
    /// Creation time.
    #[serde(default, deserialize_with = "opt_date")]
    pub create_date: Option<OtDateTime>,
    /// Last modification time.
    #[serde(default, deserialize_with = "opt_date")]
    pub modify_date: Option<OtDateTime>,
    /// Creator.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub create_user_id: Option<i64>,
    /// Last modifier.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub modify_user_id: Option<i64>,
    /// Owner.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub owner_user_id: Option<i64>,
    /// Description.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    /// Provenance: where the content came from (e.g. `cloud_storage`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub external_source: Option<String>,
    /// Provenance: the external identity (e.g. an S3 URI or idempotency key).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub external_identity: Option<String>,
    /// Provenance: the kind of `external_identity`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub external_identity_type: Option<String>,
    /// Volume id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub volume_id: Option<i64>,
    /// Reserved (checked out).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub reserved: Option<bool>,
}

in_zone!(Node: create_date, modify_date);

impl Node {
    /// True for documents (type 144).
    pub fn is_document(&self) -> bool {
        self.node_type == Some(node_type::DOCUMENT)
    }
}

/// One version of a document (`results.data.versions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Version {
    /// Version number, from 1.
    #[serde(deserialize_with = "lenient::i64")]
    pub version_number: i64,
    /// The document's node id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
    /// Internal version id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub version_id: Option<i64>,
    /// Display name such as "1" or "1.2".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub version_number_name: Option<String>,
    /// File name stored with the version.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub file_name: Option<String>,
    /// Size in bytes.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub file_size: Option<i64>,
    /// MIME type.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub mime_type: Option<String>,
    /// Creation time.
    #[serde(default, deserialize_with = "opt_date")]
    pub create_date: Option<OtDateTime>,
    /// Modification time.
    #[serde(default, deserialize_with = "opt_date")]
    pub modify_date: Option<OtDateTime>,
    /// Version description.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    /// Provenance source of this version.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub external_source: Option<String>,
    /// This version's external identity (e.g. an integration's idempotency key).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub external_identity: Option<String>,
    /// Kind of `external_identity`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub external_identity_type: Option<String>,
    /// Owner.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub owner_id: Option<i64>,
    /// Whether the version is locked.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub locked: Option<bool>,
}

in_zone!(Version: create_date, modify_date);

/// A user as returned by `GET /api/v1/auth` (`data`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct User {
    /// Member id (the `right_id` for effective permissions).
    #[serde(deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Login name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// First name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub last_name: Option<String>,
    /// Default group.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub group_id: Option<i64>,
}

/// v2 list paging (`collection.paging`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// Current page (1-based).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub page: Option<i64>,
    /// Page size.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub limit: Option<i64>,
    /// Number of pages.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub page_total: Option<i64>,
    /// First item index on this page.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub range_min: Option<i64>,
    /// Last item index on this page.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub range_max: Option<i64>,
    /// Total items.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub total_count: Option<i64>,
}

/// One page of a list plus its paging.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Paging as reported by the server.
    pub paging: Paging,
}

impl<T: super::InZone> super::InZone for Page<T> {
    fn set_zone(&mut self, zone: super::ServerTimeZone) {
        self.items.set_zone(zone);
    }
}

impl<T> Page<T> {
    /// Whether a later page exists (by `page_total`, else by a full page).
    pub fn has_more(&self, requested_limit: usize) -> bool {
        match (self.paging.page, self.paging.page_total) {
            (Some(p), Some(t)) => p < t,
            _ => self.items.len() >= requested_limit && requested_limit > 0,
        }
    }
}

/// Large-file upload settings (`GET /api/v2/multipart/settings`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MultipartSettings {
    /// Whether the chunked API is available.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub is_enabled: bool,
    /// Smallest file the chunked API accepts.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub min_size: Option<i64>,
    /// Largest file the chunked API accepts.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_size: Option<i64>,
}

/// A started chunked upload (`POST /api/v2/multipart`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MultipartSession {
    /// Key passed to parts, completion, and node create / add version.
    #[serde(deserialize_with = "lenient::string")]
    pub upload_key: String,
    /// Parts expected.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub num_parts: Option<i64>,
    /// Bytes per part (the last may be shorter).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub part_size: Option<i64>,
    /// Retries the server allows per part.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_retries: Option<i64>,
}

/// Effective rights of a member on a node.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EffectivePermissions {
    /// The member the rights were computed for.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub right_id: Option<i64>,
    /// Permission strings: `see`, `see_contents`, `modify`, `delete`, ...
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl EffectivePermissions {
    /// Whether `permission` (e.g. `"delete"`) is granted.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// One audit event of a node.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Audit row id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
    /// Event type id (e.g. 264 classification applied).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub event_type: Option<i64>,
    /// Event name as sent (`audit_name`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub audit_name: Option<String>,
    /// When it happened.
    #[serde(default, deserialize_with = "opt_date")]
    pub audit_date: Option<OtDateTime>,
    /// Acting user.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub user_id: Option<i64>,
    /// Agent (for delegated actions).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub agent_id: Option<i64>,
    /// Target user (for permission changes).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub target_user_id: Option<i64>,
}

in_zone!(AuditEntry: audit_date);

/// An audit event type (`audit_event_types`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditEventType {
    /// Event type id.
    #[serde(deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Its name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
}

/// One page of a node's audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    /// Events on this page.
    pub entries: Vec<AuditEntry>,
    /// Names of the event types.
    pub event_types: Vec<AuditEventType>,
    /// Paging.
    pub paging: Paging,
}

in_zone!(AuditPage: entries);
