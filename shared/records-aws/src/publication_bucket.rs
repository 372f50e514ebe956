//! P7's publication bucket (private, versioned, SSE-S3 by bucket default): the objects a
//! CloudFront distribution serves. One streamed `PutObject` per publication carrying its
//! SHA-256 (S3 refuses a body that differs), `HeadObject` with `ChecksumMode` to verify it,
//! and withdrawal of every version and delete marker of a key, each by version id, so no
//! version of a withdrawn publication stays readable.
//!
//! As for [`crate::archive_copies`], a refusal of a put or head is S3's final answer
//! ([`S3Error::Rejected`]); throttling, 5xx codes and transport trouble stay retryable.

use std::collections::BTreeMap;

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use bytes::Bytes;
use futures_util::Stream;

use crate::archive_copies::{BoxError, sha256_b64, streamed};
use crate::s3_objects::{S3Error, S3Objects, classify, classify_final};

/// What HeadObject says about a published object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedObject {
    pub key: String,
    pub version_id: Option<String>,
    pub size: u64,
    /// Base64 SHA-256 as S3 stores it (`None` when the object was written without one).
    pub sha256_b64: Option<String>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    /// User metadata, names lower-case without `x-amz-meta-`.
    pub metadata: BTreeMap<String, String>,
}

/// One object to publish.
#[derive(Debug, Clone)]
pub struct NewPublication<'a> {
    pub key: &'a str,
    /// The body's length, sent as `Content-Length`.
    pub size: u64,
    /// Hex SHA-256 of the bytes, sent as `x-amz-checksum-sha256`: S3 stores the body only if
    /// it has this digest.
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub cache_control: Option<&'a str>,
    pub content_disposition: Option<&'a str>,
    /// User metadata (`x-amz-meta-*`).
    pub metadata: &'a [(&'a str, String)],
}

#[derive(Clone)]
pub struct PublicationBucket {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl PublicationBucket {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// HeadObject (ChecksumMode enabled) of the latest (or the given) version; `None` when
    /// there is none (404 / NoSuchKey / NoSuchVersion / a delete marker).
    pub async fn head(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<PublishedObject>, S3Error> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        match out {
            Ok(h) => Ok(Some(PublishedObject {
                key: key.to_string(),
                version_id: h.version_id().map(str::to_string),
                size: h.content_length().unwrap_or(0).max(0) as u64,
                sha256_b64: h.checksum_sha256().map(str::to_string),
                content_type: h.content_type().map(str::to_string),
                cache_control: h.cache_control().map(str::to_string),
                metadata: h
                    .metadata()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(classify_final("HeadObject", &self.bucket, key, e)),
        }
    }

    /// One streamed `PutObject` of exactly `p.size` bytes from `body`, with content length,
    /// `x-amz-checksum-sha256`, content type, cache control, content disposition and
    /// metadata; the S3 version id. Encryption is the bucket's default (SSE-S3), not set here.
    pub async fn put<S, E>(
        &self,
        p: &NewPublication<'_>,
        body: S,
    ) -> Result<Option<String>, S3Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(p.key)
            .body(streamed(body))
            .content_length(p.size as i64)
            // The algorithm names the header; the value is ours, so the SDK does not hash the
            // stream again and S3 checks the body against the caller's digest.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(sha256_b64(p.sha256))
            .content_type(p.content_type)
            .set_cache_control(p.cache_control.map(str::to_string))
            .set_content_disposition(p.content_disposition.map(str::to_string));
        for (name, value) in p.metadata {
            req = req.metadata(*name, value);
        }
        let out = req
            .send()
            .await
            .map_err(|e| classify_final("PutObject", &self.bucket, p.key, e))?;
        Ok(out.version_id().map(str::to_string))
    }

    /// Deletes every version and every delete marker of exactly `key`, each by version id;
    /// the version ids removed, in the order deleted. Versions go oldest first, so the one a
    /// reader gets never changes to an older one while this runs (an interrupted withdrawal
    /// leaves the current version or nothing readable), then the delete markers. A version
    /// already gone counts as removed; a second call finds nothing and returns `[]`.
    pub async fn remove_all(&self, key: &str) -> Result<Vec<String>, S3Error> {
        let (mut versions, markers) = self.entries_of(key).await?;
        versions.reverse(); // listed newest first
        let objects = S3Objects::new(self.client.clone());
        let mut removed = Vec::with_capacity(versions.len() + markers.len());
        for version_id in versions.into_iter().chain(markers) {
            objects
                .delete_version(&self.bucket, key, &version_id)
                .await?;
            removed.push(version_id);
        }
        Ok(removed)
    }

    /// Deletes one version (or delete marker) by id; one already gone is `Ok`.
    pub async fn remove_version(&self, key: &str, version_id: &str) -> Result<(), S3Error> {
        S3Objects::new(self.client.clone())
            .delete_version(&self.bucket, key, version_id)
            .await
    }

    /// The version ids of exactly `key` (not of keys it is a prefix of): its versions and its
    /// delete markers, each newest first as S3 lists them. ListObjectVersions has no SDK
    /// paginator: it pages by key and version-id markers (as [`S3Objects::versions_of`]).
    async fn entries_of(&self, key: &str) -> Result<(Vec<String>, Vec<String>), S3Error> {
        let (mut versions, mut markers) = (Vec::new(), Vec::new());
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(key)
                .set_key_marker(key_marker)
                .set_version_id_marker(version_marker)
                .send()
                .await
                .map_err(|e| classify("ListObjectVersions", &self.bucket, key, None, e))?;
            versions.extend(
                page.versions()
                    .iter()
                    .filter(|v| v.key() == Some(key))
                    .filter_map(|v| v.version_id().map(str::to_string)),
            );
            markers.extend(
                page.delete_markers()
                    .iter()
                    .filter(|m| m.key() == Some(key))
                    .filter_map(|m| m.version_id().map(str::to_string)),
            );
            // Listed in key order: once the next page starts past the key, none holds it.
            let next = page.next_key_marker().map(str::to_string);
            if page.is_truncated() != Some(true) || next.as_deref().is_some_and(|k| k > key) {
                return Ok((versions, markers));
            }
            key_marker = next;
            version_marker = page.next_version_id_marker().map(str::to_string);
        }
    }
}

/// HeadObject's ways of saying there is no such object: 404 (no key, no version, or the
/// latest is a delete marker), a NoSuchKey / NoSuchVersion code, or 405 on a version id that
/// names a delete marker (`x-amz-delete-marker: true`).
fn is_absent(err: &SdkError<HeadObjectError, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let SdkError::ServiceError(e) = err else {
        return false;
    };
    let raw = e.raw();
    let delete_marker = raw.headers().get("x-amz-delete-marker") == Some("true");
    e.err().is_not_found()
        || raw.status().as_u16() == 404
        || matches!(e.err().code(), Some("NoSuchKey" | "NoSuchVersion"))
        || (raw.status().as_u16() == 405 && delete_marker)
}
