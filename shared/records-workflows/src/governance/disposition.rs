//! `disposition.status_changed` → tag `records-bridge:disposition=<status>` on every linked
//! version, keeping the owner's other tags.

use std::collections::BTreeMap;

use records_aws::s3_objects::S3Error;
use records_domain::{AuditAction, Outcome};

use super::{Ctx, VersionError, for_each_version};
use crate::StepError;
use crate::lifecycle::Handled;

pub const SCOPE: &str = "disposition-tag";
pub const DISPOSITION_TAG: &str = records_domain::tags::DISPOSITION;

/// S3 tag values: at most 256 of letters, digits, spaces and `+ - = . _ : / @`.
pub fn tag_value(status: &str) -> String {
    status
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " +-=._:/@".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(256)
        .collect()
}

pub(crate) async fn tag(ctx: &Ctx<'_>) -> Result<Handled, StepError> {
    let status = match ctx.event.data.get("status") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => tag_value(s.trim()),
        other => {
            return Err(StepError::Permanent(format!(
                "data.status must be a non-empty string, got {other:?}"
            )));
        }
    };
    let done = for_each_version(ctx, SCOPE, AuditAction::Tag, |v| {
        let status = status.clone();
        async move {
            let ours = BTreeMap::from([(DISPOSITION_TAG.to_string(), status.clone())]);
            let outcome = match ctx
                .deps
                .objects
                .merge_tags(&v.bucket, &v.key, Some(&v.version_id), &ours)
                .await
            {
                Ok(()) => Ok(()),
                Err(e @ S3Error::TooManyTags { .. }) => Err(e.to_string()),
                Err(e) => return Err(VersionError::from(e)),
            };
            let mut ev = ctx
                .audit(&ctx.key(SCOPE, v), AuditAction::Tag, Outcome::Succeeded, v)
                .with_detail("disposition", status.clone());
            if let Err(reason) = &outcome {
                ev.outcome = Outcome::Failed;
                ev = ev.with_reason(reason.clone());
            }
            ctx.append(ev).await.map_err(VersionError::Step)?;
            Ok(format!(
                "{}?versionId={}: disposition={status}",
                v.key, v.version_id
            ))
        }
    })
    .await?;
    Ok(Handled::Done(done.join("; ")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tag_values_keep_what_s3_allows() {
        assert_eq!(
            super::tag_value("Approved for destruction"),
            "Approved for destruction"
        );
        assert_eq!(super::tag_value("a,b;c"), "a-b-c");
        assert_eq!(super::tag_value(&"x".repeat(300)).len(), 256);
    }
}
