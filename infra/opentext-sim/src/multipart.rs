//! Large-file (chunked) upload: start, parts (from 1, streamed to disk), complete, cancel.
//! The completed file is then used through `upload_key` on node create / add version.
//! Parts are joined (and the whole hashed) as they arrive in order, off the request path, so
//! completing a sequential upload waits for the last part's copy only, not the whole file's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
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
    pub assembler: Arc<tokio::sync::Mutex<Assembler>>,
}

/// The session's parts joined so far, in order: `next` is the first part not yet appended.
pub struct Assembler {
    path: PathBuf,
    out: Option<tokio::fs::File>,
    hasher: Sha256,
    next: u64,
    size: u64,
}

impl std::fmt::Debug for Assembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembler")
            .field("next", &self.next)
            .field("size", &self.size)
            .finish()
    }
}

impl Assembler {
    fn new(dir: &std::path::Path) -> Self {
        Self {
            path: dir.join("assembled"),
            out: None,
            hasher: Sha256::new(),
            next: 1,
            size: 0,
        }
    }

    /// Appends every stored part from `next` on, in order, until one is missing; each
    /// part's file is removed once copied (peak disk use stays near 1x).
    async fn append_stored(&mut self, dir: &std::path::Path) -> std::io::Result<()> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let part_path = dir.join(format!("part-{:06}", self.next));
            let mut f = match tokio::fs::File::open(&part_path).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            if self.out.is_none() {
                self.out = Some(tokio::fs::File::create(&self.path).await?);
            }
            let out = self.out.as_mut().expect("just opened");
            loop {
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                self.hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).await?;
                self.size += n as u64;
            }
            drop(f);
            tokio::fs::remove_file(&part_path).await?;
            self.next += 1;
        }
    }
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
            dir: dir.clone(),
            parts: BTreeMap::new(),
            last_used: Instant::now(),
            expired: false,
            completing: false,
            assembled: None,
            assembler: Arc::new(tokio::sync::Mutex::new(Assembler::new(&dir))),
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
        Ok((
            s.dir.join(format!("part-{part:06}")),
            s.dir.clone(),
            s.assembler.clone(),
        ))
    })?;
    let (dest, dir, assembler) = dest;
    if let Err(e) = upload.persist(&dest) {
        let _ = with_session(&sim, &key, caller.id, |s| {
            Ok(s.parts.remove(&(part as u64)))
        });
        return Err(ApiError::server(format!("Could not store part: {e}")));
    }
    // Joined in the background; a failure here shows when the upload is completed.
    tokio::spawn(async move {
        let _ = assembler.lock().await.append_stored(&dir).await;
    });
    Ok(Json(json!({})).into_response())
}

/// `POST /api/v2/multipart/{key}`: checks every part arrived, then joins them (hashing as it goes).
pub async fn complete(
    State(sim): State<AppState>,
    Path(key): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let caller = req.caller()?;
    let (dir, assembler, file_size) = with_session(&sim, &key, caller.id, |s| {
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
        Ok((s.dir.clone(), s.assembler.clone(), s.file_size))
    })?;
    let joined = join_parts(&dir, &assembler).await;
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

/// Waits for the background joins, appends what they have not (a part that arrived out of
/// order), and closes the file: its path, size and SHA-256.
async fn join_parts(
    dir: &std::path::Path,
    assembler: &tokio::sync::Mutex<Assembler>,
) -> std::io::Result<(PathBuf, u64, String)> {
    let mut a = assembler.lock().await;
    a.append_stored(dir).await?;
    let mut out = match a.out.take() {
        Some(out) => out,
        // An empty file's only part is empty: nothing was appended, the file is still made.
        None => tokio::fs::File::create(&a.path).await?,
    };
    out.flush().await?;
    let sha256 = hex::encode(std::mem::take(&mut a.hasher).finalize());
    Ok((a.path.clone(), a.size, sha256))
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
