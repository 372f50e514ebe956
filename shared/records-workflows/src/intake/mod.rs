//! The handler: refuse early and cheaply, record the event id only once the call is proven
//! authentic, enqueue, then confirm. A refused call enqueues nothing.
//!
//! Order: method (405) → content type (415) → body size (413) → signature and timestamp
//! window (401) → contract (400) → the enqueued message within SQS's 256 KiB (413) → replay
//! guard (409 replayed, 503 same id in flight) → enqueue (503 on failure,
//! id released so the sender's retry succeeds) → 202.

use std::time::{SystemTime, UNIX_EPOCH};

use records_aws::replay_guard::{Begin, ReplayGuard};
use records_aws::signing_keys::KeyRing;

pub mod request;

pub use request::Callback;
use request::Refusal;

/// The answer to one callback: an HTTP status and a JSON body (`{"accepted": id}` or
/// `{"error": …}`), and when to come back for a 503.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    pub retry_after_secs: Option<u32>,
}

/// Built once per cold start.
pub struct Deps {
    pub keys: KeyRing,
    pub guard: ReplayGuard,
    pub queue: records_aws::lifecycle_queue::LifecycleQueue,
    pub max_body_bytes: usize,
    pub window_secs: u64,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One callback → one answer. Never fails: every outcome is a status.
pub async fn handle(deps: &Deps, req: &Callback) -> Answer {
    let source_ip = req.source_ip.clone().unwrap_or_default();
    match intake(deps, req).await {
        Ok(event_id) => Answer {
            status: 202,
            body: serde_json::json!({ "accepted": event_id }),
            retry_after_secs: None,
        },
        Err(refusal) => {
            tracing::warn!(
                status = refusal.status,
                reason = %refusal.message,
                source_ip = %source_ip,
                "callback refused"
            );
            Answer {
                status: refusal.status,
                body: serde_json::json!({ "error": refusal.message }),
                retry_after_secs: (refusal.status == 503).then_some(5),
            }
        }
    }
}

async fn intake(deps: &Deps, req: &Callback) -> Result<String, Refusal> {
    request::require_post(req)?;
    request::require_json(req)?;
    let body = request::body_bytes(req, deps.max_body_bytes)?;
    let keys = deps.keys.keys().await;
    request::authenticate(req, &body, &keys, now_secs(), deps.window_secs)?;
    let event = request::parse_intake(&body)?;
    let message = event.queue_message()?;
    let key = event.idempotency_key();

    let token = match deps.guard.begin(key.as_str()).await {
        Ok(Begin::Fresh { token }) => token,
        Ok(Begin::Replayed) => {
            return Err(Refusal::new(
                409,
                format!(
                    "event {} was already accepted; not enqueued again",
                    event.event_id()
                ),
            ));
        }
        Ok(Begin::InFlight) => {
            return Err(Refusal::new(
                503,
                format!(
                    "event {} is being accepted by another call; retry",
                    event.event_id()
                ),
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "replay guard unavailable");
            return Err(Refusal::new(
                503,
                "temporarily unable to accept events; retry",
            ));
        }
    };

    if let Err(e) = deps.queue.send(message).await {
        tracing::error!(error = %e, event_id = %event.event_id(), "enqueue failed");
        // Give the id back so the sender's retry of this very call is not taken for a replay.
        if let Err(e) = deps.guard.release(key.as_str(), &token).await {
            tracing::error!(error = %e, "releasing the event id failed; a retry is accepted once its lease expires");
        }
        return Err(Refusal::new(
            503,
            "temporarily unable to enqueue the event; retry",
        ));
    }
    if let Err(e) = deps.guard.accept(key.as_str(), &token).await {
        // Enqueued: answer 202. The pending item still refuses replays until its lease
        // expires; a later duplicate is absorbed by the workers' idempotency.
        tracing::warn!(error = %e, event_id = %event.event_id(), "could not mark the event id accepted");
    }
    tracing::info!(
        event_id = %event.event_id(),
        event = %event.describe(),
        "event accepted"
    );
    Ok(event.event_id().to_string())
}
