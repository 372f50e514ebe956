//! Large-file (chunked) upload: start, parts (from 1, streamed to disk), complete, cancel.
//! The completed file is then used through `upload_key` on node create / add version.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{ApiError, ApiResult};
use crate::nodes::missing_param;
use crate::perms::parse_id;
use crate::request::ApiReq;
use crate::state::{AppState, Sim, lock};

/// Idle lifetime of an upload session (also ended early by `POST /sim/admin/uploads/expire`).
pub const SESSION_IDLE: Duration = Duration::from_secs(60 * 60);
const MAX_RETRIES: u64 = 3;

#[derive(Debug, Clone)]
pub struct Assembled {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug)]
pub struct UploadSession {
    pub user_id: i64,
    pub file_name: String,
    pub file_size: u64,
    pub mime_type: String,
    pub part_size: u64,
    pub num_parts: u64,
    pub dir: PathBuf,
    pub parts: BTreeMap<u64, u64>,
    pub last_used: Instant,
    pub expired: bool,
    pub completing: bool,
    pub assembled: Option<Assembled>,
}

fn invalid_key() -> ApiError {
    ApiError::server(
        "Failed to complete request. Either the UploadKey is invalid, or you do not have permission to access this upload session",
    )
}

/// Looks up the caller's live session; drops it (and its files) once expired.
fn with_session<T>(
    sim: &Sim,
    key: &str,
    user_id: i64,
    f: impl FnOnce(&mut UploadSession) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut uploads = lock(&sim.uploads);
    let s = uploads
        .get_mut(key)
        .filter(|s| s.user_id == user_id)
        .ok_or_else(invalid_key)?;
    if s.expired || s.last_used.elapsed() > SESSION_IDLE {
        let dir = s.dir.clone();
        uploads.remove(key);
        let _ = std::fs::remove_dir_all(dir);
        return Err(ApiError::server("Multipart Upload session expired"));
    }
    s.last_used = Instant::now();
    f(s)
}

/// `GET /api/v2/multipart/settings`.
pub async fn settings(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    req.caller()?;
    let m = &sim.multipart;
    Ok(
        Json(json!({"is_enabled": m.is_enabled, "max_size": m.max_size, "min_size": m.min_size}))
            .into_response(),
    )
}

/// `POST /api/v2/multipart`: form `file_name`, `file_size`, `mime_type`.
pub async fn start(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let p = &req.params;
    let m = &sim.multipart;
    if !m.is_enabled {
        return Err(ApiError::bad_request(
            "Large File Upload is not enabled on this server.",
        ));
    }
    let file_name = p
        .str("file_name")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing_param("file_name"))?;
    let mime_type = p
        .str("mime_type")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing_param("mime_type"))?;
    let file_size = p
        .i64("file_size")?
        .ok_or_else(|| missing_param("file_size"))?;
    if file_size < 0 || (file_size as u64) < m.min_size || (file_size as u64) > m.max_size {
        return Err(ApiError::server(format!(
            "Invalid block size: File size must be between {} and {} bytes.",
            m.min_size, m.max_size
        )));
    }
    let file_size = file_size as u64;
    let part_size = m.part_size.max(1);
    let num_parts = file_size.div_ceil(part_size).max(1);
    let key = uuid::Uuid::new_v4().simple().to_string();
    let dir = sim.upload_dir.join(&key);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ApiError::server(format!("Could not create upload session: {e}")))?;
    lock(&sim.uploads).insert(
        key.clone(),
        UploadSession {
            user_id: caller.id,
            file_name,
            file_size,
            mime_type,
            part_size,
            num_parts,
            dir,
            parts: BTreeMap::new(),
            last_used: Instant::now(),
            expired: false,
            completing: false,
            assembled: None,
        },
    );
    Ok(Json(json!({"upload_key": key, "num_parts": num_parts, "part_size": part_size, "max_retries": MAX_RETRIES}))
        .into_response())
}

