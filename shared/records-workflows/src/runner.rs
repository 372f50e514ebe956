//! The one runner of claimed, leased, resumable work, and the one decision of which trouble
//! is worth another delivery. Every pattern's workflow item goes
//! claim → drive (each step saved) → done, or: a retryable error gives the lease back (the
//! next delivery resumes from the saved step at once), a permanent one records `failed` with
//! its reason and an audit event.

use std::future::Future;
use std::time::Duration;

use records_aws::s3_objects::S3Error;
use records_aws::workflow_store::{Claim, StoreError, WorkflowItem, WorkflowStore};
use records_domain::workflow::WorkflowState;

/// Why a step did not finish, decided once for every pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Another delivery may succeed: OpenText or AWS unavailable or throttling, a deadline, an
    /// expired credential, a live or lost lease, local I/O trouble.
    #[error("retry later: {0}")]
    Retry(String),
    /// Retrying cannot fix it (OpenText's own refusal, a bad plan): recorded as `failed`.
    #[error("failed: {0}")]
    Permanent(String),
}

impl StepError {
    pub fn reason(&self) -> &str {
        match self {
            StepError::Retry(r) | StepError::Permanent(r) => r,
        }
    }
}

impl From<opentext_client::Error> for StepError {
    fn from(e: opentext_client::Error) -> Self {
        use opentext_client::Error as E;
        let text = format!("OpenText: {e}");
        match &e {
            _ if e.is_retryable() => StepError::Retry(text),
            // Fixed outside this item (a deadline, a password, a full disk, a new upload
            // session next time): retry until the queue's DLQ keeps it.
            E::DeadlineExceeded { .. }
            | E::Unauthorized { .. }
            | E::Io(_)
            | E::UploadSession { .. } => StepError::Retry(text),
            _ => StepError::Permanent(text),
        }
    }
}

impl From<S3Error> for StepError {
    fn from(e: S3Error) -> Self {
        match e {
            // The version is gone: nothing a retry can bring back.
            S3Error::NotFound { .. } => StepError::Permanent(format!("S3: {e}")),
            // S3's final answer to a call that treats refusals as final (an archive copy's
            // bad digest, invalid lock date, access denied): sending it again changes nothing.
            S3Error::Rejected { .. } => StepError::Permanent(format!("S3: {e}")),
            // Throttling, 5xx, access denied or a missing bucket (deployment faults): retry,
            // and let the DLQ hold the event with the reason.
            _ => StepError::Retry(format!("S3: {e}")),
        }
    }
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        // A lost lease means another attempt owns the item now; it will finish it.
        StepError::Retry(format!("workflow store: {e}"))
    }
}

impl From<records_aws::audit_log::AuditError> for StepError {
    fn from(e: records_aws::audit_log::AuditError) -> Self {
        StepError::Retry(format!("audit log: {e}"))
    }
}

impl From<records_aws::links::LinkError> for StepError {
    fn from(e: records_aws::links::LinkError) -> Self {
        StepError::Retry(format!("links: {e}"))
    }
}

/// A claim held on one workflow item.
#[derive(Clone)]
pub struct Lease {
    pub store: WorkflowStore,
    pub key: String,
    pub owner: String,
    pub duration: Duration,
}

/// What claiming found.
pub enum Claimed {
    /// Ours to drive; `resumed` when an earlier attempt had started (its state says where).
    Acquired { item: WorkflowItem, resumed: bool },
    /// Finished earlier in `done`.
    Done(WorkflowItem),
    /// Finished earlier in another terminal state (`failed`).
    Ended(WorkflowItem),
}

impl Lease {
    /// Claims the item (creating it in `state` with `detail` when new). A live lease of
    /// another attempt is a retry.
    pub async fn claim(
        store: WorkflowStore,
        key: &str,
        owner: String,
        duration: Duration,
        state: &str,
        detail: &str,
    ) -> Result<(Lease, Claimed), StepError> {
        let claim = store
            .claim_starting_at(key, &owner, duration, state, detail)
            .await?;
        let lease = Lease {
            store,
            key: key.to_string(),
            owner,
            duration,
        };
        let claimed = match claim {
            Claim::Acquired { item, resumed } => Claimed::Acquired { item, resumed },
            Claim::Finished(item) if item.state == "done" => Claimed::Done(item),
            Claim::Finished(item) => Claimed::Ended(item),
            Claim::Busy(_) => {
                return Err(StepError::Retry(format!(
                    "another attempt holds the lease on {key}"
                )));
            }
        };
        Ok((lease, claimed))
    }

    /// Moves the item from `from` to `to` along its workflow's table, saving `detail` and
    /// renewing the lease (the same state saves progress within a step). A move the table
    /// does not list is a bug in the workflow: failed with that reason, never saved.
    pub async fn step<S: WorkflowState>(
        &self,
        from: S,
        to: S,
        detail: &impl serde::Serialize,
    ) -> Result<S, StepError> {
        let to = from.move_to(to).map_err(|e| {
            StepError::Permanent(format!(
                "{e} on {}: a bug in the {} workflow, not saved",
                self.key,
                S::WORKFLOW
            ))
        })?;
        let detail = serde_json::to_string(detail).unwrap_or_else(|_| "{}".into());
        self.store
            .transition(
                &self.key,
                &self.owner,
                from.as_str(),
                to.as_str(),
                &detail,
                self.duration,
            )
            .await?;
        Ok(to)
    }

