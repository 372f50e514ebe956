//! P4, first half: a business event (`claim.settled` on claim `CL-9`) starts the retention
//! of its business object's records.
//!
//! The policy's `business_events` rule for the event type says which business object type
//! it concerns, the RM status to set and, optionally, an OpenText search for records
//! declared elsewhere. The records are found through the business object index the declare
//! function writes (a Query on the workflow table's GSI), plus that search. For each:
//! 1. OpenText: the record date (the event's date) and the status are set in the record
//!    details under `rm_metadataToken`, so the RSI's event-based stage starts;
//! 2. S3: a `retention.changed` for the record runs P3's retention sync, which reads the RSI
//!    and record date back from OpenText, sets Object Lock retention on every linked
//!    version (extend only; COMPLIANCE stays COMPLIANCE) and lifts the "awaiting event"
//!    legal hold unless an OpenText hold is in force.
//!
//! Every change is audited. An event whose object has no records fails (it is recorded and
//! audited first): SQS redelivers it — the records may still be on their way in — until the
//! dead-letter queue keeps it for a person, so it is never lost.

use std::collections::BTreeMap;

use records_aws::business_index::BusinessIndex;
use records_domain::business_event::BusinessEvent;
use records_domain::lifecycle::{EventSource, LIFECYCLE_SCHEMA, LifecycleActor};
use records_domain::policy::BusinessEventRule;
use records_domain::{AuditAction, AuditEvent, LifecycleEvent, LifecycleEventType, Outcome};

use crate::lifecycle::{Deps, Handled};
use crate::{Invocation, StepError, governance, now_rfc3339};

/// Most records one business event acts on through OpenText's search (the index has no cap).
const SEARCH_LIMIT: usize = 1000;

pub async fn on_business_event(
    deps: &Deps,
    event: &BusinessEvent,
    inv: &Invocation,
) -> Result<Handled, StepError> {
    let policy = deps.policy.get();
    let Some(rule) = policy.business_events.rule_for(&event.event_type) else {
        let reason = format!(
            "no business_events rule for {}: nothing changes",
            event.event_type
        );
        audit(deps, inv, event, None, Outcome::Skipped, &reason).await?;
        return Ok(Handled::Nothing(reason));
    };
    if !rule
        .object_type
        .eq_ignore_ascii_case(event.business_object.object_type.trim())
    {
        let reason = format!(
            "{} names a {}, its rule expects a {}",
            event.event_type, event.business_object.object_type, rule.object_type
        );
        audit(deps, inv, event, None, Outcome::Failed, &reason).await?;
        return Err(StepError::Permanent(reason));
    }
    let nodes = records_of(deps, inv, event, rule).await?;
    if nodes.is_empty() {
        let reason = format!(
            "no records found for {}: kept for redelivery, then the dead-letter queue",
            event.business_object
        );
        audit(deps, inv, event, None, Outcome::Failed, &reason).await?;
        return Err(StepError::Permanent(reason));
    }
    let mut done = Vec::new();
    for node_id in nodes {
        set_record_details(deps, inv, event, rule, node_id).await?;
        let synced = governance::on_event(deps, &retention_changed(event, node_id), inv).await?;
        done.push(match synced {
            Handled::Done(what) | Handled::Nothing(what) => format!("node {node_id}: {what}"),
        });
    }
    Ok(Handled::Done(done.join("; ")))
}

/// The index's records, and the policy's search's where it has one.
async fn records_of(
    deps: &Deps,
    inv: &Invocation,
    event: &BusinessEvent,
    rule: &BusinessEventRule,
) -> Result<Vec<u64>, StepError> {
    let index = BusinessIndex::new(deps.dynamodb.clone(), &deps.workflow_table);
    let mut nodes = index
        .records_of(&event.business_object)
        .await
        .map_err(|e| StepError::Retry(e.to_string()))?;
    if let Some(lql) = rule.search_for(event.business_object.id.trim()) {
        let ot = deps.opentext.with_deadline(inv.opentext_deadline());
        let found = ot
            .search(&lql, SEARCH_LIMIT)
            .await
            .map_err(StepError::from)?;
        nodes.extend(
            found
                .into_iter()
                .filter_map(|hit| u64::try_from(hit.id).ok()),
        );
    }
    nodes.sort_unstable();
    nodes.dedup();
    Ok(nodes)
}

/// Record date = the event's date (UTC), status = the rule's; under the record's
/// `rm_metadataToken`, re-read once when another writer changed the record meanwhile.
async fn set_record_details(
    deps: &Deps,
    inv: &Invocation,
    event: &BusinessEvent,
    rule: &BusinessEventRule,
    node_id: u64,
) -> Result<(), StepError> {
    let occurred = event
        .occurred()
        .ok_or_else(|| StepError::Permanent("the event has no readable occurred_at".into()))?;
    let date = occurred
        .to_offset(time::UtcOffset::UTC)
        .date()
        .format(time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| StepError::Permanent(e.to_string()))?;
    let update = opentext_client::model::RecordUpdate {
        record_date: Some(date.clone()),
        status: rule.status.clone(),
        status_date: rule.status.as_ref().map(|_| date.clone()),
        ..Default::default()
    };
    deps.opentext
        .with_deadline(inv.opentext_deadline())
        .update_record_details_now(node_id as i64, &update)
        .await
        .map_err(StepError::from)?;
    let what = match &rule.status {
        Some(s) => format!("record date {date}, status {s}"),
        None => format!("record date {date}"),
    };
    audit(deps, inv, event, Some(node_id), Outcome::Succeeded, &what).await
}

/// What OpenText itself would say after the change: the record's retention inputs changed.
fn retention_changed(event: &BusinessEvent, node_id: u64) -> LifecycleEvent {
    LifecycleEvent {
        schema: LIFECYCLE_SCHEMA,
        event_id: format!("{}:node:{node_id}", event.event_id),
        event_type: LifecycleEventType::RetentionChanged,
        node_id,
        version: None,
        occurred_at: now_rfc3339(),
        actor: LifecycleActor {
            user_id: None,
            name: Some(format!("business event {}", event.event_id)),
        },
        data: BTreeMap::new(),
        source: Some(EventSource::Callback),
    }
}

async fn audit(
    deps: &Deps,
    inv: &Invocation,
    event: &BusinessEvent,
    node_id: Option<u64>,
    outcome: Outcome,
    reason: &str,
) -> Result<(), StepError> {
    let key = records_domain::IdempotencyKey::from_parts(
        "business-event",
        &[
            &event.event_id,
            &node_id.map(|n| n.to_string()).unwrap_or_default(),
            &format!("{outcome:?}"),
        ],
    );
    let mut ev = AuditEvent::new(
        &key.external_identity(),
        &now_rfc3339(),
        deps.actor.clone(),
        AuditAction::BusinessEvent,
        outcome,
    )
    .with_correlation_id(inv.request_id.clone())
    .with_reason(reason)
    .with_detail("business_event_id", event.event_id.clone())
    .with_detail("event_type", event.event_type.clone())
    .with_detail("business_object", event.business_object.index_key())
    .with_detail("event_source", event.source.clone())
    .with_detail("occurred_at", event.occurred_at.clone());
    if let Some(node_id) = node_id {
        ev = ev.with_record(node_id, None);
    }
    deps.audit
        .append(&ev)
        .await
        .map_err(|e| StepError::Retry(e.to_string()))
}
