//! `hold.applied` / `hold.removed` → S3 legal hold ON / OFF on every linked version, and on
//! every P2 archive copy of the record (the copies its archive item lists).
//!
//! OpenText is asked which holds are in force now (direct and inherited) instead of trusting
//! the event alone: a removed hold while another still applies keeps the legal hold ON, and
//! so does a retention that S3 can only express as a legal hold (awaiting an event; for an
//! archive copy, the lock its archive planned).

use std::collections::BTreeMap;

use records_aws::links::LinkedVersion;
use records_domain::archive::ArchiveProgress;
use records_domain::retention::{RETENTION_TAG, legal_hold_wanted};
use records_domain::{AuditAction, Outcome};

use super::opentext_side::holds_in_force;
use super::{Ctx, VersionError, for_each_version};
use crate::StepError;
use crate::lifecycle::Handled;

pub const SCOPE: &str = "hold-sync";

/// The record's archive copies, when it has an archive item with copies.
pub(crate) async fn archive_copies(
    deps: &crate::lifecycle::Deps,
    node_id: u64,
) -> Result<Option<ArchiveProgress>, StepError> {
    Ok(crate::archive::archive_of(deps, node_id)
        .await?
        .map(|(_, progress)| progress)
        .filter(|p| !p.copies.is_empty()))
}

pub(crate) async fn sync(
    ctx: &Ctx<'_>,
    archive: Option<&ArchiveProgress>,
) -> Result<Handled, StepError> {
    let in_force = holds_in_force(&ctx.opentext(), ctx.node_id())
        .await
        .map_err(StepError::from)?;
    let hold_id = ctx.event.data.get("hold_id").cloned().unwrap_or_default();
    let mut done = for_each_version(ctx, SCOPE, AuditAction::HoldSync, |v| {
        let in_force = in_force.clone();
        let hold_id = hold_id.clone();
        async move {
            let object = v.object();
            let state = ctx.lock.state(&object).await?;
            let tags: BTreeMap<String, String> = ctx
                .deps
                .objects
                .tags(&object.bucket, &object.key, Some(&object.version_id))
                .await?;
            let mut wanted = legal_hold_wanted(
                !in_force.is_empty(),
                tags.get(RETENTION_TAG).map(String::as_str),
            );
            if state.legal_hold != wanted {
                ctx.lock.set_legal_hold(&object, wanted).await?;
            }
            if !wanted {
                // A retention sync may have tagged the version meanwhile (it tags before it
                // holds): look again, so a concurrent hold-off cannot undo its hold.
                let again = ctx
                    .deps
                    .objects
                    .tags(&object.bucket, &object.key, Some(&object.version_id))
                    .await?;
                if legal_hold_wanted(false, again.get(RETENTION_TAG).map(String::as_str)) {
                    ctx.lock.set_legal_hold(&object, true).await?;
                    wanted = true;
                }
            }
            let on_off = if wanted { "ON" } else { "OFF" };
            let reason = match (ctx.event.event_type.as_str(), in_force.is_empty(), wanted) {
                ("hold.removed", false, _) => {
                    format!("hold {hold_id} removed; holds {in_force:?} still in force")
                }
                ("hold.removed", true, true) => format!(
                    "hold {hold_id} removed; retention {:?} keeps the legal hold",
                    tags.get(RETENTION_TAG)
                ),
                (t, _, _) => format!("{t} (hold {hold_id})"),
            };
            let ev = ctx
                .audit(
                    &ctx.key(SCOPE, v),
                    AuditAction::HoldSync,
                    Outcome::Succeeded,
                    v,
                )
                .with_reason(reason)
                .with_detail("legal_hold", on_off)
                .with_detail("changed", state.legal_hold != wanted)
                .with_detail("holds_in_force", in_force.clone())
                .with_detail("hold_id", hold_id);
            ctx.append(ev).await.map_err(VersionError::Step)?;
            Ok(format!(
                "{}?versionId={}: legal hold {on_off}",
                v.key, v.version_id
            ))
        }
    })
    .await?;
    if let Some(progress) = archive {
        done.extend(sync_archive_copies(ctx, progress, &in_force, &hold_id).await?);
    }
    Ok(Handled::Done(done.join("; ")))
}

/// The archive copies' legal hold: ON while a hold is in force, OFF when none is, unless the
/// lock the archive planned is itself a legal hold (retention awaiting an event, permanent),
/// which no hold removal undoes.
async fn sync_archive_copies(
    ctx: &Ctx<'_>,
    progress: &ArchiveProgress,
    in_force: &[i64],
    hold_id: &serde_json::Value,
) -> Result<Vec<String>, StepError> {
    let wanted = progress.copy_legal_hold_wanted(!in_force.is_empty());
    let copies: Vec<LinkedVersion> = progress
        .copies
        .iter()
        .map(|c| LinkedVersion {
            bucket: progress.bucket.clone(),
            key: c.key.clone(),
            version_id: c.s3_version_id.clone().unwrap_or_default(),
            sha256: c.sha256.clone(),
        })
        .collect();
    let mut done = Vec::new();
    for v in &copies {
        let object = v.object();
        let state = match ctx.lock.state(&object).await {
            Ok(s) => s,
            Err(e) => match VersionError::from(e) {
                VersionError::Gone(reason) => {
                    let ev = ctx
                        .audit(
                            &ctx.key(SCOPE, v),
                            AuditAction::HoldSync,
                            Outcome::Failed,
                            v,
                        )
                        .with_reason(format!("archive copy not found in S3: {reason}"));
                    ctx.append(ev).await?;
                    continue;
                }
                VersionError::Step(e) => return Err(e),
            },
        };
        if state.legal_hold != wanted {
            ctx.lock
                .set_legal_hold(&object, wanted)
                .await
                .map_err(|e| StepError::Retry(format!("S3: {e}")))?;
        }
        let on_off = if wanted { "ON" } else { "OFF" };
        let reason = match (ctx.event.event_type.as_str(), in_force.is_empty(), wanted) {
            ("hold.removed", false, _) => {
                format!("hold {hold_id} removed; holds {in_force:?} still in force")
            }
            ("hold.removed", true, true) => format!(
                "hold {hold_id} removed; the archive's retention ({:?}) keeps the legal hold",
                progress.lock
            ),
            (t, _, _) => format!("{t} (hold {hold_id})"),
        };
        let ev = ctx
            .audit(
                &ctx.key(SCOPE, v),
                AuditAction::HoldSync,
                Outcome::Succeeded,
                v,
            )
            .with_reason(reason)
            .with_detail("legal_hold", on_off)
            .with_detail("changed", state.legal_hold != wanted)
            .with_detail("holds_in_force", in_force.to_vec())
            .with_detail("hold_id", hold_id.clone())
            .with_detail("archive_copy", true);
        ctx.append(ev).await?;
        done.push(format!(
            "archive copy {}?versionId={}: legal hold {on_off}",
            v.key, v.version_id
        ));
    }
    Ok(done)
}
