//! Records Management types: record details, holds, RSIs.

use serde::{Deserialize, Serialize};

use super::date::{OtDateTime, in_zone, opt_date};
use super::lenient;

/// `GET /api/v1/nodes/{id}/rmclassifications`: the node's RM state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RmClassifications {
    /// Whether the caller may classify the node.
    #[serde(
        rename = "canRMClassify",
        default,
        deserialize_with = "lenient::opt_bool"
    )]
    pub can_rm_classify: Option<bool>,
    /// Whether the caller may finalize the record.
    #[serde(
        rename = "canFinalize",
        default,
        deserialize_with = "lenient::opt_bool"
    )]
    pub can_finalize: Option<bool>,
    /// Classification volume id.
    #[serde(
        rename = "classVolumeID",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub class_volume_id: Option<i64>,
    /// Edit-conflict token: send it back with the next change (stale → 409).
    #[serde(
        rename = "rm_metadataToken",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub rm_metadata_token: Option<String>,
    /// Applied classifications with their record details.
    #[serde(default)]
    pub data: Vec<RecordDetails>,
}

in_zone!(RmClassifications: data);
in_zone!(RecordDetails: record_date, status_date, received_date);

impl RecordDetails {
    /// The status code from `status` or, failing that, `file_status`.
    pub fn status_code(&self) -> Option<&str> {
        self.status.as_deref().or(self.file_status.as_deref())
    }
}

impl RmClassifications {
    /// The primary classification (or the first one).
    pub fn primary(&self) -> Option<&RecordDetails> {
        self.data
            .iter()
            .find(|d| d.is_primary == Some(true))
            .or_else(|| self.data.first())
    }
}

/// One RM classification on a node with its record details.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecordDetails {
    /// The RM classification's id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub rmclassification_id: Option<i64>,
    /// Classification name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// File number.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub file_number: Option<String>,
    /// Assigned retention schedule (RSI name).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub rsi: Option<String>,
    /// Record date.
    #[serde(default, deserialize_with = "opt_date")]
    pub record_date: Option<OtDateTime>,
    /// Status code as the RM spec names it; see [`RecordDetails::status_code`].
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    /// Status code as live servers name it (pyxecm's example); some send both.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub file_status: Option<String>,
    /// Status date.
    #[serde(default, deserialize_with = "opt_date")]
    pub status_date: Option<OtDateTime>,
    /// Received date.
    #[serde(default, deserialize_with = "opt_date")]
    pub received_date: Option<OtDateTime>,
    /// Essential code.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub essential: Option<String>,
    /// Official record flag.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub official: Option<bool>,
    /// Storage medium code (e.g. `EL`).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub storage: Option<String>,
    /// Accession code.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub accession: Option<String>,
    /// Subject.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub subject: Option<String>,
    /// Originator.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub originator: Option<String>,
    /// Addressee.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub addressee: Option<String>,
    /// Record type.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub record_type: Option<i64>,
    /// Whether this is the primary classification.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub is_primary: Option<bool>,
}

/// Fields to set when applying an RM classification or updating record details.
/// `None` fields are not sent.
#[derive(Debug, Clone, Default)]
pub struct RecordUpdate {
    /// Official record flag.
    pub official: Option<bool>,
    /// Record date (`YYYY-MM-DD` or ISO 8601).
    pub record_date: Option<String>,
    /// Status code (e.g. `ACTIVE`).
    pub status: Option<String>,
    /// Status date.
    pub status_date: Option<String>,
    /// RSI name.
    pub rsi: Option<String>,
    /// Essential code.
    pub essential: Option<String>,
    /// Storage medium code.
    pub storage: Option<String>,
    /// Accession code.
    pub accession: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Originator.
    pub originator: Option<String>,
    /// Received date.
    pub received_date: Option<String>,
}

impl RecordUpdate {
    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        let mut f = Vec::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                f.push((k.to_string(), v.clone()));
            }
        };
        put("official", &self.official.map(|b| b.to_string()));
        put("record_date", &self.record_date);
        put("status", &self.status);
        put("status_date", &self.status_date);
        put("rsi", &self.rsi);
        put("essential", &self.essential);
        put("storage", &self.storage);
        put("accession", &self.accession);
        put("subject", &self.subject);
        put("originator", &self.originator);
        put("received_date", &self.received_date);
        f
    }
}

/// A hold definition (`GET /api/v2/holds`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hold {
    /// Hold id.
    #[serde(rename = "HoldID", deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Hold name.
    #[serde(rename = "HoldName", default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Hold type code (e.g. `Legal`).
    #[serde(rename = "HoldType", default, deserialize_with = "lenient::opt_string")]
    pub hold_type: Option<String>,
    /// Whether the hold is active.
    #[serde(rename = "ActiveHold", default, deserialize_with = "lenient::opt_bool")]
    pub active: Option<bool>,
    /// Comment.
    #[serde(
        rename = "HoldComment",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub comment: Option<String>,
    /// Alternate id.
    #[serde(
        rename = "AlternateHoldID",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub alternate_id: Option<String>,
    /// When the hold was applied.
    #[serde(rename = "DateApplied", default, deserialize_with = "opt_date")]
    pub date_applied: Option<OtDateTime>,
    /// Planned removal date.
    #[serde(rename = "DateToRemove", default, deserialize_with = "opt_date")]
    pub date_to_remove: Option<OtDateTime>,
    /// When it was removed.
    #[serde(rename = "DateRemoved", default, deserialize_with = "opt_date")]
    pub date_removed: Option<OtDateTime>,
    /// Parent (hold folder) id.
    #[serde(rename = "ParentID", default, deserialize_with = "lenient::opt_i64")]
    pub parent_id: Option<i64>,
}

