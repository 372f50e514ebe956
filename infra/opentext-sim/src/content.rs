//! Content on disk: turning an upload (direct `file` part or completed `upload_key`) into a
//! version blob, and streaming downloads back from disk.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

use crate::error::{ApiError, ApiResult, Missing};
use crate::perms::{parse_id, require, visible};
use crate::request::{ApiReq, Upload};
use crate::state::{AppState, Sim, lock};

/// A finished, hashed file in the blob directory, ready to become a version.
pub struct Content {
    pub blob: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub file_name: String,
    pub mime_type: String,
}

/// Takes the streamed `file` part, or else the completed chunked upload `upload_key`.
pub fn take_content(
    sim: &Sim,
    user_id: i64,
    file: Option<Upload>,
    upload_key: Option<&str>,
) -> Result<Content, ApiError> {
    let dest = sim.blob_dir.join(uuid::Uuid::new_v4().to_string());
    if let Some(f) = file {
        let (size, sha256, file_name, mime_type) = (
            f.size,
            f.sha256.clone(),
            f.file_name.clone(),
            f.mime_type.clone(),
        );
        let blob = f
            .persist(&dest)
            .map_err(|e| ApiError::server(format!("Could not store content: {e}")))?;
        return Ok(Content {
            blob,
            size,
            sha256,
            file_name,
            mime_type,
        });
    }
    let key = upload_key.unwrap_or_default();
    let not_found =
        || ApiError::bad_request("Error: File could not be found within the upload directory.");
    let mut uploads = lock(&sim.uploads);
    // Only the user who uploaded may use the key.
    let ready = uploads
        .get(key)
        .is_some_and(|s| s.assembled.is_some() && s.user_id == user_id);
    if !ready {
        return Err(not_found());
    }
    let session = uploads.remove(key).ok_or_else(not_found)?;
    drop(uploads);
    let done = session.assembled.clone().ok_or_else(not_found)?;
    std::fs::rename(&done.path, &dest)
        .map_err(|e| ApiError::server(format!("Could not store content: {e}")))?;
    let _ = std::fs::remove_dir_all(&session.dir);
    Ok(Content {
        blob: dest,
        size: done.size,
        sha256: done.sha256,
        file_name: session.file_name,
        mime_type: session.mime_type,
    })
}

struct Pick {
    blob: PathBuf,
    size: u64,
    mime: String,
    file_name: String,
}

fn pick(sim: &Sim, req: &ApiReq, id: &str, version: Option<&str>) -> Result<Pick, ApiError> {
    let caller = req.caller()?;
    let id = parse_id(id, "id")?;
    let store = sim.read();
    let n = visible(&store, &caller, id, Missing::Content)?;
    require(&store, &caller, n, "see_contents")?;
    if n.versions.is_empty() {
        return Err(ApiError::bad_request(
            "Could not process object, invalid action 'download'",
        ));
    }
    let v = match version {
        None | Some("latest") => n.latest(),
        Some(raw) => {
            let num = parse_id(raw, "version_number")?;
            n.versions.iter().find(|v| v.number == num)
        }
    };
    let v = v.ok_or_else(|| {
        ApiError::bad_request(format!(
            "Could not get version {} of node {id}",
            version.unwrap_or("")
        ))
    })?;
    Ok(Pick {
        blob: v.blob.clone(),
        size: v.size,
        mime: v.mime_type.clone(),
        file_name: v.file_name.clone(),
    })
}

async fn stream(p: Pick, force_download: bool) -> ApiResult {
    let file = tokio::fs::File::open(&p.blob)
        .await
        .map_err(|e| ApiError::server(format!("Could not open content: {e}")))?;
    let mime = if force_download {
        "application/octet-stream".to_string()
    } else {
        p.mime
    };
    let mut resp = Response::new(Body::from_stream(ReaderStream::with_capacity(
        file,
        256 * 1024,
    )));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(p.size));
    let ascii: String = p
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = p
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp.into_response())
}

fn download_flag(req: &ApiReq) -> bool {
    req.params.str("action").is_some_and(|a| a == "download")
}

/// `GET /api/v{1,2}/nodes/{id}/content`.
pub async fn node_content(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let p = pick(&sim, &req, &id, None)?;
    stream(p, download_flag(&req)).await
}

/// `GET /api/v1/nodes/{id}/content/{filename}` (the name is cosmetic).
pub async fn node_content_named(
    State(sim): State<AppState>,
    Path((id, _name)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let p = pick(&sim, &req, &id, None)?;
    stream(p, download_flag(&req)).await
}

/// `GET /api/v{1,2}/nodes/{id}/versions/{n}/content`.
pub async fn version_content(
    State(sim): State<AppState>,
    Path((id, n)): Path<(String, String)>,
    req: ApiReq,
) -> ApiResult {
    let p = pick(&sim, &req, &id, Some(&n))?;
    stream(p, download_flag(&req)).await
}
