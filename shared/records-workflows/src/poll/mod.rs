//! The scheduled poller, for Content Server sites that cannot send event callbacks: it reads
//! what the policy watches through the REST API, diffs it against the snapshot kept in
//! DynamoDB, and sends the resulting lifecycle events to the same queue the signed intake
//! feeds.
//!
//! Never misses: a snapshot is saved only after every event derived from it was sent, so a
//! crash means the next run derives the same events again. Never repeats: event ids come from
//! the change ([`records_domain::poll`]), and each id is claimed in DynamoDB before it is sent,
//! so overlapping runs and reruns send it once.

mod disposition;
pub use disposition::approved_event;

use std::collections::BTreeSet;
use std::time::Duration;

use opentext_client::ListOptions;
use opentext_client::model::{DateError, Node, NodeHold, OtDateTime, RmClassifications};
use records_aws::workflow_store::{Claim, WorkflowStore};
use records_domain::policy::RuleAction;
use records_domain::poll::{HoldInForce, NodeSnapshot, WatchContext, diff};
use records_domain::{LifecycleEvent, Policy};
use serde::Serialize;

use records_aws::snapshots::{SnapshotError, SnapshotStore};

/// What the poller watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Folders whose documents' status and holds are watched (the policy's destinations).
    pub record_folders: BTreeSet<u64>,
    /// Folders whose arrivals are `node.moved` events (archive and publish folders).
    pub arrival_folders: BTreeSet<u64>,
}

impl Watch {
    /// The policy's governed destinations; arrival folders from the policy's archive and
    /// publication triggers plus any given (the `ArchiveFolderIds` parameter).
    pub fn from_policy(policy: &Policy, arrival_folders: impl IntoIterator<Item = u64>) -> Watch {
        use records_domain::policy::archive::ArchiveTrigger;
        let from_policy = policy.archive.iter().flat_map(|a| {
            a.triggers.iter().filter_map(|t| match t {
                ArchiveTrigger::FolderId(f) => Some(*f),
                _ => None,
            })
        });
        let record_folders = policy
            .rules
            .iter()
            .filter_map(|r| match &r.action {
                RuleAction::Govern(spec) => Some(spec.folder_id),
                RuleAction::Ignore => None,
            })
            .collect();
        Watch {
            record_folders,
            arrival_folders: arrival_folders
                .into_iter()
                .chain(from_policy)
                .chain(policy.publication.iter().flat_map(|p| p.folders()))
                .collect(),
        }
    }

    fn folders(&self) -> BTreeSet<u64> {
        self.record_folders
            .union(&self.arrival_folders)
            .copied()
            .collect()
    }
}

#[derive(Clone)]
pub struct Poller {
    pub opentext: opentext_client::Client,
    pub snapshots: SnapshotStore,
    /// Claims of event ids (`event#…`), shared with the intake's replay refusal namespace.
    pub claims: WorkflowStore,
    pub queue: records_aws::lifecycle_queue::LifecycleQueue,
    pub watch: Watch,
    /// P4: RM disposition searches whose completed reviews are acted on.
    pub disposition_searches: Vec<u64>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub nodes_seen: usize,
    pub events_sent: usize,
    /// Derived again but already sent (by an earlier or overlapping run).
    pub events_already_sent: usize,
    /// Nodes left for the next run (an event claimed by a concurrent run, a raced snapshot).
    pub nodes_deferred: usize,
    pub errors: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("OpenText: {0}")]
    OpenText(#[from] opentext_client::Error),
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    /// A date OpenText sent for the node cannot be read: nothing is derived from the node
    /// (a guessed time would be a wrong one) until it can.
    #[error("node {node_id}: {field}: {error}")]
    Date {
        node_id: i64,
        field: &'static str,
        error: DateError,
    },
    #[error("{0}")]
    Other(String),
}

