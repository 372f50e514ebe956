//! Lambda entry point: clients, the OpenText service account and the policy built once;
//! then each S3 Batch Operations invocation (schema 2.0) answered by the handler.

use disposition_batch_task::{Deps, handle};
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::required_env;
use records_aws::audit_log::AuditLog;
use records_aws::batch_operations::BatchItems;
use records_aws::object_lock::ObjectLock;
use records_domain::{Actor, ActorKind};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let deps = match build().await {
        Ok(d) => d,
        Err(e) => lambda_support::refuse_start("disposition batch task", &e).await,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            let out = handle(deps, event.payload, &event.context.request_id).await?;
            Ok::<_, lambda_runtime::Error>(out)
        },
    ))
    .await
}

async fn build() -> anyhow::Result<Deps> {
    let sdk = records_aws::config::load().await?;
    let s3 = records_aws::config::s3_client(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let (opentext, account) = records_workflows::opentext_account::opentext_service_client(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        &required_env("OPENTEXT_SECRET_ID")?,
        &required_env("OPENTEXT_BASE_URL")?,
    )
    .await?;
    let policy = records_aws::policy_handle::PolicyHandle::load(&sdk).await?;
    Ok(Deps {
        lock: ObjectLock::new(s3.clone()),
        s3,
        items: BatchItems::new(ddb.clone(), required_env("WORKFLOW_TABLE")?),
        audit: AuditLog::new(ddb, required_env("AUDIT_TABLE")?),
        opentext,
        policy,
        actor: Actor {
            kind: ActorKind::System,
            id: format!("disposition-batch-task/{account}"),
        },
    })
}
