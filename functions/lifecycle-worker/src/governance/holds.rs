//! `hold.applied` / `hold.removed` → S3 legal hold ON / OFF on every linked version.
//!
//! OpenText is asked which holds are in force now (direct and inherited) instead of trusting
//! the event alone: a removed hold while another still applies keeps the legal hold ON, and
//! so does a retention that S3 can only express as a legal hold (awaiting an event).

use std::collections::BTreeMap;

use records_domain::retention::{RETENTION_TAG, legal_hold_wanted};
use records_domain::{AuditAction, Outcome};

use super::opentext_side::holds_in_force;
use super::{Ctx, VersionError, for_each_version, ot_error};
use crate::{Handled, WorkerError};

pub const SCOPE: &str = "hold-sync";

pub(crate) async fn sync(ctx: &Ctx<'_>) -> Result<Handled, WorkerError> {
    let in_force = holds_in_force(&ctx.opentext(), ctx.node_id())
        .await
        .map_err(ot_error)?;
    let hold_id = ctx.event.data.get("hold_id").cloned().unwrap_or_default();
    let done = for_each_version(ctx, SCOPE, AuditAction::HoldSync, |v| {
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
            ctx.append(ev).await.map_err(VersionError::Worker)?;
            Ok(format!(
                "{}?versionId={}: legal hold {on_off}",
                v.key, v.version_id
            ))
        }
    })
    .await?;
    Ok(Handled::Done(done.join("; ")))
}
