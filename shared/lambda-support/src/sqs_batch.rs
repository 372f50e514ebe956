//! One SQS batch as Lambda hands it over, answered with `ReportBatchItemFailures`: each message
//! is handled on its own, with its own log span, and only the failed ones come back.
//!
//! - Messages that share an ordering group (e.g. one S3 key) are handled one after another in
//!   their order (S3's `sequencer`), so a batch never applies an older change after a newer;
//!   groups run concurrently, at most `concurrency` at once.
//! - A message whose handling panics fails alone: the panic is caught at the message, logged,
//!   and reported as that message's failure; its batchmates are unaffected.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use futures_util::{FutureExt, StreamExt};
use tracing::Instrument;

/// Where a message sits among its batchmates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ordering {
    /// Messages of one group are handled in `position` order, one at a time.
    pub group: String,
    pub position: String,
}

/// Handles `messages`; `handle` answers true when a message is settled (nothing to redeliver).
pub async fn run<F, Fut>(
    messages: Vec<SqsMessage>,
    concurrency: usize,
    ordering: impl Fn(&SqsMessage) -> Option<Ordering>,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = bool>,
{
    let handle = &handle;
    let failed: Vec<String> = futures_util::stream::iter(groups(messages, ordering))
        .map(|group| async move {
            let mut failed = Vec::new();
            for msg in group {
                let id = msg.message_id.clone().unwrap_or_default();
                if !handle_one(msg, handle).await {
                    failed.push(id);
                }
            }
            failed
        })
        .buffer_unordered(concurrency.max(1))
        .flat_map(futures_util::stream::iter)
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// One message under its own span; a panic becomes this message's failure.
async fn handle_one<F, Fut>(msg: SqsMessage, handle: &F) -> bool
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = bool>,
{
    let message_id = msg.message_id.clone().unwrap_or_default();
    let receive_count = msg
        .attributes
        .get("ApproximateReceiveCount")
        .cloned()
        .unwrap_or_default();
    let span =
        tracing::info_span!("message", message_id = %message_id, receive_count = %receive_count);
    let outcome = AssertUnwindSafe(handle(msg).instrument(span.clone()))
        .catch_unwind()
        .await;
    outcome.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        span.in_scope(|| {
            tracing::error!(panic = %what, "handling this message panicked; it fails alone and is redelivered");
        });
        false
    })
}

/// Messages split into ordered groups; a message without an ordering is a group of its own.
fn groups(
    messages: Vec<SqsMessage>,
    ordering: impl Fn(&SqsMessage) -> Option<Ordering>,
) -> Vec<Vec<SqsMessage>> {
    let mut ordered: BTreeMap<String, Vec<(String, SqsMessage)>> = BTreeMap::new();
    let mut out = Vec::new();
    for msg in messages {
        match ordering(&msg) {
            Some(o) => ordered.entry(o.group).or_default().push((o.position, msg)),
            None => out.push(vec![msg]),
        }
    }
    for (_, mut group) in ordered {
        group.sort_by(|a, b| a.0.cmp(&b.0));
        out.push(group.into_iter().map(|(_, m)| m).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn msg(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m
    }

    #[tokio::test]
    async fn a_panicking_message_fails_alone() {
        let batch: Vec<_> = (0..10)
            .map(|i| msg(&format!("m{i}"), &i.to_string()))
            .collect();
        let done = Mutex::new(Vec::new());
        let response = run(
            batch,
            4,
            |_| None,
            |m| {
                let done = &done;
                async move {
                    let body = m.body.unwrap_or_default();
                    if body == "7" {
                        let s = "📄".repeat(3);
                        let _ = &s[..1]; // a slice inside a character panics
                    }
                    done.lock().unwrap().push(body);
                    true
                }
            },
        )
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, ["m7"]);
        assert_eq!(done.lock().unwrap().len(), 9);
    }

    #[tokio::test]
    async fn one_group_runs_in_its_order_whatever_the_arrival() {
        let batch = vec![
            msg("c", "k:3"),
            msg("x", "other:1"),
            msg("a", "k:1"),
            msg("b", "k:2"),
        ];
        let seen = Mutex::new(Vec::new());
        let ordering = |m: &SqsMessage| {
            let (g, p) = m.body.as_deref()?.split_once(':')?;
            Some(Ordering {
                group: g.into(),
                position: p.into(),
            })
        };
        let response = run(batch, 4, ordering, |m| {
            let seen = &seen;
            async move {
                tokio::task::yield_now().await;
                seen.lock().unwrap().push(m.message_id.unwrap_or_default());
                true
            }
        })
        .await;
        assert!(response.batch_item_failures.is_empty());
        let seen = seen.lock().unwrap();
        let k: Vec<_> = seen.iter().filter(|id| *id != "x").cloned().collect();
        assert_eq!(k, ["a", "b", "c"]);
    }
}
