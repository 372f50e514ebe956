//! `retention.changed` → Object Lock retain-until on every linked version, from the
//! record's RSI and record date. Never shortens a COMPLIANCE lock (refused, audited with the
//! reason; moto would accept it, real S3 would not, and we never ask). Retention that waits
//! on an event (or is permanent) is kept as a legal hold plus the tag
//! `records-bridge:retention=awaiting-event|permanent` until OpenText gives it a date.

use std::collections::BTreeMap;

use records_domain::retention::{
    CurrentLock, RETENTION_TAG, RetentionChange, RetentionTarget, retention_change, rfc3339,
};
use records_domain::{AuditAction, Outcome};

use super::opentext_side::{RecordRetention, holds_in_force, record_retention};
use super::{Ctx, VersionError, for_each_version};
use crate::StepError;
use crate::lifecycle::Handled;

pub const SCOPE: &str = "retention-sync";
/// Tag value once the retention is a date again.
pub const DATED: &str = "dated";

pub(crate) async fn sync(ctx: &Ctx<'_>) -> Result<Handled, StepError> {
    let ot = ctx.opentext();
    let event_statuses = ctx.deps.policy.get().business_events.event_statuses();
    let (rsi, target) = match record_retention(&ot, ctx.node_id(), &event_statuses)
        .await
        .map_err(StepError::from)?
    {
        RecordRetention::NoRsi => {
            return Ok(Handled::Nothing("the record has no RSI".into()));
        }
        RecordRetention::Invalid { rsi, error } => {
            let reason = format!("RSI {rsi}: {error}");
            for v in &ctx.versions {
                let ev = ctx
                    .audit(
                        &ctx.key(SCOPE, v),
                        AuditAction::RetentionSync,
                        Outcome::Failed,
                        v,
                    )
                    .with_reason(reason.clone());
                ctx.append(ev).await?;
            }
            return Ok(Handled::Done(format!("retention not set: {reason}")));
        }
        RecordRetention::Target { rsi, target } => (rsi, target),
    };
    let done = match target {
        RetentionTarget::Until { at } => {
            for_each_version(ctx, SCOPE, AuditAction::RetentionSync, |v| {
                let rsi = rsi.clone();
                async move { apply_date(ctx, v, &rsi, at).await }
            })
            .await?
        }
        ref held => {
            let tag = held.hold_tag().unwrap_or_default();
            for_each_version(ctx, SCOPE, AuditAction::RetentionSync, |v| {
                let rsi = rsi.clone();
                async move { hold_for(ctx, v, &rsi, tag).await }
            })
            .await?
        }
    };
    Ok(Handled::Done(done.join("; ")))
}

async fn apply_date(
    ctx: &Ctx<'_>,
    v: &records_aws::links::LinkedVersion,
    rsi: &str,
    at: time::OffsetDateTime,
) -> Result<String, VersionError> {
    let object = v.object();
    let state = ctx.lock.state(&object).await?;
    let current = match (state.mode, state.retain_until) {
        (Some(mode), Some(secs)) => time::OffsetDateTime::from_unix_timestamp(secs)
            .ok()
            .map(|until| CurrentLock { mode, until }),
        _ => None,
    };
    let cfg = &ctx.deps.governance;
    let change = retention_change(current, at, cfg.lock_mode, cfg.allow_governance_shortening);
    let base = ctx
        .audit(
            &ctx.key(SCOPE, v),
            AuditAction::RetentionSync,
            Outcome::Succeeded,
            v,
        )
        .with_detail("rsi", rsi)
        .with_detail("retain_until", rfc3339(at))
        .with_detail(
            "previous",
            current
                .map(|c| format!("{} until {}", c.mode.as_str(), rfc3339(c.until)))
                .unwrap_or_else(|| "none".into()),
        );
    let (ev, what) = match change {
        RetentionChange::Unchanged => (
            base.with_reason("already retained until that date"),
            "unchanged".to_string(),
        ),
        RetentionChange::Apply { mode, until } => {
            ctx.lock
                .set_retention(&object, mode, until.unix_timestamp(), false)
                .await?;
            (
                base.with_detail("mode", mode.as_str())
                    .with_reason(format!("RSI {rsi}: retain until {}", rfc3339(until))),
                format!("retain until {}", rfc3339(until)),
            )
        }
        RetentionChange::ShortenGovernance { until } => {
            ctx.lock
                .set_retention(
                    &object,
                    records_domain::retention::LockMode::Governance,
                    until.unix_timestamp(),
                    true,
                )
                .await?;
            (
                base.with_detail("mode", "GOVERNANCE").with_reason(
                    "GOVERNANCE retention shortened as OpenText asks (bypass allowed)",
                ),
                format!("shortened to {}", rfc3339(until)),
            )
        }
        RetentionChange::RefuseShorten { reason, .. } => {
            let mut ev = base.with_reason(reason.clone());
            ev.outcome = Outcome::Denied;
            (ev, "shortening refused".to_string())
        }
    };
    ctx.append(ev).await.map_err(VersionError::Step)?;
    release_event_hold(ctx, v).await?;
    Ok(format!("{}?versionId={}: {what}", v.key, v.version_id))
}

/// A version held for an event whose retention now has a date: mark the tag and drop the
/// legal hold unless an OpenText hold is in force.
async fn release_event_hold(
    ctx: &Ctx<'_>,
    v: &records_aws::links::LinkedVersion,
) -> Result<(), VersionError> {
    let tags = ctx
        .deps
        .objects
        .tags(&v.bucket, &v.key, Some(&v.version_id))
        .await?;
    if !matches!(tags.get(RETENTION_TAG).map(String::as_str), Some(t) if t != DATED) {
        return Ok(());
    }
    let holds = holds_in_force(&ctx.opentext(), ctx.node_id())
        .await
        .map_err(|e| VersionError::Step(StepError::from(e)))?;
    let ours = BTreeMap::from([(RETENTION_TAG.to_string(), DATED.to_string())]);
    ctx.deps
        .objects
        .merge_tags(&v.bucket, &v.key, Some(&v.version_id), &ours)
        .await?;
    if holds.is_empty() {
        ctx.lock.set_legal_hold(&v.object(), false).await?;
    }
    Ok(())
}

async fn hold_for(
    ctx: &Ctx<'_>,
    v: &records_aws::links::LinkedVersion,
    rsi: &str,
    tag: &str,
) -> Result<String, VersionError> {
    let object = v.object();
    let ours = BTreeMap::from([(RETENTION_TAG.to_string(), tag.to_string())]);
    // Tag first: a hold sync running meanwhile then sees why the legal hold must stay.
    ctx.deps
        .objects
        .merge_tags(&v.bucket, &v.key, Some(&v.version_id), &ours)
        .await?;
    let state = ctx.lock.state(&object).await?;
    if !state.legal_hold {
        ctx.lock.set_legal_hold(&object, true).await?;
    }
    let ev = ctx
        .audit(
            &ctx.key(SCOPE, v),
            AuditAction::RetentionSync,
            Outcome::Succeeded,
            v,
        )
        .with_detail("rsi", rsi)
        .with_detail("legal_hold", "ON")
        .with_detail(RETENTION_TAG, tag)
        .with_reason(format!(
            "RSI {rsi}: retention {tag}; kept under an S3 legal hold until OpenText gives it a date"
        ));
    ctx.append(ev).await.map_err(VersionError::Step)?;
    Ok(format!(
        "{}?versionId={}: legal hold ({tag})",
        v.key, v.version_id
    ))
}
