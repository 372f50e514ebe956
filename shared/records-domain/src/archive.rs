//! P2 archive tier, the pure part: how long a copy is locked (from the record's RSI), where
//! each version goes in the archive bucket, and the workflow state saved after every step so a
//! rerun finishes a crashed attempt without a second copy or an unverified release.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::idempotency::IdempotencyKey;

/// Permanent records are locked this many years from the record date: S3 has no "forever",
/// and a COMPLIANCE date this far out is never reached in practice. It can be extended later
/// (Object Lock retention may be lengthened, never shortened).
pub const PERMANENT_RETAIN_YEARS: i32 = 100;

/// RSI stage event types (Content Server `EventType`).
pub const EVENT_CALCULATED: i64 = 1;
pub const EVENT_CALENDAR: i64 = 2;
pub const EVENT_BASED: i64 = 3;
pub const EVENT_FIXED: i64 = 4;
pub const EVENT_PERMANENT: i64 = 5;

/// One retention stage of the record's RSI, as far as retention needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagePeriod {
    pub stage: String,
    pub event_type: Option<i64>,
    pub years: i64,
    pub months: i64,
    pub days: i64,
    /// The event an event-based stage waits for (e.g. `CONTRACT END`).
    pub event_rule: Option<String>,
}

/// How an archive copy is locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lock {
    /// Object Lock retention until this date (00:00 UTC of the day after the period ends).
    RetainUntil { date: Date, permanent: bool },
    /// The retention waits on an event not yet known: an Object Lock legal hold keeps the copy
    /// until P3 sets the retention once OpenText records the event. Nothing can delete it.
    EventHold { event_rule: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("the record has no RSI: its archive retention cannot be derived")]
    NoRsi,
    #[error("RSI {0} has no retention stages")]
    NoStages(String),
    #[error("the record has no record date to count RSI {0} from")]
    NoRecordDate(String),
    #[error("RSI {rsi} stage {stage}: event type {event_type} is not supported for archiving")]
    Unsupported {
        rsi: String,
        stage: String,
        event_type: i64,
    },
    #[error("retention of RSI {0} overflows the calendar")]
    Overflow(String),
}

/// Derives the lock of an archive copy from the record's RSI stages, counted from its record
/// date. Stages run one after another, so the periods add up; an event-based stage makes the
/// end unknown (→ event hold); a permanent stage → [`PERMANENT_RETAIN_YEARS`].
pub fn lock_for(
    rsi: &str,
    stages: &[StagePeriod],
    record_date: Option<Date>,
) -> Result<Lock, RetentionError> {
    if stages.is_empty() {
        return Err(RetentionError::NoStages(rsi.into()));
    }
    let (mut years, mut months, mut days) = (0i64, 0i64, 0i64);
    let mut permanent = false;
    for s in stages {
        match s.event_type.unwrap_or(EVENT_CALCULATED) {
            EVENT_BASED => {
                return Ok(Lock::EventHold {
                    event_rule: s.event_rule.clone().unwrap_or_else(|| s.stage.clone()),
                });
            }
            EVENT_PERMANENT => permanent = true,
            EVENT_CALCULATED | EVENT_CALENDAR | EVENT_FIXED => {
                years += s.years.max(0);
                months += s.months.max(0);
                days += s.days.max(0);
            }
            other => {
                return Err(RetentionError::Unsupported {
                    rsi: rsi.into(),
                    stage: s.stage.clone(),
                    event_type: other,
                });
            }
        }
    }
    let from = record_date.ok_or_else(|| RetentionError::NoRecordDate(rsi.into()))?;
    if permanent {
        years = PERMANENT_RETAIN_YEARS as i64;
        months = 0;
        days = 0;
    }
    let overflow = || RetentionError::Overflow(rsi.into());
    let end = add_period(from, years, months, days).ok_or_else(overflow)?;
    // Retained through the last day of the period: unlocked from the next midnight.
    let date = end.next_day().ok_or_else(overflow)?;
    Ok(Lock::RetainUntil { date, permanent })
}

