//! Lambda entry point: configuration, policy and clients built once; then the handler.

use lambda_runtime::{LambdaEvent, service_fn};
use lifecycle_worker::handler::handle_batch;
use lifecycle_worker::{Deps, Invocation, archive, governance};
use records_aws::{audit_log::AuditLog, s3_objects::S3Objects};
use records_domain::{Actor, ActorKind, Policy};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_current_span(true)
        .without_time()
        .init();
    let deps = match build().await {
        Ok(deps) => deps,
        Err(e) => {
            tracing::error!(error = %e, "records-bridge lifecycle worker cannot start");
            std::process::exit(1);
        }
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
            let inv = Invocation::new(&event.context.request_id, event.context.deadline);
            Ok::<_, lambda_runtime::Error>(handle_batch(deps, event.payload, &inv).await)
        },
    ))
    .await
}

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("environment variable {name} is required"))
}

async fn build() -> anyhow::Result<Deps> {
    let get = |k: &str| std::env::var(k).ok();
    let sdk = records_aws::config::load().await;
    let s3 = records_aws::config::s3_client(&sdk);
    let policy = Policy::from_yaml(&required("RECORDS_POLICY")?)?;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let account =
        records_aws::secrets::service_account(&secrets, &required("OPENTEXT_SECRET_ID")?).await?;
    let mut credentials =
        opentext_client::Credentials::new(account.username.clone(), account.password.as_str());
    if let Some(domain) = &account.domain {
        credentials = credentials.with_domain(domain.clone());
    }
    let opentext = opentext_client::Client::new(&required("OPENTEXT_BASE_URL")?, credentials)?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    Ok(Deps {
        objects: S3Objects::new(s3.clone()),
        s3,
        workflow_table: required("WORKFLOW_TABLE")?,
        audit: AuditLog::new(dynamodb.clone(), required("AUDIT_TABLE")?),
        dynamodb,
        opentext,
        policy,
        actor: Actor {
            kind: ActorKind::ServiceAccount,
            id: account.username,
        },
        archive: archive::ArchiveConfig::from_env(&get),
        governance: governance::GovernanceConfig::from_env(&get),
        concurrency: 4,
        crash_after: get("RECORDS_BRIDGE_FAULT_CRASH_AFTER").filter(|v| !v.is_empty()),
    })
}
