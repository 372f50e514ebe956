//! One SQS batch of lifecycle events, with partial batch failures: each message parsed and
//! dispatched on its own (the batch loop is [`lambda_support::sqs_batch`]).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_support::sqs_batch;
use records_domain::LifecycleEvent;
use records_workflows::lifecycle::{Deps, Handled, dispatch};
use records_workflows::{Invocation, StepError};
use tracing::Instrument;

pub async fn handle_batch(deps: &Deps, event: SqsEvent, inv: &Invocation) -> SqsBatchResponse {
    // Events about one record are ordered by the records-bridge workflows themselves (each
    // action keyed and claimed), so messages run concurrently without an ordering group.
    sqs_batch::run(
        event.records,
        deps.concurrency,
        |_| None,
        |msg| async move { handle_message(deps, &msg, inv).await },
    )
    .await
}

async fn handle_message(deps: &Deps, msg: &SqsMessage, inv: &Invocation) -> bool {
    let body = msg.body.as_deref().unwrap_or("");
    let event = match LifecycleEvent::parse(body.as_bytes()) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "malformed lifecycle message");
            return false;
        }
    };
    let span = tracing::info_span!("event", event_id = %event.event_id, r#type = event.event_type.as_str(), node_id = event.node_id);
    let result = dispatch(deps, &event, inv).instrument(span.clone()).await;
    let _enter = span.enter(); // no await below: the outcome is logged in the event's span
    match result {
        Ok(Handled::Done(what)) => {
            tracing::info!(what, "handled");
            true
        }
        Ok(Handled::Nothing(why)) => {
            tracing::info!(why, "nothing to do");
            true
        }
        Err(StepError::Retry(reason)) => {
            tracing::warn!(reason, "will retry");
            false
        }
        Err(StepError::Permanent(reason)) => {
            tracing::error!(reason, "event failed");
            false
        }
    }
}