    /// Gives the lease back while the item rests in a state that is not terminal, waiting
    /// for something outside (a Batch Operations job): the next delivery claims it at once.
    pub async fn rest(&self) -> Result<(), StepError> {
        Ok(self.store.release(&self.key, &self.owner).await?)
    }

    /// Ends an attempt by its result: a retryable error gives the lease back so the next
    /// delivery resumes at once; a permanent one runs `fail` (record `failed`, audit) first.
    pub async fn settle<T, F, Fut>(
        &self,
        result: Result<T, StepError>,
        fail: F,
    ) -> Result<T, StepError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        match result {
            Ok(v) => Ok(v),
            Err(StepError::Retry(reason)) => {
                if let Err(e) = self.store.release(&self.key, &self.owner).await {
                    // The lease then simply expires; nothing is lost.
                    tracing::warn!(error = %e, "could not give the lease back");
                }
                Err(StepError::Retry(reason))
            }
            Err(StepError::Permanent(reason)) => {
                fail(reason.clone()).await;
                Err(StepError::Permanent(reason))
            }
        }
    }
}

/// Test-only crash injection (`RECORDS_BRIDGE_FAULT_CRASH_AFTER`): abort the process right
/// after the named step, as a Lambda timeout or an out-of-memory kill would.
#[derive(Debug, Clone, Default)]
pub struct CrashPoints(Option<String>);

impl CrashPoints {
    pub fn from_env() -> Self {
        Self(
            std::env::var("RECORDS_BRIDGE_FAULT_CRASH_AFTER")
                .ok()
                .filter(|v| !v.is_empty()),
        )
    }

    pub fn at(&self, step: &str) {
        if self.0.as_deref() == Some(step) {
            tracing::error!(step, "fault injection: aborting the process");
            std::process::abort();
        }
    }

    pub fn is(&self, step: &str) -> bool {
        self.0.as_deref() == Some(step)
    }
}

#[cfg(test)]
mod tests {
    use super::StepError;
    use opentext_client::Error as Ot;
    use records_aws::s3_objects::S3Error;

    fn ot(status: u16, message: &str) -> Ot {
        // Built the way the client builds them from a server answer.
        match status {
            401 => Ot::Unauthorized {
                status,
                message: message.into(),
            },
            403 => Ot::Forbidden {
                status,
                message: message.into(),
            },
            409 => Ot::Conflict {
                status,
                message: message.into(),
            },
            _ => Ot::Api {
                status,
                message: message.into(),
                retry_after: None,
            },
        }
    }

    fn retry(e: impl Into<StepError>) -> bool {
        matches!(e.into(), StepError::Retry(_))
    }

    #[test]
    fn opentext_outages_deadlines_credentials_and_io_retry_its_refusals_fail() {
        assert!(retry(ot(503, "busy")));
        assert!(retry(ot(500, "Injected fault")), "a 500 without a meaning");
        assert!(retry(ot(429, "slow down")));
        assert!(retry(Ot::DeadlineExceeded {
            attempts: 3,
            last: None
        }));
        assert!(retry(ot(401, "expired")));
        assert!(retry(Ot::Io(std::io::Error::other("disk"))));
        assert!(retry(Ot::UploadSession {
            status: 500,
            message: "Multipart Upload session expired".into()
        }));
        assert!(!retry(ot(400, "bad category")));
        assert!(!retry(ot(403, "no permission")));
        assert!(
            !retry(ot(409, "stale token")),
            "a conflict left after the re-read is final"
        );
        assert!(!retry(Ot::NameExists {
            status: 500,
            message: "exists".into()
        }));
        assert!(!retry(Ot::NotFound {
            status: 404,
            message: "gone".into()
        }));
    }

    #[test]
    fn s3_gone_fails_everything_else_retries() {
        let gone = S3Error::NotFound {
            bucket: "b".into(),
            key: "k".into(),
            version: None,
        };
        assert!(!retry(gone));
        assert!(retry(S3Error::NoSuchBucket { bucket: "b".into() }));
        assert!(retry(S3Error::Transport {
            op: "GetObject",
            message: "reset".into()
        }));
        assert!(retry(S3Error::Refused {
            op: "GetObject",
            bucket: "b".into(),
            key: "k".into(),
            code: "AccessDenied".into(),
            message: "denied".into(),
        }));
    }

    #[test]
    fn s3_final_answers_fail_throttling_and_transport_retry() {
        let rejected = |code: &str| S3Error::Rejected {
            op: "PutObject",
            bucket: "archive".into(),
            key: "archive/1/v1/f".into(),
            code: code.into(),
            message: "no".into(),
        };
        for code in [
            "AccessDenied",
            "InvalidRequest",
            "BadDigest",
            "NoSuchBucket",
        ] {
            assert!(!retry(rejected(code)), "{code}");
        }
        for code in records_aws::s3_objects::RETRYABLE_CODES {
            assert!(
                retry(S3Error::Refused {
                    op: "PutObject",
                    bucket: "archive".into(),
                    key: "k".into(),
                    code: code.to_string(),
                    message: "busy".into(),
                }),
                "{code}"
            );
        }
        assert!(retry(S3Error::Transport {
            op: "HeadObject",
            message: "timeout".into()
        }));
    }

    #[test]
    fn the_store_and_audit_log_retry() {
        let lost = records_aws::workflow_store::StoreError::LeaseLost { key: "k".into() };
        assert!(retry(lost));
    }
}
