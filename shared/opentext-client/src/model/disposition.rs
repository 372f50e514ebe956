//! RM disposition types (RM 26.1 `snapshot_data`, `nodes_properties`) and search hits.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use super::date::{OtDateTime, ServerTimeZone, in_zone};
use super::lenient;

/// A snapshot's `qdate`, kept as the server sent it (to name the snapshot back in a path) and
/// read as a time. Every form the RM spec describes is read: `YYYY-MM-DD`,
/// `YYYY-MM-DDTHH:mm:ss` (with or without a zone), `D/YYYY-MM-DD:HH:mm:ss` and
/// `YYYY-MM-DD:HH:mm:ss`, also with the spec's `\:` escapes.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct SnapshotDate {
    raw: String,
    date: OtDateTime,
}

impl From<SnapshotDate> for String {
    fn from(q: SnapshotDate) -> String {
        q.raw
    }
}

impl SnapshotDate {
    /// Reads `raw`; zone-less values are the server's wall clock in `zone`.
    pub fn parse_in(raw: impl Into<String>, zone: ServerTimeZone) -> SnapshotDate {
        let raw = raw.into();
        let date = OtDateTime::parse_in(normalize(&raw), zone);
        SnapshotDate { raw, date }
    }

    /// The text as the server sent it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The instant, when the text is readable.
    pub fn datetime(&self) -> Option<OffsetDateTime> {
        self.date.datetime()
    }

    /// The form the RM spec gives for form fields (`qDate`, `qdate`): `D/YYYY-MM-DD:HH:mm:ss`
    /// in the server's zone; the text as sent when it cannot be read.
    pub fn form_value(&self) -> String {
        self.local_with(format_description!(
            "D/[year]-[month]-[day]:[hour]:[minute]:[second]"
        ))
    }

    /// finishreview's form: `YYYY-MM-DD:HH:mm:ss` in the server's zone.
    pub fn finish_review_value(&self) -> String {
        self.local_with(format_description!(
            "[year]-[month]-[day]:[hour]:[minute]:[second]"
        ))
    }

    fn local_with(&self, form: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
        self.datetime()
            .and_then(|t| t.checked_to_offset(self.date.zone().offset()))
            .and_then(|t| t.format(form).ok())
            .unwrap_or_else(|| self.raw.clone())
    }
}

impl super::InZone for SnapshotDate {
    fn set_zone(&mut self, zone: ServerTimeZone) {
        self.date = self.date.clone().in_zone(zone);
    }
}

/// The RM forms as the ISO form [`OtDateTime`] reads.
fn normalize(raw: &str) -> String {
    let s: String = raw.trim().chars().filter(|c| *c != '\\').collect();
    let s = s
        .strip_prefix("D/")
        .or_else(|| s.strip_prefix("d/"))
        .unwrap_or(&s)
        .to_string();
    // `YYYY-MM-DD:HH:mm:ss`: the colon after the date stands for the `T`.
    if s.len() > 10 && s.is_char_boundary(10) && s.is_char_boundary(11) && &s[10..11] == ":" {
        format!("{}T{}", &s[..10], &s[11..])
    } else {
        s
    }
}

impl fmt::Debug for SnapshotDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.raw)
    }
}

impl fmt::Display for SnapshotDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for SnapshotDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = lenient::string(d)?;
        Ok(SnapshotDate::parse_in(raw, ServerTimeZone::UTC))
    }
}

/// One snapshot of a disposition search (`GET /api/v2/snapshottable/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DispositionSnapshot {
    /// Names the snapshot in the other disposition calls.
    pub qdate: SnapshotDate,
    /// E.g. "Search Complete".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub snapshot_status: Option<String>,
    /// E.g. "Not Reviewed", "Review Complete".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub review_status: Option<String>,
    /// Items in the snapshot.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub record_count: Option<i64>,
    /// Items whose action was performed.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub actioned_count: Option<i64>,
}

in_zone!(DispositionSnapshot: qdate);

/// A review decision (`review_decision`: 0 pending, 1 approved, 2 rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ReviewDecision {
    Pending,
    Approved,
    Rejected,
}

