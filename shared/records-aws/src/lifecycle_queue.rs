//! The lifecycle queue: where the intake and the poller put OpenText lifecycle events, one
//! JSON message each, for the lifecycle worker.

#[derive(Clone)]
pub struct LifecycleQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("SendMessage to the lifecycle queue: {0}")]
pub struct QueueError(pub String);

impl LifecycleQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Sends one message body (a serialised lifecycle event).
    pub async fn send(&self, body: String) -> Result<(), QueueError> {
        self.send_delayed(body, std::time::Duration::ZERO).await
    }

    /// Sends one message that becomes visible only after `delay` (SQS allows up to 15
    /// minutes; longer is cut to that): a workflow's own "look again later".
    pub async fn send_delayed(
        &self,
        body: String,
        delay: std::time::Duration,
    ) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| QueueError(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))
    }
}
