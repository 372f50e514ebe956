//! Nodes: create (folders, documents), get, list/find children, update, delete, download.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{FutureExt, Stream, TryStreamExt};
use reqwest::multipart::{Form, Part};
use serde_json::{Map, Value, json};

use crate::client::Client;
use crate::content::ContentSource;
use crate::envelope::{self, v2_section_as};
use crate::error::{Error, Result};
use crate::http::{FormFactory, Req};
use crate::model::{Node, Page, node_type};

/// Provenance recorded on a node or version (`external_*` fields).
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Where the content came from, e.g. `cloud_storage`.
    pub external_source: Option<String>,
    /// The external identity (an S3 URI, an idempotency key, ...).
    pub external_identity: Option<String>,
    /// Kind of identity, e.g. `generic_userid`.
    pub external_identity_type: Option<String>,
}

impl Provenance {
    pub(crate) fn insert_into(&self, m: &mut Map<String, Value>) {
        for (k, v) in self.pairs() {
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
    }

    pub(crate) fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut p = Vec::new();
        if let Some(v) = &self.external_source {
            p.push(("external_source", v.as_str()));
        }
        if let Some(v) = &self.external_identity {
            p.push(("external_identity", v.as_str()));
        }
        if let Some(v) = &self.external_identity_type {
            p.push(("external_identity_type", v.as_str()));
        }
        p
    }
}

/// How content is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UploadMode {
    /// Chunked API when enabled and the size reaches the server's `min_size`; else one request.
    #[default]
    Auto,
    /// Always the chunked API (fails if the server refuses the size).
    Chunked,
    /// Always one multipart request.
    Direct,
}

/// Options for creating a document or folder.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Description.
    pub description: Option<String>,
    /// Provenance (`external_*`).
    pub provenance: Provenance,
    /// Flat category values (`{cat}_{attr}` → value; `{cat}_1: {}` applies defaults),
    /// sent as `roles.categories` so they are set atomically with the create.
    pub categories: Map<String, Value>,
    /// How the content is sent (documents only).
    pub upload_mode: UploadMode,
    /// Told the chunked upload's key, when the content goes through the chunked API.
    pub upload_session: Option<crate::upload::UploadSessionHook>,
}

/// Filters and paging for [`Client::list_children`].
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// 1-based page.
    pub page: usize,
    /// Page size.
    pub limit: usize,
    /// Name filter; OpenText treats it as *contains*, not equals.
    pub where_name: Option<String>,
    /// Type filter (`-1` containers, `-3` non-containers, or a subtype).
    pub where_type: Option<i64>,
    /// Sort, e.g. `asc_name`.
    pub sort: Option<String>,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            page: 1,
            limit: 100,
            where_name: None,
            where_type: None,
            sort: None,
        }
    }
}

/// Changes for [`Client::update_node`]; `None` fields stay unchanged.
#[derive(Debug, Clone, Default)]
pub struct NodeUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Moves the node to this parent.
    pub parent_id: Option<i64>,
    /// Conflict token from a `state` read (stale → 409).
    pub metadata_token: Option<String>,
}

/// A streamed download.
pub struct Download {
    /// `Content-Length`, when sent.
    pub content_length: Option<u64>,
    /// `Content-Type`, when sent.
    pub content_type: Option<String>,
    /// The body; nothing is buffered beyond hyper's read buffers.
    pub stream: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_length", &self.content_length)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl Download {
    pub(crate) fn from_response(resp: reqwest::Response) -> Self {
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Download {
            content_length: resp.content_length(),
            content_type,
            stream: Box::pin(resp.bytes_stream().map_err(Error::from_reqwest)),
        }
    }

    /// The body as an `AsyncRead`.
    pub fn into_reader(self) -> impl tokio::io::AsyncRead + Send + Unpin {
        tokio_util::io::StreamReader::new(self.stream.map_err(std::io::Error::other))
    }
}

