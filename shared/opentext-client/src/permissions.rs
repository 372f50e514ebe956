//! Effective permissions of a member (usually the caller) on a node.

use serde_json::Value;

use crate::client::Client;
use crate::envelope::{from_value, v2_data};
use crate::error::{Error, Result};
use crate::http::Req;
use crate::model::EffectivePermissions;
use crate::nodes::node_path;

/// `results.data.permissions` (an object holding the `permissions` list, or the list itself).
fn extract(v: &Value, context: &str) -> Result<EffectivePermissions> {
    let p = v2_data(v)
        .and_then(|d| d.get("permissions"))
        .ok_or_else(|| Error::unexpected(context, "missing results.data.permissions"))?;
    match p {
        Value::Array(list) => Ok(EffectivePermissions {
            right_id: None,
            permissions: from_value(Value::Array(list.clone()), context)?,
        }),
        obj => from_value(obj.clone(), context),
    }
}

impl Client {
    /// `GET /api/v2/nodes/{id}/permissions/effective/{member_id}`.
    pub async fn effective_permissions(
        &self,
        node_id: i64,
        member_id: i64,
    ) -> Result<EffectivePermissions> {
        let path = format!("{}/permissions/effective/{member_id}", node_path(node_id));
        let v = self.json(&Req::get(&path)).await?;
        let mut p = extract(&v, &path)?;
        p.right_id.get_or_insert(member_id);
        Ok(p)
    }

    /// The calling identity's own effective rights (its id from `GET /api/v1/auth`).
    pub async fn my_effective_permissions(&self, node_id: i64) -> Result<EffectivePermissions> {
        let me = self.whoami().await?;
        self.effective_permissions(node_id, me.id).await
    }
}
