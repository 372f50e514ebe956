//! One SQS batch of lifecycle events, with partial batch failures.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::StreamExt;
use records_domain::LifecycleEvent;

use crate::{Deps, Handled, Invocation, WorkerError, dispatch};

pub async fn handle_batch(deps: &Deps, event: SqsEvent, inv: &Invocation) -> SqsBatchResponse {
    let results: Vec<(String, bool)> = futures_util::stream::iter(event.records)
        .map(|msg| async move {
            let id = msg.message_id.clone().unwrap_or_default();
            (id, handle_message(deps, &msg, inv).await)
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

async fn handle_message(deps: &Deps, msg: &SqsMessage, inv: &Invocation) -> bool {
    let message_id = msg.message_id.as_deref().unwrap_or("");
    let body = msg.body.as_deref().unwrap_or("");
    let event = match LifecycleEvent::parse(body.as_bytes()) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(message_id, error = %e, "malformed lifecycle message");
            return false;
        }
    };
    let span = tracing::info_span!("event", event_id = %event.event_id, r#type = event.event_type.as_str(), node_id = event.node_id);
    let _enter = span.enter();
    match dispatch(deps, &event, inv).await {
        Ok(Handled::Done(what)) => {
            tracing::info!(message_id, what, "handled");
            true
        }
        Ok(Handled::Nothing(why)) => {
            tracing::info!(message_id, why, "nothing to do");
            true
        }
        Err(WorkerError::Retry(reason)) => {
            tracing::warn!(message_id, reason, "will retry");
            false
        }
        Err(WorkerError::Permanent(reason)) => {
            tracing::error!(message_id, reason, "event failed");
            false
        }
    }
}
