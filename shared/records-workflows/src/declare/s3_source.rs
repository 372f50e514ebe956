//! An S3 object version as OpenText upload content: re-openable (a retry re-reads from S3),
//! streamed (as a reader, or as the body's own chunks for chunked uploads), and hashed on
//! the way so the SHA-256 costs no second read.

use std::io;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use std::sync::Arc;

use opentext_client::{ContentChunks, ContentReader, ContentSource, RangeReader};
use records_aws::hashing::DigestSlot;
use records_aws::s3_objects::S3Objects;

pub struct S3Source {
    objects: S3Objects,
    bucket: String,
    key: String,
    version_id: Option<String>,
    len: u64,
    file_name: String,
    mime_type: String,
    digest: DigestSlot,
}

impl S3Source {
    pub fn new(
        objects: S3Objects,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        len: u64,
        file_name: &str,
        mime_type: Option<&str>,
    ) -> Self {
        Self {
            objects,
            bucket: bucket.into(),
            key: key.into(),
            version_id: version_id.map(str::to_string),
            len,
            file_name: file_name.into(),
            mime_type: mime_type
                .filter(|m| !m.is_empty() && *m != "binary/octet-stream")
                .map(str::to_string)
                .unwrap_or_else(|| opentext_client::guess_mime_type(file_name).to_string()),
            digest: DigestSlot::default(),
        }
    }

    /// The digest of the last complete read (set once `len` bytes have streamed).
    pub fn digest(&self) -> DigestSlot {
        self.digest.clone()
    }
}

impl ContentSource for S3Source {
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
            let reader = self
                .objects
                .open(
                    &self.bucket,
                    &self.key,
                    self.version_id.as_deref(),
                    self.digest.clone(),
                )
                .await
                .map_err(io::Error::other)?
                .with_expected_len(self.len);
            Ok(Box::new(reader) as ContentReader)
        }
        .boxed()
    }
    fn range_reader(&self) -> Option<Arc<dyn RangeReader>> {
        Some(Arc::new(S3Ranges {
            objects: self.objects.clone(),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
        }))
    }
    fn open_chunks(&self) -> BoxFuture<'_, io::Result<ContentChunks>> {
        async move {
            let chunks = self
                .objects
                .open_chunks(
                    &self.bucket,
                    &self.key,
                    self.version_id.as_deref(),
                    self.len,
                    self.digest.clone(),
                )
                .await
                .map_err(io::Error::other)?;
            Ok(Box::pin(chunks) as ContentChunks)
        }
        .boxed()
    }
}

/// Ranged GETs of the one version: its bytes never change, so a part read again is the part
/// that was hashed.
struct S3Ranges {
    objects: S3Objects,
    bucket: String,
    key: String,
    version_id: Option<String>,
}

impl RangeReader for S3Ranges {
    fn open_range(&self, offset: u64, len: u64) -> BoxFuture<'static, io::Result<ContentChunks>> {
        let objects = self.objects.clone();
        let (bucket, key, version_id) = (
            self.bucket.clone(),
            self.key.clone(),
            self.version_id.clone(),
        );
        async move {
            tracing::info!(
                offset,
                len,
                "re-reading a part's bytes from S3 for its retry"
            );
            let chunks = objects
                .open_range(&bucket, &key, version_id.as_deref(), offset, len)
                .await
                .map_err(io::Error::other)?;
            Ok(chunks as ContentChunks)
        }
        .boxed()
    }
}
