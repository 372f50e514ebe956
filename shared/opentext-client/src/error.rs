//! One error type for every call, keeping OpenText's HTTP status and message.

use std::time::Duration;

use reqwest::StatusCode;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a call can fail with.
///
/// Server answers keep their HTTP `status` and OpenText's own `message`
/// (from `{"error": ...}` or RM's `{"results":{"ok":false,"errMsg":...}}`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An item with the same name already exists in the container (OpenText answers HTTP 500).
    #[error("name already exists (HTTP {status}): {message}")]
    NameExists {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message.
        message: String,
    },
    /// The node (or other object) does not exist or the caller may not see it.
    /// OpenText uses 400, 404 and 500 for this ("could not get/locate/be accessed").
    #[error("not found or not accessible (HTTP {status}): {message}")]
    NotFound {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message.
        message: String,
    },
    /// HTTP 409: an edit conflict, e.g. a stale `metadata_token` / `rm_metadataToken`.
    #[error("conflict (HTTP {status}): {message}")]
    Conflict {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message.
        message: String,
    },
    /// HTTP 401 that survived the one re-authentication (or an identity that cannot re-authenticate).
    #[error("unauthorized (HTTP {status}): {message}")]
    Unauthorized {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message.
        message: String,
    },
    /// HTTP 403: authenticated but not allowed.
    #[error("forbidden (HTTP {status}): {message}")]
    Forbidden {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message.
        message: String,
    },
    /// A 500 that reports a chunked-upload fault (`Multipart Upload session expired`,
    /// `BlockID n has already been uploaded`, `Invalid block size`): resending the same request
    /// cannot help, a new upload session may.
    #[error("chunked upload refused (HTTP {status}): {message}")]
    UploadSession {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message.
        message: String,
    },
    /// Any other non-success answer (400, 429, 5xx, RM `ok:false`, ...).
    #[error("OpenText error (HTTP {status}): {message}")]
    Api {
        /// HTTP status as sent by the server.
        status: u16,
        /// OpenText's message (or a short excerpt of a non-JSON body).
        message: String,
        /// `Retry-After` in seconds, when the server sent one.
        retry_after: Option<Duration>,
    },
    /// The request or the response body timed out.
    #[error("timeout: {0}")]
    Timeout(#[source] reqwest::Error),
    /// Connecting, sending or receiving failed at the transport level.
    #[error("connection error: {0}")]
    Transport(#[source] reqwest::Error),
    /// The caller's deadline was reached before the call could succeed.
    #[error("deadline reached after {attempts} attempt(s){}", last.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    DeadlineExceeded {
        /// Attempts made before giving up.
        attempts: u32,
        /// The error of the last attempt, if any attempt was made.
        last: Option<Box<Error>>,
    },
    /// A 2xx answer whose body was not what the API documents.
    #[error("unexpected response from {context}: {message}")]
    UnexpectedResponse {
        /// Which call produced it.
        context: String,
        /// What was wrong.
        message: String,
    },
    /// Reading local content failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A one-shot content source was already (partly) sent and cannot be sent again.
    #[error("content source cannot be re-opened for a retry")]
    NotReplayable,
    /// The caller passed something the client refuses to send.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The HTTP status of a server answer, if this error came from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::NameExists { status, .. }
            | Error::NotFound { status, .. }
            | Error::Conflict { status, .. }
            | Error::Unauthorized { status, .. }
            | Error::Forbidden { status, .. }
            | Error::UploadSession { status, .. }
            | Error::Api { status, .. } => Some(*status),
            Error::DeadlineExceeded { last: Some(e), .. } => e.status(),
            _ => None,
        }
    }

    /// OpenText's message, if this error came from a server answer.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::NameExists { message, .. }
            | Error::NotFound { message, .. }
            | Error::Conflict { message, .. }
            | Error::Unauthorized { message, .. }
            | Error::Forbidden { message, .. }
            | Error::UploadSession { message, .. }
            | Error::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Whether sending the same request again may succeed: timeouts, connection errors,
    /// 429 and every 5xx whose message is not one of Content Server's known meanings. Content
    /// Server answers 500 both for meanings ("name exists", "could not locate", chunked-upload
    /// faults: each its own variant, never retried as is) and for real server faults (retried).
    /// Never 400/401/403/404/409.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout(_) | Error::Transport(_) => true,
            Error::Api { status, .. } => *status == 429 || (500..=599).contains(status),
            _ => false,
        }
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for [`Error::NotFound`] (also behind a deadline).
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::NotFound { .. } => true,
            Error::DeadlineExceeded { last: Some(e), .. } => e.is_not_found(),
            _ => false,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_builder() {
            // A malformed request is not transient: never retry it.
            Error::InvalidArgument(e.to_string())
        } else if e.is_timeout() {
            Error::Timeout(e)
        } else {
            Error::Transport(e)
        }
    }

    pub(crate) fn unexpected(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::UnexpectedResponse {
            context: context.into(),
            message: message.into(),
        }
    }

    /// Classifies a non-success answer from its status, body and `Retry-After`.
    pub(crate) fn from_status(
        status: StatusCode,
        body: &[u8],
        retry_after: Option<Duration>,
    ) -> Self {
        let message = error_message(body);
        classify(status.as_u16(), message, retry_after)
    }
}

