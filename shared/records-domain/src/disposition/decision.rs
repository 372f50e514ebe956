//! Whether one record's S3 content may be destroyed now. Destruction is final, so every
//! condition must hold positively; anything unknown refuses.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::idempotency::ObjectVersion;
use crate::retention::{CurrentLock, LockMode, rfc3339};

/// What S3 says about one linked version just before disposition (HeadObject with its
/// version id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPresence {
    /// HeadObject answered 404 / NoSuchVersion: deleted already (an earlier run, or by
    /// hand). A delete marker is not this: the version behind it still exists.
    Gone,
    Present {
        legal_hold: bool,
        /// Object Lock mode and retain-until, if any.
        lock: Option<CurrentLock>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionState {
    pub version: ObjectVersion,
    pub presence: VersionPresence,
}

/// Everything the decision needs about one record, read by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositionInputs {
    /// The OpenText record (node id).
    pub node_id: u64,
    /// OpenText holds in force on the record, direct or inherited (hold ids).
    pub holds_in_force: Vec<u64>,
    /// The disposition date from the record's RSI; `None` when OpenText has none.
    pub disposition_date: Option<OffsetDateTime>,
    /// Every S3 version linked to the record.
    pub versions: Vec<VersionState>,
    pub now: OffsetDateTime,
}

/// Why a record's content is not destroyed now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RefusalReason {
    /// An OpenText hold applies to the record.
    OpentextHold { node_id: u64, hold_id: u64 },
    /// The S3 legal hold is on for this version.
    S3LegalHold { version: ObjectVersion },
    /// The version's Object Lock retention has not ended.
    RetentionNotEnded {
        version: ObjectVersion,
        mode: LockMode,
        #[serde(with = "time::serde::rfc3339")]
        retain_until: OffsetDateTime,
    },
    /// The RSI gives no disposition date: nothing says retention is over.
    NoDispositionDate { node_id: u64 },
    /// The disposition date is still ahead.
    DispositionDateNotReached {
        node_id: u64,
        #[serde(with = "time::serde::rfc3339")]
        disposition_date: OffsetDateTime,
    },
    /// The record links no S3 version: there is nothing to destroy or certify, which most
    /// likely means the links are missing rather than the content.
    NoLinkedVersions { node_id: u64 },
    /// A large batch's S3 Batch Operations task did not delete this version: its own
    /// re-check refused (a hold placed after the plan), it failed, or the job never ran it.
    BatchTaskDidNotDelete {
        version: ObjectVersion,
        job_id: String,
        detail: String,
    },
}

fn s3_uri(v: &ObjectVersion) -> String {
    format!("s3://{}/{}?versionId={}", v.bucket, v.key, v.version_id)
}

impl RefusalReason {
    /// A sentence for people: names the record, hold, version or date concerned.
    pub fn message(&self) -> String {
        match self {
            RefusalReason::OpentextHold { node_id, hold_id } => {
                format!("record {node_id} is under OpenText hold {hold_id}")
            }
            RefusalReason::S3LegalHold { version } => {
                format!("S3 legal hold is on for {}", s3_uri(version))
            }
            RefusalReason::RetentionNotEnded {
                version,
                mode,
                retain_until,
            } => format!(
                "{} is locked in {} mode until {}",
                s3_uri(version),
                mode.as_str(),
                rfc3339(*retain_until)
            ),
            RefusalReason::NoDispositionDate { node_id } => {
                format!("record {node_id} has no disposition date in its RSI")
            }
            RefusalReason::DispositionDateNotReached {
                node_id,
                disposition_date,
            } => format!(
                "record {node_id} reaches its disposition date only on {}",
                rfc3339(*disposition_date)
            ),
            RefusalReason::NoLinkedVersions { node_id } => {
                format!("record {node_id} links no S3 version; nothing to destroy or certify")
            }
            RefusalReason::BatchTaskDidNotDelete {
                version,
                job_id,
                detail,
            } => format!(
                "Batch Operations job {job_id} did not delete {}: {detail}",
                s3_uri(version)
            ),
        }
    }
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispositionDecision {
    /// Delete `delete` (each with its version id); `already_gone` were deleted before (a
    /// rerun finishes the rest and never deletes twice). Both lists belong in the
    /// certificate.
    Destroy {
        delete: Vec<ObjectVersion>,
        already_gone: Vec<ObjectVersion>,
    },
    /// Nothing is deleted; every reason found, in input order.
    Refuse(Vec<RefusalReason>),
}

impl DispositionDecision {
    pub fn is_destroy(&self) -> bool {
        matches!(self, DispositionDecision::Destroy { .. })
    }
}

/// Destroys only when no OpenText hold applies, no present version is under an S3 legal
/// hold or unexpired Object Lock retention, and the disposition date has been reached.
/// Versions already gone impose nothing (their holds and locks went with them).
pub fn decide(inputs: &DispositionInputs) -> DispositionDecision {
    let node_id = inputs.node_id;
    let mut reasons: Vec<RefusalReason> = inputs
        .holds_in_force
        .iter()
        .map(|&hold_id| RefusalReason::OpentextHold { node_id, hold_id })
        .collect();
    match inputs.disposition_date {
        None => reasons.push(RefusalReason::NoDispositionDate { node_id }),
        Some(date) if date > inputs.now => reasons.push(RefusalReason::DispositionDateNotReached {
            node_id,
            disposition_date: date,
        }),
        Some(_) => {}
    }
    if inputs.versions.is_empty() {
        reasons.push(RefusalReason::NoLinkedVersions { node_id });
    }
    let mut delete = Vec::new();
    let mut already_gone = Vec::new();
    for state in &inputs.versions {
        let VersionPresence::Present { legal_hold, lock } = state.presence else {
            already_gone.push(state.version.clone());
            continue;
        };
        if legal_hold {
            reasons.push(RefusalReason::S3LegalHold {
                version: state.version.clone(),
            });
        }
        // S3 lets a version go once its retain-until is past, in either mode.
        if let Some(lock) = lock
            && lock.until > inputs.now
        {
            reasons.push(RefusalReason::RetentionNotEnded {
                version: state.version.clone(),
                mode: lock.mode,
                retain_until: lock.until,
            });
        }
        delete.push(state.version.clone());
    }
    if reasons.is_empty() {
        DispositionDecision::Destroy {
            delete,
            already_gone,
        }
    } else {
        DispositionDecision::Refuse(reasons)
    }
}
