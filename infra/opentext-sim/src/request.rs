//! Request decoding as Content Server does it: query string, `x-www-form-urlencoded` or
//! `multipart/form-data` fields, a `body` field holding a JSON string, and file parts that are
//! streamed to disk (SHA-256 computed on the way) instead of being held in memory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, header};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::state::{AppState, lock};

/// Form bodies without files are small; anything larger is a client bug.
const MAX_FORM_BYTES: usize = 16 * 1024 * 1024;
const MAX_TEXT_FIELD: usize = 4 * 1024 * 1024;

/// The authenticated user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i64,
    pub name: String,
    pub admin: bool,
}

#[derive(Default)]
struct CtxInner {
    session: Option<u64>,
    user_id: Option<i64>,
    user_name: Option<String>,
}

/// Per-request slot the handler fills so the outer middleware can log the user and mint the
/// refreshed `OTCSTicket` header.
#[derive(Clone, Default)]
pub struct ReqCtx(Arc<Mutex<CtxInner>>);

impl ReqCtx {
    pub fn set_session(&self, session: u64, user_id: i64, name: &str) {
        let mut c = lock(&self.0);
        c.session = Some(session);
        c.user_id = Some(user_id);
        c.user_name = Some(name.to_string());
    }
    pub fn clear_session(&self) {
        lock(&self.0).session = None;
    }
    pub fn session(&self) -> Option<u64> {
        lock(&self.0).session
    }
    pub fn user_name(&self) -> Option<String> {
        lock(&self.0).user_name.clone()
    }
}

/// A file part written to the data dir's tmp folder; removed unless persisted.
pub struct Upload {
    pub path: TempPath,
    pub size: u64,
    pub sha256: String,
    pub file_name: String,
    pub mime_type: String,
}

impl Upload {
    /// Moves the file to its final place (same filesystem: a rename).
    pub fn persist(self, dest: &Path) -> std::io::Result<PathBuf> {
        self.path.persist(dest).map_err(|e| e.error)?;
        Ok(dest.to_path_buf())
    }
}

/// Merged request parameters; precedence `body` JSON > form fields > query string.
#[derive(Default)]
pub struct Params {
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub body: Map<String, Value>,
}

impl Params {
    pub fn get(&self, key: &str) -> Option<Value> {
        if let Some(v) = self.body.get(key) {
            return Some(v.clone());
        }
        let last = |v: &Vec<(String, String)>| {
            v.iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        last(&self.form)
            .or_else(|| last(&self.query))
            .map(Value::String)
    }

    pub fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s),
            Value::Null => None,
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => Some(other.to_string()),
        }
    }

    pub fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad_type(key)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad_type(key)),
            Some(_) => Err(bad_type(key)),
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(b),
            Value::Number(n) => Some(n.as_i64() != Some(0)),
            Value::String(s) => Some(matches!(
                s.trim().to_ascii_lowercase().as_str(),
                "true" | "1" | "on" | "yes"
            )),
            _ => None,
        }
    }

    /// Every value of a list parameter: a JSON array or string in `body`, each form and query
    /// occurrence of `key` or `key[]`; each value split on spaces and commas.
    pub fn list(&self, key: &str) -> Vec<String> {
        let mut raw: Vec<String> = Vec::new();
        match self.body.get(key) {
            Some(Value::Array(items)) => raw.extend(items.iter().map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })),
            Some(Value::String(s)) => raw.push(s.clone()),
            Some(Value::Number(n)) => raw.push(n.to_string()),
            _ => {}
        }
        let bracketed = format!("{key}[]");
        for (k, v) in self.form.iter().chain(self.query.iter()) {
            if k == key || *k == bracketed {
                raw.push(v.clone());
            }
        }
        raw.iter()
            .flat_map(|s| s.split(|c: char| c.is_whitespace() || c == ','))
            .map(|s| s.trim_matches(|c| c == '"' || c == '\'' || c == '[' || c == ']'))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The first of several spellings present (`qDate` / `qdate`, `applyTo` / `applyto`).
    pub fn str_any(&self, keys: &[&str]) -> Option<String> {
        keys.iter()
            .find_map(|k| self.str(k))
            .filter(|s| !s.trim().is_empty())
    }

    /// Valueless query flags such as `metadata` and `state`.
    pub fn flag(&self, key: &str) -> bool {
        self.query
            .iter()
            .any(|(k, v)| k == key && !matches!(v.as_str(), "false" | "0"))
    }

    /// All query values of a repeatable parameter (`fields=...&fields=...`).
    pub fn query_all(&self, key: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every key present (body, form and query), for `{cat}_{attr}` style fields.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.body.keys().cloned().collect();
        for (k, _) in self.form.iter().chain(self.query.iter()) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    }
}

