//! Content Server permission strings and their evaluation for a user on a node.

use crate::error::{ApiError, Missing};
use crate::model::Node;
use crate::request::Caller;
use crate::store::Store;

/// The permission strings the REST API uses, in Content Server's display order.
pub const NAMES: [&str; 10] = [
    "see",
    "see_contents",
    "modify",
    "edit_attributes",
    "add_items",
    "reserve",
    "add_major_version",
    "delete_versions",
    "delete",
    "edit_permissions",
];

/// A set of permissions (bit i = `NAMES[i]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Perms(pub u16);

impl Perms {
    pub const NONE: Perms = Perms(0);
    pub const ALL: Perms = Perms((1 << NAMES.len()) - 1);

    pub fn bit(name: &str) -> Option<u16> {
        NAMES.iter().position(|n| *n == name).map(|i| 1 << i)
    }

    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Perms, String> {
        let mut p = 0;
        for n in names {
            p |= Self::bit(n.as_ref())
                .ok_or_else(|| format!("Unknown permission '{}'", n.as_ref()))?;
        }
        Ok(Perms(p))
    }

    pub fn has(self, name: &str) -> bool {
        Self::bit(name).is_some_and(|b| self.0 & b != 0)
    }

    pub fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    pub fn names(self) -> Vec<&'static str> {
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

/// Rights `user_id` holds on `node`: owner, owner group, public and assigned access combined.
pub fn effective(store: &Store, node: &Node, user_id: i64) -> Perms {
    let Some(user) = store.users.get(&user_id) else {
        // A group: only its own assigned access (used by `permissions/effective/{group}`).
        return node
            .acl
            .custom
            .iter()
            .filter(|(m, _)| *m == user_id)
            .fold(Perms::NONE, |acc, (_, p)| acc.union(*p));
    };
    if user.admin {
        return Perms::ALL;
    }
    let groups = store.groups_of(user_id);
    let mut p = node.acl.public;
    if node.owner_user_id == user_id {
        p = p.union(node.acl.owner);
    }
    if groups.contains(&node.owner_group_id) {
        p = p.union(node.acl.group);
    }
    for (member, rights) in &node.acl.custom {
        if *member == user_id || groups.contains(member) {
            p = p.union(*rights);
        }
    }
    p
}

/// A live node the caller may `see`; anything else gets the endpoint's not-found form, so
/// existence is not leaked to users without access.
pub fn visible<'a>(
    store: &'a Store,
    caller: &Caller,
    id: i64,
    missing: Missing,
) -> Result<&'a Node, ApiError> {
    match store.live(id) {
        Some(n) if effective(store, n, caller.id).has("see") => Ok(n),
        _ => Err(ApiError::missing(missing, id)),
    }
}

/// 403 unless the caller holds `right` on `node`.
pub fn require(store: &Store, caller: &Caller, node: &Node, right: &str) -> Result<(), ApiError> {
    if effective(store, node, caller.id).has(right) {
        Ok(())
    } else {
        Err(ApiError::no_right(right))
    }
}

/// RM privileges (classify, holds) belong to administrators and Records Managers.
pub fn require_rm(store: &Store, caller: &Caller) -> Result<(), ApiError> {
    if caller.admin || store.is_member(caller.id, crate::well_known::GROUP_RECORDS_MANAGERS) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You do not have the Records Management privilege required to perform this action.",
        ))
    }
}

/// Path ids are parsed by hand so a bad one gets Content Server's message, not axum's.
pub fn parse_id(raw: &str, name: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| crate::request::bad_type(name))
}
