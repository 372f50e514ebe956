//! P2's archive copies in the Object Lock bucket: one `PutObject` per OpenText version,
//! carrying the version's SHA-256 (S3 refuses a body that differs), its storage class,
//! metadata and lock; `HeadObject` with `ChecksumMode` to adopt or verify a copy. The copies'
//! legal holds are [`ObjectLock`](crate::object_lock::ObjectLock)'s.
//!
//! A refusal of these calls is S3's final answer ([`S3Error::Rejected`]: a bad digest, an
//! invalid Object Lock date, access denied); throttling, 5xx codes and transport trouble stay
//! retryable ([`S3Error::Refused`] with a retryable code, [`S3Error::Transport`]).

use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ObjectLockLegalHoldStatus, ObjectLockMode, StorageClass,
};
use base64::Engine;
use bytes::Bytes;
use futures_util::Stream;
use records_domain::retention::LockMode;

use crate::s3_objects::{S3Error, classify_final};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What HeadObject says about an archive object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCopy {
    pub version_id: Option<String>,
    pub size: u64,
    /// Base64 SHA-256 as S3 stores it (`None` when the object was written without one).
    pub sha256_b64: Option<String>,
    /// Object Lock retain-until, epoch seconds.
    pub retain_until: Option<i64>,
    pub lock_mode: Option<LockMode>,
    pub legal_hold: bool,
}

/// How a new copy is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyLock<'a> {
    /// Not locked (the record's retention has already run out).
    None,
    /// Object Lock retention in `mode` until then.
    Retain {
        mode: LockMode,
        until_epoch_secs: i64,
    },
    /// No date can say the retention yet: the copy carries the `records-bridge:retention` tag
    /// with this value (`awaiting-event`, `permanent`), and a legal hold keeps it.
    RetentionTag(&'a str),
}

/// One archive copy to write.
#[derive(Debug, Clone)]
pub struct NewCopy<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The body's length, sent as `Content-Length`.
    pub size: u64,
    /// Hex SHA-256 of the bytes, sent as `x-amz-checksum-sha256`: S3 stores the body only if
    /// it has this digest.
    pub sha256: &'a str,
    pub storage_class: &'a str,
    /// User metadata (`x-amz-meta-*`).
    pub metadata: &'a [(&'a str, String)],
    pub lock: CopyLock<'a>,
    /// Under an S3 legal hold from the first byte.
    pub legal_hold: bool,
}

/// The base64 form S3 keeps of a hex SHA-256.
pub fn sha256_b64(hex_sha256: &str) -> String {
    let raw = hex::decode(hex_sha256).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[derive(Clone)]
pub struct ArchiveCopies {
    client: aws_sdk_s3::Client,
}

impl ArchiveCopies {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }

    /// The object at `key` (that version, or the latest), with its checksum and lock; `None`
    /// when there is none.
    pub async fn head(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<StoredCopy>, S3Error> {
        let out = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        match out {
            Ok(h) => Ok(Some(StoredCopy {
                version_id: h.version_id().map(str::to_string),
                size: h.content_length().unwrap_or(-1).max(0) as u64,
                sha256_b64: h.checksum_sha256().map(str::to_string),
                retain_until: h.object_lock_retain_until_date().map(DateTime::secs),
                lock_mode: h
                    .object_lock_mode()
                    .and_then(|m| LockMode::parse(m.as_str())),
                legal_hold: h.object_lock_legal_hold_status()
                    == Some(&ObjectLockLegalHoldStatus::On),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(classify_final("HeadObject", bucket, key, e)),
        }
    }

    /// Writes one copy from `body` (exactly `copy.size` bytes) in one `PutObject`; its S3
    /// version id.
    pub async fn put<S, E>(&self, copy: &NewCopy<'_>, body: S) -> Result<Option<String>, S3Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let mut req = self
            .client
            .put_object()
            .bucket(copy.bucket)
            .key(copy.key)
            .body(streamed(body))
            .content_length(copy.size as i64)
            // The algorithm names the header S3 (and moto's Object Lock check) expects; the
            // value is ours, so the SDK does not hash the stream again.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(sha256_b64(copy.sha256))
            .storage_class(StorageClass::from(copy.storage_class));
        for (name, value) in copy.metadata {
            req = req.metadata(*name, value);
        }
        match copy.lock {
            CopyLock::None => {}
            CopyLock::Retain {
                mode,
                until_epoch_secs,
            } => {
                req = req
                    .object_lock_mode(ObjectLockMode::from(mode.as_str()))
                    .object_lock_retain_until_date(DateTime::from_secs(until_epoch_secs));
            }
            CopyLock::RetentionTag(value) => {
                req = req.tagging(format!("{}={value}", records_domain::tags::RETENTION));
            }
        }
        if copy.legal_hold {
            req = req.object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On);
        }
        let out = req
            .send()
            .await
            .map_err(|e| classify_final("PutObject", copy.bucket, copy.key, e))?;
        Ok(out.version_id().map(str::to_string))
    }
}

/// `body` as the SDK's request body, streamed chunk by chunk (this module's and
/// [`crate::publication_bucket`]'s PutObject).
pub(crate) fn streamed<S, E>(body: S) -> ByteStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    ByteStream::from_body_1_x(StreamBody(Mutex::new(Box::pin(body))))
}

/// A stream of chunks as the HTTP body the SDK sends. The SDK wants a `Sync` body; the mutex
/// makes any `Send` stream one, and is never contended (only the body's owner polls it).
struct StreamBody<S>(Mutex<Pin<Box<S>>>);

impl<S, E> http_body::Body for StreamBody<S>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        let stream = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        stream
            .as_mut()
            .poll_next(cx)
            .map(|chunk| chunk.map(|r| r.map(http_body::Frame::data).map_err(Into::into)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_sent_as_s3_keeps_it() {
        // SHA-256 of "abc".
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(
            sha256_b64(hex),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[tokio::test]
    async fn the_body_is_the_stream_chunk_by_chunk() {
        use http_body::Body;
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(Bytes::from_static(b"ab")), Ok(Bytes::from_static(b"c"))];
        let mut body = StreamBody(Mutex::new(Box::pin(futures_util::stream::iter(chunks))));
        let mut got = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            got.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(got, [Bytes::from_static(b"ab"), Bytes::from_static(b"c")]);
    }
}
