//! Claiming an effect: one conditional write creates the item or takes over one whose lease
//! expired and whose state is not terminal, so two concurrent claims can never both win.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::item::{n, parse, s};
use super::{Claim, PK, StoreError, TTL_ATTRIBUTE, WorkflowStore, dynamo_err, now_ms};

impl WorkflowStore {
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
}
