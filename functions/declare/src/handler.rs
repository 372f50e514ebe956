//! One SQS batch: each message's S3 records declared, failures reported per message
//! (`ReportBatchItemFailures`) so only those come back. The batch loop (concurrency, a span
//! per message, a panic failing only its message, S3's order per key) is
//! [`lambda_support::sqs_batch`]; this module maps a message onto declarations. S3's echoes
//! of records-bridge's own tag writes (`ObjectTagging:Put` by one of its roles) are dropped
//! here, before any DynamoDB or S3 call.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_support::sqs_batch::{self, Ordering};
use tracing::Instrument;

use records_workflows::declare::{Declared, Deps, declare, deleted};
use records_workflows::{Invocation, StepError};

use crate::event::{Notification, parse_body, sequencer_order};

pub async fn handle_batch(deps: &Deps, event: SqsEvent, inv: &Invocation) -> SqsBatchResponse {
    sqs_batch::run(
        event.records,
        deps.concurrency,
        ordering,
        |msg| async move { handle_message(deps, &msg, inv).await },
    )
    .await
}

/// Messages about one S3 key are handled in S3's order (its `sequencer`), so an older version
/// never lands after a newer one that arrived in the same batch; one without a sequencer
/// still waits for its key's others (in arrival order) instead of racing them for the lease.
fn ordering(msg: &SqsMessage) -> Option<Ordering> {
    let Ok(Notification::Objects(events)) = parse_body(msg.body.as_deref()?) else {
        return None;
    };
    let event = events.into_iter().find_map(Result::ok)?;
    Some(Ordering {
        group: format!("{}/{}", event.bucket, event.key),
        position: event
            .sequencer
            .as_deref()
            .map(sequencer_order)
            .unwrap_or_default(),
    })
}

/// True when every S3 record in the message is settled (declared, duplicate or skipped).
async fn handle_message(deps: &Deps, msg: &SqsMessage, inv: &Invocation) -> bool {
    let body = msg.body.as_deref().unwrap_or("");
    let events = match parse_body(body) {
        Ok(Notification::Test) => {
            tracing::info!("s3:TestEvent ignored");
            return true;
        }
        Ok(Notification::Objects(events)) if events.is_empty() => {
            tracing::warn!("S3 notification with no records: nothing to declare");
            return true;
        }
        Ok(Notification::Objects(events)) => events,
        Err(e) => {
            // Never dropped: it fails until the queue moves it to the DLQ for a human.
            tracing::error!(error = %e, "malformed SQS message: not a usable S3 event notification");
            return false;
        }
    };
    let mut all_ok = true;
    for event in events {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                // Its neighbours in the message are still declared; the message comes back
                // (they are duplicates then) until the DLQ keeps it with this reason.
                tracing::error!(error = %e, "malformed record in an S3 notification");
                all_ok = false;
                continue;
            }
        };
        if !event.is_relevant() && !event.is_delete_marker() {
            continue;
        }
        if event.is_self_caused(&deps.self_writers) {
            // S3's echo of records-bridge's own tag write: settled without any AWS call.
            tracing::info!(bucket = %event.bucket, key = %event.key, version_id = ?event.version_id, "skipped: a self-caused tagging event (records-bridge's own tag write)");
            continue;
        }
        let span = tracing::info_span!("object", bucket = %event.bucket, key = %event.key, version_id = ?event.version_id, trigger = %event.event_name);
        let result = async {
            if event.is_delete_marker() {
                deleted::report(deps, &event, inv).await
            } else {
                declare(deps, &event, inv).await
            }
        }
        .instrument(span.clone())
        .await;
        let _enter = span.enter(); // no await below: the outcome is logged in the object's span
        match result {
            Ok(Declared::Record {
                node_id,
                version_number,
                sha256,
            }) => {
                tracing::info!(node_id, version_number, sha256, "declared")
            }
            Ok(Declared::Duplicate) => tracing::info!("already declared: duplicate event"),
            Ok(Declared::Skipped { reason }) => tracing::info!(reason, "not declared"),
            Err(StepError::Retry(reason)) => {
                tracing::warn!(reason, "will retry");
                all_ok = false;
            }
            Err(StepError::Permanent(reason)) => {
                tracing::error!(reason, "declaration failed");
                all_ok = false;
            }
        }
    }
    all_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, event_name: &str, sequencer: Option<&str>) -> SqsMessage {
        let mut object = serde_json::json!({"key": "finance/a.pdf", "size": 3});
        if let Some(s) = sequencer {
            object["sequencer"] = s.into();
        }
        let body = serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-12-01T10:00:00.000Z", "eventName": event_name,
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
                   "object": object}}]});
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.to_string());
        m
    }

    #[test]
    fn records_of_one_key_share_a_group_with_or_without_a_sequencer() {
        let created = ordering(&message("1", "ObjectCreated:Put", None)).unwrap();
        let tagged = ordering(&message("2", "ObjectTagging:Put", None)).unwrap();
        // Without a sequencer (moto sends none) they still wait for each other.
        assert_eq!(created.group, tagged.group);
        assert_eq!(created.position, tagged.position);
        let sequenced = ordering(&message(
            "3",
            "ObjectCreated:Put",
            Some("0055AED6DCD90281E5"),
        ));
        assert_eq!(sequenced.unwrap().group, created.group);
    }
}
