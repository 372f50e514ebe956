//! Replay refusal for signed callbacks: one DynamoDB item per event id, written with a
//! conditional `UpdateItem` so that of any number of calls carrying the same id exactly one
//! is let through.
//!
//! Two phases, so a refused or failed call never blocks the sender's honest retry:
//! 1. [`ReplayGuard::begin`] records the id as `pending` under a short lease (only after the
//!    signature was verified, so unsigned noise cannot burn ids);
//! 2. after the event is enqueued, [`ReplayGuard::accept`] marks it `accepted`; if enqueueing
//!    failed, [`ReplayGuard::release`] marks it `released` so the same signed call may be
//!    retried at once.
//!
//! A call that dies between 1 and 2 (timeout, crash) leaves a `pending` item whose lease
//! expires: a retry after the lease is let through. Only `UpdateItem` is used (no
//! `DeleteItem`), and every item carries a TTL so the table does not grow.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::workflow_store::{PK, TTL_ATTRIBUTE, now_ms};

const STATE: &str = "guard_state";
const LEASE_UNTIL: &str = "lease_until_ms";
const TOKEN: &str = "guard_token";
const PENDING: &str = "pending";
const ACCEPTED: &str = "accepted";
const RELEASED: &str = "released";

/// What [`ReplayGuard::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The id is ours to enqueue; pass the token to `accept` or `release`.
    Fresh { token: String },
    /// The id was accepted before: a replay.
    Replayed,
    /// Another call with this id is being handled right now; retry after it.
    InFlight,
}

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {op} on {key}: {code}: {message}")]
pub struct GuardError {
    pub op: &'static str,
    pub key: String,
    pub code: String,
    pub message: String,
}

#[derive(Clone)]
pub struct ReplayGuard {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// How long an accepted id is remembered (longer than any accepted timestamp window).
    remember: Duration,
    /// How long a `pending` id blocks others (longer than one invocation can last).
    lease: Duration,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn guard_err<E: ProvideErrorMetadata>(op: &'static str, key: &str, e: SdkError<E>) -> GuardError {
    GuardError {
        op,
        key: key.to_string(),
        code: e.code().unwrap_or("Unknown").to_string(),
        message: e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{e}")),
    }
}

impl ReplayGuard {
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        remember: Duration,
        lease: Duration,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            remember,
            lease,
        }
    }

    /// Records `key` as pending unless it was accepted, or another call holds a live lease.
    pub async fn begin(&self, key: &str) -> Result<Begin, GuardError> {
        let now = now_ms();
        let token = uuid::Uuid::new_v4().to_string();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression("SET #st = :pending, #lease = :until, #tok = :tok, #ttl = :ttl")
            .condition_expression(
                "attribute_not_exists(#pk) OR #st = :released OR (#st = :pending AND #lease < :now)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#st", STATE)
            .expression_attribute_names("#lease", LEASE_UNTIL)
            .expression_attribute_names("#tok", TOKEN)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .set_expression_attribute_values(Some(HashMap::from([
                (":pending".into(), s(PENDING)),
                (":released".into(), s(RELEASED)),
                (":until".into(), n(now + self.lease.as_millis() as u64)),
                (":now".into(), n(now)),
                (":tok".into(), s(&token)),
                (
                    ":ttl".into(),
                    n(now / 1000 + self.remember.as_secs().max(self.lease.as_secs())),
                ),
            ])))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Begin::Fresh { token }),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                // The old item tells a replay from a call still in flight.
                use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
                let state = match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(c)) => c
                        .item()
                        .and_then(|item| item.get(STATE))
                        .and_then(|v| AttributeValue::as_s(v).ok())
                        .cloned(),
                    _ => None,
                };
                match state.as_deref() {
                    Some(PENDING) => Ok(Begin::InFlight),
                    _ => Ok(Begin::Replayed),
                }
            }
            Err(e) => Err(guard_err("UpdateItem", key, e)),
        }
    }

    /// Marks the id accepted (the event is on the queue); remembered for `remember`.
    pub async fn accept(&self, key: &str, token: &str) -> Result<(), GuardError> {
        self.finish(key, token, ACCEPTED, self.remember).await
    }

    /// Gives the id back after a failed enqueue, so the same signed call can be retried.
    pub async fn release(&self, key: &str, token: &str) -> Result<(), GuardError> {
        self.finish(key, token, RELEASED, self.lease).await
    }

    async fn finish(
        &self,
        key: &str,
        token: &str,
        state: &str,
        keep: Duration,
    ) -> Result<(), GuardError> {
        let now = now_ms();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression("SET #st = :state, #ttl = :ttl REMOVE #lease")
            // Only the call that began it may finish it.
            .condition_expression("#tok = :tok AND #st = :pending")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_names("#tok", TOKEN)
            .expression_attribute_names("#lease", LEASE_UNTIL)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .set_expression_attribute_values(Some(HashMap::from([
                (":state".into(), s(state)),
                (":pending".into(), s(PENDING)),
                (":tok".into(), s(token)),
                (":ttl".into(), n(now / 1000 + keep.as_secs())),
            ])))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| guard_err("UpdateItem", key, e))
    }
}
