//! P7's CloudFront invalidations of the publication distribution: `CreateInvalidation` with
//! the caller's reference (derived from the effect, so a retry is the same invalidation:
//! CloudFront answers a repeated reference with the same paths by returning the existing
//! invalidation), and the paths of every invalidation (ListInvalidations + GetInvalidation)
//! for the tests and the operator CLI.

use aws_sdk_cloudfront::config::http::HttpResponse;
use aws_sdk_cloudfront::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};

/// The codes CloudFront answers when it is throttling, over its in-progress limits or
/// failing: another try later may succeed.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyInvalidationsInProgress",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
];

#[derive(Debug, thiserror::Error)]
pub enum CdnError {
    /// Nothing to invalidate: refused before any call.
    #[error("an invalidation needs at least one path")]
    NoPaths,
    #[error("CloudFront distribution {distribution_id} does not exist")]
    NoSuchDistribution { distribution_id: String },
    /// The caller reference already names an invalidation of other paths
    /// (`InvalidationBatchAlreadyExists`): a fault of the caller's reference, final.
    #[error(
        "invalidation {caller_reference:?} of {distribution_id} already exists with other paths: {message}"
    )]
    BatchConflict {
        distribution_id: String,
        caller_reference: String,
        message: String,
    },
    /// Throttling, too many invalidations in progress, 5xx: retryable.
    #[error("CloudFront {op} on {distribution_id} unavailable: {status} {code}: {message}")]
    Unavailable {
        op: &'static str,
        distribution_id: String,
        status: u16,
        code: String,
        message: String,
    },
    /// CloudFront's final answer (access denied, invalid argument, batch too large, ...).
    #[error("CloudFront rejected {op} on {distribution_id}: {code}: {message}")]
    Rejected {
        op: &'static str,
        distribution_id: String,
        code: String,
        message: String,
    },
    /// Timeouts, connection failures, unreadable answers: retryable.
    #[error("CloudFront {op} failed: {message}")]
    Transport { op: &'static str, message: String },
}

impl CdnError {
    /// Worth retrying later (throttling, 5xx, transport), as opposed to a final answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CdnError::Unavailable { .. } | CdnError::Transport { .. }
        )
    }

    /// CloudFront's answer `status` / `code` to `op` as an error.
    fn answer(
        op: &'static str,
        distribution_id: &str,
        caller_reference: Option<&str>,
        status: u16,
        code: Option<&str>,
        message: Option<&str>,
    ) -> Self {
        let distribution_id = distribution_id.to_string();
        let code = code.unwrap_or("Unknown").to_string();
        let message = message.unwrap_or_default().to_string();
        match code.as_str() {
            "NoSuchDistribution" => CdnError::NoSuchDistribution { distribution_id },
            "InvalidationBatchAlreadyExists" => CdnError::BatchConflict {
                distribution_id,
                caller_reference: caller_reference.unwrap_or_default().to_string(),
                message,
            },
            c if RETRYABLE_CODES.contains(&c) || status >= 500 || status == 429 => {
                CdnError::Unavailable {
                    op,
                    distribution_id,
                    status,
                    code,
                    message,
                }
            }
            _ => CdnError::Rejected {
                op,
                distribution_id,
                code,
                message,
            },
        }
    }

    fn from_sdk<E: ProvideErrorMetadata + std::fmt::Debug>(
        op: &'static str,
        distribution_id: &str,
        caller_reference: Option<&str>,
        err: SdkError<E, HttpResponse>,
    ) -> Self {
        match &err {
            SdkError::ServiceError(e) => CdnError::answer(
                op,
                distribution_id,
                caller_reference,
                e.raw().status().as_u16(),
                e.err().code(),
                e.err().message(),
            ),
            SdkError::ConstructionFailure(_) => CdnError::Rejected {
                op,
                distribution_id: distribution_id.to_string(),
                code: "ConstructionFailure".into(),
                message: format!("{err:?}"),
            },
            _ => CdnError::Transport {
                op,
                message: format!("{err:?}"),
            },
        }
    }
}

#[derive(Clone)]
pub struct Invalidations {
    client: aws_sdk_cloudfront::Client,
    distribution_id: String,
}

