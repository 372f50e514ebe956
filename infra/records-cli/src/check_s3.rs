//! `--check-s3`: every version the certificate says was destroyed is really gone.
//!
//! Gone means HeadObject with the version id answers 404 (NoSuchVersion / NoSuchKey). A
//! version hidden behind a delete marker still answers 200 to its own version id, so it is
//! not gone; any other answer (access denied, a malformed id) cannot confirm it.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use records_domain::disposition::{DispositionCertificate, VersionDisposal};

/// What S3 says about one listed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionCheck {
    Gone,
    StillPresent,
    /// A dry run's version: expected to exist, not checked.
    NotChecked,
    Unconfirmed(String),
}

impl VersionCheck {
    pub fn passes(&self) -> bool {
        matches!(self, VersionCheck::Gone | VersionCheck::NotChecked)
    }
}

#[derive(Debug, Clone)]
pub struct CheckedVersion {
    pub uri: String,
    pub check: VersionCheck,
}

pub async fn check_versions(
    client: &aws_sdk_s3::Client,
    certificate: &DispositionCertificate,
) -> Vec<CheckedVersion> {
    let mut checked = Vec::new();
    for record in &certificate.records {
        for v in &record.versions {
            let uri = format!("s3://{}/{}?versionId={}", v.bucket, v.key, v.version_id);
            let check = if matches!(v.disposal, VersionDisposal::WouldDelete) {
                VersionCheck::NotChecked
            } else {
                head(client, &v.bucket, &v.key, &v.version_id).await
            };
            checked.push(CheckedVersion { uri, check });
        }
    }
    checked
}

async fn head(client: &aws_sdk_s3::Client, bucket: &str, key: &str, version: &str) -> VersionCheck {
    let result = client
        .head_object()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .send()
        .await;
    let err = match result {
        Ok(_) => return VersionCheck::StillPresent,
        Err(e) => e,
    };
    let (status, delete_marker) = match &err {
        SdkError::ServiceError(e) => (
            Some(e.raw().status().as_u16()),
            e.raw().headers().get("x-amz-delete-marker") == Some("true"),
        ),
        _ => (None, false),
    };
    let code = err.code().unwrap_or_default().to_string();
    if status == Some(404) || matches!(code.as_str(), "NoSuchVersion" | "NoSuchKey" | "NotFound") {
        return VersionCheck::Gone;
    }
    if delete_marker {
        return VersionCheck::Unconfirmed("the version id names a delete marker".into());
    }
    VersionCheck::Unconfirmed(match status {
        Some(status) => format!("HeadObject answered {status} {code}"),
        None => format!(
            "HeadObject failed: {}",
            aws_sdk_s3::error::DisplayErrorContext(&err)
        ),
    })
}
