//! The template's AuditTable: the events written about a record or an S3 version.

use local_stack::stack::Stack;
use records_aws::audit_log::AuditLog;
use records_domain::AuditEvent;

/// Every audit event about `subject`, oldest first.
pub async fn history(stack: &Stack, subject: &str) -> Vec<AuditEvent> {
    AuditLog::new(stack.dynamodb(), stack.resource("AuditTable"))
        .history(subject)
        .await
        .expect("audit history")
}

/// The audit trail of an OpenText node (`otcs:node/{id}`).
pub async fn of_node(stack: &Stack, node_id: u64) -> Vec<AuditEvent> {
    history(stack, &format!("otcs:node/{node_id}")).await
}

/// The audit trail of one S3 object version (`s3://bucket/key?versionId=…`).
pub async fn of_version(
    stack: &Stack,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Vec<AuditEvent> {
    history(
        stack,
        &format!("s3://{bucket}/{key}?versionId={version_id}"),
    )
    .await
}
