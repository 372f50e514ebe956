//! P4 disposition certificates in the WORM audit bucket: each written once, under a key
//! derived from its certificate id, read back by id.
//!
//! Written once with a conditional PutObject (`If-None-Match: *`): S3 (since 2024) and
//! moto 5.1.22 both answer 412 PreconditionFailed when the key exists, atomically, where a
//! HEAD first would leave a race between two writers. Under Object Lock a second plain PUT
//! would not overwrite but would add a newer version that readers take for the certificate.
//!
//! An existing certificate with the same canonical content (same SHA-256) counts as
//! written, even if its signature differs (ECDSA signatures are randomised, so a retried
//! sign gives other bytes); different content under the same id is an error.
//! The bucket's default Object Lock retention (COMPLIANCE) applies; it is set by the
//! template, not here.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ServerSideEncryption};
use records_domain::disposition::{CanonicalCertificate, SignedCertificate};

use crate::s3_objects::{S3Error, classify};

/// Where certificates live in the audit bucket unless told otherwise.
pub const DEFAULT_PREFIX: &str = "disposition-certificates/";

/// Longest certificate id accepted (keys stay readable and well under S3's 1024 bytes).
pub const MAX_CERTIFICATE_ID_LEN: usize = 128;

/// Server-side encryption of stored certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (AES256).
    S3Managed,
    /// SSE-KMS with the given key, or the account's `aws/s3` key.
    Kms { key_id: Option<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error(
        "certificate id {0:?} is not usable in a key: 1-{MAX_CERTIFICATE_ID_LEN} characters of A-Z a-z 0-9 . _ -, not starting with '.'"
    )]
    InvalidId(String),
    #[error("the envelope has no certificate id")]
    NoId,
    #[error(
        "s3://{bucket}/{key} already holds another certificate (sha256 {stored}); this one is {new}"
    )]
    Conflict {
        bucket: String,
        key: String,
        stored: String,
        new: String,
    },
    #[error("s3://{bucket}/{key} is not a readable certificate: {reason}")]
    Unreadable {
        bucket: String,
        key: String,
        reason: String,
    },
}

impl StoreError {
    /// Throttling, transport trouble, or two writers racing for the key (S3 answers 409
    /// ConditionalRequestConflict to the loser): another try may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::S3(S3Error::Refused { code, .. })
                if code == "ConditionalRequestConflict" =>
            {
                true
            }
            StoreError::S3(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Written now.
    Written { version_id: Option<String> },
    /// The same certificate was there already (a retried write).
    AlreadyWritten,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    pub bucket: String,
    pub key: String,
    pub outcome: StoreOutcome,
}

/// The object key of a certificate: `{prefix}{certificate_id}.json`.
pub fn certificate_key(prefix: &str, certificate_id: &str) -> Result<String, StoreError> {
    let usable = !certificate_id.is_empty()
        && certificate_id.len() <= MAX_CERTIFICATE_ID_LEN
        && !certificate_id.starts_with('.')
        && certificate_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !usable {
        return Err(StoreError::InvalidId(certificate_id.to_string()));
    }
    Ok(format!("{prefix}{certificate_id}.json"))
}

/// The canonical SHA-256 of a stored envelope's certificate (recomputed, not trusted).
fn content_hash(envelope: &SignedCertificate) -> Result<String, String> {
    CanonicalCertificate::of_value(&envelope.certificate)
        .map(|c| c.sha256_hex())
        .map_err(|e| e.to_string())
}

#[derive(Clone)]
pub struct CertificateStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    encryption: Encryption,
}

impl CertificateStore {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        encryption: Encryption,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            prefix: DEFAULT_PREFIX.to_string(),
            encryption,
        }
    }

    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn key_of(&self, certificate_id: &str) -> Result<String, StoreError> {
        certificate_key(&self.prefix, certificate_id)
    }

    /// Writes the certificate once. Retrying after any failure is safe.
    pub async fn put(&self, envelope: &SignedCertificate) -> Result<StoredCertificate, StoreError> {
        let id = envelope.certificate_id().ok_or(StoreError::NoId)?;
        let key = self.key_of(id)?;
        let new_hash = content_hash(envelope).map_err(|reason| StoreError::Unreadable {
            bucket: self.bucket.clone(),
            key: key.clone(),
            reason,
        })?;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .if_none_match("*")
            .content_type("application/json")
            // Object Lock buckets need a checksum on every PUT; SHA-256 is also what
            // auditors compare.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(envelope.to_json()));
        put = match &self.encryption {
            Encryption::S3Managed => put.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms { key_id } => put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(key_id.clone()),
        };
        match put.send().await {
            Ok(out) => Ok(StoredCertificate {
                bucket: self.bucket.clone(),
                key,
                outcome: StoreOutcome::Written {
                    version_id: out.version_id().map(str::to_string),
                },
            }),
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(412) => {
                let existing = self.read(&key).await?;
                let stored = content_hash(&existing).map_err(|reason| StoreError::Unreadable {
                    bucket: self.bucket.clone(),
                    key: key.clone(),
                    reason,
                })?;
                if stored != new_hash {
                    return Err(StoreError::Conflict {
                        bucket: self.bucket.clone(),
                        key,
                        stored,
                        new: new_hash,
                    });
                }
                Ok(StoredCertificate {
                    bucket: self.bucket.clone(),
                    key,
                    outcome: StoreOutcome::AlreadyWritten,
                })
            }
            Err(e) => Err(classify("PutObject", &self.bucket, &key, None, e).into()),
        }
    }

    /// Reads a certificate back by its id (not verified: see
    /// [`records_domain::disposition::verify`]).
    pub async fn get(&self, certificate_id: &str) -> Result<SignedCertificate, StoreError> {
        let key = self.key_of(certificate_id)?;
        self.read(&key).await
    }

    async fn read(&self, key: &str) -> Result<SignedCertificate, StoreError> {
        let bytes = read_object(&self.client, &self.bucket, key).await?;
        SignedCertificate::from_json(&bytes).map_err(|e| StoreError::Unreadable {
            bucket: self.bucket.clone(),
            key: key.to_string(),
            reason: e.to_string(),
        })
    }
}

/// The bytes of a (small) object: a certificate file anywhere in S3.
pub async fn read_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, S3Error> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| classify("GetObject", bucket, key, None, e))?;
    let body = out.body.collect().await.map_err(|e| S3Error::Transport {
        op: "GetObject",
        message: e.to_string(),
    })?;
    Ok(body.into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_safe_certificate_ids_only() {
        assert_eq!(
            certificate_key(DEFAULT_PREFIX, "disp-2031-06-01_0001").unwrap(),
            "disposition-certificates/disp-2031-06-01_0001.json"
        );
        for bad in ["", "../x", ".hidden", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(
                matches!(
                    certificate_key(DEFAULT_PREFIX, bad),
                    Err(StoreError::InvalidId(_))
                ),
                "{bad:?}"
            );
        }
    }
}
