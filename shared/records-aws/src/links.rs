//! Links between OpenText records and the S3 object versions they govern (P3).
//!
//! One item per record in the workflow table: `pk = link#node#<node_id>`, a string set
//! `links` of JSON-encoded [`LinkedVersion`]s, no TTL (a link lives as long as the record).
//! Adding is `ADD` to the set: idempotent, and concurrent declarations of two versions of
//! one record cannot lose each other.
//!
//! The reconciler enumerates every link with a Scan filtered on the `link#` prefix. The
//! workflow table also holds idempotency items, which the filter reads and drops: fine at
//! the scale of one governed bucket (a full pass reads the table once); a larger
//! deployment would move links to their own table or a GSI keyed by a constant.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use crate::workflow_store::{PK, now_ms};

pub const LINK_PREFIX: &str = "link#node#";

/// One linked S3 object version and the SHA-256 recorded when it was declared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LinkedVersion {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub sha256: String,
}

impl LinkedVersion {
    pub fn object(&self) -> records_domain::ObjectVersion {
        records_domain::ObjectVersion::new(&self.bucket, &self.key, Some(&self.version_id))
    }
}

/// A record and all its linked versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLinks {
    pub node_id: u64,
    pub versions: BTreeSet<LinkedVersion>,
}

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {op} on links: {code}: {message}")]
pub struct LinkError {
    pub op: &'static str,
    pub code: String,
    pub message: String,
}

fn err<E: ProvideErrorMetadata + std::fmt::Display>(op: &'static str, e: E) -> LinkError {
    LinkError {
        op,
        code: e.code().unwrap_or("Unknown").to_string(),
        message: e
            .message()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
    }
}

#[derive(Clone)]
pub struct LinkStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub fn link_pk(node_id: u64) -> String {
    format!("{LINK_PREFIX}{node_id}")
}

/// Linking: `ADD` to the set, so a version is linked once however often it is written.
const LINK_UPDATE: &str = "ADD links :v SET node_id = :n, updated_at_ms = :t";

fn link_values(
    node_id: u64,
    version: &LinkedVersion,
) -> std::collections::HashMap<String, AttributeValue> {
    std::collections::HashMap::from([
        (":v".to_string(), AttributeValue::Ss(vec![encode(version)])),
        (":n".to_string(), AttributeValue::N(node_id.to_string())),
        (":t".to_string(), AttributeValue::N(now_ms().to_string())),
    ])
}

fn encode(v: &LinkedVersion) -> String {
    serde_json::to_string(v).expect("plain data")
}

fn parse_item(item: &std::collections::HashMap<String, AttributeValue>) -> Option<RecordLinks> {
    let node_id = item
        .get(PK)?
        .as_s()
        .ok()?
        .strip_prefix(LINK_PREFIX)?
        .parse()
        .ok()?;
    let versions = item
        .get("links")
        .and_then(|v| v.as_ss().ok())
        .into_iter()
        .flatten()
        .filter_map(|s| serde_json::from_str(s).ok())
        .collect();
    Some(RecordLinks { node_id, versions })
}

impl LinkStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The link as one write of a transaction (see [`crate::workflow_store::WorkflowStore::finish_with`]).
    pub fn link_write(&self, node_id: u64, version: &LinkedVersion) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(link_pk(node_id)))
            .update_expression(LINK_UPDATE)
            .set_expression_attribute_values(Some(link_values(node_id, version)))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// Links `version` to the record (a no-op when already linked).
    pub async fn link(&self, node_id: u64, version: &LinkedVersion) -> Result<(), LinkError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(link_pk(node_id)))
            .update_expression(LINK_UPDATE)
            .set_expression_attribute_values(Some(link_values(node_id, version)))
            .send()
            .await
            .map_err(|e| err("UpdateItem", e.into_service_error()))?;
        Ok(())
    }

    /// The record's linked versions (empty when it has none).
    pub async fn get(&self, node_id: u64) -> Result<RecordLinks, LinkError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(link_pk(node_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("GetItem", e.into_service_error()))?;
        Ok(out
            .item
            .as_ref()
            .and_then(parse_item)
            .unwrap_or(RecordLinks {
                node_id,
                versions: BTreeSet::new(),
            }))
    }

    /// Every record's links (see the module note on the Scan).
    pub async fn all(&self) -> Result<Vec<RecordLinks>, LinkError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(#pk, :p)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":p", AttributeValue::S(LINK_PREFIX.into()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| err("Scan", e.into_service_error()))?;
            out.extend(page.items().iter().filter_map(parse_item));
        }
        out.sort_by_key(|r| r.node_id);
        Ok(out)
    }
}
