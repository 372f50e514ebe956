//! P3 reconciliation: compares what OpenText says about a record with what S3 holds for
//! each linked object version, names every disagreement, and says which are safe to repair.
//! Pure: the reconciler gathers both sides and applies the repairs.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::retention::{LockMode, RetentionTarget, legal_hold_wanted, rfc3339};

/// The OpenText side of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSide {
    /// The node is gone (deleted or never existed).
    Missing,
    Found {
        /// A hold in force on the node, direct or inherited.
        holds_in_force: bool,
        /// What the RSI and record date ask of S3; `None` when the record has no RSI
        /// (nothing to compare).
        retention: Option<RetentionTarget>,
    },
}

/// The S3 side of one linked version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectSide {
    /// The version is gone (deleted, or the bucket no longer has it).
    Missing,
    Found {
        legal_hold: bool,
        lock: Option<(LockMode, OffsetDateTime)>,
        /// `records-bridge:retention` tag, if any.
        retention_tag: Option<String>,
        /// SHA-256 of the bytes (lower-case hex), from S3's checksum or a re-hash.
        sha256: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    MissingRecord,
    MissingObject,
    HoldMismatch,
    RetentionMismatch,
    ChecksumMismatch,
}

/// A repair that cannot lose a protection: only ever adds one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Repair {
    LegalHoldOn,
    ExtendRetention {
        mode: LockMode,
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub kind: DriftKind,
    /// What OpenText (or the link) says.
    pub expected: String,
    /// What S3 (or OpenText, for a missing record) has.
    pub actual: String,
    /// Safe to repair automatically; `None` means reported for a person to decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<Repair>,
}

fn drift(kind: DriftKind, expected: impl Into<String>, actual: impl Into<String>) -> Drift {
    Drift {
        kind,
        expected: expected.into(),
        actual: actual.into(),
        repair: None,
    }
}

/// Every disagreement for one link (`link_sha256` recorded at declaration).
/// `mode` is the lock mode new retention is set in.
pub fn classify(
    link_sha256: &str,
    record: &RecordSide,
    object: &ObjectSide,
    mode: LockMode,
) -> Vec<Drift> {
    let mut out = Vec::new();
    let (holds_in_force, retention) = match record {
        RecordSide::Missing => {
            out.push(drift(DriftKind::MissingRecord, "a record", "no node"));
            (None, None)
        }
        RecordSide::Found {
            holds_in_force,
            retention,
        } => (Some(*holds_in_force), retention.as_ref()),
    };
    let ObjectSide::Found {
        legal_hold,
        lock,
        retention_tag,
        sha256,
    } = object
    else {
        out.push(drift(
            DriftKind::MissingObject,
            "the object version",
            "no version",
        ));
        return out;
    };

    if let Some(actual) = sha256
        && !actual.eq_ignore_ascii_case(link_sha256)
    {
        out.push(drift(
            DriftKind::ChecksumMismatch,
            link_sha256,
            actual.clone(),
        ));
    }

    if let Some(in_force) = holds_in_force {
        let tag = retention
            .and_then(RetentionTarget::hold_tag)
            .or(retention_tag.as_deref());
        let wanted = legal_hold_wanted(in_force, tag);
        if wanted != *legal_hold {
            let on_off = |b: bool| if b { "legal hold ON" } else { "legal hold OFF" };
            let mut d = drift(DriftKind::HoldMismatch, on_off(wanted), on_off(*legal_hold));
            // Turning a hold on never loses protection; turning one off is for a person.
            if wanted {
                d.repair = Some(Repair::LegalHoldOn);
            }
            out.push(d);
        }
    }

    if let Some(RetentionTarget::Until { at }) = retention {
        out.extend(retention_drift(*at, *lock, mode));
    }
    out
}

