//! Loads the seed file (JSON) into a fresh `Store`. The default seed ships inside the binary.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::disposition::DispSearch;
use crate::model::{Acl, CategoryDef, Classification, Group, Hold, Node, Rsi, User, Version};
use crate::perms::Perms;
use crate::store::{Store, audit_events, new_token, now_iso};
use crate::well_known::FIRST_NEW_NODE_ID;

pub const DEFAULT_SEED: &str = include_str!("../seed/default.json");

#[derive(Deserialize)]
struct SeedFile {
    users: Vec<User>,
    #[serde(default)]
    groups: Vec<Group>,
    nodes: Vec<SeedNode>,
    #[serde(default)]
    categories: Vec<CategoryDef>,
    #[serde(default)]
    rm_classifications: Vec<Classification>,
    #[serde(default)]
    rsis: Vec<Rsi>,
    #[serde(default)]
    holds: Vec<Hold>,
    #[serde(default)]
    disposition_searches: Vec<DispSearch>,
}

#[derive(Deserialize)]
struct SeedNode {
    id: i64,
    parent_id: i64,
    name: String,
    #[serde(rename = "type")]
    node_type: i64,
    #[serde(default)]
    description: String,
    owner_user_id: Option<i64>,
    owner_group_id: Option<i64>,
    /// Absent = copied from the parent, as Content Server does for new items.
    permissions: Option<SeedAcl>,
    /// Small text content for seeded documents (type 144).
    content: Option<String>,
    mime_type: Option<String>,
}

#[derive(Deserialize)]
struct SeedAcl {
    #[serde(default)]
    owner: Vec<String>,
    #[serde(default)]
    group: Vec<String>,
    #[serde(default)]
    public: Vec<String>,
    #[serde(default)]
    custom: Vec<SeedRight>,
}

#[derive(Deserialize)]
struct SeedRight {
    right_id: i64,
    permissions: Vec<String>,
}

fn perms(names: &[String]) -> Result<Perms> {
    Perms::from_names(names).map_err(anyhow::Error::msg)
}

/// Reads the seed (`None` = shipped default) and writes seeded document content under `blob_dir`.
pub fn load(path: Option<&Path>, blob_dir: &Path) -> Result<Store> {
    let text = read_seed(path)?;
    let seed: SeedFile = serde_json::from_str(&text).context("parsing seed JSON")?;
    let mut store = Store {
        next_id: FIRST_NEW_NODE_ID,
        next_audit_id: 1,
        ..Store::default()
    };
    let admin = admin_id(&seed.users);
    for u in seed.users {
        store.users.insert(u.id, u);
    }
    for g in seed.groups {
        store.groups.insert(g.id, g);
    }
    // One timestamp for the whole seed: every seeded item was "created" at start-up.
    let now = now_iso();
    for sn in seed.nodes {
        insert_node(&mut store, sn, admin, &now, blob_dir)?;
    }
    for c in seed.categories {
        store.categories.insert(c.id, c);
    }
    for c in seed.rm_classifications {
        store.classifications.insert(c.id, c);
    }
    for r in seed.rsis {
        store.rsis.insert(r.id, r);
    }
    for h in seed.holds {
        store.holds.insert(h.id, h);
    }
    for d in seed.disposition_searches {
        store.dispositions.searches.insert(d.id, d);
    }
    reserve_seeded_ids(&mut store);
    Ok(store)
}

fn read_seed(path: Option<&Path>) -> Result<String> {
    Ok(match path {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading seed {}", p.display()))?
        }
        None => DEFAULT_SEED.to_string(),
    })
}

/// The user seeded items are created by: the first admin (1000 when the seed names none).
fn admin_id(users: &[User]) -> i64 {
    users.iter().find(|u| u.admin).map(|u| u.id).unwrap_or(1000)
}

