//! Record series identifiers (retention schedules) and their stages.

use serde_json::Value;

use crate::client::Client;
use crate::envelope::{self, from_value};
use crate::error::{Error, Result};
use crate::http::Req;
use crate::model::{Page, Rsi, RsiStage};

/// `results.data.rsis` rows are RSI × stage; fold them into RSIs with stages.
fn fold_rows(rows: &[Value], context: &str) -> Result<Vec<Rsi>> {
    let mut out: Vec<Rsi> = Vec::new();
    for row in rows {
        let rsi: Rsi = from_value(row.clone(), context)?;
        let stage: RsiStage = from_value(row.clone(), context)?;
        let has_stage = row.get("RSIScheduleID").is_some_and(|v| !v.is_null())
            || row.get("RetStage").is_some_and(|v| !v.is_null());
        let idx = match out.iter().position(|r| r.id == rsi.id) {
            Some(i) => i,
            None => {
                out.push(rsi);
                out.len() - 1
            }
        };
        if has_stage {
            out[idx].stages.push(stage);
        }
        if let Some(Value::Array(stages)) = row.get("stages") {
            for s in stages {
                out[idx].stages.push(from_value(s.clone(), context)?);
            }
        }
    }
    Ok(out)
}

fn rows(v: &Value) -> Vec<Value> {
    match envelope::v2_section(v, "rsis").or_else(|| envelope::v2_section(v, "rsi")) {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(_)) => vec![o.clone()],
        _ => Vec::new(),
    }
}

impl Client {
    /// `GET /api/v2/rsis`: one page of RSIs with their stages.
    pub async fn list_rsis(&self, page: usize, limit: usize) -> Result<Page<Rsi>> {
        let path = "/api/v2/rsis";
        let req = Req::get(path)
            .query("page", page.max(1))
            .query("limit", limit.max(1));
        let v = self.json(&req).await?;
        Ok(Page {
            items: fold_rows(&rows(&v), path)?,
            paging: envelope::paging(&v),
        })
    }

    /// The RSI named `name` (names compared as the server compares them), reading every page.
    pub async fn find_rsi(&self, name: &str) -> Result<Option<Rsi>> {
        const LIMIT: usize = 100;
        let mut page = 1;
        loop {
            let p = self.list_rsis(page, LIMIT).await?;
            let more = p.has_more(LIMIT) && !p.items.is_empty();
            if let Some(r) = p
                .items
                .into_iter()
                .find(|r| crate::same_name(&r.name, name))
            {
                return Ok(Some(r));
            }
            if !more {
                return Ok(None);
            }
            page += 1;
        }
    }

    /// `GET /api/v2/rsis/{id}`: one RSI and its retention stages.
    pub async fn get_rsi(&self, rsi_id: i64) -> Result<Rsi> {
        let path = format!("/api/v2/rsis/{rsi_id}");
        let v = self.json(&Req::get(&path)).await?;
        fold_rows(&rows(&v), &path)?
            .into_iter()
            .find(|r| r.id == rsi_id)
            .ok_or_else(|| Error::NotFound {
                status: 200,
                message: format!("RSI {rsi_id} not in response"),
            })
    }

    /// `GET /api/v2/rsis/{rsi_id}/schedules/{schedule_id}`: one stage.
    pub async fn get_rsi_stage(&self, rsi_id: i64, schedule_id: i64) -> Result<RsiStage> {
        let path = format!("/api/v2/rsis/{rsi_id}/schedules/{schedule_id}");
        let v = self.json(&Req::get(&path)).await?;
        let s = envelope::v2_section(&v, "schedule")
            .or_else(|| v.get("schedule"))
            .cloned()
            .ok_or_else(|| Error::unexpected(&path, "missing schedule"))?;
        from_value(s, &path)
    }
}
