//! S3 Object Lock on one object version: legal hold, retention, and what HeadObject says
//! about both (GetObjectRetention is broken in moto 5.1.22, and HeadObject answers the
//! same question on real S3 with one call).

use aws_sdk_s3::types::{
    ChecksumMode, ChecksumType, ObjectLockLegalHold, ObjectLockLegalHoldStatus,
    ObjectLockRetention, ObjectLockRetentionMode,
};
use base64::Engine;
use records_domain::ObjectVersion;
use records_domain::retention::LockMode;

use crate::s3_objects::{S3Error, classify};

/// A version's lock and checksum as HeadObject reports them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LockState {
    pub legal_hold: bool,
    pub mode: Option<LockMode>,
    /// Retain-until, epoch seconds.
    pub retain_until: Option<i64>,
    /// Full-object SHA-256 (lower-case hex), when S3 stored one (uploaded with it).
    pub sha256: Option<String>,
}

fn version_arg(v: &ObjectVersion) -> Option<String> {
    v.is_versioned().then(|| v.version_id.clone())
}

#[derive(Clone)]
pub struct ObjectLock {
    client: aws_sdk_s3::Client,
}

impl ObjectLock {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }

    pub async fn state(&self, v: &ObjectVersion) -> Result<LockState, S3Error> {
        let vid = version_arg(v);
        let head = self
            .client
            .head_object()
            .bucket(&v.bucket)
            .key(&v.key)
            .set_version_id(vid.clone())
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .map_err(|e| classify("HeadObject", &v.bucket, &v.key, vid.as_deref(), e))?;
        // A multipart upload's checksum is of the parts ("...-N"), not of the bytes.
        let full_object = !matches!(head.checksum_type(), Some(ChecksumType::Composite));
        let sha256 = head
            .checksum_sha256()
            .filter(|c| full_object && !c.contains('-'))
            .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
            .filter(|b| b.len() == 32)
            .map(hex::encode);
        Ok(LockState {
            legal_hold: head.object_lock_legal_hold_status()
                == Some(&ObjectLockLegalHoldStatus::On),
            mode: head
                .object_lock_mode()
                .and_then(|m| LockMode::parse(m.as_str())),
            retain_until: head.object_lock_retain_until_date().map(|d| d.secs()),
            sha256,
        })
    }

    pub async fn set_legal_hold(&self, v: &ObjectVersion, on: bool) -> Result<(), S3Error> {
        let vid = version_arg(v);
        let status = if on {
            ObjectLockLegalHoldStatus::On
        } else {
            ObjectLockLegalHoldStatus::Off
        };
        self.client
            .put_object_legal_hold()
            .bucket(&v.bucket)
            .key(&v.key)
            .set_version_id(vid.clone())
            .legal_hold(ObjectLockLegalHold::builder().status(status).build())
            .send()
            .await
            .map_err(|e| classify("PutObjectLegalHold", &v.bucket, &v.key, vid.as_deref(), e))?;
        Ok(())
    }

    /// Sets retention. Whether the change is allowed is the caller's decision
    /// ([`records_domain::retention::retention_change`]): moto accepts shortening a
    /// COMPLIANCE lock, real S3 does not, and we never ask.
    pub async fn set_retention(
        &self,
        v: &ObjectVersion,
        mode: LockMode,
        until_epoch_secs: i64,
        bypass_governance: bool,
    ) -> Result<(), S3Error> {
        let vid = version_arg(v);
        let mode = match mode {
            LockMode::Governance => ObjectLockRetentionMode::Governance,
            LockMode::Compliance => ObjectLockRetentionMode::Compliance,
        };
        self.client
            .put_object_retention()
            .bucket(&v.bucket)
            .key(&v.key)
            .set_version_id(vid.clone())
            .retention(
                ObjectLockRetention::builder()
                    .mode(mode)
                    .retain_until_date(aws_smithy_types::DateTime::from_secs(until_epoch_secs))
                    .build(),
            )
            .set_bypass_governance_retention(bypass_governance.then_some(true))
            .send()
            .await
            .map_err(|e| classify("PutObjectRetention", &v.bucket, &v.key, vid.as_deref(), e))?;
        Ok(())
    }
}
