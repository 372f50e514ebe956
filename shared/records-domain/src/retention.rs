//! P3 retention: what an OpenText RSI and record date mean for S3 Object Lock, and whether
//! a change to an object's lock may be made. Pure: the caller reads OpenText and S3.

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime};

/// OpenText `EventType` of an RSI stage.
pub const EVENT_CALCULATED: i64 = 1;
pub const EVENT_CALENDAR: i64 = 2;
pub const EVENT_BASED: i64 = 3;
pub const EVENT_FIXED: i64 = 4;
pub const EVENT_PERMANENT: i64 = 5;

/// The tag naming a retention S3 cannot express as a date (kept under a legal hold).
pub const RETENTION_TAG: &str = crate::tags::RETENTION;
pub const AWAITING_EVENT: &str = "awaiting-event";
pub const PERMANENT: &str = "permanent";

/// The first (active) stage of an RSI, as far as retention needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageRule {
    pub event_type: Option<i64>,
    pub years: i64,
    pub months: i64,
    pub days: i64,
}

/// What S3 should hold an object version for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RetentionTarget {
    /// Object Lock retain-until (UTC, whole seconds).
    Until {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Retention starts on a business event not yet known: held until it is.
    AwaitingEvent,
    /// Kept forever: no date can say it.
    Permanent,
}

impl RetentionTarget {
    /// The `records-bridge:retention` tag value for targets kept under a legal hold.
    pub fn hold_tag(&self) -> Option<&'static str> {
        match self {
            RetentionTarget::Until { .. } => None,
            RetentionTarget::AwaitingEvent => Some(AWAITING_EVENT),
            RetentionTarget::Permanent => Some(PERMANENT),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("the RSI has no retention stage")]
    NoStage,
    #[error("the record has no record date to count retention from")]
    NoRecordDate,
    /// OpenText sent a record date that cannot be read (the reader's message).
    #[error("the record date cannot be read: {0}")]
    BadRecordDate(String),
    #[error("retention of {0} from the record date is out of range")]
    OutOfRange(String),
}

/// Retain-until from the RSI's first stage and the record date. Calculated, calendar and
/// fixed stages count their period from the record date (the policy declares with
/// `DateToUse` 95, the record date); event-based stages wait for their event.
pub fn retention_target(
    first_stage: Option<&StageRule>,
    record_date: Option<OffsetDateTime>,
) -> Result<RetentionTarget, RetentionError> {
    first_stage_target(first_stage, record_date, false)
}

/// Retention once the record's business event has happened (P4: the event set the record's
/// status to one the policy's `business_events` set, and its record and status dates to the
/// event's date). The RSI's stages are read in order from its event-based stage: that stage
/// and every later one run one after another from the event (`CONTRACT END`, then 10 years
/// `CLOSED`, then destroy), so S3 keeps the content for the sum of their periods. A permanent
/// stage among them keeps it forever; an RSI with no event-based stage is counted as usual.
pub fn retention_after_event(
    stages: &[StageRule],
    record_date: Option<OffsetDateTime>,
) -> Result<RetentionTarget, RetentionError> {
    let Some(start) = stages
        .iter()
        .position(|s| s.event_type == Some(EVENT_BASED))
    else {
        return retention_target(stages.first(), record_date);
    };
    let from = record_date.ok_or(RetentionError::NoRecordDate)?;
    let mut at = from;
    for stage in &stages[start..] {
        if stage.event_type == Some(EVENT_PERMANENT) {
            return Ok(RetentionTarget::Permanent);
        }
        at = add_period(at, stage.years, stage.months, stage.days).ok_or_else(|| {
            RetentionError::OutOfRange(format!(
                "{}y {}m {}d",
                stage.years, stage.months, stage.days
            ))
        })?;
    }
    Ok(RetentionTarget::Until {
        at: at.replace_nanosecond(0).unwrap_or(at),
    })
}

