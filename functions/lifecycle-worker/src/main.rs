//! Lambda entry point: configuration, policy and clients built once; then the handler.

use lifecycle_worker::handler::handle_batch;
use records_aws::{audit_log::AuditLog, s3_objects::S3Objects};
use records_domain::{Actor, ActorKind};
use records_workflows::disposition::{DispositionJobs, JobsConfig};
use records_workflows::lifecycle::Deps;
use records_workflows::runner::CrashPoints;
use records_workflows::{archive, governance};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_support::init_logging();
    let deps = match build().await {
        Ok(deps) => deps,
        Err(e) => lambda_support::refuse_start("lifecycle worker", &e).await,
    };
    lambda_support::serve_sqs(&deps, &deps.policy, |deps, batch, inv| async move {
        handle_batch(deps, batch, &inv).await
    })
    .await
}

async fn build() -> anyhow::Result<Deps> {
    let get = |k: &str| std::env::var(k).ok();
    let sdk = records_aws::config::load().await?;
    let s3 = records_aws::config::s3_client(&sdk);
    let policy = records_aws::policy_handle::PolicyHandle::load(&sdk).await?;
    let (opentext, account) = records_workflows::opentext_account::opentext_service_client(
        &aws_sdk_secretsmanager::Client::new(&sdk),
        &lambda_support::required_env("OPENTEXT_SECRET_ID")?,
        &lambda_support::required_env("OPENTEXT_BASE_URL")?,
    )
    .await?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    // P4: both or neither; a half-configured stack would destroy without a certificate.
    let disposition = match (get("CERTIFICATE_KEY_ID"), get("AUDIT_BUCKET")) {
        (Some(key), Some(bucket)) if !key.is_empty() && !bucket.is_empty() => {
            let jobs = match JobsConfig::from_env(&get).map_err(anyhow::Error::msg)? {
                None => None,
                Some(config) => Some(DispositionJobs {
                    config,
                    control: records_aws::config::s3control_client(&sdk),
                    items: records_aws::batch_operations::BatchItems::new(
                        dynamodb.clone(),
                        lambda_support::required_env("WORKFLOW_TABLE")?,
                    ),
                    follow_up: records_aws::lifecycle_queue::LifecycleQueue::new(
                        aws_sdk_sqs::Client::new(&sdk),
                        lambda_support::required_env("LIFECYCLE_QUEUE_URL")?,
                    ),
                }),
            };
            Some(records_workflows::disposition::DispositionDeps {
                jobs,
                signer: records_aws::certificate_signer::CertificateSigner::new(
                    aws_sdk_kms::Client::new(&sdk),
                    &key,
                ),
                store: records_aws::certificate_store::CertificateStore::new(
                    s3.clone(),
                    bucket,
                    records_aws::certificate_store::Encryption::Kms { key_id: None },
                ),
            })
        }
        (None, None) => None,
        _ => anyhow::bail!("CERTIFICATE_KEY_ID and AUDIT_BUCKET are set together or not at all"),
    };
    let publication =
        records_workflows::publication::PublicationConfig::from_env(&get).map(|config| {
            records_workflows::publication::PublicationDeps {
                bucket: records_aws::publication_bucket::PublicationBucket::new(
                    s3.clone(),
                    config.bucket,
                ),
                cdn: config.distribution_id.map(|id| {
                    records_aws::cdn::Invalidations::new(
                        records_aws::config::cloudfront_client(&sdk),
                        id,
                    )
                }),
                base_url: config.base_url,
            }
        });
    Ok(Deps {
        disposition,
        publication,
        objects: S3Objects::new(s3.clone()),
        s3,
        workflow_table: lambda_support::required_env("WORKFLOW_TABLE")?,
        audit: AuditLog::new(
            dynamodb.clone(),
            lambda_support::required_env("AUDIT_TABLE")?,
        ),
        dynamodb,
        opentext,
        policy,
        actor: Actor {
            kind: ActorKind::ServiceAccount,
            id: account,
        },
        archive: archive::ArchiveConfig::from_env(&get),
        governance: governance::GovernanceConfig::from_env(&get),
        concurrency: 4,
        crash: CrashPoints::from_env(),
    })
}
