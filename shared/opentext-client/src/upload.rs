//! Large files through the chunked ("multipart") upload API.
//!
//! Only one part is held in memory at a time: its chunks are streamed to the server
//! as they come from the source (reading and sending overlap), kept for a retry,
//! and dropped before the next.

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::sync::Arc;

use crate::client::Client;
use crate::content::{ContentChunks, ContentSource};
use crate::envelope::from_value;
use crate::error::{Error, Result};
use crate::http::{FormFactory, Req};
use crate::model::{MultipartSession, MultipartSettings};
use crate::nodes::UploadMode;

/// Part size used when the server does not say (8 MiB).
const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;

/// The settings object, whether sent bare or inside `results` / `results.data`.
fn unwrap_results(v: Value) -> Value {
    let inner = v.get("results").map(|r| r.get("data").unwrap_or(r).clone());
    match inner {
        Some(Value::Object(o)) if !o.is_empty() => Value::Object(o),
        _ => v,
    }
}

/// Told a chunked upload's `upload_key` as soon as its session exists, before any part is
/// sent: a caller that dies mid-upload keeps the key and cancels the session from its next
/// attempt ([`Client::cancel_upload`]), so no orphaned session holds parts on the server.
#[derive(Clone)]
pub struct UploadSessionHook(Arc<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>);

impl UploadSessionHook {
    pub fn new(f: impl Fn(String) -> BoxFuture<'static, ()> + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl std::fmt::Debug for UploadSessionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UploadSessionHook")
    }
}

