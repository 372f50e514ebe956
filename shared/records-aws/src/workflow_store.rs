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
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

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

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
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

    /// Claims `key` for `owner` until `lease` from now: creates the item, or takes over one
    /// whose lease expired and whose state is not terminal. One conditional write, so two
    /// concurrent claims can never both win.
    pub async fn claim(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        self.claim_starting_at(key, owner, lease, self.initial_state, "{}")
            .await
    }

    /// As [`Self::claim`], but a new item starts in `state` with `detail`: a caller that
    /// already knows its first step saves a transition. An existing item keeps its own.
    pub async fn claim_starting_at(
        &self,
        key: &str,
        owner: &str,
        lease: Duration,
        state: &str,
        detail: &str,
    ) -> Result<Claim, StoreError> {
        let (condition, values) = self.claim_condition(owner, lease, state, detail);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .update_expression(
                "SET lease_owner = :owner, lease_expires_at = :until, updated_at = :now, \
                 attempts = if_not_exists(attempts, :zero) + :one, \
                 created_at = if_not_exists(created_at, :now), \
                 #state = if_not_exists(#state, :initial), detail = if_not_exists(detail, :detail) \
                 REMOVE #ttl",
            )
            .condition_expression(condition)
            .set_expression_attribute_names(Some(HashMap::from([
                ("#pk".to_string(), PK.to_string()),
                ("#state".to_string(), "state".to_string()),
                // A re-opened item (e.g. skipped, then tagged final) must not age out mid-work.
                ("#ttl".to_string(), TTL_ATTRIBUTE.to_string()),
            ])))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = parse(key, out.attributes().cloned().unwrap_or_default())?;
                let resumed = item.attempts > 1 || item.state != state;
                Ok(Claim::Acquired { item, resumed })
            }
            Err(SdkError::ServiceError(e))
                if e.err().code() == Some("ConditionalCheckFailedException") =>
            {
                let old = match e.err() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                        c.item().cloned()
                    }
                    _ => None,
                };
                self.refused_claim(key, old).await
            }
            Err(e) => Err(dynamo_err("UpdateItem(claim)", key, e)),
        }
    }

    /// The claim's condition (new, or not terminal with its lease expired) and its values.
    fn claim_condition(
        &self,
        owner: &str,
        lease: Duration,
        state: &str,
        detail: &str,
    ) -> (String, HashMap<String, AttributeValue>) {
        let now = now_ms();
        let mut values = HashMap::from([
            (":owner".to_string(), s(owner)),
            (":until".to_string(), n(now + lease.as_millis() as u64)),
            (":now".to_string(), n(now)),
            (":zero".to_string(), n(0)),
            (":one".to_string(), n(1)),
            (":initial".to_string(), s(state)),
            (":detail".to_string(), s(detail)),
        ]);
        let mut terminal_refs = Vec::new();
        for (i, t) in self.terminal_states.iter().enumerate() {
            let name = format!(":t{i}");
            values.insert(name.clone(), s(t));
            terminal_refs.push(name);
        }
        let not_terminal = if terminal_refs.is_empty() {
            "attribute_exists(#pk)".to_string()
        } else {
            format!("NOT #state IN ({})", terminal_refs.join(", "))
        };
        let condition = format!(
            "attribute_not_exists(#pk) OR (({not_terminal}) AND (attribute_not_exists(lease_expires_at) OR lease_expires_at < :now))"
        );
        (condition, values)
    }

    /// A refused claim: the item as it stands (sent back with the refusal, else read) says
    /// whether it is finished or busy.
    async fn refused_claim(
        &self,
        key: &str,
        old: Option<HashMap<String, AttributeValue>>,
    ) -> Result<Claim, StoreError> {
        let item = match old {
            Some(attrs) => parse(key, attrs)?,
            None => self.get(key).await?.ok_or_else(|| StoreError::Malformed {
                key: key.into(),
                reason: "claim refused but no item found".into(),
            })?,
        };
        if self.terminal_states.contains(&item.state.as_str()) {
            Ok(Claim::Finished(item))
        } else {
            Ok(Claim::Busy(item))
        }
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
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::LeaseLost { key: key.into() }),
            Err(e) => Err(dynamo_err("UpdateItem(transition)", key, e)),
        }
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
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::LeaseLost { key: key.into() }),
            Err(e) => Err(dynamo_err("UpdateItem(finish)", key, e)),
        }
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
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::LeaseLost { key: key.into() }),
            Err(e) => Err(dynamo_err("UpdateItem(release)", key, e)),
        }
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

fn parse(key: &str, attrs: HashMap<String, AttributeValue>) -> Result<WorkflowItem, StoreError> {
    let text = |name: &str| attrs.get(name).and_then(|v| v.as_s().ok()).cloned();
    let num = |name: &str| {
        attrs
            .get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let malformed = |reason: &str| StoreError::Malformed {
        key: key.into(),
        reason: reason.into(),
    };
    Ok(WorkflowItem {
        key: text(PK).unwrap_or_else(|| key.to_string()),
        state: text("state").ok_or_else(|| malformed("no state"))?,
        detail: text("detail").unwrap_or_else(|| "{}".into()),
        attempts: num("attempts").unwrap_or(0) as u32,
        lease_owner: text("lease_owner"),
        lease_expires_at_ms: num("lease_expires_at"),
        created_at_ms: num("created_at").unwrap_or(0),
        updated_at_ms: num("updated_at").unwrap_or(0),
        expires_at: num(TTL_ATTRIBUTE),
    })
}