impl ReviewDecision {
    /// The `decision` form value of `changereviewdecision`.
    pub fn form_value(self) -> &'static str {
        match self {
            ReviewDecision::Pending => "pending",
            ReviewDecision::Approved => "approve",
            ReviewDecision::Rejected => "reject",
        }
    }

    fn read(v: &serde_json::Value) -> Option<ReviewDecision> {
        let code = match v {
            serde_json::Value::Number(n) => n.as_i64()?,
            serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "pending" => 0,
                "approve" | "approved" => 1,
                "reject" | "rejected" => 2,
                other => other.parse().ok()?,
            },
            _ => return None,
        };
        match code {
            0 => Some(ReviewDecision::Pending),
            1 => Some(ReviewDecision::Approved),
            2 => Some(ReviewDecision::Rejected),
            _ => None,
        }
    }
}

fn opt_decision<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ReviewDecision>, D::Error> {
    Ok(ReviewDecision::read(&serde_json::Value::deserialize(d)?))
}

/// An item of a snapshot as `objIdList` names it: `"{id}_{stage_count}"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DispositionItemRef {
    /// Node id.
    pub id: i64,
    /// RSI stage count.
    pub stage_count: i64,
}

impl DispositionItemRef {
    /// The `objIdList` entry.
    pub fn obj_id(&self) -> String {
        format!("{}_{}", self.id, self.stage_count)
    }
}

/// One record in a disposition snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DispositionItem {
    /// Node id.
    #[serde(deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Node name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Parent node id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub parent_id: Option<i64>,
    /// Node type.
    #[serde(default, rename = "type", deserialize_with = "lenient::opt_i64")]
    pub node_type: Option<i64>,
    /// When the stage fell due.
    #[serde(default, deserialize_with = "super::date::opt_date")]
    pub calculated_date: Option<OtDateTime>,
    /// The action code (32 Destroy, 1 Change Status, …); a string in the spec.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub disp_action: Option<i64>,
    /// The review decision; `None` when the server sent none it documents.
    #[serde(default, deserialize_with = "opt_decision")]
    pub review_decision: Option<ReviewDecision>,
    /// RSI stage count (the second half of an `objIdList` entry); 1 when not sent.
    #[serde(default = "one", deserialize_with = "stage")]
    pub stage_count: i64,
    /// Whether the action was performed.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub action_performed: bool,
    /// Reviewer.
    #[serde(default, alias = "reviewer_id", deserialize_with = "lenient::opt_i64")]
    pub reviewerid: Option<i64>,
    /// Review step (1 or 2).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub reviewerstep: Option<i64>,
    /// Review comments.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub review_comments: Option<String>,
    /// RM classification id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub class_id: Option<i64>,
}

fn one() -> i64 {
    1
}

fn stage<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(lenient::opt_i64(d)?.unwrap_or(1))
}

in_zone!(DispositionItem: calculated_date);

impl DispositionItem {
    /// How `objIdList` names this item.
    pub fn item_ref(&self) -> DispositionItemRef {
        DispositionItemRef {
            id: self.id,
            stage_count: self.stage_count,
        }
    }

    /// Approved and not yet actioned.
    pub fn is_approved(&self) -> bool {
        self.review_decision == Some(ReviewDecision::Approved)
    }
}

/// A review decision to record (`changereviewdecision`).
#[derive(Debug, Clone)]
pub struct ReviewChange {
    /// The new decision.
    pub decision: ReviewDecision,
    /// `reviewComment`.
    pub comment: Option<String>,
    /// `reviewerID` (the server's default: the acting member).
    pub reviewer_id: Option<i64>,
    /// `reviewerstep` (1 or 2).
    pub reviewer_step: Option<i64>,
}

impl ReviewChange {
    /// Just a decision.
    pub fn new(decision: ReviewDecision) -> ReviewChange {
        ReviewChange {
            decision,
            comment: None,
            reviewer_id: None,
            reviewer_step: None,
        }
    }
}

/// What became of one item of `performactions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ActionStatus {
    /// The server reports the action performed.
    Performed,
    /// The server reports it not performed (not approved, under hold, gone, …).
    Skipped,
    /// The server said nothing about the item (it is no longer listed in the snapshot).
    Unknown,
}

/// One item's outcome of `performactions`.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    /// The item.
    pub item: DispositionItemRef,
    /// Performed, skipped, or unknown.
    pub status: ActionStatus,
    /// The server's explanation, when it sent one (e.g. "skipped: 'x' is on hold (LIT-1)").
    pub message: Option<String>,
}

/// One `POST /api/v2/search` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// Node id.
    pub id: i64,
    /// Node name.
    pub name: String,
}
