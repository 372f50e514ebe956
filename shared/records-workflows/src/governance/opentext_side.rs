//! What OpenText says about a record's governance: holds in force and the retention its
//! RSI and record date ask of S3. Shared by the worker and the reconciler.

use opentext_client::Client;
use opentext_client::model::RsiStage;
use std::collections::BTreeSet;

use records_domain::retention::{
    RetentionError, RetentionTarget, StageRule, retention_after_event, retention_target,
};

/// Ids of the holds in force on the node, direct or inherited from a container.
pub async fn holds_in_force(ot: &Client, node_id: i64) -> opentext_client::Result<Vec<i64>> {
    ot.active_hold_ids(node_id).await
}

/// The record's retention as OpenText defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordRetention {
    /// Not an RM record, or no RSI: nothing for S3 to keep.
    NoRsi,
    Target {
        rsi: String,
        target: RetentionTarget,
    },
    /// The RSI cannot be turned into S3 retention (no stage, no or an unreadable record date).
    Invalid { rsi: String, error: RetentionError },
}

fn stage_rule(s: &RsiStage) -> StageRule {
    StageRule {
        event_type: s.event_type,
        years: s.years.unwrap_or(0),
        months: s.months.unwrap_or(0),
        days: s.days.unwrap_or(0),
    }
}

/// Reads the record details (primary classification) and its RSI's first stage. A record
/// whose status is one of `event_statuses` (the statuses P4's business events set) has had
/// its event: an event-based stage then counts from its record date.
pub async fn record_retention(
    ot: &Client,
    node_id: i64,
    event_statuses: &BTreeSet<String>,
) -> opentext_client::Result<RecordRetention> {
    let rm = ot.rm_classifications(node_id).await?;
    let details = rm.primary();
    let Some(rsi_name) = details
        .and_then(|d| d.rsi.clone())
        .filter(|r| !r.trim().is_empty())
    else {
        return Ok(RecordRetention::NoRsi);
    };
    // Read in the Content Server's time zone (the client's); an unreadable date is said, not
    // taken for a missing one.
    let record_date = match details
        .and_then(|d| d.record_date.as_ref())
        .map(|d| d.instant())
        .transpose()
    {
        Ok(d) => d,
        Err(e) => {
            return Ok(RecordRetention::Invalid {
                rsi: rsi_name,
                error: RetentionError::BadRecordDate(e.to_string()),
            });
        }
    };
    let event_happened = details
        .and_then(|d| d.status.as_deref())
        .is_some_and(|s| event_statuses.contains(&s.trim().to_uppercase()));
    let rsi = ot.find_rsi(&rsi_name).await?;
    let mut stages = rsi.map(|r| r.stages).unwrap_or_default();
    stages.sort_by_key(|s| s.schedule_id.unwrap_or(i64::MAX));
    let rules: Vec<StageRule> = stages.iter().map(stage_rule).collect();
    let target = if event_happened {
        retention_after_event(&rules, record_date)
    } else {
        retention_target(rules.first(), record_date)
    };
    Ok(match target {
        Ok(target) => RecordRetention::Target {
            rsi: rsi_name,
            target,
        },
        Err(error) => RecordRetention::Invalid {
            rsi: rsi_name,
            error,
        },
    })
}
