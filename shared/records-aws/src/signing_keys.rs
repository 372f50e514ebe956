//! The signing keys, read from Secrets Manager at cold start and again at most every
//! `SIGNING_KEYS_CACHE_SECS`, so a rotation takes effect without a redeploy.

use std::time::{Duration, Instant};

use crate::secrets::{ReadFailure, secret_string};
use records_domain::callback_signature::{KeysError, SigningKeys};
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("reading signing secret {id}: {code}: {message}")]
    Read {
        id: String,
        code: String,
        message: String,
    },
    #[error("signing secret {id} has no string value")]
    Empty { id: String },
    #[error("signing secret {id}: {source}")]
    Shape { id: String, source: KeysError },
}

pub struct KeyRing {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    ttl: Duration,
    cached: Mutex<(SigningKeys, Instant)>,
}

impl KeyRing {
    /// Reads the secret once; an unreadable or malformed secret stops the cold start.
    pub async fn load(
        client: aws_sdk_secretsmanager::Client,
        secret_id: &str,
        ttl: Duration,
    ) -> Result<KeyRing, KeyRingError> {
        let keys = fetch(&client, secret_id).await?;
        Ok(KeyRing {
            client,
            secret_id: secret_id.to_string(),
            ttl,
            cached: Mutex::new((keys, Instant::now())),
        })
    }

    /// The keys to verify with. When the cache is older than the TTL the secret is read
    /// again; if that read fails, the keys in hand are kept (and the read retried after
    /// another TTL) rather than refusing every call.
    pub async fn keys(&self) -> SigningKeys {
        let mut cached = self.cached.lock().await;
        if is_stale(cached.1, Instant::now(), self.ttl) {
            match fetch(&self.client, &self.secret_id).await {
                Ok(keys) => {
                    if keys != cached.0 {
                        tracing::info!(
                            previous_configured = keys.previous.is_some(),
                            "signing keys changed"
                        );
                    }
                    cached.0 = keys;
                }
                Err(e) => tracing::warn!(error = %e, "keeping the signing keys in hand"),
            }
            cached.1 = Instant::now();
        }
        cached.0.clone()
    }
}

/// A zero TTL reads the secret on every call.
fn is_stale(fetched: Instant, now: Instant, ttl: Duration) -> bool {
    now.saturating_duration_since(fetched) >= ttl
}

async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<SigningKeys, KeyRingError> {
    let id = || secret_id.to_string();
    let text = secret_string(client, secret_id)
        .await
        .map_err(|failure| match failure {
            ReadFailure::Call { code, message } => KeyRingError::Read {
                id: id(),
                code,
                message,
            },
            ReadFailure::Empty => KeyRingError::Empty { id: id() },
        })?;
    SigningKeys::parse(&text).map_err(|source| KeyRingError::Shape {
        id: secret_id.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(300);
        assert!(!is_stale(t0, t0 + Duration::from_secs(299), ttl));
        assert!(is_stale(t0, t0 + ttl, ttl));
        assert!(is_stale(t0, t0, Duration::ZERO));
    }
}
