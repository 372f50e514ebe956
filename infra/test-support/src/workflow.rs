//! The template's WorkflowTable: workflow items as the functions leave them, and the
//! record ⇄ S3 version links kept beside them.

use aws_sdk_dynamodb::types::AttributeValue;
use local_stack::stack::Stack;
use records_aws::links::LinkStore;
use serde_json::Value;

/// The workflow item under `pk`: its state and its detail (JSON; `Null` if unreadable).
/// `None` when there is no item, or it has no state or detail yet.
pub async fn item(stack: &Stack, pk: &str) -> Option<(String, Value)> {
    try_item(stack, pk).await.expect("get item")
}

/// [`item`], with DynamoDB's errors returned (for the bench, which reports rather than panics).
pub async fn try_item(stack: &Stack, pk: &str) -> anyhow::Result<Option<(String, Value)>> {
    let out = stack
        .dynamodb()
        .get_item()
        .table_name(stack.resource("WorkflowTable"))
        .key("pk", AttributeValue::S(pk.to_string()))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item.and_then(|item| {
        let state = item.get("state")?.as_s().ok()?.clone();
        let detail = serde_json::from_str(item.get("detail")?.as_s().ok()?).unwrap_or(Value::Null);
        Some((state, detail))
    }))
}

/// The key of a versioned object's declaration (`declare#bucket#key#version`, hashed past
/// DynamoDB's limit), as the declare function writes it.
pub fn declare_pk(bucket: &str, key: &str, version_id: &str) -> String {
    records_domain::IdempotencyKey::declare(
        &records_domain::ObjectVersion::new(bucket, key, Some(version_id)),
        None,
    )
    .as_str()
    .to_string()
}

/// The record ⇄ S3 version links in the stack's workflow table.
pub fn links(stack: &Stack) -> LinkStore {
    LinkStore::new(stack.dynamodb(), stack.resource("WorkflowTable"))
}
