//! The batch's items in the workflow table: one per object version the disposition batch
//! approved for destruction, written by the workflow before CreateJob and read by the task.
//!
//! `pk = dispbatch#<batch_id>#<sha256 hex of bucket \n key \n version_id>`: a fixed length
//! whatever the key (S3 keys reach 1,024 bytes), under one prefix the task's IAM policy
//! names (`dynamodb:LeadingKeys`). Attributes: `batch_id`, `node_id`, `bucket`,
//! `object_key`, `version_id`, `sha256` and `size` when known, `created_at_ms`, and the
//! table's TTL `expires_at` (the items age out after the job; the certificate keeps what
//! was destroyed).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use records_domain::ObjectVersion;
use sha2::{Digest, Sha256};

use super::BatchOpsError;
use crate::workflow_store::{PK, TTL_ATTRIBUTE, now_ms};

pub const BATCH_ITEM_PREFIX: &str = "dispbatch#";

/// How long items stay after they are written unless told otherwise (a job runs for
/// hours or days; this leaves room for a rerun).
const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// DynamoDB's BatchWriteItem limit.
const BATCH_WRITE_MAX: usize = 25;
const UNPROCESSED_RETRIES: u32 = 8;

/// One version of a disposition batch and the record that governs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub batch_id: String,
    pub node_id: u64,
    pub version: ObjectVersion,
    /// SHA-256 (lower-case hex) recorded at declaration, if known.
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

pub fn batch_item_pk(batch_id: &str, v: &ObjectVersion) -> String {
    let mut h = Sha256::new();
    for part in [&v.bucket, &v.key, &v.version_id] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    format!(
        "{BATCH_ITEM_PREFIX}{batch_id}#{}",
        hex::encode(h.finalize())
    )
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn dynamo<E: ProvideErrorMetadata + std::fmt::Display>(op: &'static str, e: E) -> BatchOpsError {
    BatchOpsError::Dynamo {
        op,
        code: e.code().unwrap_or("Unknown").to_string(),
        message: e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    }
}

#[derive(Clone)]
pub struct BatchItems {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention: Duration,
}

impl BatchItems {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retention: DEFAULT_RETENTION,
        }
    }

    /// How long the items are kept (their TTL counts from the write).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn item(&self, it: &BatchItem) -> HashMap<String, AttributeValue> {
        let now = now_ms();
        let mut item = HashMap::from([
            (PK.to_string(), s(&batch_item_pk(&it.batch_id, &it.version))),
            ("batch_id".into(), s(&it.batch_id)),
            ("node_id".into(), AttributeValue::N(it.node_id.to_string())),
            ("bucket".into(), s(&it.version.bucket)),
            ("object_key".into(), s(&it.version.key)),
            ("version_id".into(), s(&it.version.version_id)),
            ("created_at_ms".into(), AttributeValue::N(now.to_string())),
            (
                TTL_ATTRIBUTE.into(),
                AttributeValue::N((now / 1000 + self.retention.as_secs()).to_string()),
            ),
        ]);
        if let Some(sha) = &it.sha256 {
            item.insert("sha256".into(), s(sha));
        }
        if let Some(size) = it.size {
            item.insert("size".into(), AttributeValue::N(size.to_string()));
        }
        item
    }

    /// Writes every item (BatchWriteItem, 25 at a time, unprocessed ones sent again).
    /// Idempotent: an item's key is its batch and version, so a rerun rewrites the same.
    pub async fn put_all(&self, items: &[BatchItem]) -> Result<(), BatchOpsError> {
        for it in items {
            if it.batch_id.is_empty() || !it.version.is_versioned() {
                return Err(BatchOpsError::Invalid(format!(
                    "batch item needs a batch id and a version id: {it:?}"
                )));
            }
        }
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|it| {
                    let put = PutRequest::builder()
                        .set_item(Some(self.item(it)))
                        .build()
                        .map_err(|e| BatchOpsError::Invalid(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, BatchOpsError>>()?;
            let mut attempt = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| dynamo("BatchWriteItem", e.into_service_error()))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                attempt += 1;
                if attempt > UNPROCESSED_RETRIES {
                    return Err(BatchOpsError::Dynamo {
                        op: "BatchWriteItem",
                        code: "UnprocessedItems".into(),
                        message: format!("{} items still unprocessed", pending.len()),
                    });
                }
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
            }
        }
        Ok(())
    }

    /// The batch's item for this version (consistent read), or `None` when the batch does
    /// not contain it: such a version was never approved for destruction.
    pub async fn get(
        &self,
        batch_id: &str,
        v: &ObjectVersion,
    ) -> Result<Option<BatchItem>, BatchOpsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(&batch_item_pk(batch_id, v)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo("GetItem", e.into_service_error()))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let text = |k: &str| item.get(k).and_then(|a| a.as_s().ok()).cloned();
        let num = |k: &str| {
            item.get(k)
                .and_then(|a| a.as_n().ok())
                .and_then(|n| n.parse().ok())
        };
        let stored = ObjectVersion {
            bucket: text("bucket").unwrap_or_default(),
            key: text("object_key").unwrap_or_default(),
            version_id: text("version_id").unwrap_or_default(),
        };
        // The key is a hash: check the item really is this version's.
        if &stored != v || text("batch_id").as_deref() != Some(batch_id) {
            return Err(BatchOpsError::Invalid(format!(
                "batch item {} does not match s3://{}/{}?versionId={}",
                batch_item_pk(batch_id, v),
                v.bucket,
                v.key,
                v.version_id
            )));
        }
        let node_id = num("node_id").ok_or_else(|| {
            BatchOpsError::Invalid(format!(
                "batch item {} has no node id",
                batch_item_pk(batch_id, v)
            ))
        })?;
        Ok(Some(BatchItem {
            batch_id: batch_id.to_string(),
            node_id,
            version: stored,
            sha256: text("sha256"),
            size: num("size"),
        }))
    }
}
