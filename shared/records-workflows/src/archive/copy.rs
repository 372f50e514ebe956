//! Copying versions from OpenText to the archive bucket, and verifying the copies.
//!
//! Upload design: two streamed reads of each version from OpenText. The first computes the
//! SHA-256 (OpenText's REST API has no hash: this is the chain of custody's starting point);
//! the second streams straight into one `PutObject` carrying that hash as
//! `x-amz-checksum-sha256`, so S3 itself refuses the body if it differs from the first read
//! (and we hash the second read too, for stores that do not check). A multipart upload
//! would store only a checksum of part checksums, not the object's SHA-256, leaving the
//! verification to metadata we wrote ourselves. Memory stays O(HTTP buffers). Limit: a
//! single PutObject takes up to 5 GiB; larger versions fail with that reason.

use records_aws::archive_copies::{CopyLock, NewCopy, StoredCopy, sha256_b64 as b64};
use records_aws::object_lock::ObjectLock;
use records_domain::archive::{ArchiveState, ArchivedCopy, PlannedCopy};
use records_domain::retention::{LockMode, RetentionTarget};
use records_domain::{AuditAction, ObjectVersion, Outcome};

use super::{Run, StepError};
use crate::governance::opentext_side::holds_in_force;
use crate::opentext_content::SecondRead;

/// Largest object one PutObject accepts.
const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// HeadObject (with its checksum) of an archive object; `None` when there is none. S3's
/// refusals are final, its throttling and outages retried (`records_aws::archive_copies`).
pub(crate) async fn head(
    run: &Run<'_>,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<StoredCopy>, StepError> {
    Ok(run
        .copies
        .head(&run.progress.bucket, key, version_id)
        .await?)
}

/// Streams one OpenText version through SHA-256: (size, hex digest).
async fn hash_version(run: &Run<'_>, version: u32) -> Result<(u64, String), StepError> {
    crate::opentext_content::hash_version(&run.ot, run.ot_id(), version).await
}

/// Sets the S3 legal hold of one archive copy.
async fn set_legal_hold(run: &Run<'_>, c: &ArchivedCopy, on: bool) -> Result<(), StepError> {
    let object = ObjectVersion::new(&run.progress.bucket, &c.key, c.s3_version_id.as_deref());
    ObjectLock::new(run.deps.s3.clone())
        .set_legal_hold(&object, on)
        .await
        // Throttling, or a deployment fault (access denied): kept for another delivery and
        // then the DLQ, never recorded as a finished archive with the wrong hold.
        .map_err(|e| StepError::Retry(format!("S3: {e}")))?;
    tracing::info!(key = %c.key, on, "archive copy legal hold set");
    Ok(())
}

/// Puts every copy's S3 legal hold where it belongs: ON while `holds_in_force` (and always
/// for a retention without a date), OFF otherwise.
pub(crate) async fn hold_copies(run: &Run<'_>, holds_in_force: bool) -> Result<(), StepError> {
    let wanted = run.progress.copy_legal_hold_wanted(holds_in_force);
    for c in &run.progress.copies {
        let stored = head(run, &c.key, c.s3_version_id.as_deref())
            .await?
            .ok_or_else(|| StepError::Permanent(format!("archive copy {} vanished", c.key)))?;
        if stored.legal_hold != wanted {
            set_legal_hold(run, c, wanted).await?;
        }
    }
    Ok(())
}

/// Copies every planned version not yet copied, saving progress after each. A record under
/// hold is copied under an S3 legal hold from the first byte.
pub(crate) async fn copy_remaining(run: &mut Run<'_>) -> Result<(), StepError> {
    let todo: Vec<PlannedCopy> = run.progress.remaining().cloned().collect();
    if !todo.is_empty() {
        run.progress.holds = holds_in_force(&run.ot, run.ot_id()).await?;
    }
    for planned in todo {
        let copy = copy_one(run, &planned).await?;
        run.progress.copies.push(copy);
        run.save(ArchiveState::Copying).await?;
        run.deps.crash_point("copied");
    }
    Ok(())
}

async fn copy_one(run: &Run<'_>, p: &PlannedCopy) -> Result<ArchivedCopy, StepError> {
    if p.size > MAX_PUT_BYTES {
        return Err(StepError::Permanent(format!(
            "version {} is {} bytes; one archive copy takes at most {MAX_PUT_BYTES}",
            p.version_number, p.size
        )));
    }
    let (size, sha256) = hash_version(run, p.version_number).await?;
    if size != p.size {
        return Err(StepError::Permanent(format!(
            "OpenText sent {size} bytes for version {} whose file size is {}",
            p.version_number, p.size
        )));
    }
    // An object already at the key is an earlier attempt's copy only if it is this content.
    if let Some(found) = head(run, &p.key, None).await? {
        if found.size == size && found.sha256_b64.as_deref() == Some(b64(&sha256).as_str()) {
            tracing::info!(key = %p.key, version = p.version_number, "adopting the archive copy an earlier attempt made");
            return Ok(ArchivedCopy {
                version_number: p.version_number,
                key: p.key.clone(),
                s3_version_id: found.version_id,
                size,
                sha256,
                verified: false,
            });
        }
        return Err(StepError::Permanent(format!(
            "archive object s3://{}/{} already exists and differs from OpenText version {} \
             (size {} vs {size}, sha256 {:?} vs {:?}); nothing is released",
            run.progress.bucket,
            p.key,
            p.version_number,
            found.size,
            found.sha256_b64.unwrap_or_default(),
            b64(&sha256)
        )));
    }
    let version_id = put(run, p, size, &sha256).await?;
    Ok(ArchivedCopy {
        version_number: p.version_number,
        key: p.key.clone(),
        s3_version_id: version_id,
        size,
        sha256,
        verified: false,
    })
}