fn first_stage_target(
    first_stage: Option<&StageRule>,
    record_date: Option<OffsetDateTime>,
    event_happened: bool,
) -> Result<RetentionTarget, RetentionError> {
    let stage = first_stage.ok_or(RetentionError::NoStage)?;
    match stage.event_type {
        Some(EVENT_BASED) if !event_happened => return Ok(RetentionTarget::AwaitingEvent),
        Some(EVENT_PERMANENT) => return Ok(RetentionTarget::Permanent),
        _ => {}
    }
    let from = record_date.ok_or(RetentionError::NoRecordDate)?;
    let at = add_period(from, stage.years, stage.months, stage.days).ok_or_else(|| {
        RetentionError::OutOfRange(format!(
            "{}y {}m {}d",
            stage.years, stage.months, stage.days
        ))
    })?;
    Ok(RetentionTarget::Until {
        at: at.replace_nanosecond(0).unwrap_or(at),
    })
}

/// Calendar arithmetic: 29 Feb + 1 year = 28 Feb (the day is clamped to the month).
pub fn add_period(
    from: OffsetDateTime,
    years: i64,
    months: i64,
    days: i64,
) -> Option<OffsetDateTime> {
    let from = from.to_offset(time::UtcOffset::UTC);
    let total =
        i64::from(from.year()) * 12 + i64::from(from.month() as u8) - 1 + years * 12 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let day = from.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let moved = from.replace_date(date);
    moved.checked_add(time::Duration::days(days))
}

/// Object Lock mode (S3's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LockMode {
    Governance,
    Compliance,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(s: &str) -> Option<LockMode> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GOVERNANCE" => Some(LockMode::Governance),
            "COMPLIANCE" => Some(LockMode::Compliance),
            _ => None,
        }
    }
}

/// A version's current lock, as HeadObject reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentLock {
    pub mode: LockMode,
    pub until: OffsetDateTime,
}

/// What to do with a version's retain-until.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionChange {
    /// Already what OpenText says.
    Unchanged,
    /// Set or extend to the target.
    Apply {
        mode: LockMode,
        until: OffsetDateTime,
    },
    /// Shorten a GOVERNANCE lock (needs the bypass permission; never done in COMPLIANCE).
    ShortenGovernance { until: OffsetDateTime },
    /// S3 keeps it longer than OpenText asks and may not be shortened: reported, not done.
    RefuseShorten {
        current: CurrentLock,
        wanted: OffsetDateTime,
        reason: String,
    },
}

/// Never shortens a COMPLIANCE lock; a GOVERNANCE lock may be shortened only when the
/// deployment allows it (`allow_governance_shortening`). Compared to the second.
pub fn retention_change(
    current: Option<CurrentLock>,
    wanted: OffsetDateTime,
    mode: LockMode,
    allow_governance_shortening: bool,
) -> RetentionChange {
    let secs = |t: OffsetDateTime| t.unix_timestamp();
    let Some(cur) = current else {
        return RetentionChange::Apply {
            mode,
            until: wanted,
        };
    };
    match secs(wanted).cmp(&secs(cur.until)) {
        std::cmp::Ordering::Equal => RetentionChange::Unchanged,
        std::cmp::Ordering::Greater => RetentionChange::Apply {
            // A COMPLIANCE lock stays COMPLIANCE: S3 refuses to weaken the mode.
            mode: if cur.mode == LockMode::Compliance {
                LockMode::Compliance
            } else {
                mode
            },
            until: wanted,
        },
        std::cmp::Ordering::Less => match cur.mode {
            LockMode::Governance if allow_governance_shortening => {
                RetentionChange::ShortenGovernance { until: wanted }
            }
            m => RetentionChange::RefuseShorten {
                current: cur,
                wanted,
                reason: format!(
                    "retention would be shortened from {} to {} but the version is locked in {} mode; S3 keeps the longer date",
                    rfc3339(cur.until),
                    rfc3339(wanted),
                    m.as_str()
                ),
            },
        },
    }
}

