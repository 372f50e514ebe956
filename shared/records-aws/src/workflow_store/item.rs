//! The stored item's attributes and their reading back into a [`WorkflowItem`] (through
//! serde_dynamo: the attribute names and defaults are the struct below).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;

use super::{StoreError, WorkflowItem};

pub(super) fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

pub(super) fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The item as DynamoDB holds it (`PK`, `TTL_ATTRIBUTE` and the claim's attribute names).
#[derive(Deserialize)]
struct Stored {
    pk: Option<String>,
    state: Option<String>,
    detail: Option<String>,
    #[serde(default)]
    attempts: u32,
    lease_owner: Option<String>,
    lease_expires_at: Option<u64>,
    #[serde(default)]
    created_at: u64,
    #[serde(default)]
    updated_at: u64,
    expires_at: Option<u64>,
}

pub(super) fn parse(
    key: &str,
    attrs: HashMap<String, AttributeValue>,
) -> Result<WorkflowItem, StoreError> {
    let malformed = |reason: String| StoreError::Malformed {
        key: key.into(),
        reason,
    };
    let stored: Stored = serde_dynamo::from_item(attrs).map_err(|e| malformed(e.to_string()))?;
    Ok(WorkflowItem {
        key: stored.pk.unwrap_or_else(|| key.to_string()),
        state: stored.state.ok_or_else(|| malformed("no state".into()))?,
        detail: stored.detail.unwrap_or_else(|| "{}".into()),
        attempts: stored.attempts,
        lease_owner: stored.lease_owner,
        lease_expires_at_ms: stored.lease_expires_at,
        created_at_ms: stored.created_at,
        updated_at_ms: stored.updated_at,
        expires_at: stored.expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_back_with_its_defaults_and_a_bad_attribute_is_named() {
        let item = parse(
            "k",
            HashMap::from([
                ("state".to_string(), s("claimed")),
                ("attempts".to_string(), n(2)),
                ("lease_expires_at".to_string(), n(5)),
            ]),
        )
        .unwrap();
        assert_eq!(
            (item.key.as_str(), item.detail.as_str(), item.attempts),
            ("k", "{}", 2)
        );
        assert_eq!((item.lease_expires_at_ms, item.expires_at), (Some(5), None));
        // The struct's names are the store's attribute constants.
        let item = parse(
            "k",
            HashMap::from([
                ("state".to_string(), s("done")),
                (super::super::PK.to_string(), s("stored-key")),
                (super::super::TTL_ATTRIBUTE.to_string(), n(9)),
            ]),
        )
        .unwrap();
        assert_eq!(
            (item.key.as_str(), item.expires_at),
            ("stored-key", Some(9))
        );

        let err = parse("k", HashMap::from([("state".to_string(), n(1))]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("workflow item k is malformed"), "{err}");
        let err = parse("k", HashMap::new()).unwrap_err().to_string();
        assert!(err.contains("no state"), "{err}");
    }
}