/// Calendar addition; a day past the month's end clamps (29 Feb + 1 year → 28 Feb).
pub fn add_period(from: Date, years: i64, months: i64, days: i64) -> Option<Date> {
    let total = from.year() as i64 * 12 + (from.month() as i64 - 1) + years * 12 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).ok()?;
    let last = month.length(year);
    let d = Date::from_calendar_date(year, month, from.day().min(last)).ok()?;
    d.checked_add(time::Duration::days(days))
}

/// The archive bucket key of one version: `archive/{node}/v{n}/{file name}`. The file name is
/// kept readable but cannot add path segments.
pub fn archive_key(node_id: u64, version_number: u32, file_name: &str) -> String {
    let name: String = file_name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = name.trim();
    let name = if name.is_empty() || name == "." || name == ".." {
        "content"
    } else {
        name
    };
    format!("archive/{node_id}/v{version_number}/{name}")
}

/// The workflow key of archiving one node (one archive per record, whatever triggered it).
pub fn archive_workflow_key(node_id: u64) -> IdempotencyKey {
    IdempotencyKey::from_parts("archive", &[&node_id.to_string()])
}

/// Workflow states, in order. `failed` is terminal like `done`.
pub mod states {
    pub const CLAIMED: &str = "claimed";
    pub const COPYING: &str = "copying";
    pub const VERIFIED: &str = "verified";
    pub const LOCATED: &str = "located";
    pub const RELEASED: &str = "released";
    pub const DONE: &str = "done";
    pub const FAILED: &str = "failed";
    pub const TERMINAL: &[&str] = &[DONE, FAILED];
}

/// One version to archive, frozen when copying starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedCopy {
    pub version_number: u32,
    pub file_name: String,
    pub size: u64,
    pub key: String,
}

/// One copy made and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedCopy {
    pub version_number: u32,
    pub key: String,
    /// The S3 version id of the copy.
    pub s3_version_id: Option<String>,
    pub size: u64,
    /// Hex SHA-256 of OpenText's bytes as streamed.
    pub sha256: String,
    /// Set once HeadObject showed the stored size and checksum equal OpenText's.
    #[serde(default)]
    pub verified: bool,
}

/// The workflow detail, saved with every state change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveProgress {
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub planned: Vec<PlannedCopy>,
    #[serde(default)]
    pub copies: Vec<ArchivedCopy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<Lock>,
    /// The version number of the release stub, once added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stub_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ArchiveProgress {
    pub fn copy_of(&self, version_number: u32) -> Option<&ArchivedCopy> {
        self.copies
            .iter()
            .find(|c| c.version_number == version_number)
    }

    /// Planned versions not yet copied.
    pub fn remaining(&self) -> impl Iterator<Item = &PlannedCopy> {
        self.planned
            .iter()
            .filter(|p| self.copy_of(p.version_number).is_none())
    }

    /// Release is allowed only when every planned version has a verified copy.
    pub fn all_verified(&self) -> bool {
        !self.planned.is_empty()
            && self.planned.iter().all(|p| {
                self.copy_of(p.version_number)
                    .is_some_and(|c| c.verified && c.size == p.size)
            })
    }

    /// The archive location written on the record: `s3://bucket/archive/{node}/` and the
    /// copies' keys with their S3 version ids.
    pub fn location(&self, node_id: u64) -> String {
        format!("s3://{}/archive/{node_id}/", self.bucket)
    }

    /// The text of the stub version left in OpenText after release.
    pub fn stub_text(&self, node_id: u64) -> String {
        let mut s = format!(
            "records-bridge: the content of node {node_id} was archived to {} and released.\n",
            self.location(node_id)
        );
        for c in &self.copies {
            s.push_str(&format!(
                "v{} s3://{}/{}{} size={} sha256={}\n",
                c.version_number,
                self.bucket,
                c.key,
                c.s3_version_id
                    .as_deref()
                    .map(|v| format!("?versionId={v}"))
                    .unwrap_or_default(),
                c.size,
                c.sha256
            ));
        }
        s
    }
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