/// Maps status + message to a variant. Also used for RM `ok:false` bodies sent with 200.
pub(crate) fn classify(status: u16, message: String, retry_after: Option<Duration>) -> Error {
    let lower = message.to_ascii_lowercase();
    // "An item with the name '{name}' already exists." (category apply has another "already exists")
    if lower.contains("already exists") && lower.contains("name") {
        return Error::NameExists { status, message };
    }
    let upload_fault = (lower.contains("multipart") && lower.contains("expired"))
        || lower.contains("has already been uploaded")
        || lower.contains("invalid block size");
    if status >= 500 && upload_fault {
        return Error::UploadSession { status, message };
    }
    let not_found_text = lower.contains("could not get")
        || lower.contains("could not locate")
        || lower.contains("could not be accessed")
        || lower.contains("cannot retrieve node")
        || lower.contains("does not exist");
    match status {
        404 => Error::NotFound { status, message },
        400 | 500 if not_found_text => Error::NotFound { status, message },
        409 => Error::Conflict { status, message },
        401 => Error::Unauthorized { status, message },
        403 => Error::Forbidden { status, message },
        _ => Error::Api {
            status,
            message,
            retry_after,
        },
    }
}

/// Extracts OpenText's message from the known error bodies; falls back to a
/// short excerpt (proxies answer with HTML).
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(msg) = rm_error_message(&v) {
            return msg;
        }
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            let detail = v
                .get("errorDetail")
                .or_else(|| v.get("errorDetails"))
                .and_then(|d| d.as_str())
                .filter(|d| !d.is_empty());
            return match detail {
                Some(d) => format!("{e} ({d})"),
                None => e.to_string(),
            };
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    text.chars().take(300).collect()
}

/// RM's `{"results":{"ok":false,"errMsg":...}}` form; `None` when not that shape or `ok` is true.
pub(crate) fn rm_error_message(v: &serde_json::Value) -> Option<String> {
    let results = v.get("results")?;
    if results.get("ok")?.as_bool()? {
        return None;
    }
    Some(
        results
            .get("errMsg")
            .and_then(|m| m.as_str())
            .filter(|m| !m.is_empty())
            .unwrap_or("request failed (ok=false)")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_known_forms() {
        let e = Error::from_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"error":"An item with the name 'a' already exists."}"#,
            None,
        );
        assert!(matches!(e, Error::NameExists { status: 500, .. }));
        let e = Error::from_status(
            StatusCode::BAD_REQUEST,
            br#"{"error":"Could not get a node for 5"}"#,
            None,
        );
        assert!(e.is_not_found());
        let e = Error::from_status(
            StatusCode::BAD_REQUEST,
            br#"{"results":{"ok":false,"errMsg":"bad hold","id":0}}"#,
            None,
        );
        assert!(matches!(e, Error::Api { status: 400, ref message, .. } if message == "bad hold"));
        let e = Error::from_status(StatusCode::CONFLICT, br#"{"error":"token"}"#, None);
        assert!(matches!(e, Error::Conflict { .. }));
        let e = Error::from_status(StatusCode::SERVICE_UNAVAILABLE, b"<html>busy</html>", None);
        assert!(e.is_retryable());
        let e = Error::from_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"error":"Multipart Upload session expired"}"#,
            None,
        );
        assert!(matches!(e, Error::UploadSession { status: 500, .. }));
        assert!(
            !e.is_retryable(),
            "resending a part to an expired session cannot help"
        );
    }

    /// Content Server's 500 carries meanings; a 500 without one is a server fault.
    #[test]
    fn a_500_without_a_known_meaning_is_retryable_and_meanings_are_not() {
        let fault = Error::from_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"error":"Injected fault: 500 Internal Server Error"}"#,
            None,
        );
        assert!(fault.is_retryable(), "{fault:?}");
        let html = Error::from_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            b"<html>oops</html>",
            None,
        );
        assert!(html.is_retryable());
        for meaning in [
            &br#"{"error":"An item with the name 'PLAIN.pdf' already exists."}"#[..],
            br#"{"error":"Could not locate node 99"}"#,
            br#"{"error":"Invalid block size"}"#,
            br#"{"error":"BlockID 2 has already been uploaded"}"#,
        ] {
            let e = Error::from_status(StatusCode::INTERNAL_SERVER_ERROR, meaning, None);
            assert!(!e.is_retryable(), "{e:?}");
        }
        assert!(!Error::from_status(StatusCode::FORBIDDEN, b"{}", None).is_retryable());
    }
}
