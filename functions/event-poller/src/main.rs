//! Lambda entry point (EventBridge schedule, or invoked on demand with any JSON).

use event_poller::{Poller, Watch};
use lambda_runtime::{LambdaEvent, service_fn};
use records_aws::policy_handle::PolicyHandle;
use records_aws::snapshots::SnapshotStore;
use records_aws::workflow_store::WorkflowStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let (poller, policy, archive_folders) = match build().await {
        Ok(p) => p,
        Err(e) => lambda_support::refuse_start("poller", &e).await,
    };
    let (poller, policy, archive_folders) = (&poller, &policy, &archive_folders);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        // What to watch follows the policy in force (a records team may change it any time).
        policy.refresh_if_due().await;
        let poller = Poller {
            watch: Watch::from_policy(&policy.get(), archive_folders.iter().copied()),
            ..poller.clone()
        };
        let report = poller.run(&event.context.request_id).await;
        tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "poll finished");
        Ok::<_, lambda_runtime::Error>(serde_json::to_value(report)?)
    }))
    .await
}

async fn build() -> anyhow::Result<(Poller, PolicyHandle, Vec<u64>)> {
    let sdk = records_aws::config::load().await?;
    let policy = PolicyHandle::load(&sdk).await?;
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
    let (opentext, _account) = records_workflows::opentext_account::opentext_service_client(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        &lambda_support::required_env("OPENTEXT_SECRET_ID")?,
        &lambda_support::required_env("OPENTEXT_BASE_URL")?,
    )
    .await?;
    let table = lambda_support::required_env("WORKFLOW_TABLE")?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let poller = Poller {
        opentext,
        snapshots: SnapshotStore::new(dynamodb.clone(), &table),
        claims: WorkflowStore::new(dynamodb, &table, "claimed", &["done"]),
        queue: records_aws::lifecycle_queue::LifecycleQueue::new(
            aws_sdk_sqs::Client::new(&sdk),
            lambda_support::required_env("LIFECYCLE_QUEUE_URL")?,
        ),
        watch: Watch::from_policy(&policy.get(), archive_folders.iter().copied()),
        disposition_searches: std::env::var("DISPOSITION_SEARCH_IDS")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| anyhow::anyhow!("DISPOSITION_SEARCH_IDS: {s:?} is not a node id"))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    Ok((poller, policy, archive_folders))
}
