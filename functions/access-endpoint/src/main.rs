//! Lambda entry point: the service account, the policy and the clients built once; then
//! each Function URL request answered by the handler.

use access_endpoint::App;
use access_endpoint::browser::BrowserConfig;
use access_endpoint::request::{Request, Response};
use access_endpoint::routes::handle;
use access_endpoint::session::CookieKey;
use aws_lambda_events::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::required_env;
use records_aws::audit_log::AuditLog;
use records_aws::links::LinkStore;
use records_aws::s3_objects::S3Objects;
use records_workflows::access::AccessDeps;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let app = match build().await {
        Ok(d) => d,
        Err(e) => lambda_support::refuse_start("access endpoint", &e).await,
    };
    let app = &app;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            let answer: Response = handle(app, &Request::from(event.payload)).await;
            Ok::<_, lambda_runtime::Error>(LambdaFunctionUrlResponse::from(answer))
        },
    ))
    .await
}

async fn build() -> anyhow::Result<App> {
    let sdk = records_aws::config::load().await?;
    let s3 = records_aws::config::s3_client(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let (opentext, _account) = records_workflows::opentext_account::opentext_service_client(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        &required_env("OPENTEXT_SECRET_ID")?,
        &required_env("OPENTEXT_BASE_URL")?,
    )
    .await?;
    let table = required_env("WORKFLOW_TABLE")?;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let browser = browser_config(&secrets).await?;
    let access = AccessDeps {
        opentext,
        objects: S3Objects::new(s3.clone()),
        s3,
        links: LinkStore::new(ddb.clone(), &table),
        audit: AuditLog::new(ddb, required_env("AUDIT_TABLE")?),
        policy: records_aws::policy_handle::PolicyHandle::load(&sdk).await?,
    };
    Ok(App { access, browser })
}

/// The browser flow's settings: `OTDS_CLIENT_ID` set means `OTDS_BASE_URL`,
/// `BROWSE_FOLDER_ID` and `SESSION_KEY_SECRET_ID` too (a start-up refusal names the missing
/// one); `SESSION_MINUTES` (default 15, at most 60).
async fn browser_config(
    secrets: &aws_sdk_secretsmanager::Client,
) -> anyhow::Result<Option<BrowserConfig>> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let Some(client_id) = get("OTDS_CLIENT_ID") else {
        return Ok(None);
    };
    let need = |k: &str| get(k).ok_or_else(|| anyhow::anyhow!("OTDS_CLIENT_ID needs {k}"));
    let folder_id: i64 = need("BROWSE_FOLDER_ID")?
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("BROWSE_FOLDER_ID is not a node id"))?;
    let minutes: u64 = match get("SESSION_MINUTES") {
        None => 15,
        Some(m) => match m.trim().parse() {
            Ok(n) if (1..=60).contains(&n) => n,
            _ => anyhow::bail!("SESSION_MINUTES {m:?} must be 1 to 60"),
        },
    };
    let secret_id = need("SESSION_KEY_SECRET_ID")?;
    let secret = secrets
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "reading the session key {secret_id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?
        .secret_string
        .unwrap_or_default();
    // The stack's generated secret is `{"key": "…"}`; a plain string works too.
    let secret = serde_json::from_str::<serde_json::Value>(&secret)
        .ok()
        .and_then(|v| v["key"].as_str().map(str::to_string))
        .unwrap_or(secret);
    if secret.len() < 32 {
        anyhow::bail!("the session key secret {secret_id} holds fewer than 32 characters");
    }
    // The generated secret is text; its SHA-256 is the AES-256 key.
    use sha2::Digest;
    let key =
        CookieKey::new(&sha2::Sha256::digest(secret.as_bytes())).map_err(anyhow::Error::msg)?;
    Ok(Some(BrowserConfig {
        otds_base: need("OTDS_BASE_URL")?,
        client_id,
        folder_id,
        session_lifetime: std::time::Duration::from_secs(minutes * 60),
        key,
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?,
    }))
}
