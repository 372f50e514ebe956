//! `POST /api/v1/nodes/{id}/startdispsearch`: runs a disposition search into a new snapshot.
//!
//! A record (a live node with an RM classification) is in the snapshot when its primary
//! record's RSI exists, matches the search's RSI filter, lies under the search's start
//! container, and the RSI's **first stage** is due on or before the qdate. The stage's due
//! date is its base date plus `RetYears`/`RetMonths`/`RetDays` (months clamp to the month's
//! last day), all in server time:
//!
//! * event type 1 Calculated, 2 Calendar, 4 Fixed: the base date is the stage's `DateToUse`:
//!   91 the node's create date, 93 its modify date, 94 the record's status date, 95 (and
//!   anything else) the record date; 92 Reserved never qualifies (the sim does not reserve);
//! * 3 Event: the event counts as having happened once the record's status was changed away
//!   from its classification's default status (changing the status stamps the status date,
//!   the event date); the base date is then the status date. Before that the record is never
//!   due;
//! * 5 Permanent: never due.
//!
//! An empty or unreadable base date never qualifies. `stage_count` is 1 (the first stage).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::json;
use time::{Duration, Month, PrimitiveDateTime};

use super::{DispSearch, SnapItem, Snapshot, qdate, require_disp, search};
use crate::dates::{fmt_rm, now_local, to_local};
use crate::error::ApiResult;
use crate::model::{Node, RsiStage};
use crate::perms::parse_id;
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::Store;

pub async fn start(State(sim): State<AppState>, Path(id): Path<String>, req: ApiReq) -> ApiResult {
    let caller = req.caller()?;
    let id = parse_id(&id, "id")?;
    let tz = sim.time_zone;
    let mut store = sim.write();
    require_disp(&store, &caller)?;
    let def = search(&store, id)?.clone();
    let mut at = now_local(tz);
    // One snapshot per second and search: a second run within the same second moves on.
    while store
        .dispositions
        .snapshots
        .iter()
        .any(|s| s.search_id == id && s.qdate == at)
    {
        at += Duration::SECOND;
    }
    let items = due_items(&store, &def, at, tz);
    let count = items.len();
    store.dispositions.snapshots.push(Snapshot {
        search_id: id,
        qdate: at,
        items,
        review_finished: false,
        actions_run: false,
    });
    Ok(Json(json!({"results": {"ok": true, "errMsg": "", "id": id,
        "data": {"qdate": qdate::emit(at), "record_count": count}}}))
    .into_response())
}

/// The records `def` finds as due at `at` (server time), in node id order.
pub fn due_items(
    store: &Store,
    def: &DispSearch,
    at: PrimitiveDateTime,
    tz: time::UtcOffset,
) -> Vec<SnapItem> {
    let mut out = Vec::new();
    for n in store.nodes.values().filter(|n| !n.deleted) {
        let Some(rec) = n.rm.first() else { continue };
        if def.start_container != 0
            && n.id != def.start_container
            && !store
                .ancestors(n.id)
                .iter()
                .any(|a| a.id == def.start_container)
        {
            continue;
        }
        if !def.rsis.is_empty()
            && !def
                .rsis
                .iter()
                .any(|r| unicase::eq(r.as_str(), rec.rsi.as_str()))
        {
            continue;
        }
        let Some(rsi) = store
            .rsis
            .values()
            .find(|r| unicase::eq(r.name.as_str(), rec.rsi.as_str()))
        else {
            continue;
        };
        let Some(stage) = rsi.stages.first() else {
            continue;
        };
        let Some(due) = due_date(store, n, stage, tz) else {
            continue;
        };
        if due > at {
            continue;
        }
        out.push(SnapItem {
            node_id: n.id,
            name: n.name.clone(),
            parent_id: n.parent_id,
            node_type: n.node_type,
            class_id: rec.class_id,
            calculated_date: fmt_rm(due),
            disp_action: stage.action_code,
            action_info: String::new(),
            review_decision: 0,
            review_comments: String::new(),
            reviewer_id: def.reviewer_id,
            reviewer_step: if def.reviewer_id > 0 { 1 } else { 0 },
            stage_count: 1,
            action_performed: false,
            outcome: String::new(),
        });
    }
    out
}

/// When `stage` falls due for node `n` (see the module rules), server time.
pub fn due_date(
    store: &Store,
    n: &Node,
    stage: &RsiStage,
    tz: time::UtcOffset,
) -> Option<PrimitiveDateTime> {
    let rec = n.rm.first()?;
    let base = match stage.event_type {
        5 => return None,
        3 => {
            let default_status = store
                .classifications
                .get(&rec.class_id)
                .map(|c| c.status.as_str())
                .unwrap_or("");
            if rec.status.is_empty() || rec.status.eq_ignore_ascii_case(default_status) {
                return None;
            }
            &rec.status_date
        }
        _ => match stage.date_to_use {
            91 => &n.create_date,
            92 => return None,
            93 => &n.modify_date,
            94 => &rec.status_date,
            _ => &rec.record_date,
        },
    };
    let base = to_local(base, tz)?;
    add_period(base, stage.years, stage.months, stage.days)
}

/// `t` plus years, months (day clamped to the target month's length) and days.
pub fn add_period(
    t: PrimitiveDateTime,
    years: i64,
    months: i64,
    days: i64,
) -> Option<PrimitiveDateTime> {
    let total = i64::from(t.year()) * 12 + i64::from(u8::from(t.month())) - 1
        + years.checked_mul(12)?
        + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let day = t.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    PrimitiveDateTime::new(date, t.time()).checked_add(Duration::days(days))
}

#[cfg(test)]
mod tests {
    use super::add_period;
    use time::macros::datetime;

    #[test]
    fn periods_add_calendar_months_and_clamp() {
        let t = datetime!(2024-01-31 10:00:00);
        assert_eq!(add_period(t, 0, 1, 0), Some(datetime!(2024-02-29 10:00:00)));
        assert_eq!(add_period(t, 7, 0, 0), Some(datetime!(2031-01-31 10:00:00)));
        assert_eq!(
            add_period(t, 0, 13, 1),
            Some(datetime!(2025-03-01 10:00:00))
        );
        assert_eq!(
            add_period(t, 0, -2, 0),
            Some(datetime!(2023-11-30 10:00:00))
        );
        assert_eq!(add_period(t, i64::MAX, 0, 0), None);
    }
}
