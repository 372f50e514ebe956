//! Lambda entry point (EventBridge schedule, or invoked on demand with any JSON).

use event_poller::snapshots::SnapshotStore;
use event_poller::{Poller, Watch};
use lambda_runtime::{LambdaEvent, service_fn};
use records_aws::workflow_store::WorkflowStore;
use records_domain::Policy;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(true)
        .without_time()
        .init();
    let poller = match build().await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "records-bridge poller cannot start");
            std::process::exit(1);
        }
    };
    let poller = &poller;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let report = poller.run(&event.context.request_id).await;
        tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "poll finished");
        Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
    }))
    .await
}

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("environment variable {name} is required"))
}

async fn build() -> anyhow::Result<Poller> {
    let sdk = records_aws::config::load().await;
    let policy = Policy::from_yaml(&required("RECORDS_POLICY")?)?;
    let archive_folders = std::env::var("ARCHIVE_FOLDER_IDS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| anyhow::anyhow!("ARCHIVE_FOLDER_IDS: {s:?} is not a node id"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let account =
        records_aws::secrets::service_account(&secrets, &required("OPENTEXT_SECRET_ID")?).await?;
    let mut credentials =
        opentext_client::Credentials::new(account.username.clone(), account.password.as_str());
    if let Some(domain) = &account.domain {
        credentials = credentials.with_domain(domain.clone());
    }
    let table = required("WORKFLOW_TABLE")?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    Ok(Poller {
        opentext: opentext_client::Client::new(&required("OPENTEXT_BASE_URL")?, credentials)?,
        snapshots: SnapshotStore::new(dynamodb.clone(), &table),
        claims: WorkflowStore::new(dynamodb, &table, "claimed", &["done"]),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        queue_url: required("LIFECYCLE_QUEUE_URL")?,
        watch: Watch::from_policy(&policy, archive_folders),
    })
}
