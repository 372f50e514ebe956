//! S3 → OpenText: a delete marker on a governed object. Nothing is destroyed (the versions
//! stay under the marker and under Object Lock), but OpenText must know: every record that
//! governs a version of the key gets an audit event and a flag.
//!
//! The flag is a line prepended to the record's description,
//! `[records-bridge] S3 delete marker <version id> on s3://bucket/key at <time>`: the
//! description is shown in every Content Server view and editable by records managers who
//! clear it after review. It names the marker's version id: a redelivery finds it and adds
//! neither a second line nor a second audit event.
//!
//! The records are found from the key's earlier versions, which carry the
//! `records-bridge:node-id` tag the declaration set.

use std::collections::BTreeSet;

use records_domain::{AuditAction, AuditEvent, IdempotencyKey, ObjectVersion, Outcome};

use super::{Declared, Deps, ObjectEvent};
use crate::runner::StepError;
use crate::{Invocation, now_rfc3339};

pub const FLAG_PREFIX: &str = "[records-bridge] S3 delete marker";
const NODE_TAG: &str = records_domain::tags::NODE_ID;

/// The flag line for one delete marker.
pub fn flag_line(event: &ObjectEvent) -> String {
    format!(
        "{FLAG_PREFIX} {} on s3://{}/{} at {}",
        event.version_id.as_deref().unwrap_or("null"),
        event.bucket,
        event.key,
        event.event_time.as_deref().unwrap_or("an unknown time"),
    )
}

/// Node ids tagged on the key's versions (delete markers carry no tags).
async fn governing_nodes(deps: &Deps, event: &ObjectEvent) -> Result<BTreeSet<u64>, String> {
    let versions = deps
        .s3
        .versions_of(&event.bucket, &event.key)
        .await
        .map_err(|e| e.to_string())?;
    let mut nodes = BTreeSet::new();
    for version in versions {
        let tags = deps
            .s3
            .tags(&event.bucket, &event.key, Some(&version))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(id) = tags.get(NODE_TAG).and_then(|t| t.parse().ok()) {
            nodes.insert(id);
        }
    }
    Ok(nodes)
}

pub async fn report(
    deps: &Deps,
    event: &ObjectEvent,
    inv: &Invocation,
) -> Result<Declared, StepError> {
    let nodes = governing_nodes(deps, event)
        .await
        .map_err(StepError::Retry)?;
    if nodes.is_empty() {
        return Ok(Declared::Skipped {
            reason: "delete marker on an object no record governs".into(),
        });
    }
    let line = flag_line(event);
    let ot = deps
        .opentext
        .client()
        .await
        .map_err(StepError::Retry)?
        .with_deadline(inv.opentext_deadline());
    for node_id in &nodes {
        let node = ot
            .get_node(*node_id as i64)
            .await
            .map_err(|e| StepError::Retry(format!("OpenText: {e}")))?;
        let description = node.description.unwrap_or_default();
        if description.contains(&line) {
            continue; // reported by an earlier delivery
        }
        let key = IdempotencyKey::from_parts(
            "delete-marker",
            &[
                &event.bucket,
                &event.key,
                event.version_id.as_deref().unwrap_or("null"),
                &node_id.to_string(),
            ],
        );
        let mut ev = AuditEvent::new(
            &key.external_identity(),
            &now_rfc3339(),
            deps.actor.clone(),
            AuditAction::Reconcile,
            Outcome::Succeeded,
        )
        .with_object(ObjectVersion::new(
            &event.bucket,
            &event.key,
            event.version_id.as_deref(),
        ))
        .with_record(*node_id, None)
        .with_reason("S3 delete marker on a governed object: record flagged for review")
        .with_correlation_id(inv.request_id.clone())
        .with_detail("trigger", event.event_name.clone())
        .with_detail("flag", line.clone());
        if let Some(p) = &event.principal {
            ev = ev.with_detail("s3_principal", p.clone());
        }
        // Audit first: a crash before the flag repeats the same event id, never loses it.
        deps.audit
            .append(&ev)
            .await
            .map_err(|e| StepError::Retry(e.to_string()))?;
        let update = opentext_client::NodeUpdate {
            description: Some(if description.is_empty() {
                line.clone()
            } else {
                format!("{line}\n{description}")
            }),
            ..Default::default()
        };
        ot.update_node(*node_id as i64, &update)
            .await
            .map_err(|e| StepError::Retry(format!("OpenText: {e}")))?;
    }
    Ok(Declared::Skipped {
        reason: format!("delete marker reported on records {nodes:?}"),
    })
}
