//! The poller's pure core: what one watched node looked like last time (a snapshot), what it
//! looks like now, and the lifecycle events that turn one into the other.
//!
//! Event ids are derived from the change itself, never from the run, so two overlapping runs
//! that see the same change produce the same ids and downstream dedupe keeps one.
//!
//! Dates in a snapshot are RFC 3339 with a zone: the adapter reads OpenText's own forms
//! (zone-less in the RM API) in the Content Server's time zone before they get here, so what
//! becomes an event's `occurred_at` is already what the event contract asks for.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::lifecycle::{
    EventSource, LIFECYCLE_SCHEMA, LifecycleActor, LifecycleEvent, LifecycleEventType,
};

/// One hold in force on a node, as the REST API lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HoldInForce {
    pub hold_id: u64,
    /// When it was applied, RFC 3339 with a zone (distinguishes a re-application from the
    /// first one); empty when OpenText gives no date.
    pub date_applied: String,
}

/// What the poller saw of one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    pub parent_id: u64,
    /// RM status (`status` / `file_status`), if classified.
    pub status: Option<String>,
    /// RFC 3339 with a zone.
    pub status_date: Option<String>,
    pub holds: BTreeSet<HoldInForce>,
    /// Latest version number.
    pub version: Option<u32>,
    /// RFC 3339 with a zone.
    pub modify_date: Option<String>,
}

/// Where the node was seen and what the watch says about that place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchContext {
    /// The node's folder is an archive folder: arriving there is a `node.moved` event.
    pub arrival_folder: bool,
}

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn event(
    id: String,
    t: LifecycleEventType,
    node_id: u64,
    occurred_at: &str,
    data: BTreeMap<String, serde_json::Value>,
    version: Option<u32>,
) -> LifecycleEvent {
    let mut event_id = format!("poll-{}", safe(&id));
    event_id.truncate(crate::lifecycle::MAX_EVENT_ID_LEN);
    LifecycleEvent {
        schema: LIFECYCLE_SCHEMA,
        event_id,
        event_type: t,
        node_id,
        version,
        occurred_at: occurred_at.to_string(),
        actor: LifecycleActor {
            user_id: None,
            name: Some("records-bridge poller".into()),
        },
        data,
        source: Some(EventSource::Poller),
    }
}

/// The events that lead from `before` (None: never seen) to `now`. `observed_at` (RFC 3339)
/// stands in for OpenText's own time where the API gives none.
pub fn diff(
    node_id: u64,
    before: Option<&NodeSnapshot>,
    now: &NodeSnapshot,
    ctx: WatchContext,
    observed_at: &str,
) -> Vec<LifecycleEvent> {
    let mut out = Vec::new();
    let when = |d: &Option<String>| {
        d.clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| observed_at.to_string())
    };

    let arrived = before.is_none_or(|b| b.parent_id != now.parent_id);
    if arrived && ctx.arrival_folder {
        let at = when(&now.modify_date);
        out.push(event(
            format!("moved-{node_id}-{}-{at}", now.parent_id),
            LifecycleEventType::NodeMoved,
            node_id,
            &at,
            BTreeMap::from([
                ("to_parent_id".into(), now.parent_id.into()),
                ("from_parent_id".into(), before.map(|b| b.parent_id).into()),
            ]),
            None,
        ));
    }

    if let Some(status) = &now.status
        && before.and_then(|b| b.status.as_ref()) != Some(status)
    {
        let at = when(&now.status_date);
        out.push(event(
            format!("status-{node_id}-{status}-{at}"),
            LifecycleEventType::RecordStatusChanged,
            node_id,
            &at,
            BTreeMap::from([("status".into(), status.clone().into())]),
            None,
        ));
    }

    out.extend(hold_events(node_id, before, now, observed_at));

    if let (Some(v), Some(old)) = (now.version, before.and_then(|b| b.version))
        && v > old
    {
        let at = when(&now.modify_date);
        out.push(event(
            format!("version-{node_id}-{v}"),
            LifecycleEventType::VersionAdded,
            node_id,
            &at,
            BTreeMap::new(),
            Some(v),
        ));
    }
    out
}

