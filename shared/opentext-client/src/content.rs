//! Content sources: what an upload reads from, re-openable so retries can re-send.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, Stream};
use tokio::io::{AsyncRead, ReadBuf};

/// A reader over a content source's bytes.
pub type ContentReader = Box<dyn AsyncRead + Send + Unpin>;

/// A content source's bytes as the chunks it produces (an HTTP body's frames, say).
pub type ContentChunks = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// Re-reads any byte range of a source's content, the same bytes every time (an S3 object
/// version): a chunked upload then retries a failed part by reading its range again instead
/// of holding the part in memory for the retry.
pub trait RangeReader: Send + Sync {
    /// The `len` bytes from `offset`, as chunks.
    fn open_range(&self, offset: u64, len: u64) -> BoxFuture<'static, io::Result<ContentChunks>>;
}

/// Chunk size when a reader is turned into chunks.
const READER_CHUNK: usize = 64 * 1024;

/// Something whose bytes can be uploaded as a document or version.
///
/// `open` may be called more than once (each call starts from byte 0) so a
/// failed upload can be sent again; sources that cannot do that return
/// `false` from [`ContentSource::can_reopen`] once bytes were consumed.
pub trait ContentSource: Send + Sync {
    /// Exact length in bytes (chunked uploads and `Content-Length` need it up front).
    fn len(&self) -> u64;
    /// True when the content is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// File name stored with the version.
    fn file_name(&self) -> &str;
    /// MIME type stored with the version.
    fn mime_type(&self) -> &str;
    /// Opens a fresh reader positioned at the first byte.
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>>;
    /// Opens the bytes as chunks from the first byte, for the chunked upload. The default
    /// reads [`ContentSource::open`] in 64 KiB chunks; a source whose bytes already come
    /// in chunks hands them on as they are, without a copy.
    fn open_chunks(&self) -> BoxFuture<'_, io::Result<ContentChunks>> {
        async move {
            let reader = self.open().await?;
            Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(
                reader,
                READER_CHUNK,
            )) as ContentChunks)
        }
        .boxed()
    }
    /// A reader of byte ranges, for a source that can re-read a part of itself (see
    /// [`RangeReader`]); `None` (the default) keeps a chunked part in memory for its retry.
    fn range_reader(&self) -> Option<Arc<dyn RangeReader>> {
        None
    }
    /// Whether `open` can still succeed (false for a one-shot reader already read from).
    fn can_reopen(&self) -> bool {
        true
    }
}

/// Guesses a MIME type from a file name's extension (`mime_guess`'s table, which reqwest's
/// multipart support already links in); unknown → `application/octet-stream`.
pub fn guess_mime_type(file_name: &str) -> &'static str {
    mime_guess::from_path(file_name)
        .first_raw()
        .unwrap_or("application/octet-stream")
}

#[cfg(test)]
mod mime_tests {
    #[test]
    fn common_record_types_and_the_fallback() {
        for (name, mime) in [
            ("a.pdf", "application/pdf"),
            ("A.PDF", "application/pdf"),
            ("notes.txt", "text/plain"),
            ("q3.csv", "text/csv"),
            ("scan.tiff", "image/tiff"),
            ("mail.eml", "message/rfc822"),
            (
                "contract.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("no-extension", "application/octet-stream"),
            ("weird.zzzq", "application/octet-stream"),
        ] {
            assert_eq!(super::guess_mime_type(name), mime, "{name}");
        }
    }
}

/// A local file, opened anew for every attempt.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    len: u64,
    file_name: String,
    mime_type: String,
}

impl FileSource {
    /// Reads the file's length now; the name and MIME type come from the path.
    pub async fn new(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let len = tokio::fs::metadata(&path).await?.len();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_string());
        let mime_type = guess_mime_type(&file_name).to_string();
        Ok(FileSource {
            path,
            len,
            file_name,
            mime_type,
        })
    }

    /// Overrides the stored file name.
    pub fn with_file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = name.into();
        self
    }

    /// Overrides the MIME type.
    pub fn with_mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime_type = mime.into();
        self
    }
}

impl ContentSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn file_name(&self) -> &str {
        &self.file_name
    }
    fn mime_type(&self) -> &str {
        &self.mime_type
    }
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>> {
        async move {
            let f = tokio::fs::File::open(&self.path).await?;
            Ok(Box::new(f) as ContentReader)
        }
        .boxed()
    }
}

