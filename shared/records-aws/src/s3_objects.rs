//! S3 object facts (size, ETag, metadata, tags), streaming reads that hash on the fly, and
//! tagging that keeps the owner's own tags.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{Tag, Tagging};
use tokio::io::AsyncRead;

use crate::hashing::{DigestSlot, HashingChunks, HashingReader};

/// An object body as a stream of its chunks.
pub type BodyChunks =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send>>;

/// S3 allows at most 10 tags per object version.
pub const MAX_TAGS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The bucket itself is gone (or was never there): a deployment fault, not a deleted object.
    #[error("bucket {bucket} does not exist")]
    NoSuchBucket { bucket: String },
    #[error("s3://{bucket}/{key} (version {version:?}) does not exist")]
    NotFound {
        bucket: String,
        key: String,
        version: Option<String>,
    },
    #[error("S3 refused {op} on s3://{bucket}/{key}: {code}: {message}")]
    Refused {
        op: &'static str,
        bucket: String,
        key: String,
        code: String,
        message: String,
    },
    /// S3's final answer to a call whose refusal sending it again cannot change (a body whose
    /// checksum differs, an invalid Object Lock date, access denied to the archive bucket).
    /// Only the calls that treat a refusal as final give it ([`crate::archive_copies`]); the
    /// others give [`S3Error::Refused`].
    #[error("S3 rejected {op} on s3://{bucket}/{key}: {code}: {message}")]
    Rejected {
        op: &'static str,
        bucket: String,
        key: String,
        code: String,
        message: String,
    },
    #[error("S3 {op} failed: {message}")]
    Transport { op: &'static str, message: String },
    #[error("tagging s3://{bucket}/{key} would need {count} tags; S3 allows {MAX_TAGS}")]
    TooManyTags {
        bucket: String,
        key: String,
        count: usize,
    },
}

/// The codes S3 answers when it is throttling or failing: another try may succeed.
pub const RETRYABLE_CODES: &[&str] = &[
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "Throttling",
];

impl S3Error {
    /// Worth retrying later (throttling, 5xx, network), as opposed to a final answer.
    pub fn is_retryable(&self) -> bool {
        match self {
            S3Error::Transport { .. } => true,
            S3Error::Refused { code, .. } => RETRYABLE_CODES.contains(&code.as_str()),
            _ => false,
        }
    }
}

/// What S3 says about one object version (HeadObject and its tags): what records-bridge needs
/// to know of it. The policy's own view is [`records_domain::ObjectFacts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3ObjectFacts {
    pub bucket: String,
    pub key: String,
    /// `None` for unversioned buckets.
    pub version_id: Option<String>,
    pub size: u64,
    /// Without the quotes S3 puts around it.
    pub etag: String,
    pub content_type: Option<String>,
    /// RFC 3339 `LastModified` of this version: its upload time.
    pub last_modified: Option<String>,
    /// User metadata (`x-amz-meta-*`), keys lower-cased.
    pub metadata: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

pub(crate) fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(
    op: &'static str,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    err: aws_sdk_s3::error::SdkError<E>,
) -> S3Error {
    use aws_sdk_s3::error::SdkError;
    let status = match &err {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    };
    if let SdkError::ServiceError(e) = &err
        && e.err().code() == Some("NoSuchBucket")
    {
        return S3Error::NoSuchBucket {
            bucket: bucket.into(),
        };
    }
    match (&err, status) {
        (SdkError::ServiceError(_), Some(404)) => S3Error::NotFound {
            bucket: bucket.into(),
            key: key.into(),
            version: version.map(str::to_string),
        },
        (SdkError::ServiceError(e), _) => {
            let code = e.err().code().unwrap_or("Unknown").to_string();
            if matches!(code.as_str(), "NoSuchKey" | "NoSuchVersion" | "NotFound") {
                return S3Error::NotFound {
                    bucket: bucket.into(),
                    key: key.into(),
                    version: version.map(str::to_string),
                };
            }
            S3Error::Refused {
                op,
                bucket: bucket.into(),
                key: key.into(),
                message: e.err().message().unwrap_or_default().to_string(),
                code,
            }
        }
        _ => S3Error::Transport {
            op,
            message: format!("{err}"),
        },
    }
}

