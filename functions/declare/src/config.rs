//! Configuration read once per cold start. Any problem here stops the function before it
//! takes events, with a message that names what is wrong. (The records policy has its own
//! source, shared by every function: `records_aws::policy_handle`.)

use records_domain::SelfWriters;

/// Declarations one function instance runs at once: the template's BatchSize.
pub const DEFAULT_BATCH_CONCURRENCY: usize = 10;

#[derive(Debug, Clone)]
pub struct Config {
    pub opentext_base_url: String,
    pub opentext_secret_id: String,
    /// The service account's name, for audit events (the secret holds its password).
    pub opentext_service_user: String,
    pub workflow_table: String,
    pub audit_table: String,
    /// Object versions processed at once within one batch.
    pub concurrency: usize,
    /// `SELF_WRITER_ROLE_IDS`: the unique ids (`AROA…`, comma-separated) of the roles of
    /// every records-bridge function that writes tags on the governed bucket (the template
    /// sets them from `!GetAtt <Function>Role.RoleId`). An `ObjectTagging:Put` made by one of
    /// them is S3's echo of records-bridge's own write and is dropped without any AWS call.
    /// Unset or empty: none is recognised (every tagging event is handled).
    pub self_writers: SelfWriters,
    /// `ACCESS_URL`: P5's endpoint; reference records name their content's link on it.
    pub access_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// Reads the configuration from `get` (the process environment in production).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let concurrency = match get("BATCH_CONCURRENCY") {
            // The whole batch at once (the event source's BatchSize): Content Server's load
            // stays bounded by the queue's MaximumConcurrency × this (README "Configuration").
            None => DEFAULT_BATCH_CONCURRENCY,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or(ConfigError::Invalid {
                    name: "BATCH_CONCURRENCY",
                    reason: format!("{v:?} is not a positive integer"),
                })?,
        };
        let self_writers = SelfWriters::parse(&get("SELF_WRITER_ROLE_IDS").unwrap_or_default())
            .map_err(|e| ConfigError::Invalid {
                name: "SELF_WRITER_ROLE_IDS",
                reason: e.to_string(),
            })?;
        Ok(Config {
            opentext_base_url: required("OPENTEXT_BASE_URL")?,
            opentext_secret_id: required("OPENTEXT_SECRET_ID")?,
            opentext_service_user: get("OPENTEXT_SERVICE_USER")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "records-bridge".to_string()),
            workflow_table: required("WORKFLOW_TABLE")?,
            audit_table: required("AUDIT_TABLE")?,
            concurrency,
            self_writers,
            access_url: get("ACCESS_URL").filter(|v| !v.trim().is_empty()),
        })
    }
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
        assert!(Config::from_env(env(BASE)).is_ok());
        let err = Config::from_env(env(&BASE[1..])).unwrap_err();
        assert!(err.to_string().contains("OPENTEXT_BASE_URL"), "{err}");
    }

    #[test]
    fn concurrency_must_be_positive() {
        let mut pairs = BASE.to_vec();
        pairs.push(("BATCH_CONCURRENCY", "0"));
        assert!(Config::from_env(env(&pairs)).is_err());
    }

    #[test]
    fn self_writer_role_ids_are_read_and_none_when_unset_or_empty() {
        let mut pairs = BASE.to_vec();
        pairs.push((
            "SELF_WRITER_ROLE_IDS",
            "AROADBQP57FF2AEXAMPLE, AROA3XFRBF535PLEXAMPLE",
        ));
        let config = Config::from_env(env(&pairs)).unwrap();
        assert_eq!(
            config.self_writers.role_ids(),
            ["AROADBQP57FF2AEXAMPLE", "AROA3XFRBF535PLEXAMPLE"]
        );
        assert!(config.self_writers.caused(
            "ObjectTagging:Put",
            Some("AWS:AROA3XFRBF535PLEXAMPLE:worker")
        ));

        let unset = Config::from_env(env(BASE)).unwrap();
        assert_eq!(unset.self_writers, SelfWriters::none());
        let mut pairs = BASE.to_vec();
        pairs.push(("SELF_WRITER_ROLE_IDS", ""));
        let empty = Config::from_env(env(&pairs)).unwrap();
        assert_eq!(empty.self_writers, SelfWriters::none());
    }

    #[test]
    fn a_malformed_self_writer_list_refuses_start_naming_the_variable() {
        for bad in [
            "arn:aws:iam::123456789012:role/records-bridge-DeclareFunctionRole",
            "AROADBQP57FF2AEXAMPLE,,AROA3XFRBF535PLEXAMPLE",
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push(("SELF_WRITER_ROLE_IDS", bad));
            let err = Config::from_env(env(&pairs)).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "SELF_WRITER_ROLE_IDS",
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains("SELF_WRITER_ROLE_IDS"), "{err}");
        }
    }
}