impl Client {
    /// `DELETE /api/v2/multipart/{key}`: cancels a chunked upload session and drops its parts.
    /// A session the server no longer knows (completed, expired, cancelled) counts as cancelled.
    pub async fn cancel_upload(&self, upload_key: &str) -> Result<()> {
        match self
            .send(&Req::delete(format!("/api/v2/multipart/{upload_key}")))
            .await
        {
            Ok(_) | Err(Error::NotFound { .. }) | Err(Error::UploadSession { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v2/multipart/settings` (fetched once per client and cached).
    /// A server without the API counts as disabled.
    pub async fn multipart_settings(&self) -> Result<MultipartSettings> {
        self.inner
            .multipart_settings
            .get_or_try_init(|| async {
                let path = "/api/v2/multipart/settings";
                match self.json(&Req::get(path)).await {
                    Ok(v) => from_value(unwrap_results(v), path),
                    // Older servers: "URL could not be found in the mappings registry".
                    Err(Error::NotFound { .. }) | Err(Error::Api { status: 400, .. }) => {
                        Ok(MultipartSettings::default())
                    }
                    Err(e) => Err(e),
                }
            })
            .await
            .cloned()
    }

    pub(crate) async fn use_chunked(&self, len: u64, mode: UploadMode) -> Result<bool> {
        match mode {
            UploadMode::Direct => Ok(false),
            UploadMode::Chunked => Ok(true),
            UploadMode::Auto => {
                let s = self.multipart_settings().await?;
                let min = s.min_size.unwrap_or(i64::MAX).max(0) as u64;
                let max = s.max_size.map(|m| m.max(0) as u64).unwrap_or(u64::MAX);
                Ok(s.is_enabled && len >= min && len <= max)
            }
        }
    }

    /// Uploads `source` through the chunked API and returns the completed
    /// session's `upload_key`, to pass to node create or add version.
    /// On any failure the session is cancelled (`DELETE`).
    pub async fn upload_chunked(&self, source: &dyn ContentSource) -> Result<String> {
        self.upload_chunked_with(source, None).await
    }

    /// [`Client::upload_chunked`], telling `hook` the session's key before the first part.
    pub async fn upload_chunked_with(
        &self,
        source: &dyn ContentSource,
        hook: Option<&UploadSessionHook>,
    ) -> Result<String> {
        let session = self.start_multipart(source).await?;
        let key = session.upload_key.clone();
        if let Some(hook) = hook {
            (hook.0)(key.clone()).await;
        }
        match self.send_parts(source, &session).await {
            Ok(()) => Ok(key),
            Err(e) => {
                let cancel = Req::delete(format!("/api/v2/multipart/{key}"));
                if let Err(ce) = self.without_deadline_if_passed().send(&cancel).await {
                    tracing::warn!(error = %ce, "cancelling chunked upload failed");
                }
                Err(e)
            }
        }
    }

    async fn start_multipart(&self, source: &dyn ContentSource) -> Result<MultipartSession> {
        let path = "/api/v2/multipart";
        let form = vec![
            ("file_name".to_string(), source.file_name().to_string()),
            ("file_size".to_string(), source.len().to_string()),
            ("mime_type".to_string(), source.mime_type().to_string()),
        ];
        let v = self.json(&Req::post(path).form(form)).await?;
        from_value(unwrap_results(v), path)
    }

    async fn send_parts(
        &self,
        source: &dyn ContentSource,
        session: &MultipartSession,
    ) -> Result<()> {
        let key = &session.upload_key;
        let part_size = session
            .part_size
            .filter(|p| *p > 0)
            .map(|p| p as u64)
            .unwrap_or(DEFAULT_PART_SIZE);
        let total = source.len();
        let ranges = source.range_reader();
        let mut chunks = PartChunks::new(source.open_chunks().await?);
        let mut sent: u64 = 0;
        let mut part_no: u64 = 1;
        loop {
            let want = part_size.min(total - sent);
            if want > 0 || part_no == 1 {
                let part = PartRead {
                    number: part_no,
                    offset: sent,
                    len: want,
                    total,
                };
                self.stream_part(key, &part, &mut chunks, ranges.clone())
                    .await?;
            }
            sent += want;
            if sent >= total {
                break;
            }
            part_no += 1;
        }
        // Extra bytes mean the declared length was wrong: refuse rather than truncate.
        if chunks.next_up_to(1).await?.is_some() {
            return Err(Error::InvalidArgument(format!(
                "content source is longer than its declared {total} bytes"
            )));
        }
        self.send(&Req::post(format!("/api/v2/multipart/{key}")))
            .await?;
        Ok(())
    }

    /// Sends one part while it is read: the first attempt streams the chunks as they come
    /// from the source (reading and sending overlap; the chunks are passed on, not copied).
    /// A retry reads the part's range again when the source can (`ranges`), so nothing is
    /// held; otherwise the chunks are kept for it (memory: one part).
    async fn stream_part(
        &self,
        key: &str,
        part: &PartRead,
        chunks: &mut PartChunks,
        ranges: Option<Arc<dyn crate::content::RangeReader>>,
    ) -> Result<()> {
        let (part_no, want, offset, total) = (part.number, part.len, part.offset, part.total);
        tracing::debug!(part = part_no, bytes = want, "uploading part");
        let keep_for_retry = ranges.is_none();
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
        let (done_tx, done_rx) = tokio::sync::watch::channel::<Option<Arc<Vec<Bytes>>>>(None);
        let first_attempt = Arc::new(std::sync::Mutex::new(Some(rx)));
        let make: FormFactory = Arc::new(move || {
            let first_attempt = first_attempt.clone();
            let mut done_rx = done_rx.clone();
            let ranges = ranges.clone();
            async move {
                let streaming = first_attempt.lock().expect("not poisoned").take();
                let body = match (streaming, ranges) {
                    (Some(rx), _) => reqwest::Body::wrap_stream(futures_util::stream::unfold(
                        rx,
                        |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
                    )),
                    (None, Some(ranges)) => {
                        reqwest::Body::wrap_stream(ranges.open_range(offset, want).await?)
                    }
                    (None, None) => {
                        // A retry: wait until the whole part has been read, then resend it.
                        let kept = loop {
                            if let Some(kept) = done_rx.borrow().clone() {
                                break kept;
                            }
                            done_rx.changed().await.map_err(|_| {
                                Error::InvalidArgument("part could not be read for a retry".into())
                            })?;
                        };
                        let resend: Vec<std::io::Result<Bytes>> =
                            kept.iter().cloned().map(Ok).collect();
                        reqwest::Body::wrap_stream(futures_util::stream::iter(resend))
                    }
                };
                let part = Part::stream_with_length(body, want)
                    .file_name("part")
                    .mime_str("application/octet-stream")
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                Ok(Form::new().part("part_content", part))
            }
            .boxed()
        });
        let req = Req::post(format!("/api/v2/multipart/{key}/{part_no}"))
            .multipart(make, Arc::new(|| true));
        let tee = async move {
            let mut kept = Vec::new();
            let mut got = 0u64;
            let mut tx = Some(tx);
            while got < want {
                let Some(chunk) = chunks.next_up_to(want - got).await? else {
                    break;
                };
                got += chunk.len() as u64;
                // A failed first attempt drops its receiver; the part is still read to its
                // end (the source is hashed as it goes) for the next part and the retry.
                if let Some(t) = &tx
                    && t.send(Ok(chunk.clone())).await.is_err()
                {
                    tx = None;
                }
                if keep_for_retry {
                    kept.push(chunk);
                }
            }
            if got < want {
                return Err(Error::InvalidArgument(format!(
                    "content source ended after {} of {total} bytes",
                    offset + got
                )));
            }
            drop(tx);
            let _ = done_tx.send(Some(Arc::new(kept)));
            Ok(())
        };
        let (sent, read) = tokio::join!(self.send(&req), tee);
        read?;
        sent.map(|_| ())
    }

    /// Cleanup must still run when the caller's deadline is what failed the upload.
    fn without_deadline_if_passed(&self) -> Client {
        let mut c = self.clone();
        if c.deadline.is_some_and(|d| d <= tokio::time::Instant::now()) {
            c.deadline = Some(tokio::time::Instant::now() + std::time::Duration::from_secs(10));
        }
        c
    }
}

/// Where one part lies in the content.
struct PartRead {
    number: u64,
    offset: u64,
    len: u64,
    total: u64,
}

/// A source's chunks cut at part boundaries: a chunk that straddles two parts is split
/// (a cheap view, not a copy) and its rest opens the next part.
struct PartChunks {
    chunks: ContentChunks,
    rest: Option<Bytes>,
}

impl PartChunks {
    fn new(chunks: ContentChunks) -> Self {
        Self { chunks, rest: None }
    }

    /// The next bytes, at most `max` of them; `None` at the end of the source.
    async fn next_up_to(&mut self, max: u64) -> Result<Option<Bytes>> {
        let mut chunk = match self.rest.take() {
            Some(rest) => rest,
            None => loop {
                match self.chunks.next().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(c)) if c.is_empty() => continue,
                    Some(Ok(c)) => break c,
                }
            },
        };
        if chunk.len() as u64 > max {
            self.rest = Some(chunk.split_off(max as usize));
        }
        Ok(Some(chunk))
    }
}
