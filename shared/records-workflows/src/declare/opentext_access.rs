//! The OpenText client, built off the start-up path: reading the service account from
//! Secrets Manager and loading TLS roots cost more than the rest of start-up together.
//! [`OpenTextAccess::prewarm`] starts building it in the background as the function starts,
//! so neither the first Runtime API poll nor the first declaration waits for it. A failed
//! build is retried by the next use (the error is retryable: a fixed secret heals without a
//! redeploy).

use std::sync::Arc;

use tokio::sync::OnceCell;

#[derive(Clone)]
pub struct OpenTextAccess {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: String,
    secret_id: String,
    secrets: aws_sdk_secretsmanager::Client,
    client: OnceCell<opentext_client::Client>,
}

impl OpenTextAccess {
    pub fn new(base_url: &str, secret_id: &str, secrets: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                base_url: base_url.to_string(),
                secret_id: secret_id.to_string(),
                secrets,
                client: OnceCell::new(),
            }),
        }
    }

    /// Starts building the client in the background (a first use meanwhile waits for the
    /// same build). A failure is only logged here: the first use tries again and reports.
    pub fn prewarm(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(error) = this.client().await {
                tracing::warn!(%error, "OpenText client not ready yet; the first use retries");
            }
        });
    }

    /// The service account's client (cheap to clone; one connection pool per instance).
    pub async fn client(&self) -> Result<opentext_client::Client, String> {
        let inner = &self.inner;
        inner
            .client
            .get_or_try_init(|| async {
                crate::opentext_account::opentext_service_client(
                    &inner.secrets,
                    &inner.secret_id,
                    &inner.base_url,
                )
                .await
                .map(|(client, _account)| client)
                .map_err(|e| e.to_string())
            })
            .await
            .cloned()
    }
}