/// Whether a version's S3 legal hold should be on: an OpenText hold in force (direct or
/// inherited), or a retention S3 can only express as a hold (awaiting event, permanent).
pub fn legal_hold_wanted(holds_in_force: bool, retention_tag: Option<&str>) -> bool {
    holds_in_force || matches!(retention_tag, Some(AWAITING_EVENT) | Some(PERMANENT))
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn stage(event_type: i64, years: i64) -> StageRule {
        StageRule {
            event_type: Some(event_type),
            years,
            ..Default::default()
        }
    }

    #[test]
    fn calculated_stage_counts_from_the_record_date() {
        let t = retention_target(
            Some(&stage(1, 7)),
            Some(datetime!(2026-11-25 10:00:00.5 UTC)),
        );
        assert_eq!(
            t,
            Ok(RetentionTarget::Until {
                at: datetime!(2033-11-25 10:00:00 UTC)
            })
        );
        let leap = add_period(datetime!(2028-02-29 00:00 UTC), 1, 0, 0).unwrap();
        assert_eq!(leap, datetime!(2029-02-28 00:00 UTC));
        let months = add_period(datetime!(2026-01-31 00:00 UTC), 0, 13, 1).unwrap();
        assert_eq!(months, datetime!(2027-03-01 00:00 UTC));
    }

    #[test]
    fn event_and_permanent_stages_are_holds_not_dates() {
        assert_eq!(
            retention_target(Some(&stage(3, 0)), None),
            Ok(RetentionTarget::AwaitingEvent)
        );
        assert_eq!(
            retention_target(Some(&stage(5, 0)), None),
            Ok(RetentionTarget::Permanent)
        );
        assert_eq!(retention_target(None, None), Err(RetentionError::NoStage));
        // Once the business event happened, the event-based stage and the ones after it
        // run from the record date (the event's date): 0 years `CONTRACT END`, 10 `CLOSED`.
        let closed = time::macros::datetime!(2026-11-30 0:00 UTC);
        assert_eq!(
            retention_after_event(&[stage(3, 0), stage(1, 10)], Some(closed)),
            Ok(RetentionTarget::Until {
                at: time::macros::datetime!(2036-11-30 0:00 UTC)
            })
        );
        assert_eq!(
            retention_after_event(&[stage(3, 7)], Some(closed)),
            Ok(RetentionTarget::Until {
                at: time::macros::datetime!(2033-11-30 0:00 UTC)
            })
        );
        assert_eq!(
            retention_after_event(&[stage(3, 1), stage(5, 0)], Some(closed)),
            Ok(RetentionTarget::Permanent)
        );
        // No event-based stage: the first stage as usual.
        assert_eq!(
            retention_after_event(&[stage(1, 7)], Some(closed)),
            retention_target(Some(&stage(1, 7)), Some(closed))
        );
        assert_eq!(
            retention_target(Some(&stage(1, 7)), None),
            Err(RetentionError::NoRecordDate)
        );
    }

    #[test]
    fn compliance_is_never_shortened_and_extension_applies() {
        let cur = CurrentLock {
            mode: LockMode::Compliance,
            until: datetime!(2033-01-01 00:00 UTC),
        };
        let longer = datetime!(2034-01-01 00:00 UTC);
        let shorter = datetime!(2030-01-01 00:00 UTC);
        assert_eq!(
            retention_change(Some(cur), longer, LockMode::Governance, true),
            RetentionChange::Apply {
                mode: LockMode::Compliance,
                until: longer
            }
        );
        let refused = retention_change(Some(cur), shorter, LockMode::Compliance, true);
        assert!(
            matches!(&refused, RetentionChange::RefuseShorten { reason, .. } if reason.contains("COMPLIANCE")),
            "{refused:?}"
        );
        assert_eq!(
            retention_change(Some(cur), cur.until, LockMode::Compliance, false),
            RetentionChange::Unchanged
        );
        let gov = CurrentLock {
            mode: LockMode::Governance,
            ..cur
        };
        assert!(matches!(
            retention_change(Some(gov), shorter, LockMode::Governance, false),
            RetentionChange::RefuseShorten { .. }
        ));
        assert_eq!(
            retention_change(Some(gov), shorter, LockMode::Governance, true),
            RetentionChange::ShortenGovernance { until: shorter }
        );
        assert_eq!(
            retention_change(None, shorter, LockMode::Compliance, false),
            RetentionChange::Apply {
                mode: LockMode::Compliance,
                until: shorter
            }
        );
    }

    #[test]
    fn legal_hold_stays_on_while_retention_needs_it() {
        assert!(legal_hold_wanted(true, None));
        assert!(!legal_hold_wanted(false, None));
        assert!(legal_hold_wanted(false, Some(AWAITING_EVENT)));
        assert!(legal_hold_wanted(false, Some(PERMANENT)));
        assert!(!legal_hold_wanted(false, Some("other")));
    }
}
