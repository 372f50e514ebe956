//! The records policy as every function holds it: read from its one source at start-up
//! (refusing to start, naming the source, when it is missing or invalid), then re-read when
//! due so a change a records team makes at the source reaches every warm function without a
//! redeploy. A new version is validated before it is used; an invalid one is refused loudly
//! and the last valid version stays in force.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::policy_source::{PolicySource, PolicySourceError, PolicyText};
use records_domain::Policy;

/// How often a warm function asks the source for a new version (`POLICY_REFRESH_SECS`).
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(60);

pub struct PolicyHandle {
    source: PolicySource,
    ssm: aws_sdk_ssm::Client,
    s3: aws_sdk_s3::Client,
    refresh: Duration,
    current: RwLock<Loaded>,
    last_check: Mutex<Instant>,
}

#[derive(Clone)]
struct Loaded {
    policy: Arc<Policy>,
    version: String,
}

/// Why the policy could not be had at start-up; every message names the source.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error(transparent)]
    Configuration(PolicySourceError),
    #[error("environment variable POLICY_REFRESH_SECS: {0:?} is not a number of seconds")]
    RefreshInterval(String),
    #[error("records policy: {0}")]
    Unreadable(PolicySourceError),
    #[error("records policy at {at} (version {version}) is invalid: {message}")]
    Invalid {
        at: String,
        version: String,
        message: String,
    },
}

fn parse(source: &PolicySource, text: &PolicyText) -> Result<Policy, PolicyLoadError> {
    Policy::from_yaml(&text.text).map_err(|e| PolicyLoadError::Invalid {
        at: source.to_string(),
        version: text.version.clone(),
        message: e.to_string(),
    })
}

impl PolicyHandle {
    /// Reads and validates the policy from the source the environment names.
    pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Self, PolicyLoadError> {
        let source = PolicySource::from_env(|k| std::env::var(k).ok())
            .map_err(PolicyLoadError::Configuration)?;
        let refresh = match std::env::var("POLICY_REFRESH_SECS").ok() {
            None => DEFAULT_REFRESH,
            Some(v) => Duration::from_secs(
                v.trim()
                    .parse()
                    .map_err(|_| PolicyLoadError::RefreshInterval(v.clone()))?,
            ),
        };
        let ssm = aws_sdk_ssm::Client::new(sdk);
        let s3 = crate::config::s3_client(sdk);
        let text = source
            .read(&ssm, &s3)
            .await
            .map_err(PolicyLoadError::Unreadable)?;
        let policy = parse(&source, &text)?;
        log_loaded(&source, &text.version, &policy);
        Ok(Self {
            source,
            ssm,
            s3,
            refresh,
            current: RwLock::new(Loaded {
                policy: Arc::new(policy),
                version: text.version,
            }),
            last_check: Mutex::new(Instant::now()),
        })
    }

    /// The policy in force.
    pub fn get(&self) -> Arc<Policy> {
        self.read().policy
    }

    /// The source's version of the policy in force.
    pub fn version(&self) -> String {
        self.read().version
    }

    fn read(&self) -> Loaded {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Asks the source for a new version when the refresh interval has passed (call it at the
    /// start of each invocation). A source that cannot be read or a version that does not
    /// validate leaves the policy in force, with an error logged naming the source.
    pub async fn refresh_if_due(&self) {
        {
            let mut last = self
                .last_check
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.elapsed() < self.refresh {
                return;
            }
            *last = Instant::now();
        }
        let text = match self.source.read(&self.ssm, &self.s3).await {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, version_in_force = %self.version(), "records policy could not be re-read; the version in force stays");
                return;
            }
        };
        if text.version == self.version() {
            return;
        }
        match parse(&self.source, &text) {
            Ok(policy) => {
                log_loaded(&self.source, &text.version, &policy);
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Loaded {
                    policy: Arc::new(policy),
                    version: text.version,
                };
            }
            Err(e) => {
                tracing::error!(error = %e, version_in_force = %self.version(), "new records policy refused; the version in force stays");
            }
        }
    }
}

fn log_loaded(source: &PolicySource, version: &str, policy: &Policy) {
    tracing::info!(source = %source, version, rules = policy.rules.len(), "records policy version {version} loaded");
    for warning in &policy.warnings {
        tracing::warn!(%warning, source = %source, "records policy");
    }
}