pub fn bad_type(key: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid datatype specified for argument '{key}'"))
}

/// Everything a CS handler needs: the caller, merged parameters, an optional streamed file.
pub struct ApiReq {
    auth: Result<Caller, ApiError>,
    pub params: Params,
    pub file: Option<Upload>,
    pub ctx: ReqCtx,
}

impl ApiReq {
    pub fn caller(&self) -> Result<Caller, ApiError> {
        self.auth.clone()
    }
}

impl FromRequest<AppState> for ApiReq {
    type Rejection = ApiError;

    async fn from_request(req: Request, sim: &AppState) -> Result<Self, ApiError> {
        let ctx = req
            .extensions()
            .get::<ReqCtx>()
            .cloned()
            .unwrap_or_default();
        let path = req.uri().path().to_string();
        let is_login = path.ends_with("/v1/auth") && req.method() == Method::POST;
        // RM v2 calls answer errors in their own shape, 401 included.
        let rm_v2 = path.contains("/v2/holds") || path.contains("/v2/rsis");
        let auth = if is_login {
            Err(ApiError::unauthorized("Authentication Required"))
        } else {
            match authenticate(sim, req.headers()) {
                Ok((caller, sid)) => {
                    ctx.set_session(sid, caller.id, &caller.name);
                    Ok(caller)
                }
                // Refuse before reading (possibly huge) bodies.
                Err(e) => return Err(if rm_v2 { e.rm() } else { e }),
            }
        };
        let mut params = Params {
            query: req
                .uri()
                .query()
                .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
                .unwrap_or_default(),
            ..Params::default()
        };
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut file = None;
        if ctype.starts_with("application/json") {
            return Err(ApiError::bad_request(
                "Unsupported request body type 'application/json': send application/x-www-form-urlencoded or multipart/form-data (nested data goes in a 'body' field holding a JSON string)",
            ));
        } else if ctype.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, sim)
                .await
                .map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?;
            file = read_multipart(&mut mp, &sim.tmp_dir, &mut params.form).await?;
        } else if ctype.starts_with("application/x-www-form-urlencoded") {
            let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|e| ApiError::bad_request(format!("Could not read request body: {e}")))?;
            params.form = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ApiError::bad_request(format!("Invalid form body: {e}")))?;
        } else {
            drain(req.into_body()).await;
        }
        if let Some(b) = params
            .form
            .iter()
            .rev()
            .find(|(k, _)| k == "body")
            .map(|(_, v)| v.clone())
            && !b.trim().is_empty()
        {
            match serde_json::from_str::<Value>(&b) {
                Ok(Value::Object(m)) => params.body = m,
                _ => {
                    return Err(ApiError::bad_request(
                        "The 'body' parameter must be a JSON object string",
                    ));
                }
            }
        }
        Ok(ApiReq {
            auth,
            params,
            file,
            ctx,
        })
    }
}

async fn drain(body: Body) {
    let _ = axum::body::to_bytes(body, MAX_FORM_BYTES).await;
}

/// Text fields go to `form`; the `file` / `part_content` part (or any part with a filename)
/// streams to a temp file chunk by chunk.
async fn read_multipart(
    mp: &mut Multipart,
    tmp_dir: &Path,
    form: &mut Vec<(String, String)>,
) -> Result<Option<Upload>, ApiError> {
    let mut upload = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(format!("Invalid multipart body: {}", e.body_text()))
    };
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        let is_file = name == "file" || name == "part_content" || field.file_name().is_some();
        if !is_file {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if text.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(ApiError::bad_request(format!(
                        "Field '{name}' is too large"
                    )));
                }
                text.extend_from_slice(&chunk);
            }
            form.push((name, String::from_utf8_lossy(&text).into_owned()));
            continue;
        }
        let file_name = field.file_name().unwrap_or("").to_string();
        let mime = field
            .content_type()
            .map(str::to_string)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| guess_mime(&file_name).to_string());
        let (std_file, path) = tempfile::NamedTempFile::new_in(tmp_dir)
            .map_err(|e| ApiError::server(format!("Could not create temp file: {e}")))?
            .into_parts();
        let mut out = tokio::fs::File::from_std(std_file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            hasher.update(&chunk);
            size += chunk.len() as u64;
            out.write_all(&chunk)
                .await
                .map_err(|e| ApiError::server(format!("Could not write content: {e}")))?;
        }
        out.flush()
            .await
            .map_err(|e| ApiError::server(format!("Could not write content: {e}")))?;
        upload = Some(Upload {
            path,
            size,
            sha256: hex::encode(hasher.finalize()),
            file_name,
            mime_type: mime,
        });
    }
    Ok(upload)
}

pub fn guess_mime(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}
