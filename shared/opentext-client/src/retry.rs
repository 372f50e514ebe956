//! Retry with exponential backoff and jitter (backon), bounded by a deadline.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::time::Instant;

use crate::error::{Error, Result};

/// How transient failures (timeouts, connection errors, 429, 502/503/504) are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: usize,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Cap for one backoff delay.
    pub max_delay: Duration,
    /// Adds random jitter so many clients do not retry in lock-step.
    pub jitter: bool,
    /// Longest server `Retry-After` the client is willing to wait; a longer one
    /// ends the retries (sleeping less than asked would just be refused again).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            jitter: true,
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries);
        if self.jitter {
            // backon's default seed is fixed without its `std` feature; seed it ourselves.
            b.with_jitter().with_jitter_seed(rand::random())
        } else {
            b
        }
    }
}

/// Runs `op` until it succeeds, fails with a non-retryable error, runs out of
/// retries, or the next sleep would end past `deadline`.
///
/// `may_retry` is asked before each retry (e.g. a one-shot body already sent).
/// A `Retry-After` from the server replaces the computed backoff.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: Option<Instant>,
    what: &str,
    may_retry: &(dyn Fn() -> bool + Send + Sync),
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return Err(Error::DeadlineExceeded {
            attempts: 0,
            last: None,
        });
    }
    let attempts = AtomicU32::new(0);
    let stopped_by_deadline = AtomicBool::new(false);
    let result = (|| {
        attempts.fetch_add(1, Ordering::Relaxed);
        op()
    })
    .retry(policy.backoff())
    .sleep(tokio::time::sleep)
    .when(|e: &Error| e.is_retryable() && may_retry())
    .adjust(|e: &Error, backoff: Option<Duration>| {
        let wait = match (e.retry_after(), backoff) {
            (_, None) => return None, // retries exhausted
            (Some(server), Some(_)) if server > policy.max_retry_after => return None,
            (Some(server), Some(_)) => server,
            (None, Some(b)) => b,
        };
        if let Some(d) = deadline
            && Instant::now() + wait >= d
        {
            stopped_by_deadline.store(true, Ordering::Relaxed);
            return None;
        }
        Some(wait)
    })
    .notify(|e: &Error, wait: Duration| {
        tracing::warn!(call = what, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
    })
    .await;

    match result {
        Ok(v) => Ok(v),
        Err(e) => {
            let past = deadline.is_some_and(|d| Instant::now() >= d);
            // A timeout that hit the deadline-sized request timeout is the deadline too.
            if stopped_by_deadline.load(Ordering::Relaxed) || (past && e.is_retryable()) {
                Err(Error::DeadlineExceeded {
                    attempts: attempts.load(Ordering::Relaxed),
                    last: Some(Box::new(e)),
                })
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable(retry_after: Option<Duration>) -> Error {
        Error::Api {
            status: 503,
            message: "busy".into(),
            retry_after,
        }
    }

    #[tokio::test]
    async fn stops_before_sleeping_past_deadline() {
        let policy = RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default()
        };
        let deadline = Instant::now() + Duration::from_millis(500);
        let started = Instant::now();
        let r: Result<()> = run(&policy, Some(deadline), "t", &|| true, || async {
            Err(unavailable(Some(Duration::from_secs(5))))
        })
        .await;
        assert!(
            matches!(r, Err(Error::DeadlineExceeded { attempts: 1, .. })),
            "{r:?}"
        );
        assert!(started.elapsed() < Duration::from_millis(400));
    }

    #[tokio::test]
    async fn does_not_retry_client_errors() {
        let n = AtomicU32::new(0);
        let r: Result<()> = run(&RetryPolicy::default(), None, "t", &|| true, || {
            n.fetch_add(1, Ordering::Relaxed);
            async {
                Err(Error::Forbidden {
                    status: 403,
                    message: "no".into(),
                })
            }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n.load(Ordering::Relaxed), 1);
    }
}