in_zone!(Hold: date_applied, date_to_remove, date_removed);

/// A new hold (`POST /api/v1/holds`).
#[derive(Debug, Clone, Default)]
pub struct NewHold {
    /// Hold name.
    pub name: String,
    /// Hold type code (e.g. `Legal`).
    pub hold_type: String,
    /// Comment.
    pub comment: Option<String>,
    /// Alternate id.
    pub alternate_id: Option<String>,
    /// Hold folder id.
    pub parent_id: Option<i64>,
    /// Date applied, `YYYY-MM-DDTHH:mm:ss` (required by the server).
    pub date_applied: String,
    /// Planned removal date.
    pub date_to_remove: Option<String>,
}

/// A hold on a node, direct or inherited (`GET /api/v1/nodes/{id}/holds`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NodeHold {
    /// Hold id.
    #[serde(deserialize_with = "lenient::i64")]
    pub hold_id: i64,
    /// Hold name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub hold_name: Option<String>,
    /// Hold type.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub hold_type: Option<String>,
    /// Whether the hold is active.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub active: Option<bool>,
    /// Who applied it.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub applied_by: Option<String>,
    /// When it was applied.
    #[serde(default, deserialize_with = "opt_date")]
    pub date_applied: Option<OtDateTime>,
    /// Whether it can be removed from this node (false when inherited).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub removable: Option<bool>,
    /// How it got there (direct, inherited, query, ...).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub hold_appliedmethod: Option<String>,
    /// Comment.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub hold_comment: Option<String>,
    /// The node the hold is applied to (an ancestor when inherited).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub id: Option<i64>,
}

in_zone!(NodeHold: date_applied);

/// A record series identifier (retention schedule) with its stages.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rsi {
    /// RSI id.
    #[serde(rename = "RSIID", deserialize_with = "lenient::i64")]
    pub id: i64,
    /// RSI code, e.g. `FIN-7Y`.
    #[serde(rename = "RSI", default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Title.
    #[serde(rename = "Title", default, deserialize_with = "lenient::opt_string")]
    pub title: Option<String>,
    /// Subject.
    #[serde(rename = "Subject", default, deserialize_with = "lenient::opt_string")]
    pub subject: Option<String>,
    /// Description.
    #[serde(
        rename = "Description",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub description: Option<String>,
    /// Status code.
    #[serde(
        rename = "RSIStatus",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub status: Option<String>,
    /// Stages (filled from the schedule rows of the same RSI).
    #[serde(default, skip_deserializing)]
    pub stages: Vec<RsiStage>,
}

/// One retention stage of an RSI (a schedule row).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RsiStage {
    /// Schedule (stage) id.
    #[serde(
        rename = "RSIScheduleID",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub schedule_id: Option<i64>,
    /// Stage name (e.g. `ACTIVE`).
    #[serde(rename = "RetStage", default, deserialize_with = "lenient::opt_string")]
    pub stage: Option<String>,
    /// `LIV` classified objects, `LRM` RM classifications.
    #[serde(
        rename = "ObjectType",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub object_type: Option<String>,
    /// 1 calculated, 2 calendar, 3 event, 4 fixed, 5 permanent.
    #[serde(rename = "EventType", default, deserialize_with = "lenient::opt_i64")]
    pub event_type: Option<i64>,
    /// Date the retention counts from (91 create ... 95 record date).
    #[serde(
        rename = "DateToUse",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub date_to_use: Option<String>,
    /// Retention years.
    #[serde(rename = "RetYears", default, deserialize_with = "lenient::opt_i64")]
    pub years: Option<i64>,
    /// Retention months.
    #[serde(rename = "RetMonths", default, deserialize_with = "lenient::opt_i64")]
    pub months: Option<i64>,
    /// Retention days.
    #[serde(rename = "RetDays", default, deserialize_with = "lenient::opt_i64")]
    pub days: Option<i64>,
    /// Disposition action code (e.g. 32 destroy).
    #[serde(
        rename = "ActionCode",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub action_code: Option<String>,
    /// Action description.
    #[serde(
        rename = "ActionDescription",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub action_description: Option<String>,
    /// Disposition.
    #[serde(
        rename = "Disposition",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub disposition: Option<String>,
    /// Event rule (event-based stages).
    #[serde(
        rename = "EventRule",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    pub event_rule: Option<String>,
    /// Whether the stage is approved.
    #[serde(
        rename = "ApprovalFlag",
        default,
        deserialize_with = "lenient::opt_i64"
    )]
    pub approval_flag: Option<i64>,
}