impl Poller {
    pub async fn run(&self, run_id: &str) -> RunReport {
        let mut report = RunReport::default();
        for folder in self.watch.folders() {
            let ctx = WatchContext {
                arrival_folder: self.watch.arrival_folders.contains(&folder),
            };
            let children = match self
                .opentext
                .list_all_children(folder as i64, &ListOptions::default())
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    report.errors.push(format!("folder {folder}: {e}"));
                    continue;
                }
            };
            for node in children.into_iter().filter(|n| n.is_document()) {
                report.nodes_seen += 1;
                if let Err(e) = self.poll_node(node, folder, ctx, run_id, &mut report).await {
                    report.errors.push(e.to_string());
                }
            }
        }
        self.poll_dispositions(run_id, &mut report).await;
        report
    }

    async fn snapshot_of(&self, node: &Node, folder: u64) -> Result<NodeSnapshot, PollError> {
        let rm = self.opentext.rm_classifications(node.id).await?;
        let holds = self.opentext.node_holds(node.id).await?;
        snapshot_from(node, folder, &rm, &holds)
    }

    async fn poll_node(
        &self,
        node: Node,
        folder: u64,
        ctx: WatchContext,
        run_id: &str,
        report: &mut RunReport,
    ) -> Result<(), PollError> {
        let node_id = node.id as u64;
        let now = self.snapshot_of(&node, folder).await?;
        let stored = self.snapshots.load(node_id).await?;
        let events = diff(
            node_id,
            stored.as_ref().map(|s| &s.snapshot),
            &now,
            ctx,
            &crate::now_rfc3339(),
        );
        let mut complete = true;
        for event in &events {
            match self.send_once(event, run_id).await? {
                Sent::Now => report.events_sent += 1,
                Sent::Before => report.events_already_sent += 1,
                Sent::ByAnotherRun => complete = false,
            }
        }
        if !complete {
            report.nodes_deferred += 1;
            return Ok(());
        }
        match self
            .snapshots
            .save(node_id, &now, stored.map(|s| s.rev))
            .await
        {
            Ok(()) => Ok(()),
            Err(SnapshotError::Raced { .. }) => {
                report.nodes_deferred += 1;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn send_once(&self, event: &LifecycleEvent, run_id: &str) -> Result<Sent, PollError> {
        // Never send what the worker would refuse (and the DLQ would keep).
        event.validate().map_err(|e| {
            PollError::Other(format!("derived an invalid event {}: {e}", event.event_id))
        })?;
        let key = event.idempotency_key();
        match self
            .claims
            .claim(key.as_str(), run_id, Duration::from_secs(120))
            .await
        {
            Ok(Claim::Finished(_)) => return Ok(Sent::Before),
            Ok(Claim::Busy(_)) => return Ok(Sent::ByAnotherRun),
            Ok(Claim::Acquired { .. }) => {}
            Err(e) => return Err(PollError::Other(e.to_string())),
        }
        let body = serde_json::to_string(event).expect("plain data");
        if let Err(e) = self.queue.send(body).await {
            let _ = self.claims.release(key.as_str(), run_id).await;
            return Err(PollError::Other(format!("sending {}: {e}", event.event_id)));
        }
        self.claims
            .finish(key.as_str(), run_id, "claimed", "done", "{}")
            .await
            .map_err(|e| PollError::Other(e.to_string()))?;
        tracing::info!(event_id = %event.event_id, r#type = event.event_type.as_str(), node_id = event.node_id, "event sent");
        Ok(Sent::Now)
    }
}

enum Sent {
    Now,
    Before,
    ByAnotherRun,
}

/// What the poller sees of `node` (a document in `folder`), from its record details and
/// holds. Every date is read in the Content Server's time zone (the client's, carried by the
/// values) and kept as RFC 3339 with a zone: what events are stamped with and ids made of.
pub fn snapshot_from(
    node: &Node,
    folder: u64,
    rm: &RmClassifications,
    holds: &[NodeHold],
) -> Result<NodeSnapshot, PollError> {
    let date = |field: &'static str, d: Option<&OtDateTime>| {
        d.map(|d| d.to_rfc3339())
            .transpose()
            .map_err(|error| PollError::Date {
                node_id: node.id,
                field,
                error,
            })
    };
    let primary = rm.primary();
    let holds = holds
        .iter()
        .filter(|h| h.active != Some(false))
        .map(|h| {
            Ok(HoldInForce {
                hold_id: h.hold_id as u64,
                date_applied: date("date_applied", h.date_applied.as_ref())?.unwrap_or_default(),
            })
        })
        .collect::<Result<_, PollError>>()?;
    Ok(NodeSnapshot {
        parent_id: folder,
        status: primary
            .and_then(|p| p.status.clone())
            .filter(|s| !s.is_empty()),
        status_date: date("status_date", primary.and_then(|p| p.status_date.as_ref()))?,
        holds,
        version: None,
        modify_date: date("modify_date", node.modify_date.as_ref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use opentext_client::model::{RecordDetails, ServerTimeZone};
    use records_domain::LifecycleEventType;

    fn opentext_state(
        tz: &str,
        modify: &str,
        status: &str,
        applied: &str,
    ) -> (Node, RmClassifications, Vec<NodeHold>) {
        // As the client returns them: each date carries the client's (server's) zone.
        let tz: ServerTimeZone = tz.parse().unwrap();
        let d = |s: &str| Some(OtDateTime::parse_in(s, tz));
        let node = Node {
            id: 10001,
            node_type: Some(144),
            modify_date: d(modify),
            ..Node::default()
        };
        let rm = RmClassifications {
            data: vec![RecordDetails {
                status: Some("ACTIVE".into()),
                status_date: d(status),
                ..RecordDetails::default()
            }],
            ..RmClassifications::default()
        };
        let holds = vec![NodeHold {
            hold_id: 6100,
            active: Some(true),
            date_applied: d(applied),
            ..NodeHold::default()
        }];
        (node, rm, holds)
    }

    #[test]
    fn zone_less_opentext_dates_become_zoned_occurred_at() {
        // The RM API's own form: `YYYY-MM-DDTHH:mm:ss`, no zone, the server's wall clock.
        let (node, rm, holds) = opentext_state(
            "+02:00",
            "2026-12-01T09:00:00",
            "2026-12-01 08:00:00",
            "2026-12-01T07:38:58",
        );
        let snapshot = snapshot_from(&node, 2200, &rm, &holds).unwrap();
        let archive = WatchContext {
            arrival_folder: true,
        };
        let events = diff(10001, None, &snapshot, archive, "2026-12-01T12:00:00Z");
        let at = |t: LifecycleEventType| {
            let e = events.iter().find(|e| e.event_type == t).unwrap();
            (e.occurred_at.as_str(), e.event_id.as_str())
        };
        assert_eq!(
            at(LifecycleEventType::HoldApplied),
            (
                "2026-12-01T05:38:58Z",
                "poll-hold-10001-6100-2026-12-01T05:38:58Z"
            )
        );
        assert_eq!(
            at(LifecycleEventType::RecordStatusChanged).0,
            "2026-12-01T06:00:00Z"
        );
        assert_eq!(at(LifecycleEventType::NodeMoved).0, "2026-12-01T07:00:00Z");
        assert_eq!(events.len(), 3);
        for e in &events {
            e.validate().unwrap();
            // What the worker receives parses as the contract says.
            records_domain::LifecycleEvent::parse(serde_json::to_string(e).unwrap().as_bytes())
                .unwrap();
        }
    }

    #[test]
    fn dates_sent_with_a_zone_keep_their_instant_whatever_the_setting() {
        for tz in ["UTC", "+02:00", "-05:00"] {
            let (node, rm, holds) = opentext_state(
                tz,
                "2026-12-01T09:00:00+02:00",
                "2026-12-01T06:00:00Z",
                "2026-12-01T00:38:58-05:00",
            );
            let s = snapshot_from(&node, 2101, &rm, &holds).unwrap();
            assert_eq!(s.modify_date.as_deref(), Some("2026-12-01T07:00:00Z"));
            assert_eq!(s.status_date.as_deref(), Some("2026-12-01T06:00:00Z"));
            assert_eq!(
                s.holds.first().unwrap().date_applied,
                "2026-12-01T05:38:58Z"
            );
        }
    }

    #[test]
    fn an_unreadable_date_is_an_error_for_the_node_never_a_guessed_time() {
        let (node, rm, holds) = opentext_state(
            "UTC",
            "2026-12-01T09:00:00",
            "2026-12-01T08:00:00",
            "01/12/2026 07:38",
        );
        let err = snapshot_from(&node, 2101, &rm, &holds)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("node 10001: date_applied: OpenText date \"01/12/2026 07:38\""),
            "{err}"
        );
        // A date the API does not give at all is no error: the run's time stands in.
        let (node, rm, mut holds) =
            opentext_state("UTC", "2026-12-01T09:00:00", "2026-12-01T08:00:00", "x");
        holds[0].date_applied = None;
        let s = snapshot_from(&node, 2101, &rm, &holds).unwrap();
        assert_eq!(s.holds.first().unwrap().date_applied, "");
    }

    #[test]
    fn watches_governed_destinations_and_archive_and_publish_folders() {
        let policy = Policy::from_yaml(
            r#"
version: 1
provenance: { category_id: 3100, attributes: { bucket: 2, key: 3, version_id: 4, etag: 5, size: 6, sha256: 7 } }
rules:
  - name: finance
    match: { key_prefix: "finance/" }
    destination: { folder_id: 2101 }
    mode: copy
    on_existing_name: new_version
    classification: { id: 4100 }
    record: { rsi: FIN-7Y, official: true, record_date: upload_time }
  - name: drafts
    match: { key_prefix: "drafts/" }
    action: ignore
archive:
  triggers: [ { folder_id: 2200 }, { status: ARCHIVE } ]
  versions: all
  storage_class: GLACIER_IR
  retention_mode: COMPLIANCE
  release_content: false
  location_attribute: "3100_9"
publication:
  triggers: [ { folder_id: 2400 }, request ]
  approval: { rm_status: [APPROVED], version_attribute: "3300_3" }
  audience: public
  key: "{node_id}/{name}"
"#,
        )
        .unwrap();
        let watch = Watch::from_policy(&policy, [2300]);
        assert_eq!(watch.record_folders, BTreeSet::from([2101]));
        assert_eq!(watch.arrival_folders, BTreeSet::from([2200, 2300, 2400]));
    }
}