/// The object's retain-until against the record's; extending (or setting) is a safe repair,
/// shortening is refused and reported.
fn retention_drift(
    at: OffsetDateTime,
    lock: Option<(LockMode, OffsetDateTime)>,
    mode: LockMode,
) -> Option<Drift> {
    let current = lock.map(|(_, until)| until.unix_timestamp());
    if current == Some(at.unix_timestamp()) {
        return None;
    }
    let actual = lock
        .map(|(m, u)| format!("{} until {}", m.as_str(), rfc3339(u)))
        .unwrap_or_else(|| "no retention".into());
    let mut d = drift(
        DriftKind::RetentionMismatch,
        format!("until {}", rfc3339(at)),
        actual,
    );
    if current.is_none_or(|c| c < at.unix_timestamp()) {
        let mode = match lock {
            Some((LockMode::Compliance, _)) => LockMode::Compliance,
            _ => mode,
        };
        d.repair = Some(Repair::ExtendRetention { mode, until: at });
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const SHA: &str = "ab";

    fn found(legal_hold: bool, lock: Option<(LockMode, OffsetDateTime)>) -> ObjectSide {
        ObjectSide::Found {
            legal_hold,
            lock,
            retention_tag: None,
            sha256: Some(SHA.into()),
        }
    }

    fn record(holds: bool, until: Option<OffsetDateTime>) -> RecordSide {
        RecordSide::Found {
            holds_in_force: holds,
            retention: until.map(|at| RetentionTarget::Until { at }),
        }
    }

    fn kinds(d: &[Drift]) -> Vec<DriftKind> {
        d.iter().map(|d| d.kind).collect()
    }

    #[test]
    fn agreement_is_no_drift() {
        let at = datetime!(2033-01-01 0:00 UTC);
        let d = classify(
            SHA,
            &record(true, Some(at)),
            &found(true, Some((LockMode::Compliance, at))),
            LockMode::Compliance,
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn each_kind_is_found_and_only_safe_repairs_are_offered() {
        let at = datetime!(2033-01-01 0:00 UTC);
        assert_eq!(
            kinds(&classify(
                SHA,
                &RecordSide::Missing,
                &found(false, None),
                LockMode::Compliance
            )),
            [DriftKind::MissingRecord]
        );
        assert_eq!(
            kinds(&classify(
                SHA,
                &record(false, None),
                &ObjectSide::Missing,
                LockMode::Compliance
            )),
            [DriftKind::MissingObject]
        );
        let hold = classify(
            SHA,
            &record(true, None),
            &found(false, None),
            LockMode::Compliance,
        );
        assert_eq!(hold[0].kind, DriftKind::HoldMismatch);
        assert_eq!(hold[0].repair, Some(Repair::LegalHoldOn));
        let stray = classify(
            SHA,
            &record(false, None),
            &found(true, None),
            LockMode::Compliance,
        );
        assert_eq!(stray[0].kind, DriftKind::HoldMismatch);
        assert_eq!(
            stray[0].repair, None,
            "a hold is never removed automatically"
        );
        let short = classify(
            SHA,
            &record(false, Some(at)),
            &found(false, None),
            LockMode::Compliance,
        );
        assert_eq!(
            short[0].repair,
            Some(Repair::ExtendRetention {
                mode: LockMode::Compliance,
                until: at
            })
        );
        let long = classify(
            SHA,
            &record(false, Some(at)),
            &found(
                false,
                Some((LockMode::Compliance, datetime!(2040-01-01 0:00 UTC))),
            ),
            LockMode::Compliance,
        );
        assert_eq!(long[0].kind, DriftKind::RetentionMismatch);
        assert_eq!(long[0].repair, None, "never shortened");
        let bad = ObjectSide::Found {
            legal_hold: false,
            lock: None,
            retention_tag: None,
            sha256: Some("cd".into()),
        };
        let sum = classify(SHA, &record(false, None), &bad, LockMode::Compliance);
        assert_eq!(kinds(&sum), [DriftKind::ChecksumMismatch]);
        assert_eq!(sum[0].repair, None);
    }

    #[test]
    fn awaiting_event_keeps_the_hold_wanted() {
        let r = RecordSide::Found {
            holds_in_force: false,
            retention: Some(RetentionTarget::AwaitingEvent),
        };
        let d = classify(SHA, &r, &found(false, None), LockMode::Compliance);
        assert_eq!(d[0].repair, Some(Repair::LegalHoldOn));
        assert!(classify(SHA, &r, &found(true, None), LockMode::Compliance).is_empty());
    }
}
