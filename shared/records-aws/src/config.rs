//! SDK clients built once per process from the environment (`AWS_REGION`,
//! `AWS_ENDPOINT_URL` for local stacks, credentials from the Lambda role).

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the shared SDK configuration.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client; `S3_FORCE_PATH_STYLE=true` selects path-style addressing (local moto).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = std::env::var("S3_FORCE_PATH_STYLE")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false);
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