/// `POST /api/v2/multipart/{key}/{part}` with the `part_content` file part.
pub async fn part(
    State(sim): State<AppState>,
    Path((key, part)): Path<(String, String)>,
    mut req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let part = parse_id(&part, "part_number")?;
    let upload = req
        .file
        .take()
        .ok_or_else(|| missing_param("part_content"))?;
    let dest = with_session(&sim, &key, caller.id, |s| {
        if s.completing || s.assembled.is_some() {
            return Err(ApiError::server(
                "Invalid status. The upload has already been completed.",
            ));
        }
        if part < 1 || part as u64 > s.num_parts {
            return Err(ApiError::server(format!(
                "Invalid BlockID: Expected BlockID between 1 and {}",
                s.num_parts
            )));
        }
        let part = part as u64;
        if s.parts.contains_key(&part) {
            return Err(ApiError::server(format!(
                "Invalid BlockID: BlockID {part} has already been uploaded."
            )));
        }
        let expected = if part < s.num_parts {
            s.part_size
        } else {
            s.file_size - s.part_size * (s.num_parts - 1)
        };
        if upload.size != expected {
            return Err(ApiError::server(format!(
                "Invalid block size: BlockID {part} must be {expected} bytes, got {}.",
                upload.size
            )));
        }
        // Reserve the slot now so a concurrent duplicate is refused.
        s.parts.insert(part, upload.size);
        Ok(s.dir.join(format!("part-{part:06}")))
    })?;
    if let Err(e) = upload.persist(&dest) {
        let _ = with_session(&sim, &key, caller.id, |s| {
            Ok(s.parts.remove(&(part as u64)))
        });
        return Err(ApiError::server(format!("Could not store part: {e}")));
    }
    Ok(Json(json!({})).into_response())
}

/// `POST /api/v2/multipart/{key}`: checks every part arrived, then joins them (hashing as it goes).
pub async fn complete(
    State(sim): State<AppState>,
    Path(key): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let (dir, parts, file_size) = with_session(&sim, &key, caller.id, |s| {
        if s.completing || s.assembled.is_some() || s.parts.is_empty() {
            return Err(ApiError::server(
                "Invalid status. Cannot close an empty or already closed upload.",
            ));
        }
        let missing: Vec<String> = (1..=s.num_parts)
            .filter(|p| !s.parts.contains_key(p))
            .map(|p| p.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::server(format!(
                "Failed to complete request. Missing BlockID(s): {}",
                missing.join(", ")
            )));
        }
        let total: u64 = s.parts.values().sum();
        if total != s.file_size {
            return Err(ApiError::server(format!(
                "Failed to complete request. Received {total} bytes, expected {}.",
                s.file_size
            )));
        }
        s.completing = true;
        Ok((
            s.dir.clone(),
            s.parts.keys().copied().collect::<Vec<_>>(),
            s.file_size,
        ))
    })?;
    let joined = join_parts(&dir, &parts).await;
    with_session(&sim, &key, caller.id, |s| {
        s.completing = false;
        match joined {
            Ok((path, size, sha256)) if size == file_size => {
                s.assembled = Some(Assembled { path, size, sha256 });
                Ok(Json(json!({})).into_response())
            }
            Ok((_, size, _)) => Err(ApiError::server(format!(
                "Failed to complete request. Joined {size} bytes."
            ))),
            Err(e) => Err(ApiError::server(format!("Failed to complete request: {e}"))),
        }
    })
}

async fn join_parts(
    dir: &std::path::Path,
    parts: &[u64],
) -> std::io::Result<(PathBuf, u64, String)> {
    let out_path = dir.join("assembled");
    let mut out = tokio::fs::File::create(&out_path).await?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    for p in parts {
        let part_path = dir.join(format!("part-{p:06}"));
        let mut f = tokio::fs::File::open(&part_path).await?;
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).await?;
            size += n as u64;
        }
        drop(f);
        // Parts are no longer needed once copied; keeps peak disk use near 1x.
        tokio::fs::remove_file(&part_path).await?;
    }
    out.flush().await?;
    Ok((out_path, size, hex::encode(hasher.finalize())))
}

/// `DELETE /api/v2/multipart/{key}`: cancels and removes the parts.
pub async fn cancel(
    State(sim): State<AppState>,
    Path(key): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let dir = with_session(&sim, &key, caller.id, |s| Ok(s.dir.clone()))?;
    lock(&sim.uploads).remove(&key);
    let _ = tokio::fs::remove_dir_all(dir).await;
    Ok(Json(json!({})).into_response())
}

/// Admin: every open upload session counts as expired from now on.
pub fn expire_all(sim: &Sim) -> usize {
    let mut uploads = lock(&sim.uploads);
    uploads.values_mut().for_each(|s| s.expired = true);
    uploads.len()
}
