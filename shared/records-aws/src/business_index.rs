//! P4's index of business objects to records, in the workflow table: one item per (business
//! object, record), `pk = bizref#<type>#<id>#node#<node_id>`, written in the declaration's
//! finishing transaction, found through the `BusinessObjectIndex` GSI (hash
//! `business_object`, range `node_id`) — a Query, never a Scan.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use records_domain::{BusinessObject, ObjectVersion};

use crate::workflow_store::{PK, now_ms};

pub const BUSINESS_REF_PREFIX: &str = "bizref#";
pub const BUSINESS_OBJECT_INDEX: &str = "BusinessObjectIndex";

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {op} on the business object index: {message}")]
pub struct BusinessIndexError {
    pub op: &'static str,
    pub message: String,
}

#[derive(Clone)]
pub struct BusinessIndex {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

pub fn business_ref_pk(object: &BusinessObject, node_id: u64) -> String {
    format!("{BUSINESS_REF_PREFIX}{}#node#{node_id}", object.index_key())
}

impl BusinessIndex {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// One Put per business object, for the declaration's finishing transaction: a record is
    /// indexed exactly when it is declared, and writing it again changes nothing.
    pub fn index_writes(
        &self,
        node_id: u64,
        objects: &[BusinessObject],
        version: &ObjectVersion,
    ) -> Vec<TransactWriteItem> {
        objects
            .iter()
            .map(|object| {
                let item = HashMap::from([
                    (
                        PK.to_string(),
                        AttributeValue::S(business_ref_pk(object, node_id)),
                    ),
                    (
                        "business_object".to_string(),
                        AttributeValue::S(object.index_key()),
                    ),
                    (
                        "node_id".to_string(),
                        AttributeValue::N(node_id.to_string()),
                    ),
                    (
                        "object_type".to_string(),
                        AttributeValue::S(object.object_type.clone()),
                    ),
                    (
                        "object_id".to_string(),
                        AttributeValue::S(object.id.clone()),
                    ),
                    (
                        "bucket".to_string(),
                        AttributeValue::S(version.bucket.clone()),
                    ),
                    ("key".to_string(), AttributeValue::S(version.key.clone())),
                    (
                        "version_id".to_string(),
                        AttributeValue::S(version.version_id.clone()),
                    ),
                    (
                        "indexed_at_ms".to_string(),
                        AttributeValue::N(now_ms().to_string()),
                    ),
                ]);
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build()
                    .expect("table and item are set");
                TransactWriteItem::builder().put(put).build()
            })
            .collect()
    }

    /// The node ids of every record indexed under `object`, ascending, each once.
    pub async fn records_of(
        &self,
        object: &BusinessObject,
    ) -> Result<Vec<u64>, BusinessIndexError> {
        let mut nodes = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BUSINESS_OBJECT_INDEX)
            .key_condition_expression("business_object = :b")
            .expression_attribute_values(":b", AttributeValue::S(object.index_key()))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| BusinessIndexError {
                op: "Query",
                message: aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
            })?;
            nodes.extend(
                page.items()
                    .iter()
                    .filter_map(|item| item.get("node_id")?.as_n().ok()?.parse::<u64>().ok()),
            );
        }
        nodes.sort_unstable();
        nodes.dedup();
        Ok(nodes)
    }
}
