//! Reviewing a snapshot: `POST /api/v1/members/{id}/disposition/changereviewdecision`,
//! `…/finishreview`, `…/changeactions`. `{id}` is the acting member (it must exist); the caller
//! needs the RM privilege.
//!
//! Items are chosen by `applyTo`/`applyto`: `allPages` takes every item, `thisPage` (the
//! default) the `objIdList` entries, each `"{id}_{stageCount}"` (a bare id matches any stage).
//! `objIdList` may be repeated, `objIdList[]`, one space- or comma-separated string, or a JSON
//! array in `body`. An entry that names no item of the snapshot is a 400, and nothing changes.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::json;

use super::{action_name, parse_decision, require_disp, snapshot_index};
use crate::error::{ApiError, ApiResult};
use crate::nodes::missing_param;
use crate::perms::parse_id;
use crate::request::{ApiReq, Caller, Params};
use crate::state::AppState;
use crate::store::Store;

/// What every disposition member call starts with: the member, the caller's right, the
/// snapshot (`dispNodeID`, `qDate`/`qdate`).
pub struct Target {
    pub caller: Caller,
    pub member: i64,
    pub search_id: i64,
    pub qdate: String,
}

pub fn target(req: &ApiReq, member: &str) -> Result<Target, ApiError> {
    let caller = req.caller()?;
    let member = parse_id(member, "id")?;
    let p = &req.params;
    let search_id = p
        .i64("dispNodeID")?
        .ok_or_else(|| missing_param("dispNodeID"))?;
    let qdate = p
        .str_any(&["qDate", "qdate", "QDate"])
        .ok_or_else(|| missing_param("qDate"))?;
    Ok(Target {
        caller,
        member,
        search_id,
        qdate,
    })
}

/// Member exists, caller may do disposition work, snapshot exists: its index.
pub fn resolve(store: &Store, t: &Target, tz: time::UtcOffset) -> Result<usize, ApiError> {
    if !store.users.contains_key(&t.member) {
        return Err(ApiError::bad_request(format!(
            "Could not get a member for {}",
            t.member
        )));
    }
    require_disp(store, &t.caller)?;
    snapshot_index(store, t.search_id, &t.qdate, tz)
}

/// Indices of the items the request names (see the module doc).
pub fn select(store: &Store, snap: usize, p: &Params) -> Result<Vec<usize>, ApiError> {
    let s = &store.dispositions.snapshots[snap];
    let scope = p
        .str_any(&["applyTo", "applyto", "ApplyTo"])
        .unwrap_or_else(|| "thisPage".into());
    if scope.eq_ignore_ascii_case("allpages") {
        return Ok((0..s.items.len()).collect());
    }
    if !scope.eq_ignore_ascii_case("thispage") {
        return Err(ApiError::bad_request(format!(
            "Invalid applyTo '{scope}': expected thisPage or allPages"
        )));
    }
    let wanted = p.list("objIdList");
    if wanted.is_empty() {
        return Err(ApiError::bad_request(
            "objIdList is required when applyTo is 'thisPage'",
        ));
    }
    let mut out = Vec::new();
    for w in &wanted {
        let (id, stage) = match w.split_once('_') {
            Some((i, st)) => (i, Some(st)),
            None => (w.as_str(), None),
        };
        let bad = || {
            ApiError::bad_request(format!(
                "Invalid objIdList entry '{w}': expected ID_stageCount"
            ))
        };
        let id: i64 = id.trim().parse().map_err(|_| bad())?;
        let stage: Option<i64> = stage
            .map(|st| st.trim().parse().map_err(|_| bad()))
            .transpose()?;
        let hit = s
            .items
            .iter()
            .position(|i| i.node_id == id && stage.is_none_or(|st| st == i.stage_count))
            .ok_or_else(|| {
                ApiError::bad_request(format!("Item {w} is not in the disposition snapshot"))
            })?;
        if !out.contains(&hit) {
            out.push(hit);
        }
    }
    Ok(out)
}

fn ok(count: usize) -> ApiResult {
    Ok(
        Json(json!({"results": {"ok": true, "errMsg": "", "data": {"count": count}}}))
            .into_response(),
    )
}

/// `decision` (required), `reviewComment`, `reviewerID` (default: the member), `reviewerstep`.
/// A finished review or an item already actioned cannot change.
pub async fn change_review_decision(
    State(sim): State<AppState>,
    Path(member): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let t = target(&req, &member)?;
    let p = &req.params;
    let decision = parse_decision(&p.str("decision").ok_or_else(|| missing_param("decision"))?)?;
    let comment = p.str("reviewComment");
    let reviewer = p.i64("reviewerID")?.unwrap_or(t.member);
    let step = p.i64("reviewerstep")?;
    let mut store = sim.write();
    let snap = resolve(&store, &t, sim.time_zone)?;
    let chosen = select(&store, snap, p)?;
    let s = &mut store.dispositions.snapshots[snap];
    if s.review_finished {
        return Err(ApiError::bad_request(
            "The review of this disposition snapshot is finished",
        ));
    }
    if let Some(i) = chosen.iter().find(|i| s.items[**i].action_performed) {
        let it = &s.items[*i];
        return Err(ApiError::bad_request(format!(
            "Item {}_{} has already been actioned",
            it.node_id, it.stage_count
        )));
    }
    for i in &chosen {
        let it = &mut s.items[*i];
        it.review_decision = decision;
        it.reviewer_id = reviewer;
        it.reviewer_step = step.unwrap_or(it.reviewer_step.max(1));
        if let Some(c) = &comment {
            it.review_comments = c.clone();
        }
    }
    ok(chosen.len())
}

/// Marks the snapshot's review finished (`reviewerID`, `reviewerstep` accepted, not needed).
pub async fn finish_review(
    State(sim): State<AppState>,
    Path(member): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let t = target(&req, &member)?;
    req.params.i64("reviewerID")?;
    req.params.i64("reviewerstep")?;
    let mut store = sim.write();
    let snap = resolve(&store, &t, sim.time_zone)?;
    let s = &mut store.dispositions.snapshots[snap];
    s.review_finished = true;
    ok(s.items.len())
}

/// `dispAction` (required, an RM action code), `statusCode` for Change Status.
pub async fn change_actions(
    State(sim): State<AppState>,
    Path(member): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let t = target(&req, &member)?;
    let p = &req.params;
    let action = p
        .i64("dispAction")?
        .ok_or_else(|| missing_param("dispAction"))?;
    if action_name(action).is_none() {
        return Err(ApiError::bad_request(format!(
            "Invalid dispAction {action}: expected 0, 1, 7, 8, 9, 10, 11, 12, 15, 16 or 32"
        )));
    }
    let status = p.str("statusCode");
    let mut store = sim.write();
    let snap = resolve(&store, &t, sim.time_zone)?;
    let chosen = select(&store, snap, p)?;
    let s = &mut store.dispositions.snapshots[snap];
    for i in &chosen {
        let it = &mut s.items[*i];
        if it.action_performed {
            continue;
        }
        it.disp_action = action;
        if let Some(st) = &status {
            it.action_info = st.clone();
        }
    }
    ok(chosen.len())
}
