//! The job's Lambda function, as the engine calls it: the Runtime API emulator driving the
//! real binary, or a closure in a test.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use anyhow::anyhow;

use crate::runtime_api::{Outcome, RuntimeApi};

/// What a task invocation returns: the function's JSON response, or why it failed.
pub type TaskFuture<'a> =
    Pin<Box<dyn Future<Output = anyhow::Result<serde_json::Value>> + Send + 'a>>;

/// Invokes the job's Lambda function with one invocation event. `Err` is a function error
/// (or a failed invocation): the task then fails with that message, as on AWS.
pub trait TaskInvoker: Send + Sync {
    fn invoke(&self, payload: serde_json::Value) -> TaskFuture<'_>;
}

/// How long one task invocation may take through the Runtime API: the template's
/// `Timeout` of the disposition-batch-task function.
pub const RUNTIME_TASK_TIMEOUT: Duration = Duration::from_secs(120);

/// The real function binary, through the Lambda Runtime API emulator. Its error answer
/// (`{"errorType","errorMessage"}`) becomes the `Err`, as Lambda reports a function error.
impl TaskInvoker for RuntimeApi {
    fn invoke(&self, payload: serde_json::Value) -> TaskFuture<'_> {
        Box::pin(async move {
            match RuntimeApi::invoke(self, &payload, RUNTIME_TASK_TIMEOUT).await? {
                Outcome::Response(v) => Ok(v),
                Outcome::Error(e) => Err(anyhow!("{e}")),
            }
        })
    }
}

/// A closure as the task: `FnInvoker(|payload| async move { ... })`.
pub struct FnInvoker<F>(pub F);

impl<F, Fut> TaskInvoker for FnInvoker<F>
where
    F: Fn(serde_json::Value) -> Fut + Send + Sync,
    Fut: Future<Output = anyhow::Result<serde_json::Value>> + Send + 'static,
{
    fn invoke(&self, payload: serde_json::Value) -> TaskFuture<'_> {
        Box::pin((self.0)(payload))
    }
}
