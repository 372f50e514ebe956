//! Lambda entry point: the service account, the policy and the clients built once; then
//! each Function URL request answered by the handler.

use access_endpoint::request::{Request, Response};
use access_endpoint::routes::handle;
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
    let deps = match build().await {
        Ok(d) => d,
        Err(e) => lambda_support::refuse_start("access endpoint", &e).await,
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| async move {
            let answer: Response = handle(deps, &Request::from(event.payload)).await;
            Ok::<_, lambda_runtime::Error>(LambdaFunctionUrlResponse::from(answer))
        },
    ))
    .await
}

async fn build() -> anyhow::Result<AccessDeps> {
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
    Ok(AccessDeps {
        opentext,
        objects: S3Objects::new(s3.clone()),
        s3,
        links: LinkStore::new(ddb.clone(), &table),
        audit: AuditLog::new(ddb, required_env("AUDIT_TABLE")?),
        policy: records_aws::policy_handle::PolicyHandle::load(&sdk).await?,
    })
}
