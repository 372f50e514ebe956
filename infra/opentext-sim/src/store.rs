//! The simulated repository: users, nodes, RM objects. Lives behind one `RwLock` in `Sim`;
//! callers never hold the lock across an `.await` (content is streamed before locking).

use std::collections::BTreeMap;

use rand::Rng;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{AuditEvent, CategoryDef, Classification, Group, Hold, Node, Rsi, User};

/// Audit events the sim records. 9, 10 and 264 are the ids seen on real servers
/// (REFERENCE §5); the others are the sim's own, listed in README.md.
pub mod audit_events {
    pub const CREATE: (i64, &str) = (1, "Create");
    pub const DELETE: (i64, &str) = (2, "Delete");
    pub const RENAME: (i64, &str) = (4, "Rename");
    pub const MOVE: (i64, &str) = (8, "Move");
    pub const PERMISSION_CHANGED: (i64, &str) = (9, "Permission Changed");
    pub const ATTRIBUTE_VALUE_CHANGED: (i64, &str) = (10, "Attribute Value Changed");
    pub const ADD_VERSION: (i64, &str) = (23, "Add Version");
    pub const CATEGORY_ADDED: (i64, &str) = (24, "Category Added");
    pub const CATEGORY_REMOVED: (i64, &str) = (25, "Category Removed");
    pub const PROPERTIES_CHANGED: (i64, &str) = (26, "Properties Changed");
    pub const CLASSIFICATION_APPLIED: (i64, &str) = (264, "Classification Applied");
    pub const CLASSIFICATION_REMOVED: (i64, &str) = (265, "Classification Removed");
    pub const RECORD_DETAILS_CHANGED: (i64, &str) = (266, "Record Details Changed");
    pub const HOLD_APPLIED: (i64, &str) = (301, "Hold Applied");
    pub const HOLD_REMOVED: (i64, &str) = (302, "Hold Removed");
    pub const DISPOSITION_PERFORMED: (i64, &str) = (311, "Disposition Action Performed");
    pub const DISPOSITION_SKIPPED: (i64, &str) = (312, "Disposition Action Skipped");

    pub const ALL: [(i64, &str); 17] = [
        CREATE,
        DELETE,
        RENAME,
        MOVE,
        PERMISSION_CHANGED,
        ATTRIBUTE_VALUE_CHANGED,
        ADD_VERSION,
        CATEGORY_ADDED,
        CATEGORY_REMOVED,
        PROPERTIES_CHANGED,
        CLASSIFICATION_APPLIED,
        CLASSIFICATION_REMOVED,
        RECORD_DETAILS_CHANGED,
        HOLD_APPLIED,
        HOLD_REMOVED,
        DISPOSITION_PERFORMED,
        DISPOSITION_SKIPPED,
    ];
}

#[derive(Debug, Default)]
pub struct Store {
    pub users: BTreeMap<i64, User>,
    pub groups: BTreeMap<i64, Group>,
    pub nodes: BTreeMap<i64, Node>,
    pub categories: BTreeMap<i64, CategoryDef>,
    pub classifications: BTreeMap<i64, Classification>,
    pub rsis: BTreeMap<i64, Rsi>,
    pub holds: BTreeMap<i64, Hold>,
    /// RM disposition searches and their snapshots.
    pub dispositions: crate::disposition::DispState,
    pub next_id: i64,
    pub next_audit_id: i64,
}

/// Current time as Content Server writes node, version and audit dates
/// (`2025-01-19T06:57:04Z`); RM dates are zone-less ([`crate::dates`]).
pub fn now_iso() -> String {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    now.format(&Rfc3339).unwrap_or_default()
}

/// Random opaque token (metadata tokens, upload keys).
pub fn new_token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

impl Store {
    pub fn alloc_id(&mut self) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn user_by_name(&self, name: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    pub fn groups_of(&self, user_id: i64) -> Vec<i64> {
        let mut g: Vec<i64> = self
            .groups
            .values()
            .filter(|g| g.members.contains(&user_id))
            .map(|g| g.id)
            .collect();
        if let Some(u) = self.users.get(&user_id)
            && u.group_id != 0
            && !g.contains(&u.group_id)
        {
            g.push(u.group_id);
        }
        g
    }

    pub fn is_member(&self, user_id: i64, group_id: i64) -> bool {
        self.groups_of(user_id).contains(&group_id)
    }

    pub fn live(&self, id: i64) -> Option<&Node> {
        self.nodes.get(&id).filter(|n| !n.deleted)
    }

    pub fn live_mut(&mut self, id: i64) -> Option<&mut Node> {
        self.nodes.get_mut(&id).filter(|n| !n.deleted)
    }

    /// Live children of `parent`, in id order.
    pub fn children(&self, parent: i64) -> impl Iterator<Item = &Node> {
        self.nodes
            .values()
            .filter(move |n| n.parent_id == parent && !n.deleted)
    }

    /// Ancestors of `id`, nearest first (excluding the node itself).
    pub fn ancestors(&self, id: i64) -> Vec<&Node> {
        let mut out = Vec::new();
        let mut cur = self.nodes.get(&id).map(|n| n.parent_id);
        while let Some(pid) = cur {
            match self.nodes.get(&pid) {
                Some(p) if out.len() < 64 => {
                    cur = Some(p.parent_id);
                    out.push(p);
                }
                _ => break,
            }
        }
        out
    }

    /// All live descendants of `id` (depth first).
    pub fn descendants(&self, id: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            for c in self.children(cur) {
                out.push(c.id);
                stack.push(c.id);
            }
        }
        out
    }

    /// Content Server refuses a second item with the same name in a container, names compared
    /// with Unicode case folding (`Verträge Ü.pdf` clashes with `verträge ü.pdf`).
    pub fn name_taken(&self, parent: i64, name: &str, except: Option<i64>) -> bool {
        self.children(parent)
            .any(|n| Some(n.id) != except && unicase::eq(n.name.as_str(), name))
    }

    /// Hold ids in force on `id`: its own and those inherited from ancestors.
    pub fn holds_in_force(&self, id: i64) -> Vec<(i64, bool)> {
        let mut out = Vec::new();
        if let Some(n) = self.nodes.get(&id) {
            for h in &n.holds {
                out.push((h.hold_id, true));
            }
        }
        for a in self.ancestors(id) {
            for h in &a.holds {
                out.push((h.hold_id, false));
            }
        }
        out.retain(|(hid, _)| self.holds.get(hid).is_some_and(|h| h.active));
        out
    }

    pub fn audit(
        &mut self,
        node_id: i64,
        event: (i64, &str),
        user_id: i64,
        detail: impl Into<String>,
    ) {
        let id = self.next_audit_id;
        self.next_audit_id += 1;
        if let Some(n) = self.nodes.get_mut(&node_id) {
            n.audit.push(AuditEvent {
                id,
                event_type: event.0,
                audit_name: event.1.to_string(),
                audit_date: now_iso(),
                user_id,
                agent_id: 0,
                target_user_id: 0,
                detail: detail.into(),
            });
        }
    }

    pub fn user_name(&self, id: i64) -> String {
        self.users
            .get(&id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }
}
