//! Lambda entry point: configuration, policy and clients built once; then the handler.

use declare::config::Config;
use declare::handler::handle_batch;
use records_aws::{audit_log::AuditLog, s3_objects::S3Objects, workflow_store::WorkflowStore};
use records_domain::{Actor, ActorKind};
use records_workflows::declare::progress::TERMINAL;
use records_workflows::declare::{Deps, opentext_access::OpenTextAccess};
use records_workflows::runner::CrashPoints;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let deps = match build().await {
        Ok(deps) => deps,
        Err(e) => lambda_support::refuse_start("declare", &e).await,
    };
    deps.opentext.prewarm();
    lambda_support::serve_sqs(&deps, &deps.policy, |deps, batch, inv| async move {
        handle_batch(deps, batch, &inv).await
    })
    .await
}

async fn build() -> anyhow::Result<Deps> {
    let config = Config::from_env(|k| std::env::var(k).ok())?;
    let sdk = records_aws::config::load().await?;
    let s3 = records_aws::config::s3_client(&sdk);
    let policy = records_aws::policy_handle::PolicyHandle::load(&sdk).await?;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let opentext = OpenTextAccess::new(
        &config.opentext_base_url,
        &config.opentext_secret_id,
        secrets,
    );
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    Ok(Deps {
        s3: S3Objects::new(s3),
        store: WorkflowStore::new(ddb.clone(), &config.workflow_table, "claimed", TERMINAL),
        links: records_aws::links::LinkStore::new(ddb.clone(), &config.workflow_table),
        business_index: records_aws::business_index::BusinessIndex::new(
            ddb.clone(),
            &config.workflow_table,
        ),
        audit: AuditLog::new(ddb, &config.audit_table),
        opentext,
        policy,
        actor: Actor {
            kind: ActorKind::ServiceAccount,
            id: config.opentext_service_user,
        },
        concurrency: config.concurrency,
        crash: CrashPoints::from_env(),
        self_writers: config.self_writers,
        access_url: config.access_url,
    })
}
