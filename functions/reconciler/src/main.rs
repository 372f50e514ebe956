//! Lambda entry point: an EventBridge schedule, or on demand with `{"dry_run": true|false}`.
//! Answers the drift report as JSON.

use lambda_runtime::{LambdaEvent, service_fn};
use reconciler::{Reconciler, Request};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let reconciler = match Reconciler::from_env().await {
        Ok(r) => r,
        Err(e) => lambda_support::refuse_start("reconciler", &e).await,
    };
    let reconciler = &reconciler;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let request = Request::from_payload(&event.payload)?;
            let report = reconciler.run(&request, &event.context.request_id).await?;
            tracing::info!(
                records = report.records,
                versions = report.versions,
                drift = report.drift.len(),
                repaired = report.repaired,
                "reconciliation finished"
            );
            Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
        },
    ))
    .await
}
