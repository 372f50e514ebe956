//! One SQS batch of lifecycle events, with partial batch failures: each message parsed and
//! dispatched on its own (the batch loop is [`lambda_support::sqs_batch`]). The queue carries
//! OpenText lifecycle events and P4 business events (from the signed intake, or from the
//! EventBridge bus, bare or as the whole EventBridge event); each goes to its use-case.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_support::sqs_batch;
use records_domain::{BusinessEvent, LifecycleEvent};
use records_workflows::lifecycle::{Deps, Handled, dispatch};
use records_workflows::{Invocation, StepError};
use tracing::Instrument;

pub async fn handle_batch(deps: &Deps, event: SqsEvent, inv: &Invocation) -> SqsBatchResponse {
    // Every effect is keyed and claimed by its workflow, so correctness needs no ordering;
    // but events of one node in one batch would contend for its workflow's lease (and be
    // retried), so they run one after another, in the order they were sent.
    sqs_batch::run(event.records, deps.concurrency, by_node, |msg| async move {
        handle_message(deps, &msg, inv).await
    })
    .await
}

/// A lifecycle event's ordering group: its node, in the order the queue received them.
fn by_node(msg: &SqsMessage) -> Option<sqs_batch::Ordering> {
    let body: serde_json::Value = serde_json::from_str(msg.body.as_deref()?).ok()?;
    let node = body.get("node_id")?.as_u64()?;
    let sent: u64 = msg.attributes.get("SentTimestamp")?.parse().ok()?;
    Some(sqs_batch::Ordering {
        group: format!("node-{node}"),
        position: format!("{sent:020}"),
    })
}

async fn handle_message(deps: &Deps, msg: &SqsMessage, inv: &Invocation) -> bool {
    let body = msg.body.as_deref().unwrap_or("");
    if serde_json::from_str::<serde_json::Value>(body)
        .is_ok_and(|v| records_domain::business_event::is_business_event(&v))
    {
        return handle_business_event(deps, body, inv).await;
    }
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
    settled(result)
}

async fn handle_business_event(deps: &Deps, body: &str, inv: &Invocation) -> bool {
    let event = match BusinessEvent::parse(body.as_bytes()) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "malformed business event");
            return false;
        }
    };
    let span = tracing::info_span!("business_event", event_id = %event.event_id, r#type = %event.event_type, business_object = %event.business_object.index_key());
    let result = records_workflows::business::on_business_event(deps, &event, inv)
        .instrument(span.clone())
        .await;
    let _enter = span.enter();
    settled(result)
}

/// Logs how an event ended; true when it is settled (nothing to redeliver).
fn settled(result: Result<Handled, StepError>) -> bool {
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
