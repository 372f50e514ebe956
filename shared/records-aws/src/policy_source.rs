//! Where the records policy is read from: the SSM parameter the stack creates (versioned,
//! changed with `aws ssm put-parameter --overwrite`, no redeploy), or an S3 object for a
//! policy past the parameter's 8 KB. Every function reads the same source.

use aws_sdk_ssm::error::ProvideErrorMetadata;

/// One policy source, named in every message about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// An SSM parameter name (`/stack/records-policy`).
    Parameter(String),
    /// An S3 object (the bucket should be versioned).
    S3 { bucket: String, key: String },
}

impl std::fmt::Display for PolicySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicySource::Parameter(name) => write!(f, "SSM parameter {name}"),
            PolicySource::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// The policy text at its source and the source's version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyText {
    pub text: String,
    /// The parameter's version number, or the object's version id (ETag if unversioned).
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicySourceError {
    #[error("{0}: invalid; expected an SSM parameter name or s3://bucket/key: {1}")]
    Invalid(String, String),
    #[error("{source_name}: does not exist")]
    Missing { source_name: String },
    #[error("{source_name}: {message}")]
    Unreadable {
        source_name: String,
        message: String,
    },
}

impl PolicySource {
    /// From the environment: `RECORDS_POLICY_S3_URI` when set, else `RECORDS_POLICY_PARAMETER`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, PolicySourceError> {
        let set = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(uri) = set("RECORDS_POLICY_S3_URI") {
            let parsed = uri
                .strip_prefix("s3://")
                .and_then(|rest| rest.split_once('/'))
                .filter(|(b, k)| !b.is_empty() && !k.is_empty());
            return match parsed {
                Some((bucket, key)) => Ok(PolicySource::S3 {
                    bucket: bucket.into(),
                    key: key.into(),
                }),
                None => Err(PolicySourceError::Invalid(
                    format!("RECORDS_POLICY_S3_URI {uri:?}"),
                    "not s3://bucket/key".into(),
                )),
            };
        }
        match set("RECORDS_POLICY_PARAMETER") {
            Some(name) => Ok(PolicySource::Parameter(name)),
            None => Err(PolicySourceError::Invalid(
                "RECORDS_POLICY_PARAMETER".into(),
                "not set (the stack sets it to the policy parameter it creates)".into(),
            )),
        }
    }

    /// Reads the text and its version.
    pub async fn read(
        &self,
        ssm: &aws_sdk_ssm::Client,
        s3: &aws_sdk_s3::Client,
    ) -> Result<PolicyText, PolicySourceError> {
        let source_name = self.to_string();
        let unreadable = |message: String| PolicySourceError::Unreadable {
            source_name: source_name.clone(),
            message,
        };
        match self {
            PolicySource::Parameter(name) => {
                let out = ssm.get_parameter().name(name).send().await.map_err(|e| {
                    if e.code() == Some("ParameterNotFound") {
                        PolicySourceError::Missing {
                            source_name: source_name.clone(),
                        }
                    } else {
                        unreadable(format!(
                            "{}: {}",
                            e.code().unwrap_or("error"),
                            e.message()
                                .map(str::to_string)
                                .unwrap_or_else(|| e.to_string())
                        ))
                    }
                })?;
                let p = out
                    .parameter
                    .ok_or_else(|| unreadable("GetParameter answered no parameter".into()))?;
                Ok(PolicyText {
                    text: p.value.unwrap_or_default(),
                    version: p.version.to_string(),
                })
            }
            PolicySource::S3 { bucket, key } => {
                let out = s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| {
                        match crate::s3_objects::classify("GetObject", bucket, key, None, e) {
                            crate::s3_objects::S3Error::NotFound { .. }
                            | crate::s3_objects::S3Error::NoSuchBucket { .. } => {
                                PolicySourceError::Missing {
                                    source_name: source_name.clone(),
                                }
                            }
                            other => unreadable(other.to_string()),
                        }
                    })?;
                let version = out
                    .version_id()
                    .or(out.e_tag())
                    .unwrap_or_default()
                    .to_string();
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| unreadable(e.to_string()))?
                    .into_bytes();
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| unreadable("not UTF-8 text".into()))?;
                Ok(PolicyText { text, version })
            }
        }
    }
}
