//! What every records-bridge function shares, so each `main.rs` stays a few lines: structured
//! logs, a clear refusal to start, the OpenText service account, and the SQS batch runner.

use std::fmt::Display;

use records_workflows::invocation::{DEFAULT_MARGIN, Invocation};

pub mod sqs_batch;

/// JSON logs with the Lambda request span; `RUST_LOG` filters. CloudWatch stamps each line.
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let (filter, refused) = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .without_time(),
        )
        .with(filter)
        .init();
    if let Some(refused) = refused {
        tracing::warn!(rust_log = %refused, "RUST_LOG is not a list of `level` or `target=level` directives; logging at info");
    }
}

/// `RUST_LOG` as `level` / `target=level` directives (`info`, `declare=debug,warn`); unset
/// means info, and a value that does not parse is logged at info and returned to be reported.
pub fn log_filter(rust_log: Option<&str>) -> (tracing_subscriber::filter::Targets, Option<String>) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let info = || Targets::new().with_default(LevelFilter::INFO);
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => (info(), None),
        Some(value) => match value.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(_) => (info(), Some(value.to_string())),
        },
    }
}

/// Logs why `function` cannot start, tells the Lambda service (`/runtime/init/error`), and
/// exits: nothing is consumed from any queue by a misconfigured function.
pub async fn refuse_start(function: &str, error: &dyn Display) -> ! {
    let message = error.to_string();
    tracing::error!(error = %message, "records-bridge {function} cannot start");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({ "errorType": "Runtime.InitError", "errorMessage": message });
        let _ = reqwest::Client::new()
            .post(format!("http://{api}/2018-06-01/runtime/init/error"))
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
            .json(&body)
            .send()
            .await;
    }
    std::process::exit(1)
}

/// Serves an SQS-triggered function whose clients are built: per invocation, the policy
/// re-read when due, the invocation's deadline (less the default margin), then `handle`.
pub async fn serve_sqs<'a, D, H, F>(
    deps: &'a D,
    policy: &'a records_aws::policy_handle::PolicyHandle,
    handle: H,
) -> Result<(), lambda_runtime::Error>
where
    H: Fn(&'a D, aws_lambda_events::sqs::SqsEvent, Invocation) -> F + 'a,
    F: std::future::Future<Output = aws_lambda_events::sqs::SqsBatchResponse> + 'a,
{
    let handle = &handle;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
            policy.refresh_if_due().await;
            let inv = Invocation::new(
                &event.context.request_id,
                event.context.deadline,
                DEFAULT_MARGIN,
            );
            Ok::<_, lambda_runtime::Error>(handle(deps, event.payload, inv).await)
        },
    ))
    .await
}

/// A required, non-empty environment variable.
pub fn required_env(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("environment variable {name} is required"))
}

#[cfg(test)]
mod log_filter_tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn unset_means_info_and_directives_set_levels_per_target() {
        let (info, refused) = log_filter(None);
        assert!(refused.is_none());
        assert!(info.would_enable("declare", &Level::INFO));
        assert!(!info.would_enable("declare", &Level::DEBUG));

        let (targets, refused) = log_filter(Some("warn,records_workflows=debug"));
        assert!(refused.is_none());
        assert!(targets.would_enable("records_workflows::declare", &Level::DEBUG));
        assert!(!targets.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(targets.would_enable("aws_smithy_runtime", &Level::WARN));
    }

    #[test]
    fn a_value_that_does_not_parse_logs_at_info_and_is_reported() {
        let (filter, refused) = log_filter(Some("declare[span{x=1}]=debug"));
        assert_eq!(refused.as_deref(), Some("declare[span{x=1}]=debug"));
        assert!(filter.would_enable("declare", &Level::INFO));
    }
}
