//! Configuration read once per cold start. Any problem here stops the function before it
//! takes events, with a message that names what is wrong (for a policy: the rule and field).

use std::time::Duration;

use records_domain::{Policy, PolicyError};

#[derive(Debug, Clone)]
pub struct Config {
    pub opentext_base_url: String,
    pub opentext_secret_id: String,
    /// The service account's name, for audit events (the secret holds its password).
    pub opentext_service_user: String,
    pub workflow_table: String,
    pub audit_table: String,
    pub policy_source: PolicySource,
    /// Object versions processed at once within one batch.
    pub concurrency: usize,
    /// Time kept back from the invocation deadline for bookkeeping after OpenText calls.
    pub deadline_margin: Duration,
    /// Test-only fault injection: abort the process right after this step's OpenText call
    /// (see README "Crash recovery"). Never set in a deployment.
    pub crash_after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    Inline(String),
    S3 { bucket: String, key: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("declaration policy is invalid:\n{0}")]
    Policy(#[from] PolicyError),
    #[error("reading the policy from s3://{bucket}/{key}: {reason}")]
    PolicyRead {
        bucket: String,
        key: String,
        reason: String,
    },
}

impl Config {
    /// Reads the configuration from `get` (the process environment in production).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let policy_source = match get("RECORDS_POLICY_S3_URI").filter(|v| !v.is_empty()) {
            Some(uri) => {
                let rest = uri.strip_prefix("s3://").ok_or(ConfigError::Invalid {
                    name: "RECORDS_POLICY_S3_URI",
                    reason: "must start with s3://".into(),
                })?;
                let (bucket, key) = rest.split_once('/').ok_or(ConfigError::Invalid {
                    name: "RECORDS_POLICY_S3_URI",
                    reason: "must be s3://bucket/key".into(),
                })?;
                PolicySource::S3 {
                    bucket: bucket.into(),
                    key: key.into(),
                }
            }
            None => PolicySource::Inline(required("RECORDS_POLICY")?),
        };
        let concurrency = match get("BATCH_CONCURRENCY") {
            None => 4,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(ConfigError::Invalid {
                    name: "BATCH_CONCURRENCY",
                    reason: format!("{v:?} is not a positive integer"),
                })?,
        };
        Ok(Config {
            opentext_base_url: required("OPENTEXT_BASE_URL")?,
            opentext_secret_id: required("OPENTEXT_SECRET_ID")?,
            opentext_service_user: get("OPENTEXT_SERVICE_USER")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "records-bridge".to_string()),
            workflow_table: required("WORKFLOW_TABLE")?,
            audit_table: required("AUDIT_TABLE")?,
            policy_source,
            concurrency,
            deadline_margin: Duration::from_secs(10),
            crash_after: get("RECORDS_BRIDGE_FAULT_CRASH_AFTER").filter(|v| !v.is_empty()),
        })
    }
}

/// Loads and validates the policy.
pub async fn load_policy(
    source: &PolicySource,
    s3: &aws_sdk_s3::Client,
) -> Result<Policy, ConfigError> {
    let text = match source {
        PolicySource::Inline(text) => text.clone(),
        PolicySource::S3 { bucket, key } => {
            let read_err = |reason: String| ConfigError::PolicyRead {
                bucket: bucket.clone(),
                key: key.clone(),
                reason,
            };
            let out = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| read_err(format!("{e}")))?;
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| read_err(e.to_string()))?
                .into_bytes();
            String::from_utf8(bytes.to_vec()).map_err(|_| read_err("not UTF-8".into()))?
        }
    };
    Ok(Policy::from_yaml(&text)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("OPENTEXT_BASE_URL", "https://ecm/otcs/cs.exe"),
        ("OPENTEXT_SECRET_ID", "arn:secret"),
        ("WORKFLOW_TABLE", "wf"),
        ("AUDIT_TABLE", "audit"),
    ];

    #[test]
    fn missing_values_are_named() {
        let err = Config::from_env(env(BASE)).unwrap_err();
        assert!(err.to_string().contains("RECORDS_POLICY"), "{err}");
        let err = Config::from_env(env(&[("RECORDS_POLICY", "x")])).unwrap_err();
        assert!(err.to_string().contains("OPENTEXT_BASE_URL"), "{err}");
    }

    #[test]
    fn s3_policy_uri_wins_and_is_checked() {
        let mut pairs = BASE.to_vec();
        pairs.push(("RECORDS_POLICY_S3_URI", "s3://cfg/policies/p.yaml"));
        let c = Config::from_env(env(&pairs)).unwrap();
        assert_eq!(
            c.policy_source,
            PolicySource::S3 {
                bucket: "cfg".into(),
                key: "policies/p.yaml".into()
            }
        );
        pairs.pop();
        pairs.push(("RECORDS_POLICY_S3_URI", "https://x"));
        assert!(Config::from_env(env(&pairs)).is_err());
    }

    #[test]
    fn concurrency_must_be_positive() {
        let mut pairs = BASE.to_vec();
        pairs.push(("RECORDS_POLICY", "x"));
        pairs.push(("BATCH_CONCURRENCY", "0"));
        assert!(Config::from_env(env(&pairs)).is_err());
    }
}
