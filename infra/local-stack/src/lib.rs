//! Local running of records-bridge without Docker: moto for AWS, the OpenText simulator,
//! the Lambda Runtime API emulator that drives the real compiled function binaries, and an
//! SQS event source that feeds them the way Lambda's event source mapping does.
//! Used by the end-to-end tests and by the local demo.

pub mod batch_operations;
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

/// A table shaped like the template's WorkflowTable (string hash key `pk`, on demand, the
/// BusinessObjectIndex), for
/// adapter tests that need the table without the whole stack.
pub async fn create_workflow_table(
    ddb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> anyhow::Result<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let attr = |n: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
    };
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S)?)
        .attribute_definitions(attr("business_object", ScalarAttributeType::S)?)
        .attribute_definitions(attr("node_id", ScalarAttributeType::N)?)
        .key_schema(key("pk", KeyType::Hash)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("BusinessObjectIndex")
                .key_schema(key("business_object", KeyType::Hash)?)
                .key_schema(key("node_id", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
