//! The OpenText side of archiving: the plan (versions and retention), the archive location on
//! the record, and the release of the electronic content.

use std::sync::Arc;

use opentext_client::model::RecordUpdate;
use opentext_client::{BytesSource, Provenance, VersionOptions};
use records_domain::archive::{ArchiveState, PlannedCopy, STUB_DESCRIPTION, archive_key};
use records_domain::policy::VersionSelection;
use records_domain::retention::{RetentionTarget, StageRule, retention_target};
use records_domain::{AuditAction, EXTERNAL_IDENTITY_TYPE, Outcome};
use serde_json::{Map, Value, json};

use super::{Run, StepError};
use crate::governance::opentext_side::holds_in_force;

fn permanent(m: impl Into<String>) -> StepError {
    StepError::Permanent(m.into())
}

/// Freezes which versions are copied and how they are locked.
pub(crate) async fn plan(run: &mut Run<'_>) -> Result<(), StepError> {
    let id = run.ot_id();
    let node = run.ot.get_node(id).await?;
    let mut versions = run.ot.list_versions(id).await?;
    if versions.is_empty() {
        return Err(permanent(format!("node {id} has no versions to archive")));
    }
    if run.policy.versions == VersionSelection::Latest {
        versions = versions.split_off(versions.len() - 1);
    }
    let mut planned = Vec::new();
    for v in versions {
        let number = u32::try_from(v.version_number)
            .map_err(|_| permanent(format!("version number {} is invalid", v.version_number)))?;
        let size = v
            .file_size
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| permanent(format!("version {number} has no file size")))?;
        let file_name = v.file_name.clone().unwrap_or_else(|| node.name.clone());
        planned.push(PlannedCopy {
            version_number: number,
            key: archive_key(run.node_id, number, &file_name),
            file_name,
            size,
        });
    }
    run.progress.planned = planned;
    run.progress.lock = lock(run).await?;
    Ok(())
}

/// The copies' Object Lock, from the record's RSI and record date (the rule P3 applies too).
async fn lock(run: &Run<'_>) -> Result<Option<RetentionTarget>, StepError> {
    let id = run.ot_id();
    let rm = run.ot.rm_classifications(id).await?;
    let details = rm
        .data
        .iter()
        .find(|d| d.rsi.as_deref().is_some_and(|r| !r.trim().is_empty()))
        .ok_or_else(|| {
            permanent(format!(
                "node {id} has no RSI: the archive retention cannot be derived"
            ))
        })?;
    let rsi_name = details.rsi.clone().unwrap_or_default();
    let rsi_id = find_rsi(run, &rsi_name).await?;
    let rsi = run.ot.get_rsi(rsi_id).await?;
    let first = rsi.stages.first().map(|s| StageRule {
        event_type: s.event_type,
        years: s.years.unwrap_or(0),
        months: s.months.unwrap_or(0),
        days: s.days.unwrap_or(0),
    });
    let record_date = details.record_date.as_ref().and_then(|d| d.datetime());
    let target = retention_target(first.as_ref(), record_date)
        .map_err(|e| permanent(format!("RSI {rsi_name}: {e}")))?;
    if let RetentionTarget::Until { at } = &target
        && *at <= time::OffsetDateTime::now_utc()
    {
        // S3 refuses a retain-until in the past; the record's retention has run out.
        tracing::warn!(rsi = %rsi_name, until = %at, "retention already elapsed: copies are not locked");
        return Ok(None);
    }
    Ok(Some(target))
}

async fn find_rsi(run: &Run<'_>, name: &str) -> Result<i64, StepError> {
    match run.ot.find_rsi(name).await? {
        Some(r) => Ok(r.id),
        None => Err(permanent(format!("RSI {name:?} not found in OpenText"))),
    }
}

/// Records the archive location: the policy's category attribute and, when set, RM storage.
pub(crate) async fn locate(run: &mut Run<'_>) -> Result<(), StepError> {
    let id = run.ot_id();
    let category = run.policy.location_category_id() as i64;
    let mut values = Map::new();
    values.insert(
        run.policy.location_attribute.clone(),
        json!(run.progress.location(run.node_id)),
    );
    if run.ot.get_category(id, category).await?.is_some() {
        run.ot.update_category(id, category, &values).await?;
    } else {
        run.ot.apply_category(id, category, &values).await?;
    }
    if let Some(code) = &run.policy.rm_storage {
        let update = RecordUpdate {
            storage: Some(code.clone()),
            ..Default::default()
        };
        run.ot.update_record_details_now(id, &update).await?;
    }
    Ok(())
}

/// How a release attempt ended.
pub(crate) enum Release {
    /// Only the stub is left in OpenText.
    Done,
    /// OpenText refused the purge for another reason than a hold: its answer.
    Refused(String),
    /// Holds in force (found before the stub, or the reason OpenText refused the purge):
    /// nothing is released until they are removed.
    Deferred(Vec<i64>),
}

