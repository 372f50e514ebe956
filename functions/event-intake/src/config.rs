//! Configuration from the environment, read once per cold start; bad values stop the start.

use std::time::Duration;

/// Default body limit: an event is a few hundred bytes; 256 KiB leaves room for large `data`
/// and is also SQS's message size limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_WINDOW_SECS: u64 = 300;
pub const DEFAULT_KEYS_CACHE_SECS: u64 = 300;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `SIGNING_SECRET_ID`: the secret holding `{"current","previous"?}`.
    pub signing_secret_id: String,
    /// `LIFECYCLE_QUEUE_URL`: where accepted events go.
    pub lifecycle_queue_url: String,
    /// `WORKFLOW_TABLE`: holds the replay guard items (TTL attribute `expires_at`).
    pub workflow_table: String,
    /// `MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `SIGNATURE_WINDOW_SECS`: accepted clock difference, either way.
    pub window_secs: u64,
    /// `SIGNING_KEYS_CACHE_SECS`: how long keys are used before the secret is read again.
    pub keys_cache: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} must be {expected}, got {value:?}")]
    Invalid {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
}

impl Config {
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let number = |name: &'static str, default: u64, min: u64, max: u64| match get(name)
            .filter(|v| !v.trim().is_empty())
        {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or(ConfigError::Invalid {
                    name,
                    expected: "a whole number in range",
                    value: v,
                }),
        };
        Ok(Config {
            signing_secret_id: required("SIGNING_SECRET_ID")?,
            lifecycle_queue_url: required("LIFECYCLE_QUEUE_URL")?,
            workflow_table: required("WORKFLOW_TABLE")?,
            // Above 6 MB a Function URL refuses the call before us anyway.
            max_body_bytes: number(
                "MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES as u64,
                1024,
                DEFAULT_MAX_BODY_BYTES as u64,
            )? as usize,
            window_secs: number("SIGNATURE_WINDOW_SECS", DEFAULT_WINDOW_SECS, 1, 3600)?,
            keys_cache: Duration::from_secs(number(
                "SIGNING_KEYS_CACHE_SECS",
                DEFAULT_KEYS_CACHE_SECS,
                0,
                DEFAULT_KEYS_CACHE_SECS,
            )?),
        })
    }

    /// How long an accepted event id is remembered: past the window (either way), plus a
    /// day of margin.
    pub fn replay_memory(&self) -> Duration {
        Duration::from_secs(2 * self.window_secs + 24 * 3600)
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

    const BASE: [(&str, &str); 3] = [
        ("SIGNING_SECRET_ID", "arn:secret"),
        ("LIFECYCLE_QUEUE_URL", "https://sqs/q"),
        ("WORKFLOW_TABLE", "wf"),
    ];

    #[test]
    fn defaults_and_overrides() {
        let c = Config::from_env(env(&BASE)).unwrap();
        assert_eq!(c.max_body_bytes, 262_144);
        assert_eq!(c.window_secs, 300);
        assert_eq!(c.keys_cache, Duration::from_secs(300));
        let mut more = BASE.to_vec();
        more.extend([("MAX_BODY_BYTES", "4096"), ("SIGNING_KEYS_CACHE_SECS", "0")]);
        let c = Config::from_env(env(&more)).unwrap();
        assert_eq!(c.max_body_bytes, 4096);
        assert_eq!(c.keys_cache, Duration::ZERO);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Config::from_env(env(&BASE[1..])).unwrap_err().to_string();
        assert!(err.contains("SIGNING_SECRET_ID"), "{err}");
        for (name, value) in [
            ("MAX_BODY_BYTES", "10000000"),
            ("SIGNATURE_WINDOW_SECS", "0"),
            ("SIGNING_KEYS_CACHE_SECS", "soon"),
        ] {
            let mut e = BASE.to_vec();
            e.push((name, value));
            let err = Config::from_env(env(&e)).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }
}
