//! Lambda entry point: configuration, keys and clients built once; then the handler.

use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use event_intake::config::Config;
use event_intake::url;
use lambda_runtime::{LambdaEvent, service_fn};
use records_aws::replay_guard::ReplayGuard;
use records_aws::signing_keys::KeyRing;
use records_workflows::intake::{Deps, handle};

/// A `pending` event id blocks others this long: longer than the function's timeout, so a
/// call that died mid-way is retried rather than taken for a replay forever.
const GUARD_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let deps = match build().await {
        Ok(deps) => deps,
        Err(e) => lambda_support::refuse_start("event intake", &e).await,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            let answer = handle(deps, &url::callback(event.payload)).await;
            Ok::<_, lambda_runtime::Error>(url::response(answer))
        },
    ))
    .await
}

async fn build() -> anyhow::Result<Deps> {
    let config = Config::from_env(|k| std::env::var(k).ok())?;
    let sdk = records_aws::config::load().await?;
    let keys = KeyRing::load(
        aws_sdk_secretsmanager::Client::new(&sdk),
        &config.signing_secret_id,
        config.keys_cache,
    )
    .await?;
    let guard = ReplayGuard::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &config.workflow_table,
        config.replay_memory(),
        GUARD_LEASE,
    );
    Ok(Deps {
        keys,
        guard,
        queue: records_aws::lifecycle_queue::LifecycleQueue::new(
            aws_sdk_sqs::Client::new(&sdk),
            config.lifecycle_queue_url,
        ),
        max_body_bytes: config.max_body_bytes,
        window_secs: config.window_secs,
    })
}