impl Invalidations {
    pub fn new(client: aws_sdk_cloudfront::Client, distribution_id: impl Into<String>) -> Self {
        Self {
            client,
            distribution_id: distribution_id.into(),
        }
    }

    pub fn distribution_id(&self) -> &str {
        &self.distribution_id
    }

    /// `CreateInvalidation` of `paths` (CloudFront paths: leading `/`, percent-encoded by the
    /// caller) under `caller_reference`; the invalidation id. The same reference with the
    /// same paths is the existing invalidation; with other paths, [`CdnError::BatchConflict`].
    /// An empty `paths` is refused without a call ([`CdnError::NoPaths`]).
    pub async fn invalidate(
        &self,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<String, CdnError> {
        const OP: &str = "CreateInvalidation";
        if paths.is_empty() {
            return Err(CdnError::NoPaths);
        }
        let built = |e: aws_smithy_types::error::operation::BuildError| CdnError::Rejected {
            op: OP,
            distribution_id: self.distribution_id.clone(),
            code: "ConstructionFailure".into(),
            message: e.to_string(),
        };
        let paths = Paths::builder()
            .quantity(paths.len() as i32)
            .set_items(Some(paths.to_vec()))
            .build()
            .map_err(built)?;
        let batch = InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(caller_reference)
            .build()
            .map_err(built)?;
        let out = self
            .client
            .create_invalidation()
            .distribution_id(&self.distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| {
                CdnError::from_sdk(OP, &self.distribution_id, Some(caller_reference), e)
            })?;
        out.invalidation()
            .map(|i| i.id().to_string())
            .ok_or_else(|| CdnError::Transport {
                op: OP,
                message: "the answer names no invalidation".into(),
            })
    }

    /// The paths of every invalidation of the distribution, newest first as CloudFront lists
    /// them (ListInvalidations, paged by marker, then GetInvalidation of each).
    pub async fn invalidated_paths(&self) -> Result<Vec<Vec<String>>, CdnError> {
        let mut ids = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .client
                .list_invalidations()
                .distribution_id(&self.distribution_id)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| {
                    CdnError::from_sdk("ListInvalidations", &self.distribution_id, None, e)
                })?;
            let Some(list) = page.invalidation_list() else {
                break;
            };
            ids.extend(list.items().iter().map(|s| s.id().to_string()));
            match list.next_marker().filter(|m| !m.is_empty()) {
                Some(next) if list.is_truncated() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let got = self
                .client
                .get_invalidation()
                .distribution_id(&self.distribution_id)
                .id(&id)
                .send()
                .await
                .map_err(|e| {
                    CdnError::from_sdk("GetInvalidation", &self.distribution_id, None, e)
                })?;
            out.push(
                got.invalidation()
                    .and_then(|i| i.invalidation_batch())
                    .and_then(|b| b.paths())
                    .map(|p| p.items().to_vec())
                    .unwrap_or_default(),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, code: &str) -> CdnError {
        CdnError::answer(
            "CreateInvalidation",
            "E1",
            Some("ref-1"),
            status,
            Some(code),
            Some("m"),
        )
    }

    #[test]
    fn throttling_limits_and_5xx_are_retryable() {
        for (status, code) in [
            (400, "Throttling"),
            (400, "TooManyInvalidationsInProgress"),
            (503, "ServiceUnavailable"),
            (500, "InternalError"),
            (502, "Unknown"),
            (429, "SlowDown"),
        ] {
            let e = answer(status, code);
            assert!(e.is_retryable(), "{status} {code}: {e:?}");
        }
    }

    #[test]
    fn refusals_are_final() {
        assert!(matches!(
            answer(404, "NoSuchDistribution"),
            CdnError::NoSuchDistribution { distribution_id } if distribution_id == "E1"
        ));
        let e = answer(400, "InvalidationBatchAlreadyExists");
        assert!(matches!(
            &e,
            CdnError::BatchConflict { caller_reference, .. } if caller_reference == "ref-1"
        ));
        assert!(!e.is_retryable());
        for code in ["AccessDenied", "InvalidArgument", "BatchTooLarge"] {
            let e = answer(400, code);
            assert!(matches!(e, CdnError::Rejected { .. }), "{code}: {e:?}");
            assert!(!e.is_retryable());
        }
        assert!(!CdnError::NoPaths.is_retryable());
    }
}
