//! One SQS batch: each message's S3 records declared concurrently (bounded), failures
//! reported per message (`ReportBatchItemFailures`) so only those come back.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::StreamExt;

use crate::declare::{DeclareError, Declared, declare};
use crate::event::{Notification, parse_body};
use crate::{Deps, Invocation};

pub async fn handle_batch(deps: &Deps, event: SqsEvent, inv: &Invocation) -> SqsBatchResponse {
    let results: Vec<(String, bool)> = futures_util::stream::iter(event.records)
        .map(|msg| async move {
            let id = msg.message_id.clone().unwrap_or_default();
            let ok = handle_message(deps, &msg, inv).await;
            (id, ok)
        })
        .buffer_unordered(deps.concurrency)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = results
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(id, _)| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// True when every S3 record in the message is settled (declared, duplicate or skipped).
async fn handle_message(deps: &Deps, msg: &SqsMessage, inv: &Invocation) -> bool {
    let message_id = msg.message_id.as_deref().unwrap_or("");
    let receive_count = msg
        .attributes
        .get("ApproximateReceiveCount")
        .map(String::as_str)
        .unwrap_or("?");
    let body = msg.body.as_deref().unwrap_or("");
    let events = match parse_body(body) {
        Ok(Notification::Test) => {
            tracing::info!(message_id, "s3:TestEvent ignored");
            return true;
        }
        Ok(Notification::Objects(events)) => events,
        Err(e) => {
            // Never dropped: it fails until the queue moves it to the DLQ for a human.
            tracing::error!(message_id, receive_count, error = %e, "malformed SQS message: not a usable S3 event notification");
            return false;
        }
    };
    let mut all_ok = true;
    for event in events
        .iter()
        .filter(|e| e.is_relevant() || e.is_delete_marker())
    {
        let span = tracing::info_span!("object", bucket = %event.bucket, key = %event.key, version_id = ?event.version_id, trigger = %event.event_name);
        let _enter = span.enter();
        let result = if event.is_delete_marker() {
            crate::deleted::report(deps, event, inv).await
        } else {
            declare(deps, event, inv).await
        };
        match result {
            Ok(Declared::Record {
                node_id,
                version_number,
                sha256,
            }) => {
                tracing::info!(message_id, node_id, version_number, sha256, "declared")
            }
            Ok(Declared::Duplicate) => {
                tracing::info!(message_id, "already declared: duplicate event")
            }
            Ok(Declared::Skipped { reason }) => tracing::info!(message_id, reason, "not declared"),
            Err(DeclareError::Retry(reason)) => {
                tracing::warn!(message_id, receive_count, reason, "will retry");
                all_ok = false;
            }
            Err(DeclareError::Permanent(reason)) => {
                tracing::error!(message_id, receive_count, reason, "declaration failed");
                all_ok = false;
            }
        }
    }
    all_ok
}
