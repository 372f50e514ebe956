//! Local running of records-bridge without Docker: moto for AWS, the OpenText simulator,
//! the Lambda Runtime API emulator that drives the real compiled function binaries, and an
//! SQS event source that feeds them the way Lambda's event source mapping does.
//! Used by the end-to-end tests and by the local demo.

pub mod function;
pub mod function_url;
pub mod moto;
pub mod runtime_api;
pub mod sim_process;
pub mod sqs_source;
pub mod stack;
pub mod template;

use std::path::PathBuf;

/// The Cargo workspace root (this crate lives at `infra/local-stack`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// SDK configuration for a local endpoint (moto): static test credentials, us-east-1.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .load()
        .await
}

/// A path-style S3 client (moto needs path style).
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

/// A table shaped like the template's WorkflowTable (string hash key `pk`, on demand), for
/// adapter tests that need the table without the whole stack.
pub async fn create_workflow_table(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> anyhow::Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
