//! The start-up baseline for `records-bench`: the least a Rust Lambda that reads S3 does
//! before its first Runtime API poll (load the SDK configuration, build an S3 client, run a
//! trivial handler). Built with the same release profile as the functions.

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let s3 = &s3;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            // Keep the client alive in the handler, as a real function would.
            let _ = s3.config().region();
            Ok::<_, lambda_runtime::Error>(event.payload)
        },
    ))
    .await
}
