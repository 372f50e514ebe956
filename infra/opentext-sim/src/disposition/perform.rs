//! `POST /api/v1/members/{id}/disposition/performactions`: executes the chosen items' actions.
//!
//! Only approved items not yet actioned are executed; every other chosen item is reported as
//! skipped with the reason. An item under an OpenText hold (its own, inherited, or for Destroy
//! anything beneath it) is skipped, says which hold, and gets a "Disposition Action Skipped"
//! audit entry. What each action does:
//!
//! * 32 Destroy: the node and everything beneath it are deleted (audit "Delete" on each);
//! * 1 Change Status: the record's status becomes the item's `action_info` (`changeactions`
//!   `statusCode`) when one was given, and the status date is stamped;
//! * 9 Mark Official: the record becomes official;
//! * 0 None and the others (Close, Finalize, Export, …): recorded only, nothing else changes.
//!
//! Each executed item gets a "Disposition Action Performed" audit entry and
//! `action_performed = 1`. The answer lists every chosen item:
//! `results.data.items[{id, stage_count, disp_action, performed, message}]`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::json;

use super::review::{resolve, select, target};
use super::{action_name, decision_name};
use crate::dates::now_rm;
use crate::error::ApiResult;
use crate::request::ApiReq;
use crate::state::AppState;
use crate::store::{Store, audit_events, new_token};

pub async fn perform_actions(
    State(sim): State<AppState>,
    Path(member): Path<String>,
    req: ApiReq,
) -> ApiResult {
    let t = target(&req, &member)?;
    let tz = sim.time_zone;
    let mut store = sim.write();
    let snap = resolve(&store, &t, tz)?;
    let chosen = select(&store, snap, &req.params)?;
    let user = t.caller.id;
    let mut report = Vec::new();
    for i in chosen {
        let it = store.dispositions.snapshots[snap].items[i].clone();
        let outcome = if it.action_performed {
            Err("already actioned".to_string())
        } else if it.review_decision != 1 {
            Err(format!(
                "not approved (review decision {})",
                decision_name(it.review_decision)
            ))
        } else {
            execute(
                &mut store,
                it.node_id,
                it.disp_action,
                &it.action_info,
                user,
                tz,
            )
        };
        let (performed, message) = match outcome {
            Ok(m) => (true, m),
            Err(m) => (false, m),
        };
        let entry = &mut store.dispositions.snapshots[snap].items[i];
        if performed {
            entry.action_performed = true;
        }
        entry.outcome = message.clone();
        report.push(json!({"id": it.node_id, "stage_count": it.stage_count,
            "disp_action": it.disp_action.to_string(), "performed": performed, "message": message}));
    }
    store.dispositions.snapshots[snap].actions_run = true;
    Ok(
        Json(json!({"results": {"ok": true, "errMsg": "", "data": {"items": report}}}))
            .into_response(),
    )
}

/// The first hold in force on `id` or (when `subtree`) beneath it: (holding node name, hold name).
fn hold_blocking(store: &Store, id: i64, subtree: bool) -> Option<(String, String)> {
    let mut ids = vec![id];
    if subtree {
        ids.extend(store.descendants(id));
    }
    ids.into_iter().find_map(|nid| {
        let (hold_id, _) = *store.holds_in_force(nid).first()?;
        let hold = store
            .holds
            .get(&hold_id)
            .map(|h| h.name.clone())
            .unwrap_or_default();
        let name = store
            .nodes
            .get(&nid)
            .map(|n| n.name.clone())
            .unwrap_or_default();
        Some((name, hold))
    })
}

fn execute(
    store: &mut Store,
    id: i64,
    action: i64,
    status: &str,
    user: i64,
    tz: time::UtcOffset,
) -> Result<String, String> {
    let label = action_name(action).unwrap_or("Unknown");
    if store.live(id).is_none() {
        return Err("the item no longer exists".into());
    }
    if let Some((what, hold)) = hold_blocking(store, id, action == 32) {
        let msg = format!("skipped: '{what}' is on hold ({hold})");
        store.audit(
            id,
            audit_events::DISPOSITION_SKIPPED,
            user,
            format!("{label}: {msg}"),
        );
        return Err(msg);
    }
    let message = match action {
        32 => {
            let mut subtree = vec![id];
            subtree.extend(store.descendants(id));
            store.audit(id, audit_events::DISPOSITION_PERFORMED, user, label);
            for nid in &subtree {
                if let Some(n) = store.nodes.get_mut(nid) {
                    n.deleted = true;
                }
                store.audit(*nid, audit_events::DELETE, user, "destroyed by disposition");
            }
            return Ok(format!("destroyed ({} item(s))", subtree.len()));
        }
        1 => {
            let now = now_rm(tz);
            if let Some(rec) = store.live_mut(id).and_then(|n| n.rm.first_mut()) {
                if !status.is_empty() {
                    rec.status = status.to_string();
                }
                rec.status_date = now;
            }
            store.audit(
                id,
                audit_events::RECORD_DETAILS_CHANGED,
                user,
                "status by disposition",
            );
            if status.is_empty() {
                "status date stamped".to_string()
            } else {
                format!("status changed to {status}")
            }
        }
        9 => {
            if let Some(rec) = store.live_mut(id).and_then(|n| n.rm.first_mut()) {
                rec.official = true;
            }
            store.audit(
                id,
                audit_events::RECORD_DETAILS_CHANGED,
                user,
                "official by disposition",
            );
            "marked official".to_string()
        }
        _ => format!("{label} recorded"),
    };
    if let Some(n) = store.live_mut(id) {
        n.rm_token = new_token();
    }
    store.audit(id, audit_events::DISPOSITION_PERFORMED, user, label);
    Ok(message)
}