/// Like [`classify`], for calls whose refusal is S3's final answer: throttling, 5xx codes
/// ([`RETRYABLE_CODES`]) and transport trouble (timeouts, dispatch failures, unreadable
/// answers) stay retryable ([`S3Error::Refused`], [`S3Error::Transport`]); any other answer
/// is [`S3Error::Rejected`].
pub(crate) fn classify_final<E: ProvideErrorMetadata + std::fmt::Debug>(
    op: &'static str,
    bucket: &str,
    key: &str,
    err: aws_sdk_s3::error::SdkError<E>,
) -> S3Error {
    use aws_sdk_s3::error::SdkError;
    if matches!(
        err,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    ) {
        return S3Error::Transport {
            op,
            message: format!("{err:?}"),
        };
    }
    let code = err.code().unwrap_or("Unknown").to_string();
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{err:?}"));
    let (bucket, key) = (bucket.to_string(), key.to_string());
    if RETRYABLE_CODES.contains(&code.as_str()) {
        S3Error::Refused {
            op,
            bucket,
            key,
            code,
            message,
        }
    } else {
        S3Error::Rejected {
            op,
            bucket,
            key,
            code,
            message,
        }
    }
}

impl S3Objects {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// Head + tags of one version (the latest when `version_id` is `None`), read
    /// concurrently: two round trips for the price of one.
    pub async fn facts(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<S3ObjectFacts, S3Error> {
        let head = async {
            self.client
                .head_object()
                .bucket(bucket)
                .key(key)
                .set_version_id(version_id.map(str::to_string))
                .send()
                .await
                .map_err(|e| classify("HeadObject", bucket, key, version_id, e))
        };
        // HeadObject answers a bare 404 for a missing bucket too; GetObjectTagging names it.
        let (head, tags) = match tokio::join!(head, self.tags(bucket, key, version_id)) {
            (Ok(head), Ok(tags)) => (head, tags),
            (_, Err(e @ S3Error::NoSuchBucket { .. })) | (Err(e), _) | (_, Err(e)) => {
                return Err(e);
            }
        };
        Ok(S3ObjectFacts {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id: head
                .version_id()
                .filter(|v| *v != "null")
                .map(str::to_string)
                .or_else(|| version_id.map(str::to_string)),
            size: head.content_length().unwrap_or(0).max(0) as u64,
            etag: head
                .e_tag()
                .unwrap_or_default()
                .trim_matches('"')
                .to_string(),
            content_type: head.content_type().map(str::to_string),
            last_modified: head
                .last_modified()
                .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
            metadata: head
                .metadata()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            tags,
        })
    }

    /// The key's versions (not its delete markers), newest first as S3 orders them.
    /// (ListObjectVersions has no SDK paginator: it pages by key and version-id markers.)
    pub async fn versions_of(&self, bucket: &str, key: &str) -> Result<Vec<String>, S3Error> {
        let mut out = Vec::new();
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .set_key_marker(key_marker)
                .set_version_id_marker(version_marker)
                .send()
                .await
                .map_err(|e| classify("ListObjectVersions", bucket, key, None, e))?;
            out.extend(
                page.versions()
                    .iter()
                    .filter(|v| v.key() == Some(key))
                    .filter_map(|v| v.version_id().map(str::to_string)),
            );
            // Listed in key order: once the next page starts past the key, none holds it.
            let next = page.next_key_marker().map(str::to_string);
            if page.is_truncated() != Some(true) || next.as_deref().is_some_and(|k| k > key) {
                return Ok(out);
            }
            key_marker = next;
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
    }

    pub async fn tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<BTreeMap<String, String>, S3Error> {
        let out = self
            .client
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| classify("GetObjectTagging", bucket, key, version_id, e))?;
        Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect())
    }

    /// Opens a streaming read of one version; `slot` receives size and SHA-256 once the
    /// stream has been read to its end.
    pub async fn open(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        slot: DigestSlot,
    ) -> Result<HashingReader<impl AsyncRead + Send + Unpin + 'static>, S3Error> {
        let body = self.body(bucket, key, version_id).await?;
        Ok(HashingReader::new(body.into_async_read(), slot))
    }

    async fn body(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<aws_sdk_s3::primitives::ByteStream, S3Error> {
        self.body_range(bucket, key, version_id, None).await
    }

    async fn body_range(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        range: Option<String>,
    ) -> Result<aws_sdk_s3::primitives::ByteStream, S3Error> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .set_range(range)
            .send()
            .await
            .map_err(|e| classify("GetObject", bucket, key, version_id, e))?;
        Ok(out.body)
    }

    /// Opens a streaming read of one version as the body's own chunks (no copy), counted
    /// and hashed as they pass; `slot` receives size and SHA-256 once `expected_len`
    /// bytes went through (or at the end of the body).
    pub async fn open_chunks(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        expected_len: u64,
        slot: DigestSlot,
    ) -> Result<HashingChunks<BodyChunks>, S3Error> {
        let body = self.body(bucket, key, version_id).await?;
        let chunks = futures_util::stream::unfold(body, |mut body| async move {
            body.next()
                .await
                .map(|chunk| (chunk.map_err(std::io::Error::other), body))
        });
        let chunks: BodyChunks = Box::pin(chunks);
        Ok(HashingChunks::new(chunks, slot).with_expected_len(expected_len))
    }

    /// Opens bytes `offset .. offset + len` of one version (a ranged GET) as the body's own
    /// chunks, unhashed: a failed upload part is read again from its exact version instead
    /// of being held in memory. An empty range reads nothing.
    pub async fn open_range(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        offset: u64,
        len: u64,
    ) -> Result<BodyChunks, S3Error> {
        if len == 0 {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let range = format!("bytes={offset}-{}", offset + len - 1);
        let body = self
            .body_range(bucket, key, version_id, Some(range))
            .await?;
        Ok(Box::pin(futures_util::stream::unfold(
            body,
            |mut body| async move {
                body.next()
                    .await
                    .map(|chunk| (chunk.map_err(std::io::Error::other), body))
            },
        )))
    }

    /// Deletes one version for good (`DeleteObject` with its version id: no delete marker).
    /// A version already gone counts as deleted; Object Lock refusals come back as errors.
    pub async fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<(), S3Error> {
        match self
            .client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .version_id(version_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match classify("DeleteObject", bucket, key, Some(version_id), e) {
                S3Error::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Sets `ours` on the version, keeping every other tag the owner set. S3 replaces the
    /// whole tag set on PutObjectTagging, so this reads, merges and writes.
    pub async fn merge_tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        ours: &BTreeMap<String, String>,
    ) -> Result<(), S3Error> {
        let mut tags = self.tags(bucket, key, version_id).await?;
        if ours.iter().all(|(k, v)| tags.get(k) == Some(v)) {
            return Ok(()); // nothing to change: no write, no extra ObjectTagging event
        }
        tags.extend(ours.iter().map(|(k, v)| (k.clone(), v.clone())));
        if tags.len() > MAX_TAGS {
            return Err(S3Error::TooManyTags {
                bucket: bucket.into(),
                key: key.into(),
                count: tags.len(),
            });
        }
        let tag_set = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| S3Error::Transport {
                op: "PutObjectTagging",
                message: e.to_string(),
            })?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set))
            .build()
            .map_err(|e| S3Error::Transport {
                op: "PutObjectTagging",
                message: e.to_string(),
            })?;
        self.client
            .put_object_tagging()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| classify("PutObjectTagging", bucket, key, version_id, e))?;
        Ok(())
    }
}
