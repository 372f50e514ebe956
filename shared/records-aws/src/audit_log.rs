//! The audit trail: every action as an append-only DynamoDB item (no TTL, PITR on) and as a
//! structured log line. Items are keyed by subject (the object version or record) and
//! `at#event_id`, so an auditor reads one object's history in order with one Query.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
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
        let action = serde_json::to_value(event.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let outcome = serde_json::to_value(event.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("subject", AttributeValue::S(subject_of(event)))
            .item(
                "at_event",
                AttributeValue::S(format!("{}#{}", event.at, event.event_id)),
            )
            .item("action", AttributeValue::S(action))
            .item("outcome", AttributeValue::S(outcome))
            .item("event", AttributeValue::S(line))
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

    /// Every event of one subject, oldest first.
    pub async fn history(&self, subject: &str) -> Result<Vec<AuditEvent>, AuditError> {
        let mut events = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("subject = :s")
                .expression_attribute_values(":s", AttributeValue::S(subject.to_string()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AuditError {
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
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(events)
    }
}
