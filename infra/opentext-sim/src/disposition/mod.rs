//! RM dispositions (RM 26.1, tag "Dispositions"; REFERENCE §4.4): disposition searches, the
//! snapshots `startdispsearch` takes, review decisions and performing the approved actions.
//!
//! * A disposition search is state of its own (`Store::dispositions`), not a browsable node; the
//!   seed has one (`well_known::DISPOSITION_SEARCH`), `POST /sim/admin/disposition-searches`
//!   adds more.
//! * A snapshot is keyed by its search and its `qdate`, the server's wall-clock time when it was
//!   taken (whole seconds). Emitted qdates use the RM spec's date pattern
//!   `YYYY-MM-DDTHH:mm:ss` (zone-less, server time); every form the spec describes is accepted
//!   ([`qdate::parse`]).
//! * Which records a search finds: [`run`].

pub mod admin;
pub mod perform;
pub mod qdate;
pub mod review;
pub mod run;
pub mod views;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::PrimitiveDateTime;

use crate::error::ApiError;
use crate::perms::require_rm;
use crate::request::Caller;
use crate::store::Store;

pub use qdate::QDate;

/// A disposition search definition (the subset of the RM search criteria the sim models).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DispSearch {
    pub id: i64,
    pub name: String,
    /// Only records at or below this container (0: the whole repository).
    #[serde(default)]
    pub start_container: i64,
    /// Only records with one of these RSIs (empty: any RSI).
    #[serde(default)]
    pub rsis: Vec<String>,
    /// The first reviewer given to each item (0: none).
    #[serde(default)]
    pub reviewer_id: i64,
}

/// One record in a snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapItem {
    pub node_id: i64,
    pub name: String,
    pub parent_id: i64,
    pub node_type: i64,
    pub class_id: i64,
    /// RM form, server time.
    pub calculated_date: String,
    pub disp_action: i64,
    /// Status code for a Change Status action (`changeactions` `statusCode`).
    pub action_info: String,
    /// 0 pending, 1 approved, 2 rejected.
    pub review_decision: i64,
    pub review_comments: String,
    pub reviewer_id: i64,
    pub reviewer_step: i64,
    /// 1-based number of the RSI stage the item is due for (the sim evaluates the first stage).
    pub stage_count: i64,
    pub action_performed: bool,
    /// What `performactions` did with the item (admin view only).
    pub outcome: String,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub search_id: i64,
    pub qdate: PrimitiveDateTime,
    pub items: Vec<SnapItem>,
    pub review_finished: bool,
    pub actions_run: bool,
}

impl Snapshot {
    pub fn actioned(&self) -> usize {
        self.items.iter().filter(|i| i.action_performed).count()
    }

    pub fn snapshot_status(&self) -> &'static str {
        if self.actions_run {
            "Actions Performed"
        } else {
            "Search Complete"
        }
    }

    pub fn review_status(&self) -> &'static str {
        if self.review_finished {
            "Review Complete"
        } else if self.items.iter().any(|i| i.review_decision != 0) {
            "In Review"
        } else {
            "Not Reviewed"
        }
    }
}

#[derive(Debug, Default)]
pub struct DispState {
    pub searches: BTreeMap<i64, DispSearch>,
    /// In the order taken.
    pub snapshots: Vec<Snapshot>,
}

impl DispState {
    pub fn search_named(&self, name: &str) -> Option<&DispSearch> {
        self.searches
            .values()
            .find(|s| unicase::eq(s.name.as_str(), name))
    }

    /// The snapshot a qdate names: the exact second, or for a bare day the latest of that day.
    pub fn find(&self, search_id: i64, q: &QDate) -> Option<usize> {
        let hits = self
            .snapshots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.search_id == search_id && q.matches(s.qdate));
        hits.max_by_key(|(_, s)| s.qdate).map(|(i, _)| i)
    }
}

/// Spec wording for an unknown disposition search (`GET …/disposition-snapshots`).
pub fn no_search(id: i64) -> ApiError {
    ApiError::bad_request(format!("Could not get node for {id}"))
}

pub fn no_snapshot(search_id: i64, q: &QDate) -> ApiError {
    ApiError::bad_request(format!(
        "Disposition search {search_id} has no snapshot for {}",
        q.raw
    ))
}

/// Disposition work needs the RM privilege; the spec's answer otherwise is 400
/// "Insufficient Permissions" (startdispsearch).
pub fn require_disp(store: &Store, caller: &Caller) -> Result<(), ApiError> {
    require_rm(store, caller).map_err(|_| ApiError::bad_request("Insufficient Permissions"))
}

/// The search `id` names, or the spec's 400.
pub fn search(store: &Store, id: i64) -> Result<&DispSearch, ApiError> {
    store
        .dispositions
        .searches
        .get(&id)
        .ok_or_else(|| no_search(id))
}

/// Index of the snapshot (`id`, `qdate`) or a 400.
pub fn snapshot_index(
    store: &Store,
    id: i64,
    raw_qdate: &str,
    tz: time::UtcOffset,
) -> Result<usize, ApiError> {
    search(store, id)?;
    let q = QDate::parse(raw_qdate, tz)?;
    store
        .dispositions
        .find(id, &q)
        .ok_or_else(|| no_snapshot(id, &q))
}

/// Action code names (RM spec `disp_action` / REFERENCE §4.3).
pub fn action_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "None",
        1 => "Change Status",
        7 => "Close",
        8 => "Finalize Record",
        9 => "Mark Official",
        10 => "Export",
        11 => "Update Storage Provider",
        12 => "Delete Electronic Format",
        15 => "Purge Versions",
        16 => "Make Rendition",
        32 => "Destroy",
        _ => return None,
    })
}

/// `pending|approve|reject` (also `approved`, `rejected` and the codes 0/1/2).
pub fn parse_decision(s: &str) -> Result<i64, ApiError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "pending" | "0" => Ok(0),
        "approve" | "approved" | "1" => Ok(1),
        "reject" | "rejected" | "2" => Ok(2),
        other => Err(ApiError::bad_request(format!(
            "Invalid review decision '{other}': expected pending, approve or reject"
        ))),
    }
}

pub fn decision_name(d: i64) -> &'static str {
    match d {
        1 => "approved",
        2 => "rejected",
        _ => "pending",
    }
}
