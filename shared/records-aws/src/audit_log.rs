//! The audit trail: every action as an append-only DynamoDB item (no TTL, PITR on) and as a
//! structured log line. Items are keyed by subject (the object version or record) and
//! `at#event_id`, so an auditor reads one object's history in order with one Query.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use records_domain::AuditEvent;

#[derive(Clone)]
pub struct AuditLog {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

#[derive(Debug, thiserror::Error)]
#[error("writing audit event {event_id}: {code}: {message}")]
pub struct AuditError {
    pub event_id: String,
    pub code: String,
    pub message: String,
}

/// `s3://bucket/key?versionId=v` for object events, `otcs:node/ID` for record-only ones.
pub fn subject_of(event: &AuditEvent) -> String {
    match (&event.object, &event.record) {
        (Some(o), _) => format!("s3://{}/{}?versionId={}", o.bucket, o.key, o.version_id),
        (None, Some(r)) => format!("otcs:node/{}", r.node_id),
        (None, None) => "records-bridge".to_string(),
    }
}

/// An audit event to be written inside a transaction.
pub struct PendingAudit {
    pub write: TransactWriteItem,
    line: String,
}

impl PendingAudit {
    /// The event's log line, once its transaction committed.
    pub fn committed(self) {
        tracing::info!(target: "audit", audit = %self.line, "audit event");
    }
}

fn item_of(event: &AuditEvent, line: &str) -> HashMap<String, AttributeValue> {
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    HashMap::from([
        ("subject".to_string(), AttributeValue::S(subject_of(event))),
        (
            "at_event".to_string(),
            AttributeValue::S(format!("{}#{}", event.at, event.event_id)),
        ),
        (
            "action".to_string(),
            AttributeValue::S(name(serde_json::to_value(event.action))),
        ),
        (
            "outcome".to_string(),
            AttributeValue::S(name(serde_json::to_value(event.outcome))),
        ),
        ("event".to_string(), AttributeValue::S(line.to_string())),
    ])
}

impl AuditLog {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Appends the event. Writing the same event id twice is a no-op (retries are safe);
    /// an existing item is never overwritten.
    pub async fn append(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let line = event.to_json_line();
        tracing::info!(target: "audit", audit = %line, "audit event");
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(event, &line)))
            .condition_expression("attribute_not_exists(subject)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(AuditError {
                event_id: event.event_id.clone(),
                code: e.code().unwrap_or("Unknown").to_string(),
                message: e
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string()),
            }),
        }
    }

    /// The event as one write of a transaction, so it is recorded exactly when the rest
    /// of the transaction is (see [`crate::workflow_store::WorkflowStore::finish_with`]).
    /// Log it with [`PendingAudit::committed`] once the transaction went through.
    pub fn pending(&self, event: &AuditEvent) -> PendingAudit {
        let line = event.to_json_line();
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_of(event, &line)))
            .condition_expression("attribute_not_exists(subject)")
            .build()
            .expect("table and item are set");
        PendingAudit {
            write: TransactWriteItem::builder().put(put).build(),
            line,
        }
    }

    /// Every event of one subject, oldest first.
    pub async fn history(&self, subject: &str) -> Result<Vec<AuditEvent>, AuditError> {
        let mut events = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("subject = :s")
            .expression_attribute_values(":s", AttributeValue::S(subject.to_string()))
            .into_paginator()
            .send();
        while let Some(out) = pages.next().await {
            let out = out.map_err(|e| AuditError {
                event_id: String::new(),
                code: e.code().unwrap_or("Unknown").to_string(),
                message: e
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string()),
            })?;
            for item in out.items() {
                if let Some(Ok(ev)) = item
                    .get("event")
                    .and_then(|v| v.as_s().ok())
                    .map(|s| AuditEvent::from_json_line(s))
                {
                    events.push(ev);
                }
            }
        }
        Ok(events)
    }
}
