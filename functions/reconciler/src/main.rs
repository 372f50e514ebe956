//! Lambda entry point: an EventBridge schedule, or on demand with `{"dry_run": true|false}`.
//! Answers the drift report as JSON.

use lambda_runtime::{LambdaEvent, service_fn};
use lambda_support::required_env;
use reconciler::{Reconciler, Request};
use records_aws::audit_log::AuditLog;
use records_aws::links::LinkStore;
use records_aws::object_lock::ObjectLock;
use records_aws::s3_objects::S3Objects;
use records_domain::retention::LockMode;
use records_domain::{Actor, ActorKind};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let reconciler = match build().await {
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

async fn build() -> anyhow::Result<Reconciler> {
    let sdk = records_aws::config::load().await?;
    let s3 = records_aws::config::s3_client(&sdk);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let (opentext, account) = records_workflows::opentext_account::opentext_service_client(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        &required_env("OPENTEXT_SECRET_ID")?,
        &required_env("OPENTEXT_BASE_URL")?,
    )
    .await?;
    let lock_mode = match std::env::var("OBJECT_LOCK_MODE") {
        Ok(m) if !m.is_empty() => LockMode::parse(&m)
            .ok_or_else(|| anyhow::anyhow!("OBJECT_LOCK_MODE must be COMPLIANCE or GOVERNANCE"))?,
        _ => LockMode::Compliance,
    };
    let policy = records_aws::policy_handle::PolicyHandle::load(&sdk).await?;
    Ok(Reconciler {
        policy,
        links: LinkStore::new(ddb.clone(), required_env("WORKFLOW_TABLE")?),
        lock: ObjectLock::new(s3.clone()),
        objects: S3Objects::new(s3),
        audit: AuditLog::new(ddb, required_env("AUDIT_TABLE")?),
        opentext,
        lock_mode,
        actor: Actor {
            kind: ActorKind::System,
            id: format!("reconciler/{account}"),
        },
    })
}