/// Content already in memory (cheap to clone and re-send).
#[derive(Debug, Clone)]
pub struct BytesSource {
    bytes: Bytes,
    file_name: String,
    mime_type: String,
}

impl BytesSource {
    /// In-memory content; the MIME type is guessed from the name.
    pub fn new(bytes: impl Into<Bytes>, file_name: impl Into<String>) -> Self {
        let file_name = file_name.into();
        BytesSource {
            bytes: bytes.into(),
            mime_type: guess_mime_type(&file_name).to_string(),
            file_name,
        }
    }

    /// Overrides the MIME type.
    pub fn with_mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime_type = mime.into();
        self
    }
}

impl ContentSource for BytesSource {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn file_name(&self) -> &str {
        &self.file_name
    }
    fn mime_type(&self) -> &str {
        &self.mime_type
    }
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>> {
        let cursor = io::Cursor::new(self.bytes.clone());
        async move { Ok(Box::new(cursor) as ContentReader) }.boxed()
    }
}

/// A one-shot reader (e.g. a network stream) of known length.
///
/// It can be opened again only while none of its bytes were read: the reader
/// returns to the source when a request is dropped before sending any body.
/// Once bytes went out, the upload is not retried.
pub struct ReaderSource {
    slot: Arc<Mutex<Option<ContentReader>>>,
    len: u64,
    file_name: String,
    mime_type: String,
}

impl ReaderSource {
    /// Wraps a reader that yields exactly `len` bytes.
    pub fn new(
        reader: impl AsyncRead + Send + Unpin + 'static,
        len: u64,
        file_name: impl Into<String>,
    ) -> Self {
        let file_name = file_name.into();
        ReaderSource {
            slot: Arc::new(Mutex::new(Some(Box::new(reader)))),
            len,
            mime_type: guess_mime_type(&file_name).to_string(),
            file_name,
        }
    }

    /// Wraps a byte stream that yields exactly `len` bytes.
    pub fn from_stream<S, B>(stream: S, len: u64, file_name: impl Into<String>) -> Self
    where
        S: Stream<Item = io::Result<B>> + Send + Unpin + 'static,
        B: bytes::Buf + Send + 'static,
    {
        Self::new(tokio_util::io::StreamReader::new(stream), len, file_name)
    }

    /// Overrides the MIME type.
    pub fn with_mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime_type = mime.into();
        self
    }
}

impl std::fmt::Debug for ReaderSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderSource")
            .field("len", &self.len)
            .field("file_name", &self.file_name)
            .field("available", &self.can_reopen())
            .finish()
    }
}

impl ContentSource for ReaderSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn file_name(&self) -> &str {
        &self.file_name
    }
    fn mime_type(&self) -> &str {
        &self.mime_type
    }
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>> {
        let taken = self.slot.lock().expect("reader slot poisoned").take();
        let slot = self.slot.clone();
        async move {
            let inner = taken
                .ok_or_else(|| io::Error::other("one-shot content source was already consumed"))?;
            Ok(Box::new(OneShotReader {
                inner: Some(inner),
                slot,
                started: false,
            }) as ContentReader)
        }
        .boxed()
    }
    fn can_reopen(&self) -> bool {
        self.slot.lock().map(|s| s.is_some()).unwrap_or(false)
    }
}

/// Hands the reader back to its source if dropped before any byte was read.
struct OneShotReader {
    inner: Option<ContentReader>,
    slot: Arc<Mutex<Option<ContentReader>>>,
    started: bool,
}

impl AsyncRead for OneShotReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let inner = this.inner.as_mut().expect("reader present until drop");
        let res = Pin::new(inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.started = true;
        }
        res
    }
}

impl Drop for OneShotReader {
    fn drop(&mut self) {
        if !self.started
            && let (Some(inner), Ok(mut slot)) = (self.inner.take(), self.slot.lock())
        {
            *slot = Some(inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn one_shot_reopens_only_before_reading() {
        let src = ReaderSource::new(io::Cursor::new(b"hello".to_vec()), 5, "a.txt");
        drop(src.open().await.unwrap());
        assert!(src.can_reopen());
        let mut r = src.open().await.unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).await.unwrap();
        drop(r);
        assert_eq!(s, "hello");
        assert!(!src.can_reopen());
        assert!(src.open().await.is_err());
    }
}
