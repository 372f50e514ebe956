//! An SQS event source mapping as Lambda runs it: receive a batch, invoke the function with
//! the SQS event JSON Lambda sends, delete what succeeded, and leave failures (the whole
//! batch on a function error, or the `batchItemFailures` items) to reappear after the
//! visibility timeout, so the queue's own redrive policy moves them to the DLQ.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
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
        let received = self.receive(wait).await?;
        let messages = received.messages();
        let mut report = PollReport {
            received: messages.len(),
            ..Default::default()
        };
        if messages.is_empty() {
            return Ok(report);
        }
        let outcome = self.invoke(runtime, messages, &mut report).await;
        let failed = failed_ids(outcome, messages, &mut report);
        self.settle(messages, &failed, &mut report).await?;
        report.failed_ids = failed;
        Ok(report)
    }

    /// One `ReceiveMessage` with every attribute, which the SQS event carries.
    async fn receive(&self, wait: Duration) -> Result<ReceiveMessageOutput> {
        self.sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(wait.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .context("receiving from the queue")
    }

    /// Hands the batch to the function and times the invocation (into `report`).
    async fn invoke(
        &self,
        runtime: &RuntimeApi,
        messages: &[Message],
        report: &mut PollReport,
    ) -> Outcome {
        let event = self.sqs_event(messages);
        let invoked_at = std::time::Instant::now();
        let invoked = runtime.invoke(&event, self.invoke_timeout).await;
        report.invocation = invoked_at.elapsed();
        match invoked {
            Ok(o) => o,
            // No answer (the process died or hung past its deadline): as on Lambda, the
            // whole batch stays on the queue.
            Err(e) => Outcome::Error(serde_json::json!({
                "errorType": "Runtime.ExitError",
                "errorMessage": e.to_string(),
            })),
        }
    }

    /// Deletes the processed messages in one `DeleteMessageBatch` (as Lambda's event source
    /// mapping does); a failed one stays on the queue for its retry, made visible again
    /// after `retry_delay` when set.
    async fn settle(
        &self,
        messages: &[Message],
        failed: &[String],
        report: &mut PollReport,
    ) -> Result<()> {
        let mut entries = Vec::new();
        for m in messages {
            let id = m.message_id().unwrap_or_default();
            if failed.iter().any(|f| f == id) {
                if let (Some(delay), Some(handle)) = (self.retry_delay, m.receipt_handle()) {
                    self.retry_after(handle, delay).await?;
                }
                continue;
            }
            if let Some(handle) = m.receipt_handle() {
                entries.push(
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(entries.len().to_string())
                        .receipt_handle(handle)
                        .build()
                        .context("a delete entry")?,
                );
            }
        }
        if entries.is_empty() {
            return Ok(());
        }
        let n = entries.len();
        let out = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .context("deleting the processed messages")?;
        if let Some(f) = out.failed().first() {
            anyhow::bail!("deleting a processed message failed: {f:?}");
        }
        report.deleted += n;
        Ok(())
    }

    async fn retry_after(&self, receipt_handle: &str, delay: Duration) -> Result<()> {
        self.sqs
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay.as_secs() as i32)
            .send()
            .await
            .context("shortening the visibility of a failed message")?;
        Ok(())
    }

    /// The `SQSEvent` JSON exactly as Lambda delivers it.
    pub fn sqs_event(&self, messages: &[Message]) -> Value {
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

/// The message ids to leave on the queue: the whole batch after a function error, else the
/// `batchItemFailures` the function listed. Records the error or response in `report`.
fn failed_ids(outcome: Outcome, messages: &[Message], report: &mut PollReport) -> Vec<String> {
    match outcome {
        Outcome::Error(e) => {
            report.function_error = Some(e);
            messages
                .iter()
                .filter_map(|m| m.message_id.clone())
                .collect()
        }
        Outcome::Response(v) => {
            let failed = v
                .get("batchItemFailures")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("itemIdentifier").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            report.response = Some(v);
            failed
        }
    }
}