/// One seeded node, placed under a parent listed before it; rights and owner group not
/// given are the parent's, and a document's content becomes its version 1.
fn insert_node(
    store: &mut Store,
    sn: SeedNode,
    admin: i64,
    now: &str,
    blob_dir: &Path,
) -> Result<()> {
    if store.nodes.contains_key(&sn.id) {
        bail!("seed: duplicate node id {}", sn.id);
    }
    let parent = store.nodes.get(&sn.parent_id);
    if sn.parent_id != -1 && parent.is_none() {
        bail!(
            "seed: node {} lists parent {} before it exists",
            sn.id,
            sn.parent_id
        );
    }
    let acl = match &sn.permissions {
        Some(a) => seed_acl(a)?,
        None => parent.map(|p| p.acl.clone()).unwrap_or_default(),
    };
    let owner_group_id = sn
        .owner_group_id
        .or(parent.map(|p| p.owner_group_id))
        .unwrap_or(999);
    let mut versions = Vec::new();
    if let Some(content) = &sn.content {
        versions.push(seed_version(&sn, content, admin, now, blob_dir)?);
    }
    let id = sn.id;
    let node = seed_node(sn, admin, now, acl, owner_group_id, versions);
    store.nodes.insert(id, node);
    store.audit(id, audit_events::CREATE, admin, "seeded");
    Ok(())
}

fn seed_acl(a: &SeedAcl) -> Result<Acl> {
    Ok(Acl {
        owner: perms(&a.owner)?,
        group: perms(&a.group)?,
        public: perms(&a.public)?,
        custom: a
            .custom
            .iter()
            .map(|r| Ok((r.right_id, perms(&r.permissions)?)))
            .collect::<Result<_>>()?,
    })
}

/// Writes the content to `blob_dir/seed-{id}` and describes it as version 1 (major, by the
/// admin, named after the node, `text/plain` unless the seed says otherwise).
fn seed_version(
    sn: &SeedNode,
    content: &str,
    admin: i64,
    now: &str,
    blob_dir: &Path,
) -> Result<Version> {
    let blob = blob_dir.join(format!("seed-{}", sn.id));
    std::fs::write(&blob, content.as_bytes())?;
    Ok(Version {
        number: 1,
        file_name: sn.name.clone(),
        size: content.len() as u64,
        sha256: hex::encode(Sha256::digest(content.as_bytes())),
        mime_type: sn.mime_type.clone().unwrap_or_else(|| "text/plain".into()),
        blob,
        create_date: now.to_string(),
        owner_id: admin,
        description: String::new(),
        major: true,
        external_source: None,
        external_identity: None,
        external_identity_type: None,
        external_create_date: None,
        external_modify_date: None,
    })
}

/// The node as the admin created it (owned by the admin unless the seed names an owner).
fn seed_node(
    sn: SeedNode,
    admin: i64,
    now: &str,
    acl: Acl,
    owner_group_id: i64,
    versions: Vec<Version>,
) -> Node {
    Node {
        id: sn.id,
        parent_id: sn.parent_id,
        name: sn.name,
        node_type: sn.node_type,
        description: sn.description,
        create_date: now.to_string(),
        modify_date: now.to_string(),
        create_user_id: admin,
        modify_user_id: admin,
        owner_user_id: sn.owner_user_id.unwrap_or(admin),
        owner_group_id,
        external_source: None,
        external_identity: None,
        external_identity_type: None,
        external_create_date: None,
        external_modify_date: None,
        versions,
        categories: Default::default(),
        rm: Vec::new(),
        rm_token: new_token(),
        metadata_token: new_token(),
        holds: Vec::new(),
        acl,
        deleted: false,
        audit: Vec::new(),
    }
}

/// Keeps run-time ids clear of anything the seed used.
fn reserve_seeded_ids(store: &mut Store) {
    let max_seen = [
        store.nodes.keys().max(),
        store.holds.keys().max(),
        store.rsis.keys().max(),
        store.dispositions.searches.keys().max(),
    ]
    .into_iter()
    .flatten()
    .copied()
    .max()
    .unwrap_or(0);
    if max_seen >= store.next_id {
        store.next_id = max_seen + 1;
    }
}