/// Releases OpenText's content: a stub version naming the archive copies becomes the only
/// version. Never under hold, never unless every copy is verified, never past a version that
/// was not archived.
///
/// Order: holds are asked first, so a held record gets no stub at all. Then the stub, then
/// the purge of the older versions (Content Server needs a current version, and keeps the
/// newest: the purge cannot come first). The purge can still be refused (a hold applied in
/// between, a missing `delete_versions` right), so the stub says only what is true either way
/// (archived and verified; release requested). A rerun finds the stub by its external
/// identity and never adds a second.
pub(crate) async fn release(run: &mut Run<'_>) -> Result<Release, StepError> {
    let id = run.ot_id();
    if !run.progress.all_verified() {
        return Err(permanent(
            "not every archive copy is verified; OpenText content is not released",
        ));
    }
    let holds = holds_in_force(&run.ot, id).await?;
    if !holds.is_empty() {
        return Ok(Release::Deferred(holds));
    }
    // An earlier deferral's or refusal's reason no longer holds.
    run.progress.reason = None;
    if !run.progress.holds.is_empty() {
        // Held earlier: the copies' legal holds come off with the last hold (unless their
        // retention is kept as a legal hold), as the hold sync does.
        super::copy::hold_copies(run, false).await?;
        run.progress.holds.clear();
    }
    let stub = ensure_stub(run).await?;
    run.progress.stub_version = u32::try_from(stub).ok();
    run.save(ArchiveState::Located).await?;
    run.deps.crash_point("stub_added");
    let newest = run.ot.list_versions(id).await?;
    if newest.last().map(|v| v.version_number) != Some(stub) {
        return Err(permanent(format!(
            "a version was added to node {id} after the release stub; its content is not released"
        )));
    }
    if let Err(e) = run.ot.purge_versions(id, 1).await {
        return purge_refused(run, stub, e).await;
    }
    let left = run.ot.list_versions(id).await?;
    if left.len() != 1 || !is_stub(run, &left[0]) {
        return Err(permanent(format!(
            "after the purge node {id} still has versions {:?}",
            left.iter().map(|v| v.version_number).collect::<Vec<_>>()
        )));
    }
    let purged: Vec<Value> = run
        .progress
        .planned
        .iter()
        .map(|p| json!(p.version_number))
        .collect();
    let ev = run
        .event(AuditAction::ReleaseContent, Outcome::Succeeded, "released")
        .with_detail("purged_versions", Value::Array(purged))
        .with_detail("stub_version", stub)
        .with_detail("location", run.progress.location(run.node_id));
    run.audit(ev).await;
    Ok(Release::Done)
}

/// Whether `v` is this archive's release stub (found by its external identity).
fn is_stub(run: &Run<'_>, v: &opentext_client::model::Version) -> bool {
    v.external_identity.as_deref() == Some(run.key.external_identity().as_str())
}

/// The stub version's number: the one an earlier attempt added, or a new one. Refused while
/// a version that was not archived exists (it would be purged without a copy).
async fn ensure_stub(run: &Run<'_>) -> Result<i64, StepError> {
    let id = run.ot_id();
    let versions = run.ot.list_versions(id).await?;
    let unarchived: Vec<i64> = versions
        .iter()
        .filter(|v| !is_stub(run, v))
        .filter(|v| {
            !run.progress
                .planned
                .iter()
                .any(|p| i64::from(p.version_number) == v.version_number)
        })
        .map(|v| v.version_number)
        .collect();
    if !unarchived.is_empty() {
        return Err(permanent(format!(
            "version(s) {unarchived:?} of node {id} are not archived; its content is not released"
        )));
    }
    if let Some(v) = versions.iter().find(|v| is_stub(run, v)) {
        return Ok(v.version_number);
    }
    let text = run.progress.stub_text(run.node_id);
    let opts = VersionOptions {
        description: Some(STUB_DESCRIPTION.into()),
        provenance: Provenance {
            external_source: Some("cloud_storage".into()),
            external_identity: Some(run.key.external_identity()),
            external_identity_type: Some(EXTERNAL_IDENTITY_TYPE.into()),
        },
        ..Default::default()
    };
    let source = BytesSource::new(text.into_bytes(), "ARCHIVED.txt").with_mime_type("text/plain");
    Ok(run
        .ot
        .add_version(id, Arc::new(source), &opts)
        .await?
        .version_number)
}

/// OpenText refused the purge: retried when transient, deferred when a hold came in since the
/// check, else reported as refused with OpenText's answer.
async fn purge_refused(
    run: &Run<'_>,
    stub: i64,
    e: opentext_client::Error,
) -> Result<Release, StepError> {
    let id = run.ot_id();
    let refusal = StepError::from(e);
    let StepError::Permanent(answer) = refusal else {
        // Transient (outage, throttling, deadline): the next delivery purges again.
        return Err(refusal);
    };
    // A hold applied since the check makes Content Server refuse the purge.
    let holds = holds_in_force(&run.ot, id).await?;
    if !holds.is_empty() {
        return Ok(Release::Deferred(holds));
    }
    let archived: Vec<u32> = run
        .progress
        .planned
        .iter()
        .map(|p| p.version_number)
        .collect();
    Ok(Release::Refused(format!(
        "release refused: OpenText would not purge the archived versions {archived:?} of node \
         {id} ({answer}); the verified archive copies are kept, and the stub version {stub} \
         says the release is requested, not done"
    )))
}
