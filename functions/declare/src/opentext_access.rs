//! The OpenText client, built on first use: reading the service account from Secrets Manager
//! and loading TLS roots cost more than the rest of start-up together, and a Lambda instance
//! whose batches hold no governed object never needs them. A failed build is retried by the
//! next use (the error is retryable: a fixed secret heals without a redeploy).

use tokio::sync::OnceCell;

pub struct OpenTextAccess {
    base_url: String,
    secret_id: String,
    secrets: aws_sdk_secretsmanager::Client,
    client: OnceCell<opentext_client::Client>,
}

impl OpenTextAccess {
    pub fn new(base_url: &str, secret_id: &str, secrets: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            base_url: base_url.to_string(),
            secret_id: secret_id.to_string(),
            secrets,
            client: OnceCell::new(),
        }
    }

    /// The service account's client (cheap to clone; one connection pool per instance).
    pub async fn client(&self) -> Result<opentext_client::Client, String> {
        self.client
            .get_or_try_init(|| async {
                lambda_support::opentext_service_client(
                    &self.secrets,
                    &self.secret_id,
                    &self.base_url,
                )
                .await
                .map(|(client, _account)| client)
                .map_err(|e| e.to_string())
            })
            .await
            .cloned()
    }
}
