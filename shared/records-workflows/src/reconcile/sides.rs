//! Reading each side of a link: OpenText's record, S3's object version.

use records_aws::hashing::DigestSlot;
use records_aws::links::LinkedVersion;
use records_aws::object_lock::ObjectLock;
use records_aws::s3_objects::{S3Error, S3Objects};
use records_domain::drift::{ObjectSide, RecordSide};
use records_domain::retention::RETENTION_TAG;

use crate::governance::opentext_side::{RecordRetention, holds_in_force, record_retention};

pub async fn record_side(
    ot: &opentext_client::Client,
    node_id: u64,
    event_statuses: &std::collections::BTreeSet<String>,
) -> opentext_client::Result<RecordSide> {
    let id = node_id as i64;
    match ot.get_node(id).await {
        Ok(_) => {}
        Err(e) if e.is_not_found() => return Ok(RecordSide::Missing),
        Err(e) => return Err(e),
    }
    let holds = holds_in_force(ot, id).await?;
    let retention = match record_retention(ot, id, event_statuses).await? {
        RecordRetention::Target { target, .. } => Some(target),
        RecordRetention::NoRsi | RecordRetention::Invalid { .. } => None,
    };
    Ok(RecordSide::Found {
        holds_in_force: !holds.is_empty(),
        retention,
    })
}

fn gone(e: &S3Error) -> bool {
    match e {
        S3Error::NotFound { .. } => true,
        // HeadObject on a delete marker.
        S3Error::Refused { code, .. } => code == "MethodNotAllowed",
        _ => false,
    }
}

/// HeadObject for lock and checksum; without a stored SHA-256 the version is re-read and
/// hashed as it streams (no buffering).
pub async fn object_side(
    lock: &ObjectLock,
    objects: &S3Objects,
    v: &LinkedVersion,
) -> Result<ObjectSide, S3Error> {
    let object = v.object();
    let state = match lock.state(&object).await {
        Ok(s) => s,
        Err(e) if gone(&e) => return Ok(ObjectSide::Missing),
        Err(e) => return Err(e),
    };
    let tags = objects.tags(&v.bucket, &v.key, Some(&v.version_id)).await?;
    let sha256 = match state.sha256 {
        Some(s) => Some(s),
        None => {
            let slot = DigestSlot::default();
            let mut reader = objects
                .open(&v.bucket, &v.key, Some(&v.version_id), slot.clone())
                .await?;
            tokio::io::copy(&mut reader, &mut tokio::io::sink())
                .await
                .map_err(|e| S3Error::Transport {
                    op: "GetObject",
                    message: e.to_string(),
                })?;
            slot.get().map(|d| d.sha256_hex)
        }
    };
    Ok(ObjectSide::Found {
        legal_hold: state.legal_hold,
        lock: state.mode.zip(
            state
                .retain_until
                .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok()),
        ),
        retention_tag: tags.get(RETENTION_TAG).cloned(),
        sha256,
    })
}
