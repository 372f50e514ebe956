//! What the disposition decision reads, fresh, right before anything is deleted: the
//! record's OpenText holds, its RSI's disposition date (the end of the retention its RSI and
//! record date give, as P3 computes it), and each linked version's S3 legal hold and Object
//! Lock retention (or that it is gone). Shared by the disposition workflow and the S3 Batch
//! Operations task, which re-checks each object before it deletes it.

use std::collections::BTreeSet;

use records_aws::object_lock::ObjectLock;
use records_aws::s3_objects::S3Error;
use records_domain::ObjectVersion;
use records_domain::disposition::{DispositionInputs, VersionPresence, VersionState};
use records_domain::retention::{CurrentLock, RetentionTarget};
use time::OffsetDateTime;

use crate::StepError;
use crate::governance::opentext_side::{RecordRetention, holds_in_force, record_retention};

/// The record's disposition inputs now. `event_statuses` are the RM statuses the policy's
/// business events set (an event-based retention has started on a record carrying one).
pub async fn inputs_for(
    ot: &opentext_client::Client,
    lock: &ObjectLock,
    node_id: u64,
    versions: &[ObjectVersion],
    event_statuses: &BTreeSet<String>,
    now: OffsetDateTime,
) -> Result<DispositionInputs, StepError> {
    let id = node_id as i64;
    let holds = holds_in_force(ot, id).await.map_err(StepError::from)?;
    let disposition_date = match record_retention(ot, id, event_statuses)
        .await
        .map_err(StepError::from)?
    {
        RecordRetention::Target {
            target: RetentionTarget::Until { at },
            ..
        } => Some(at),
        // Awaiting its event, permanent, no RSI, or unreadable: no date says it is over.
        _ => None,
    };
    let mut states = Vec::with_capacity(versions.len());
    for v in versions {
        states.push(VersionState {
            version: v.clone(),
            presence: presence(lock, v).await?,
        });
    }
    Ok(DispositionInputs {
        node_id,
        holds_in_force: holds
            .into_iter()
            .filter_map(|h| u64::try_from(h).ok())
            .collect(),
        disposition_date,
        versions: states,
        now,
    })
}

/// One version's S3 side: gone (404 / NoSuchVersion), or its legal hold and lock.
pub async fn presence(lock: &ObjectLock, v: &ObjectVersion) -> Result<VersionPresence, StepError> {
    match lock.state(v).await {
        Ok(state) => Ok(VersionPresence::Present {
            legal_hold: state.legal_hold,
            lock: match (state.mode, state.retain_until) {
                (Some(mode), Some(secs)) => OffsetDateTime::from_unix_timestamp(secs)
                    .ok()
                    .map(|until| CurrentLock { mode, until }),
                _ => None,
            },
        }),
        Err(S3Error::NotFound { .. }) => Ok(VersionPresence::Gone),
        Err(e) => Err(StepError::Retry(format!("S3: {e}"))),
    }
}