/// A multipart form factory that streams `source` as the `field` part next to text fields.
pub(crate) fn streaming_form(
    source: Arc<dyn ContentSource>,
    texts: Vec<(String, String)>,
    field: &'static str,
) -> (FormFactory, Arc<dyn Fn() -> bool + Send + Sync>) {
    let src = source.clone();
    let make: FormFactory = Arc::new(move || {
        let src = src.clone();
        let texts = texts.clone();
        async move {
            let reader = src.open().await?;
            let stream = tokio_util::io::ReaderStream::with_capacity(reader, 64 * 1024);
            let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), src.len())
                .file_name(src.file_name().to_string())
                .mime_str(src.mime_type())
                .map_err(|e| Error::InvalidArgument(format!("MIME type: {e}")))?;
            let mut form = Form::new();
            for (k, v) in texts {
                form = form.text(k, v);
            }
            Ok(form.part(field, part))
        }
        .boxed()
    });
    let resendable: Arc<dyn Fn() -> bool + Send + Sync> = Arc::new(move || source.can_reopen());
    (make, resendable)
}

pub(crate) fn node_path(id: i64) -> String {
    format!("/api/v2/nodes/{id}")
}

impl Client {
    /// `GET /api/v2/nodes/{id}`: the node's properties.
    pub async fn get_node(&self, id: i64) -> Result<Node> {
        let path = node_path(id);
        let v = self.json(&Req::get(&path)).await?;
        v2_section_as(&v, "properties", &path).map(|n: Node| self.in_zone(n))
    }

    /// Creates a folder under `parent_id`.
    pub async fn create_folder(
        &self,
        parent_id: i64,
        name: &str,
        opts: &CreateOptions,
    ) -> Result<Node> {
        let body = create_body(node_type::FOLDER, parent_id, name, opts, None);
        let v = self
            .json(&Req::post("/api/v2/nodes").json_body_field(&body))
            .await?;
        self.created_node(v).await
    }

    /// Creates a document under `parent_id` from `source`, with its description,
    /// provenance and categories in the same call. Large content goes through
    /// the chunked API (see [`UploadMode`]); memory stays at one part.
    pub async fn create_document(
        &self,
        parent_id: i64,
        name: &str,
        source: Arc<dyn ContentSource>,
        opts: &CreateOptions,
    ) -> Result<Node> {
        if self.use_chunked(source.len(), opts.upload_mode).await? {
            let key = self
                .upload_chunked_with(source.as_ref(), opts.upload_session.as_ref())
                .await?;
            let body = create_body(node_type::DOCUMENT, parent_id, name, opts, Some(&key));
            let v = self
                .json(&Req::post("/api/v2/nodes").json_body_field(&body))
                .await?;
            return self.created_node(v).await;
        }
        let body = create_body(node_type::DOCUMENT, parent_id, name, opts, None);
        let (make, resendable) =
            streaming_form(source, vec![("body".to_string(), body.to_string())], "file");
        let v = self
            .json(&Req::post("/api/v2/nodes").multipart(make, resendable))
            .await?;
        self.created_node(v).await
    }

    /// The node from a create answer (v2 envelope, or a bare `{"id":N}`).
    async fn created_node(&self, v: Value) -> Result<Node> {
        if let Ok(node) = v2_section_as::<Node>(&v, "properties", "/api/v2/nodes")
            && !node.name.is_empty()
        {
            return Ok(self.in_zone(node));
        }
        let id = envelope::v2_section(&v, "properties")
            .and_then(|p| p.get("id"))
            .or_else(|| v.get("id"))
            .and_then(|id| id.as_i64().or_else(|| id.as_str()?.parse().ok()))
            .ok_or_else(|| Error::unexpected("/api/v2/nodes", "no node id in create response"))?;
        self.get_node(id).await
    }

