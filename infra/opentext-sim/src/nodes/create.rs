//! `POST /api/v2/nodes`: the request's fields, the checks against the parent, the new node
//! (a document with its first version) and the audit entries it starts with.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{MAX_NAME, missing_param, touch_parent};
use crate::categories::{roles_categories, validate_all};
use crate::content::{Content, take_content};
use crate::envelope::v2_single;
use crate::error::{ApiError, ApiResult, Missing};
use crate::model::{Acl, Node, Version};
use crate::node_view::{Fields, node_data};
use crate::perms::{require, visible};
use crate::request::{ApiReq, Caller, Params, Upload};
use crate::state::{AppState, Sim};
use crate::store::{Store, audit_events, new_token, now_iso};
use crate::versions::new_version;

/// The only type whose create needs content (`file` or `upload_key`).
const DOCUMENT: i64 = 144;

/// Categories as `roles` lists them: category id to its attribute values, not yet validated.
type RoleCategories = Vec<(i64, Vec<(String, Value)>)>;

/// The source-system fields; a document's first version carries the same values.
struct External {
    source: Option<String>,
    identity: Option<String>,
    identity_type: Option<String>,
    create_date: Option<String>,
    modify_date: Option<String>,
}

impl External {
    /// Empty values count as absent.
    fn from_params(p: &Params) -> Self {
        let ext = |k: &str| p.str(k).filter(|s| !s.is_empty());
        Self {
            source: ext("external_source"),
            identity: ext("external_identity"),
            identity_type: ext("external_identity_type"),
            create_date: ext("external_create_date"),
            modify_date: ext("external_modify_date"),
        }
    }
}

/// A create request, checked as far as it can be without looking at the store.
struct CreateRequest {
    node_type: i64,
    type_name: &'static str,
    parent_id: i64,
    name: String,
    categories: RoleCategories,
    upload_key: Option<String>,
    description: String,
    external: External,
    version_desc: String,
    file: Option<Upload>,
}

/// What the store settles for the new node: rights copied from the parent, the owner's
/// group and the validated categories.
struct Placement {
    acl: Acl,
    owner_group_id: i64,
    categories: BTreeMap<i64, BTreeMap<String, Value>>,
}

/// `POST /api/v2/nodes`: folders (form or multipart) and documents (`file` or `upload_key`).
pub async fn create(State(sim): State<AppState>, mut req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let mut new = parse_create(&mut req)?;
    let mut store = sim.write();
    let placement = place(&store, &caller, &mut new)?;
    let content = document_content(&sim, caller.id, &mut new)?;
    let id = store.alloc_id();
    let node = build_node(id, caller.id, new, placement, content);
    insert_created(&mut store, node, caller.id);
    Ok(created_response(&store, id))
}

/// Reads the parameters in the order Content Server checks them, so the first problem found
/// is the one reported.
fn parse_create(req: &mut ApiReq) -> Result<CreateRequest, ApiError> {
    let p = &req.params;
    let node_type = p.i64("type")?.ok_or_else(|| missing_param("type"))?;
    let parent_id = p
        .i64("parent_id")?
        .ok_or_else(|| missing_param("parent_id"))?;
    let name = p
        .str("name")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let name = name.ok_or_else(|| missing_param("name"))?;
    let type_name = type_name(node_type)?;
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "Could not create a new {type_name}. The name may not exceed {MAX_NAME} characters."
        )));
    }
    let categories = roles_categories(p)?;
    let upload_key = p.str("upload_key").filter(|k| !k.is_empty());
    if node_type == DOCUMENT && req.file.is_none() && upload_key.is_none() {
        return Err(missing_param("file"));
    }
    Ok(CreateRequest {
        node_type,
        type_name,
        parent_id,
        name,
        categories,
        upload_key,
        description: p.str("description").unwrap_or_default(),
        external: External::from_params(p),
        version_desc: p.str("version_description").unwrap_or_default(),
        file: req.file.take(),
    })
}

/// The subtypes this simulator creates; any other is unregistered, as on a bare server.
fn type_name(node_type: i64) -> Result<&'static str, ApiError> {
    match node_type {
        0 => Ok("Folder"),
        DOCUMENT => Ok("Document"),
        140 => Ok("URL"),
        t => Err(ApiError::bad_request(format!("Subtype {t} not registered"))),
    }
}

