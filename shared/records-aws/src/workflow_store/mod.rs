//! The DynamoDB workflow store: one item per effect (keyed by its idempotency key), claimed
//! with a conditional write, held under a lease that expires so a crashed attempt can be
//! taken over, moved between states only by the lease holder, and given a TTL once
//! finished so idempotency items age out.
//!
//! The store is generic: states are names plus a JSON detail; the domain crate says which
//! names exist and which transitions are legal.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

mod claim;
mod item;

use item::{n, parse, s};

/// Attribute names (also what `template.yaml` and the local stack create).
pub const PK: &str = "pk";
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// One workflow item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowItem {
    pub key: String,
    pub state: String,
    /// The domain's serialised detail for `state` (JSON text).
    pub detail: String,
    pub attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_expires_at_ms: Option<u64>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// TTL (epoch seconds), set once the item is finished.
    pub expires_at: Option<u64>,
}

/// The result of trying to claim an effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// We hold the lease. `resumed` is true when an earlier attempt had already started
    /// (its state tells where to pick up).
    Acquired { item: WorkflowItem, resumed: bool },
    /// The effect is finished (a terminal state); nothing to do.
    Finished(WorkflowItem),
    /// Another attempt holds a live lease; try again after it expires.
    Busy(WorkflowItem),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lease on {key} lost (another attempt took over or the state moved on)")]
    LeaseLost { key: String },
    #[error("DynamoDB {op} on {key}: {code}: {message}")]
    Dynamo {
        op: &'static str,
        key: String,
        code: String,
        message: String,
    },
    #[error("workflow item {key} is malformed: {reason}")]
    Malformed { key: String, reason: String },
}

#[derive(Clone)]
pub struct WorkflowStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    terminal_states: &'static [&'static str],
    initial_state: &'static str,
    /// How long finished items are kept before DynamoDB's TTL removes them.
    finished_retention: Duration,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Finishing: the terminal state, its TTL, the lease dropped, by the lease holder only.
const FINISH_UPDATE: &str = "SET #state = :to, detail = :detail, updated_at = :now, #ttl = :expires \
     REMOVE lease_owner, lease_expires_at";
const FINISH_CONDITION: &str = "lease_owner = :owner AND #state = :from";

fn finish_names() -> HashMap<String, String> {
    HashMap::from([
        ("#state".to_string(), "state".to_string()),
        ("#ttl".to_string(), TTL_ATTRIBUTE.to_string()),
    ])
}

fn dynamo_err<E: ProvideErrorMetadata>(op: &'static str, key: &str, e: SdkError<E>) -> StoreError {
    StoreError::Dynamo {
        op,
        key: key.to_string(),
        code: e.code().unwrap_or("Unknown").to_string(),
        message: e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{e}")),
    }
}

/// A lease holder's write: a failed condition means the lease (or the state) moved on.
fn lease_checked<T, E: ProvideErrorMetadata>(
    result: Result<T, SdkError<E>>,
    op: &'static str,
    key: &str,
) -> Result<(), StoreError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_condition_failure(&e) => Err(StoreError::LeaseLost { key: key.into() }),
        Err(e) => Err(dynamo_err(op, key, e)),
    }
}

fn is_condition_failure<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl WorkflowStore {
    /// `terminal_states` are never claimed again; `initial_state` is written on first claim.
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        initial_state: &'static str,
        terminal_states: &'static [&'static str],
    ) -> Self {
        Self {
            client,
            table: table.into(),
            terminal_states,
            initial_state,
            finished_retention: Duration::from_secs(90 * 24 * 3600),
        }
    }

    pub fn with_finished_retention(mut self, retention: Duration) -> Self {
        self.finished_retention = retention;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Moves `key` from `from` to `to` (with its detail) if `owner` still holds the lease,
    /// and renews the lease. A lost lease means another attempt owns the effect now.
    pub async fn transition(
        &self,
        key: &str,
        owner: &str,
        from: &str,
        to: &str,
        detail: &str,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression(
                "SET #state = :to, detail = :detail, updated_at = :now, lease_expires_at = :until",
            )
            .condition_expression("lease_owner = :owner AND #state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":until", n(now + lease.as_millis() as u64))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        lease_checked(result, "UpdateItem(transition)", key)
    }

    /// Ends the workflow in terminal state `to`: drops the lease and sets the TTL.
    pub async fn finish(
        &self,
        key: &str,
        owner: &str,
        from: &str,
        to: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression(FINISH_UPDATE)
            .condition_expression(FINISH_CONDITION)
            .set_expression_attribute_names(Some(finish_names()))
            .set_expression_attribute_values(Some(self.finish_values(owner, from, to, detail)))
            .send()
            .await;
        lease_checked(result, "UpdateItem(finish)", key)
    }

    /// Ends the workflow as [`Self::finish`] does, in one transaction with `writes`: what
    /// must be recorded exactly when the workflow finishes (its audit event, a link). All
    /// or nothing: with the lease lost, none of them is written, and a retry after a lost
    /// answer cannot record them twice.
    pub async fn finish_with(
        &self,
        key: &str,
        owner: &str,
        from: &str,
        to: &str,
        detail: &str,
        writes: Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        let finish = Update::builder()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression(FINISH_UPDATE)
            .condition_expression(FINISH_CONDITION)
            .set_expression_attribute_names(Some(finish_names()))
            .set_expression_attribute_values(Some(self.finish_values(owner, from, to, detail)))
            .build()
            .expect("table, key and expression are set");
        let mut items = vec![TransactWriteItem::builder().update(finish).build()];
        items.extend(writes);
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                // Reasons come in item order; the first item is the finish.
                let lease_lost = match &e {
                    SdkError::ServiceError(se) => match se.err() {
                        TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons().first().and_then(|r| r.code())
                                == Some("ConditionalCheckFailed")
                        }
                        _ => false,
                    },
                    _ => false,
                };
                if lease_lost {
                    Err(StoreError::LeaseLost { key: key.into() })
                } else {
                    Err(dynamo_err("TransactWriteItems(finish)", key, e))
                }
            }
        }
    }

    fn finish_values(
        &self,
        owner: &str,
        from: &str,
        to: &str,
        detail: &str,
    ) -> HashMap<String, AttributeValue> {
        let now = now_ms();
        let expires = now / 1000 + self.finished_retention.as_secs();
        HashMap::from([
            (":to".to_string(), s(to)),
            (":from".to_string(), s(from)),
            (":detail".to_string(), s(detail)),
            (":now".to_string(), n(now)),
            (":expires".to_string(), n(expires)),
            (":owner".to_string(), s(owner)),
        ])
    }

    /// Gives the lease up early (after a retryable failure) so the next delivery can claim
    /// at once instead of waiting for expiry. The state stays where it was.
    pub async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression("SET lease_expires_at = :zero, updated_at = :now")
            .condition_expression("lease_owner = :owner")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":now", n(now_ms()))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        lease_checked(result, "UpdateItem(release)", key)
    }

    /// Reads an item (strongly consistent). Items past their TTL are treated as absent,
    /// since DynamoDB may keep them for up to 48 hours before deleting.
    pub async fn get(&self, key: &str) -> Result<Option<WorkflowItem>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_err("GetItem", key, e))?;
        match out.item {
            None => Ok(None),
            Some(attrs) => {
                let item = parse(key, attrs)?;
                if item.expires_at.is_some_and(|t| t < now_ms() / 1000) {
                    return Ok(None);
                }
                Ok(Some(item))
            }
        }
    }
}
