//! An SQS event source mapping as Lambda runs it: receive a batch, invoke the function with
//! the SQS event JSON Lambda sends, delete what succeeded, and leave failures (the whole
//! batch on a function error, or the `batchItemFailures` items) to reappear after the
//! visibility timeout, so the queue's own redrive policy moves them to the DLQ.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{Value, json};

use crate::runtime_api::{Outcome, RuntimeApi};

pub struct SqsEventSource {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub invoke_timeout: Duration,
    /// Local-only accelerator: make failed messages visible again after this delay instead
    /// of the queue's visibility timeout (tests and the demo cannot wait 30 minutes).
    pub retry_delay: Option<Duration>,
}

/// What one poll did.
#[derive(Debug, Default, Clone)]
pub struct PollReport {
    pub received: usize,
    pub deleted: usize,
    pub failed_ids: Vec<String>,
    pub function_error: Option<Value>,
    pub response: Option<Value>,
    /// From handing the batch to the function to its answer: what Lambda reports as the
    /// invocation's duration (the queue's receive and delete are the event source's work).
    pub invocation: std::time::Duration,
}

impl SqsEventSource {
    pub async fn new(sqs: aws_sdk_sqs::Client, queue_url: &str) -> Result<Self> {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .context("reading the queue ARN")?;
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .context("queue has no ARN")?;
        Ok(Self {
            sqs,
            queue_url: queue_url.to_string(),
            queue_arn,
            batch_size: 10,
            invoke_timeout: Duration::from_secs(120),
            retry_delay: None,
        })
    }

    /// Receives one batch (long poll up to `wait`), invokes, deletes the successes.
    pub async fn poll_once(&self, runtime: &RuntimeApi, wait: Duration) -> Result<PollReport> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .context("receiving from the queue")?;
        let messages = received.messages();
        let mut report = PollReport {
            received: messages.len(),
            ..Default::default()
        };
        if messages.is_empty() {
            return Ok(report);
        }
        let event = self.sqs_event(messages);
        let invoked_at = std::time::Instant::now();
        let invoked = runtime.invoke(&event, self.invoke_timeout).await;
        report.invocation = invoked_at.elapsed();
        let outcome = match invoked {
            Ok(o) => o,
            // No answer (the process died or hung past its deadline): as on Lambda, the
            // whole batch stays on the queue.
            Err(e) => Outcome::Error(serde_json::json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": e.to_string(),
            })),
        };
        let failed: Vec<String> = match &outcome {
            Outcome::Error(e) => {
                report.function_error = Some(e.clone());
                messages
                    .iter()
                    .filter_map(|m| m.message_id.clone())
                    .collect()
            }
            Outcome::Response(v) => {
                report.response = Some(v.clone());
                v.get("batchItemFailures")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i.get("itemIdentifier").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            }
        };
        for m in messages {
            let id = m.message_id().unwrap_or_default();
            if failed.iter().any(|f| f == id) {
                if let (Some(delay), Some(handle)) = (self.retry_delay, m.receipt_handle()) {
                    self.sqs
                        .change_message_visibility()
                        .queue_url(&self.queue_url)
                        .receipt_handle(handle)
                        .visibility_timeout(delay.as_secs() as i32)
                        .send()
                        .await
                        .context("shortening the visibility of a failed message")?;
                }
                continue;
            }
            if let Some(handle) = m.receipt_handle() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .context("deleting a processed message")?;
                report.deleted += 1;
            }
        }
        report.failed_ids = failed;
        Ok(report)
    }

    /// The `SQSEvent` JSON exactly as Lambda delivers it.
    pub fn sqs_event(&self, messages: &[aws_sdk_sqs::types::Message]) -> Value {
        let region = self.queue_arn.split(':').nth(3).unwrap_or("us-east-1");
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attrs: HashMap<String, String> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attrs,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": region,
                })
            })
            .collect();
        json!({ "Records": records })
    }
}
