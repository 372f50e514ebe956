//! P4 from the REST API: the poller reads the watched disposition searches' snapshots and,
//! once a snapshot's review is complete and it approves items whose action destroys
//! content, sends one `disposition.approved` for it (the same event a callback sends). The
//! event id names the snapshot, so it is sent once; the worker's batch is per snapshot too.

use records_domain::lifecycle::{EventSource, LIFECYCLE_SCHEMA, LifecycleActor};
use records_domain::{LifecycleEvent, LifecycleEventType};

use super::{PollError, Poller, RunReport, Sent};
use crate::disposition::{DESTROYING_ACTIONS, snapshot_stamp};

impl Poller {
    pub(super) async fn poll_dispositions(&self, run_id: &str, report: &mut RunReport) {
        for &search in &self.disposition_searches {
            if let Err(e) = self.poll_search(search, run_id, report).await {
                report
                    .errors
                    .push(format!("disposition search {search}: {e}"));
            }
        }
    }

    async fn poll_search(
        &self,
        search: u64,
        run_id: &str,
        report: &mut RunReport,
    ) -> Result<(), PollError> {
        for snapshot in self.opentext.disposition_snapshots(search as i64).await? {
            let complete = snapshot
                .review_status
                .as_deref()
                .is_some_and(|s| s.to_ascii_lowercase().contains("complete"));
            if !complete {
                continue;
            }
            let items = self
                .opentext
                .disposition_snapshot(search as i64, &snapshot.qdate)
                .await?;
            let due = items.iter().any(|i| {
                i.is_approved()
                    && !i.action_performed
                    && i.disp_action
                        .is_some_and(|a| DESTROYING_ACTIONS.contains(&a))
            });
            if !due {
                continue;
            }
            let event = approved_event(search, snapshot.qdate.as_str());
            match self.send_once(&event, run_id).await? {
                Sent::Now => report.events_sent += 1,
                Sent::Before => report.events_already_sent += 1,
                Sent::ByAnotherRun => report.nodes_deferred += 1,
            }
        }
        Ok(())
    }
}

/// The event for one snapshot: its id made of the search and the snapshot's date.
pub fn approved_event(search: u64, qdate: &str) -> LifecycleEvent {
    let stamp = snapshot_stamp(qdate);
    LifecycleEvent {
        schema: LIFECYCLE_SCHEMA,
        event_id: format!("poll:disposition:{search}:{stamp}"),
        event_type: LifecycleEventType::DispositionApproved,
        node_id: search,
        version: None,
        occurred_at: crate::now_rfc3339(),
        actor: LifecycleActor {
            user_id: None,
            name: Some("disposition review".into()),
        },
        data: [("qdate".to_string(), serde_json::Value::from(qdate))].into(),
        source: Some(EventSource::Poller),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_event_per_snapshot_and_it_validates() {
        let a = super::approved_event(7100, "2026-12-01T09:00:00");
        let b = super::approved_event(7100, "2026-12-01T09:00:00");
        assert_eq!(a.event_id, b.event_id);
        assert_eq!(a.event_id, "poll:disposition:7100:20261201T090000");
        a.validate().unwrap();
        assert_ne!(
            a.event_id,
            super::approved_event(7100, "2026-12-02T09:00:00").event_id
        );
    }
}
