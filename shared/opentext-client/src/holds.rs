//! Records Management holds: definitions, applying to nodes, a node's holds.

use serde_json::Value;

use crate::client::Client;
use crate::envelope::{self, v1_data_list, v2_data_list};
use crate::error::{Error, Result};
use crate::http::Req;
use crate::model::{Hold, NewHold, NodeHold, Page};

impl Client {
    /// `GET /api/v2/holds`: one page of hold definitions.
    pub async fn list_holds(&self, page: usize, limit: usize) -> Result<Page<Hold>> {
        let path = "/api/v2/holds";
        let req = Req::get(path)
            .query("page", page.max(1))
            .query("limit", limit.max(1));
        let v = self.json(&req).await?;
        Ok(self.in_zone(Page {
            items: v2_data_list(&v, "holds", path)?,
            paging: envelope::paging(&v),
        }))
    }

    /// All hold definitions.
    pub async fn list_all_holds(&self) -> Result<Vec<Hold>> {
        let (mut page, limit, mut all) = (1, 100, Vec::new());
        loop {
            let p = self.list_holds(page, limit).await?;
            let more = p.has_more(limit) && !p.items.is_empty();
            all.extend(p.items);
            if !more {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// `GET /api/v2/holds/{id}`.
    pub async fn get_hold(&self, hold_id: i64) -> Result<Hold> {
        let path = format!("/api/v2/holds/{hold_id}");
        let v = self.json(&Req::get(&path)).await?;
        let hold = envelope::v2_section(&v, "hold")
            .or_else(|| envelope::v2_section(&v, "holds").and_then(|h| h.get(0)))
            .or_else(|| v.get("hold"))
            .cloned()
            .ok_or_else(|| Error::unexpected(&path, "missing results.data.hold"))?;
        envelope::from_value(hold, &path).map(|h: Hold| self.in_zone(h))
    }

    /// `POST /api/v1/holds` (parameters in the query, as the RM spec defines);
    /// returns the new hold's id.
    pub async fn create_hold(&self, hold: &NewHold) -> Result<i64> {
        let path = "/api/v1/holds";
        let req = Req::post(path)
            .query("name", &hold.name)
            .query("type", &hold.hold_type)
            .query("date_applied", &hold.date_applied)
            .query_opt("comment", hold.comment.as_ref())
            .query_opt("alternate_id", hold.alternate_id.as_ref())
            .query_opt("parent_id", hold.parent_id)
            .query_opt("date_to_remove", hold.date_to_remove.as_ref());
        let v = self.json(&req).await?;
        let id = ["holdID", "HoldID", "hold_id", "id"]
            .iter()
            .find_map(|k| {
                v.get(*k)
                    .or_else(|| v.get("results").and_then(|r| r.get(*k)))
            })
            .and_then(as_i64)
            .filter(|id| *id > 0);
        id.ok_or_else(|| Error::unexpected(path, format!("no hold id in {v}")))
    }

    /// Puts `node_id` under hold `hold_id` (`POST /api/v1/nodes/{id}/holds?hold_id=`).
    pub async fn apply_hold(&self, node_id: i64, hold_id: i64) -> Result<()> {
        let req = Req::post(format!("/api/v1/nodes/{node_id}/holds")).query("hold_id", hold_id);
        self.json(&req).await.map(|_| ())
    }

    /// Removes a direct hold from a node.
    pub async fn remove_hold(&self, node_id: i64, hold_id: i64) -> Result<()> {
        let req = Req::delete(format!("/api/v1/nodes/{node_id}/holds/{hold_id}"));
        self.json(&req).await.map(|_| ())
    }

    /// `GET /api/v1/nodes/{id}/holds`: holds on the node, including inherited ones.
    pub async fn node_holds(&self, node_id: i64) -> Result<Vec<NodeHold>> {
        let path = format!("/api/v1/nodes/{node_id}/holds");
        let v = self.json(&Req::get(&path)).await?;
        v1_data_list(&v, &path).map(|h: Vec<NodeHold>| self.in_zone(h))
    }

    /// Ids of the holds in force on the node, direct or inherited from a container (a hold the
    /// server marks inactive is not in force), sorted, each once.
    pub async fn active_hold_ids(&self, node_id: i64) -> Result<Vec<i64>> {
        let mut ids: Vec<i64> = self
            .node_holds(node_id)
            .await?
            .into_iter()
            .filter(|h| h.active != Some(false))
            .map(|h| h.hold_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}
