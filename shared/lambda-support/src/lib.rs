//! Start-up steps shared by every records-bridge function, so each `main.rs` stays a few
//! lines: structured logs, a clear refusal to start, and the OpenText service account.

use std::fmt::Display;

/// JSON logs with the Lambda request span; `RUST_LOG` filters. CloudWatch stamps each line.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(true)
        .without_time()
        .init();
}

/// Logs why `function` cannot start, tells the Lambda service (`/runtime/init/error`), and
/// exits: nothing is consumed from any queue by a misconfigured function.
pub async fn refuse_start(function: &str, error: &dyn Display) -> ! {
    let message = error.to_string();
    tracing::error!(error = %message, "records-bridge {function} cannot start");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({ "errorType": "Runtime.InitError", "errorMessage": message });
        let _ = reqwest::Client::new()
            .post(format!("http://{api}/2018-06-01/runtime/init/error"))
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
            .json(&body)
            .send()
            .await;
    }
    std::process::exit(1)
}

/// A required, non-empty environment variable.
pub fn required_env(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("environment variable {name} is required"))
}

/// The OpenText client of the service account whose credentials are in `secret_id`, and the
/// account's name (for audit events). The password never leaves this function's scope.
pub async fn opentext_service_client(
    secrets: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    base_url: &str,
) -> anyhow::Result<(opentext_client::Client, String)> {
    let account = records_aws::secrets::service_account(secrets, secret_id).await?;
    let mut credentials =
        opentext_client::Credentials::new(account.username.clone(), account.password.as_str());
    if let Some(domain) = &account.domain {
        credentials = credentials.with_domain(domain.clone());
    }
    let client = opentext_client::Client::new(base_url, credentials)?;
    Ok((client, account.username))
}
