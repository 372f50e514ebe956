//! The disposition certificate of one batch, and its canonical bytes (RFC 8785) and SHA-256,
//! which are what gets signed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::decision::RefusalReason;

/// JSON schema version of [`DispositionCertificate`]; bump on incompatible changes.
pub const CERTIFICATE_SCHEMA: u32 = 1;

/// Where the disposition approval came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalSource {
    /// Found by the poller in a disposition snapshot.
    Snapshot,
    /// Posted by a Content Server event callback.
    Callback,
}

/// The OpenText approval the disposition acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub source: ApprovalSource,
    /// The RM disposition search (its node id) whose review approved the records.
    pub disposition_search_id: u64,
    /// The search's run date (`qdate`), as OpenText gives it.
    pub qdate: String,
    /// Who approved (OpenText user).
    pub reviewer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

/// What happened to one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VersionDisposal {
    /// Deleted (DeleteObject with its version id) by this disposition.
    Deleted {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Found already gone when the disposition ran (an earlier, interrupted run).
    FoundGone {
        #[serde(with = "time::serde::rfc3339")]
        checked_at: OffsetDateTime,
    },
    /// Dry run: would be deleted.
    WouldDelete,
}

/// One S3 version of a record, with the hash that identified its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateVersion {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    /// Lower-case hex SHA-256 of the content, from the record's provenance; `None` only
    /// when it was never recorded.
    pub sha256: Option<String>,
    pub size: u64,
    pub disposal: VersionDisposal,
}

/// A record whose S3 content was (or, in a dry run, would be) destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedRecord {
    pub node_id: u64,
    pub name: String,
    /// RM classification (name or path) as OpenText shows it.
    pub classification: Option<String>,
    /// The record's RSI.
    pub rsi: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disposition_date: Option<OffsetDateTime>,
    pub versions: Vec<CertificateVersion>,
}

/// A refusal with its sentence, so the certificate reads without this code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalNote {
    #[serde(flatten)]
    pub reason: RefusalReason,
    pub message: String,
}

impl From<RefusalReason> for RefusalNote {
    fn from(reason: RefusalReason) -> Self {
        RefusalNote {
            message: reason.message(),
            reason,
        }
    }
}

/// A record of the batch that was not destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRecord {
    pub node_id: u64,
    pub name: String,
    pub reasons: Vec<RefusalNote>,
}

/// One disposition batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispositionCertificate {
    pub schema_version: u32,
    pub certificate_id: String,
    /// A draft (dry run): nothing was deleted. Part of the signed document, so a draft can
    /// never pass for a certificate of destruction.
    pub dry_run: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    pub approval: Approval,
    /// The policy rule the disposition ran under.
    pub policy_rule: String,
    pub records: Vec<CertifiedRecord>,
    pub refused: Vec<RefusedRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("the certificate cannot be serialised: {0}")]
    Serialise(String),
    /// RFC 8785 writes numbers as IEEE doubles: a larger integer would change silently.
    #[error("the number {0} at {1} exceeds 2^53 and cannot be canonicalised exactly")]
    UnsafeNumber(String, String),
    #[error("the certificate is not a JSON object")]
    NotAnObject,
}

/// A certificate's canonical bytes (RFC 8785) and their SHA-256: what KMS signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalCertificate {
    bytes: Vec<u8>,
    sha256: [u8; 32],
}

/// JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

fn check_numbers(value: &serde_json::Value, path: &mut String) -> Result<(), CanonicalError> {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            let safe = n.as_u64().map(|u| u <= MAX_SAFE_INTEGER).unwrap_or(false)
                || n.as_i64()
                    .map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER)
                    .unwrap_or(false)
                || n.is_f64();
            if !safe {
                return Err(CanonicalError::UnsafeNumber(n.to_string(), path.clone()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_numbers(item, path)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                check_numbers(item, path)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

impl CanonicalCertificate {
    /// Canonicalises a typed certificate.
    pub fn of(certificate: &DispositionCertificate) -> Result<Self, CanonicalError> {
        let value = serde_json::to_value(certificate)
            .map_err(|e| CanonicalError::Serialise(e.to_string()))?;
        Self::of_value(&value)
    }

    /// Canonicalises the certificate as it appears in an envelope. Verification works on the
    /// JSON value, not the typed struct, so fields a newer writer added are still covered.
    pub fn of_value(value: &serde_json::Value) -> Result<Self, CanonicalError> {
        if !value.is_object() {
            return Err(CanonicalError::NotAnObject);
        }
        check_numbers(value, &mut String::from("$"))?;
        let bytes =
            serde_jcs::to_vec(value).map_err(|e| CanonicalError::Serialise(e.to_string()))?;
        let sha256 = Sha256::digest(&bytes).into();
        Ok(CanonicalCertificate { bytes, sha256 })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SHA-256 of [`Self::bytes`]: the digest KMS signs (`MessageType::Digest`).
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

impl DispositionCertificate {
    /// Whether each version's disposal agrees with `dry_run` (a draft deletes nothing; a
    /// certificate of destruction has nothing merely "would delete"). Empty when consistent.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut found = Vec::new();
        for record in &self.records {
            for v in &record.versions {
                let wrong = match v.disposal {
                    VersionDisposal::WouldDelete => !self.dry_run,
                    VersionDisposal::Deleted { .. } | VersionDisposal::FoundGone { .. } => {
                        self.dry_run
                    }
                };
                if wrong {
                    found.push(format!(
                        "record {}: s3://{}/{}?versionId={} is {:?} in a {} certificate",
                        record.node_id,
                        v.bucket,
                        v.key,
                        v.version_id,
                        v.disposal,
                        if self.dry_run { "dry-run" } else { "final" }
                    ));
                }
            }
        }
        found
    }
}