/// Each hold application that appeared or went since `before`.
fn hold_events(
    node_id: u64,
    before: Option<&NodeSnapshot>,
    now: &NodeSnapshot,
    observed_at: &str,
) -> Vec<LifecycleEvent> {
    let empty = BTreeSet::new();
    let old_holds = before.map(|b| &b.holds).unwrap_or(&empty);
    let mut out = Vec::new();
    for h in now.holds.difference(old_holds) {
        let at = if h.date_applied.is_empty() {
            observed_at.to_string()
        } else {
            h.date_applied.clone()
        };
        out.push(event(
            format!("hold-{node_id}-{}-{}", h.hold_id, h.date_applied),
            LifecycleEventType::HoldApplied,
            node_id,
            &at,
            BTreeMap::from([("hold_id".into(), h.hold_id.into())]),
            None,
        ));
    }
    for h in old_holds.difference(&now.holds) {
        // The removal of one application of a hold: same id whichever run sees it.
        out.push(event(
            format!("unhold-{node_id}-{}-{}", h.hold_id, h.date_applied),
            LifecycleEventType::HoldRemoved,
            node_id,
            observed_at,
            BTreeMap::from([("hold_id".into(), h.hold_id.into())]),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: &str = "2026-11-25T12:00:00Z";

    fn snap(
        parent: u64,
        status: Option<&str>,
        holds: &[(u64, &str)],
        version: u32,
    ) -> NodeSnapshot {
        NodeSnapshot {
            parent_id: parent,
            status: status.map(str::to_string),
            status_date: Some("2026-11-24T09:00:00Z".into()),
            holds: holds
                .iter()
                .map(|(id, d)| HoldInForce {
                    hold_id: *id,
                    date_applied: d.to_string(),
                })
                .collect(),
            version: Some(version),
            modify_date: Some("2026-11-24T09:00:00Z".into()),
        }
    }

    const PLAIN: WatchContext = WatchContext {
        arrival_folder: false,
    };
    const ARCHIVE: WatchContext = WatchContext {
        arrival_folder: true,
    };

    #[test]
    fn nothing_changed_means_no_events() {
        let s = snap(2101, Some("ACTIVE"), &[(6100, "2026-11-01T00:00:00Z")], 2);
        assert!(diff(10001, Some(&s), &s, PLAIN, AT).is_empty());
    }

    #[test]
    fn first_sight_reports_the_current_state() {
        let s = snap(2101, Some("ACTIVE"), &[(6100, "2026-11-01T00:00:00Z")], 1);
        let types: Vec<_> = diff(10001, None, &s, PLAIN, AT)
            .iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            types,
            vec![
                LifecycleEventType::RecordStatusChanged,
                LifecycleEventType::HoldApplied
            ]
        );
    }

    #[test]
    fn each_change_becomes_its_event_and_every_event_is_valid() {
        let before = snap(2101, Some("ACTIVE"), &[(6100, "2026-11-01T00:00:00Z")], 1);
        let now = snap(2200, Some("ARCHIVE"), &[(6101, "2026-11-25T00:00:00Z")], 2);
        let events = diff(10001, Some(&before), &now, ARCHIVE, AT);
        let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
        assert_eq!(
            types,
            vec![
                LifecycleEventType::NodeMoved,
                LifecycleEventType::RecordStatusChanged,
                LifecycleEventType::HoldApplied,
                LifecycleEventType::HoldRemoved,
                LifecycleEventType::VersionAdded,
            ]
        );
        for e in &events {
            e.validate().unwrap();
            assert_eq!(e.source, Some(EventSource::Poller));
        }
        assert_eq!(events[0].data["to_parent_id"], 2200);
    }

    #[test]
    fn the_same_change_seen_by_two_runs_has_the_same_ids() {
        let before = snap(2101, Some("ACTIVE"), &[], 1);
        let now = snap(2101, Some("ARCHIVE"), &[(6100, "2026-11-25T00:00:00Z")], 1);
        let a: Vec<_> = diff(1, Some(&before), &now, PLAIN, "2026-11-25T12:00:00Z")
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        let b: Vec<_> = diff(1, Some(&before), &now, PLAIN, "2026-11-25T12:05:00Z")
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn a_reapplied_hold_is_a_new_event() {
        let first = snap(1, None, &[(6100, "2026-11-01T00:00:00Z")], 1);
        let removed = snap(1, None, &[], 1);
        let again = snap(1, None, &[(6100, "2026-11-20T00:00:00Z")], 1);
        let applied_1 = &diff(1, None, &first, PLAIN, AT)[0].event_id;
        let applied_2 = &diff(1, Some(&removed), &again, PLAIN, AT)[0].event_id;
        assert_ne!(applied_1, applied_2);
    }
}
