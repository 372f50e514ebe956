//! One task: find the version's record in the batch, re-read its holds and retention, then
//! delete the version, or refuse, or ask S3 to try again later.

use std::collections::BTreeSet;

use records_aws::batch_operations::{self, RESULT_ALREADY_GONE, RESULT_REFUSED_PREFIX};
use records_domain::ObjectVersion;
use records_domain::disposition::{DispositionDecision, decide};
use records_workflows::StepError;
use records_workflows::disposition::checks;
use time::OffsetDateTime;

use crate::Deps;
use crate::event::{ResultCode, Task};

/// What a task ended in, with what the audit event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub code: ResultCode,
    pub message: String,
    pub version: Option<ObjectVersion>,
    pub node_id: Option<u64>,
    pub sha256: Option<String>,
}

impl Done {
    fn new(code: ResultCode, message: impl Into<String>) -> Self {
        Done {
            code,
            message: message.into(),
            version: None,
            node_id: None,
            sha256: None,
        }
    }
}

fn permanent(why: impl Into<String>) -> Done {
    Done::new(ResultCode::PermanentFailure, why)
}

fn temporary(why: impl Into<String>) -> Done {
    Done::new(ResultCode::TemporaryFailure, why)
}

/// The task's version: bucket, decoded key and a version id (we delete versions only).
pub fn version_of(task: &Task) -> Result<ObjectVersion, String> {
    let key = batch_operations::decode_key(&task.s3_key).map_err(|e| e.to_string())?;
    let version_id = task
        .s3_version_id
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "null")
        .ok_or("the task names no version id: a disposition deletes named versions only")?;
    if task.s3_bucket.is_empty() || key.is_empty() {
        return Err("the task names no bucket or key".into());
    }
    Ok(ObjectVersion::new(&task.s3_bucket, &key, Some(version_id)))
}

/// Runs one task to its result; never deletes unless [`decide`] says destroy.
pub async fn run(
    deps: &Deps,
    batch_id: &str,
    version: &ObjectVersion,
    event_statuses: &BTreeSet<String>,
) -> Done {
    let item = match deps.items.get(batch_id, version).await {
        Ok(Some(item)) => item,
        Ok(None) => {
            return permanent(format!(
                "{RESULT_REFUSED_PREFIX}not in disposition batch {batch_id}: never approved for destruction"
            ));
        }
        Err(e) if e.is_retryable() => return temporary(format!("batch items: {e}")),
        Err(e) => return permanent(format!("batch items: {e}")),
    };
    let mut done = decided(deps, &item.version, item.node_id, event_statuses).await;
    done.node_id = Some(item.node_id);
    done.sha256 = item.sha256;
    done
}

async fn decided(
    deps: &Deps,
    version: &ObjectVersion,
    node_id: u64,
    event_statuses: &BTreeSet<String>,
) -> Done {
    let versions = std::slice::from_ref(version);
    let now = OffsetDateTime::now_utc();
    let inputs = match checks::inputs_for(
        &deps.opentext,
        &deps.lock,
        node_id,
        versions,
        event_statuses,
        now,
    )
    .await
    {
        Ok(inputs) => inputs,
        Err(StepError::Retry(why)) => return temporary(why),
        Err(StepError::Permanent(why)) => return permanent(why),
    };
    match decide(&inputs) {
        DispositionDecision::Refuse(reasons) => {
            let why: Vec<String> = reasons.iter().map(|r| r.message()).collect();
            permanent(format!("{RESULT_REFUSED_PREFIX}{}", why.join("; ")))
        }
        DispositionDecision::Destroy { delete, .. } if delete.is_empty() => {
            Done::new(ResultCode::Succeeded, RESULT_ALREADY_GONE)
        }
        DispositionDecision::Destroy { .. } => {
            match batch_operations::delete_version(&deps.s3, version).await {
                Ok(()) => Done::new(
                    ResultCode::Succeeded,
                    batch_operations::deleted_result(OffsetDateTime::now_utc()),
                ),
                Err(records_aws::s3_objects::S3Error::NotFound { .. }) => {
                    Done::new(ResultCode::Succeeded, RESULT_ALREADY_GONE)
                }
                Err(e) if e.is_retryable() => temporary(format!("S3: {e}")),
                // Access denied, a lock S3 still enforces: final, and nothing was deleted.
                Err(e) => permanent(format!("S3: {e}")),
            }
        }
    }
}
