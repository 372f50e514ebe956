//! The OpenText service account, read once per cold start from Secrets Manager.

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use serde::Deserialize;

/// The secret's JSON: `{"username":"…","password":"…","domain":"…"?}`.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub domain: Option<String>,
}

impl std::fmt::Debug for ServiceAccount {
    // Never print the password, whatever logs this.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("domain", &self.domain)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading secret {id}: {code}: {message}")]
    Read {
        id: String,
        code: String,
        message: String,
    },
    #[error("secret {id} has no string value")]
    Empty { id: String },
    #[error(
        "secret {id} is not the expected JSON {{\"username\",\"password\",\"domain\"?}}: {reason}"
    )]
    Shape { id: String, reason: String },
}

/// Why a secret's string value could not be had; each caller names the secret in its words.
pub(crate) enum ReadFailure {
    Call { code: String, message: String },
    Empty,
}

/// The secret's current string value.
pub(crate) async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<String, ReadFailure> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| ReadFailure::Call {
            code: e.code().unwrap_or("Unknown").into(),
            message: e
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string()),
        })?;
    out.secret_string()
        .map(str::to_string)
        .ok_or(ReadFailure::Empty)
}

pub async fn service_account(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<ServiceAccount, SecretError> {
    let id = || secret_id.to_string();
    let text = secret_string(client, secret_id)
        .await
        .map_err(|failure| match failure {
            ReadFailure::Call { code, message } => SecretError::Read {
                id: id(),
                code,
                message,
            },
            ReadFailure::Empty => SecretError::Empty { id: id() },
        })?;
    // The serde error names the field, never the value, so the password cannot leak here.
    serde_json::from_str(&text).map_err(|e| SecretError::Shape {
        id: secret_id.into(),
        reason: format!(
            "line {} column {}: {}",
            e.line(),
            e.column(),
            e.classify_kind()
        ),
    })
}

trait ClassifyKind {
    fn classify_kind(&self) -> &'static str;
}

impl ClassifyKind for serde_json::Error {
    fn classify_kind(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "io error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "missing or mistyped field",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}
