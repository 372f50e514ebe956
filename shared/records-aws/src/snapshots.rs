//! The poller's cursors: the last snapshot of each watched node, in the workflow table, and
//! written only if nobody else wrote it since we read it (overlapping runs cannot regress it).

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue;
use records_domain::poll::NodeSnapshot;

#[derive(Clone)]
pub struct SnapshotStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// A snapshot as stored, with the revision it was read at.
#[derive(Debug, Clone)]
pub struct Stored {
    pub snapshot: NodeSnapshot,
    pub rev: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot of node {node_id} changed under us (another run saved it first)")]
    Raced { node_id: u64 },
    #[error("DynamoDB {op} on node {node_id}: {message}")]
    Dynamo {
        op: &'static str,
        node_id: u64,
        message: String,
    },
}

fn key(node_id: u64) -> AttributeValue {
    AttributeValue::S(format!("poll#node#{node_id}"))
}

impl SnapshotStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn load(&self, node_id: u64) -> Result<Option<Stored>, SnapshotError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", key(node_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| SnapshotError::Dynamo {
                op: "GetItem",
                node_id,
                message: e.message().unwrap_or("unknown").to_string(),
            })?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let rev = item
            .get("rev")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let snapshot = item
            .get("snapshot")
            .and_then(|v| v.as_s().ok())
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        Ok(Some(Stored { snapshot, rev }))
    }

    /// Saves `snapshot` if the stored revision is still `read_rev` (None: never stored).
    pub async fn save(
        &self,
        node_id: u64,
        snapshot: &NodeSnapshot,
        read_rev: Option<u64>,
    ) -> Result<(), SnapshotError> {
        let next = read_rev.map_or(1, |r| r + 1);
        let mut req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", key(node_id))
            .item(
                "snapshot",
                AttributeValue::S(serde_json::to_string(snapshot).expect("plain data")),
            )
            .item("rev", AttributeValue::N(next.to_string()));
        req = match read_rev {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(r) => req
                .condition_expression("rev = :rev")
                .expression_attribute_values(":rev", AttributeValue::N(r.to_string())),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => {
                Err(SnapshotError::Raced { node_id })
            }
            Err(e) => Err(SnapshotError::Dynamo {
                op: "PutItem",
                node_id,
                message: e.message().unwrap_or("unknown").to_string(),
            }),
        }
    }
}
