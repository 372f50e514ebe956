//! S3 errors as retry-or-fail decisions.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::StepError;

/// Throttling, 5xx and transport trouble are retried; anything else is S3's final answer
/// (access denied, invalid Object Lock date, bad digest...).
pub(crate) fn s3_error<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    op: &str,
    key: &str,
    e: SdkError<E, R>,
) -> StepError {
    let code = e.code().unwrap_or("Unknown").to_string();
    let text = format!(
        "S3 {op} {key}: {code}: {}",
        e.message()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{e:?}"))
    );
    let retryable = matches!(
        e,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    ) || matches!(
        code.as_str(),
        "SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "Throttling"
    );
    if retryable {
        StepError::Retry(text)
    } else {
        StepError::Permanent(text)
    }
}