    /// `GET /api/v2/nodes/{id}/nodes`: one page of children.
    pub async fn list_children(&self, parent_id: i64, opts: &ListOptions) -> Result<Page<Node>> {
        let path = format!("{}/nodes", node_path(parent_id));
        let req = Req::get(&path)
            .query("page", opts.page.max(1))
            .query("limit", opts.limit.max(1))
            .query_opt("where_name", opts.where_name.as_ref())
            .query_opt("where_type", opts.where_type)
            .query_opt("sort", opts.sort.as_ref());
        let v = self.json(&req).await?;
        Ok(self.in_zone(Page {
            items: envelope::v2_list_sections(&v, "properties", &path)?,
            paging: envelope::paging(&v),
        }))
    }

    /// All children matching `opts` (pages through from `opts.page`).
    pub async fn list_all_children(&self, parent_id: i64, opts: &ListOptions) -> Result<Vec<Node>> {
        let mut opts = opts.clone();
        let mut all = Vec::new();
        loop {
            let page = self.list_children(parent_id, &opts).await?;
            let more = page.has_more(opts.limit) && !page.items.is_empty();
            all.extend(page.items);
            if !more {
                return Ok(all);
            }
            opts.page += 1;
        }
    }

    /// The child whose name the server takes for `name` (Unicode case-insensitive, see
    /// [`same_name`](crate::same_name)), if any. `where_name` only narrows the search (it
    /// matches substrings), so every page is compared the server's way.
    pub async fn find_child_by_name(&self, parent_id: i64, name: &str) -> Result<Option<Node>> {
        let mut opts = ListOptions {
            where_name: Some(name.to_string()),
            ..ListOptions::default()
        };
        loop {
            let page = self.list_children(parent_id, &opts).await?;
            let more = page.has_more(opts.limit) && !page.items.is_empty();
            if let Some(n) = page
                .items
                .into_iter()
                .find(|n| crate::same_name(&n.name, name))
            {
                return Ok(Some(n));
            }
            if !more {
                return Ok(None);
            }
            opts.page += 1;
        }
    }

    /// `PUT /api/v2/nodes/{id}`: rename, describe or move; then reads the node back.
    pub async fn update_node(&self, id: i64, update: &NodeUpdate) -> Result<Node> {
        let mut body = Map::new();
        if let Some(n) = &update.name {
            body.insert("name".into(), json!(n));
        }
        if let Some(d) = &update.description {
            body.insert("description".into(), json!(d));
        }
        if let Some(p) = update.parent_id {
            body.insert("parent_id".into(), json!(p));
        }
        if let Some(t) = &update.metadata_token {
            body.insert("metadata_token".into(), json!(t));
        }
        self.json(&Req::put(node_path(id)).json_body_field(&Value::Object(body)))
            .await?;
        self.get_node(id).await
    }

    /// `DELETE /api/v2/nodes/{id}` (to the Recycle Bin).
    pub async fn delete_node(&self, id: i64) -> Result<()> {
        self.send(&Req::delete(node_path(id))).await.map(|_| ())
    }

    /// Streams the current version's content (`GET /api/v1/nodes/{id}/content`;
    /// v1 because v2 content downloads have known issues).
    pub async fn download(&self, id: i64) -> Result<Download> {
        let req = Req::get(format!("/api/v1/nodes/{id}/content"));
        Ok(Download::from_response(self.send(&req).await?))
    }
}

fn create_body(
    kind: i64,
    parent_id: i64,
    name: &str,
    opts: &CreateOptions,
    upload_key: Option<&str>,
) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert("parent_id".into(), json!(parent_id));
    m.insert("name".into(), json!(name));
    if let Some(d) = &opts.description {
        m.insert("description".into(), json!(d));
    }
    opts.provenance.insert_into(&mut m);
    if !opts.categories.is_empty() {
        m.insert("roles".into(), json!({ "categories": opts.categories }));
    }
    if let Some(k) = upload_key {
        m.insert("upload_key".into(), json!(k));
    }
    Value::Object(m)
}