/// The second read of the version, streamed into PutObject with the first read's checksum.
async fn put(
    run: &Run<'_>,
    p: &PlannedCopy,
    size: u64,
    sha256: &str,
) -> Result<Option<String>, StepError> {
    let (second, stream) = SecondRead::open(&run.ot, run.ot_id(), p.version_number).await?;
    let policy = run.policy;
    // No date can say an awaiting-event or permanent retention yet: a legal hold keeps the
    // copy until P3 sets the date, and the retention tag says why.
    let lock = match &run.progress.lock {
        Some(RetentionTarget::Until { at }) => CopyLock::Retain {
            mode: LockMode::from(policy.retention_mode),
            until_epoch_secs: at.unix_timestamp(),
        },
        Some(target) => CopyLock::RetentionTag(target.hold_tag().unwrap_or_default()),
        None => CopyLock::None,
    };
    let metadata = [
        ("otcs-node-id", run.node_id.to_string()),
        ("otcs-version", p.version_number.to_string()),
        ("otcs-sha256", sha256.to_string()),
        (
            "source",
            format!("otcs:node/{}/version/{}", run.node_id, p.version_number),
        ),
    ];
    let copy = NewCopy {
        bucket: &run.progress.bucket,
        key: &p.key,
        size,
        sha256,
        storage_class: &policy.storage_class,
        metadata: &metadata,
        lock,
        // Under an OpenText hold (or a retention without a date) the copy is held from the
        // start.
        legal_hold: run
            .progress
            .copy_legal_hold_wanted(!run.progress.holds.is_empty()),
    };
    let version_id = run.copies.put(&copy, stream).await?;
    second.check(
        size,
        sha256,
        &format!(
            "version {} (the copy at {}; nothing is released)",
            p.version_number, p.key
        ),
    )?;
    tracing::info!(key = %p.key, version = p.version_number, size, "archive copy written");
    Ok(version_id)
}

/// HeadObject per copy: size and SHA-256 must equal OpenText's, and the copy must be locked.
/// The holds are asked again once every copy is recorded (a hold sync from then on reaches
/// them all through the archive item), and each copy's legal hold is set to match.
pub(crate) async fn verify_all(run: &mut Run<'_>) -> Result<(), StepError> {
    run.progress.holds = holds_in_force(&run.ot, run.ot_id()).await?;
    let hold_wanted = run
        .progress
        .copy_legal_hold_wanted(!run.progress.holds.is_empty());
    for i in 0..run.progress.copies.len() {
        let c = run.progress.copies[i].clone();
        let stored = head(run, &c.key, c.s3_version_id.as_deref())
            .await?
            .ok_or_else(|| {
                StepError::Permanent(format!(
                    "archive copy {} vanished before verification",
                    c.key
                ))
            })?;
        if stored.size != c.size || stored.sha256_b64.as_deref() != Some(b64(&c.sha256).as_str()) {
            return Err(StepError::Permanent(format!(
                "archive copy {} does not match OpenText version {}: size {} vs {}, sha256 {:?} vs {:?}; nothing is released",
                c.key,
                c.version_number,
                stored.size,
                c.size,
                stored.sha256_b64.unwrap_or_default(),
                b64(&c.sha256)
            )));
        }
        let locked = match &run.progress.lock {
            Some(RetentionTarget::Until { .. }) => {
                stored.retain_until.is_some()
                    && stored.lock_mode == Some(LockMode::from(run.policy.retention_mode))
            }
            Some(_) => stored.legal_hold,
            None => true,
        };
        if !locked {
            return Err(StepError::Permanent(format!(
                "archive copy {} is not under the expected Object Lock; nothing is released",
                c.key
            )));
        }
        if stored.legal_hold != hold_wanted {
            set_legal_hold(run, &c, hold_wanted).await?;
        }
        run.progress.copies[i].verified = true;
        let mut ev = run
            .event(
                AuditAction::Archive,
                Outcome::Succeeded,
                &format!("v{}", c.version_number),
            )
            .with_sha256(&c.sha256)
            .with_detail("bucket", run.progress.bucket.clone())
            .with_detail("key", c.key.clone())
            .with_detail("size", c.size)
            .with_detail("storage_class", run.policy.storage_class.clone())
            .with_detail("legal_hold", if hold_wanted { "ON" } else { "OFF" });
        ev.record = Some(records_domain::RecordRef {
            node_id: run.node_id,
            version_number: Some(c.version_number),
        });
        if let Some(v) = &c.s3_version_id {
            ev = ev.with_detail("s3_version_id", v.clone());
        }
        if let Some(lock) = &run.progress.lock {
            ev = ev.with_detail("lock", serde_json::to_value(lock).unwrap_or_default());
        }
        run.audit(ev).await;
    }
    Ok(())
}