/// Checks the parent (visible, a container, `add_items`, the name free in it) and the
/// categories, and settles what the new node inherits.
fn place(store: &Store, caller: &Caller, new: &mut CreateRequest) -> Result<Placement, ApiError> {
    let type_name = new.type_name;
    let parent = visible(
        store,
        caller,
        new.parent_id,
        Missing::Access(StatusCode::BAD_REQUEST),
    )?;
    if !parent.is_container() {
        return Err(ApiError::bad_request(format!(
            "Could not create a new {type_name}"
        )));
    }
    require(store, caller, parent, "add_items")?;
    if store.name_taken(new.parent_id, &new.name, None) {
        return Err(ApiError::server(format!(
            "An item with the name '{}' already exists.",
            new.name
        )));
    }
    let categories = validate_all(store, std::mem::take(&mut new.categories))
        .map_err(|m| ApiError::bad_request(format!("Could not create a new {type_name}. {m}")))?;
    Ok(Placement {
        acl: parent.acl.clone(),
        owner_group_id: store.users.get(&caller.id).map(|u| u.group_id).unwrap_or(0),
        categories,
    })
}

/// A document's content (the streamed file or the finished chunked upload), named after the
/// node when the upload gave no file name; other types have none.
fn document_content(
    sim: &Sim,
    user_id: i64,
    new: &mut CreateRequest,
) -> Result<Option<Content>, ApiError> {
    if new.node_type != DOCUMENT {
        return Ok(None);
    }
    let mut c = take_content(sim, user_id, new.file.take(), new.upload_key.as_deref())?;
    if c.file_name.is_empty() {
        c.file_name = new.name.clone();
    }
    Ok(Some(c))
}

/// The new node, owned and last modified by the caller; a document gets version 1.
fn build_node(
    id: i64,
    user_id: i64,
    new: CreateRequest,
    placement: Placement,
    content: Option<Content>,
) -> Node {
    let now = now_iso();
    let ext = &new.external;
    let mut node = Node {
        id,
        parent_id: new.parent_id,
        name: new.name.clone(),
        node_type: new.node_type,
        description: new.description.clone(),
        create_date: now.clone(),
        modify_date: now,
        create_user_id: user_id,
        modify_user_id: user_id,
        owner_user_id: user_id,
        owner_group_id: placement.owner_group_id,
        external_source: ext.source.clone(),
        external_identity: ext.identity.clone(),
        external_identity_type: ext.identity_type.clone(),
        external_create_date: ext.create_date.clone(),
        external_modify_date: ext.modify_date.clone(),
        versions: Vec::new(),
        categories: placement.categories,
        rm: Vec::new(),
        rm_token: new_token(),
        metadata_token: new_token(),
        holds: Vec::new(),
        acl: placement.acl,
        deleted: false,
        audit: Vec::new(),
    };
    if let Some(c) = content {
        node.versions
            .push(first_version(c, user_id, new.version_desc, new.external));
    }
    node
}

/// Version 1 (major), with the node's external fields.
fn first_version(c: Content, user_id: i64, description: String, ext: External) -> Version {
    let mut v = new_version(1, c, user_id, description, true);
    v.external_source = ext.source;
    v.external_identity = ext.identity;
    v.external_identity_type = ext.identity_type;
    v.external_create_date = ext.create_date;
    v.external_modify_date = ext.modify_date;
    v
}

/// Stores the node and its audit trail: the creation, then one entry per category applied;
/// the parent counts as modified.
fn insert_created(store: &mut Store, node: Node, user_id: i64) {
    let (id, parent_id) = (node.id, node.parent_id);
    let created = format!("created '{}' in {parent_id}", node.name);
    let cats: Vec<i64> = node.categories.keys().copied().collect();
    store.nodes.insert(id, node);
    store.audit(id, audit_events::CREATE, user_id, created);
    for c in cats {
        store.audit(
            id,
            audit_events::CATEGORY_ADDED,
            user_id,
            format!("category {c}"),
        );
    }
    touch_parent(store, parent_id, user_id);
}

/// The created node as v2 data; documents list their versions.
fn created_response(store: &Store, id: i64) -> Response {
    let n = &store.nodes[&id];
    let f = Fields {
        props: None,
        versions: (n.node_type == DOCUMENT).then_some(true),
        categories: false,
        permissions: false,
    };
    v2_single(
        "POST",
        "/api/v2/nodes",
        json!({"data": node_data(store, n, &f)}),
    )
}
