//! RM dispositions (RM 26.1 "Dispositions"; REFERENCE §4.4): run a disposition search, read
//! its snapshots and their items, record review decisions, perform the approved actions.
//!
//! The spec documents no response body for the POST calls, so the client learns their effect
//! by reading the snapshot again rather than trusting one server's answer.

use serde_json::Value;

use crate::client::Client;
use crate::envelope::{self, from_value};
use crate::error::{Error, Result};
use crate::http::Req;
use crate::model::{
    ActionOutcome, ActionStatus, DispositionItem, DispositionItemRef, DispositionSnapshot, InZone,
    ReviewChange, SnapshotDate,
};

const PAGE: usize = 100;
const MAX_PAGES: usize = 10_000;

/// Percent-encodes a path segment (RFC 3986 `pchar` kept as is).
fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The rows of a list answer: top-level `data[]` (RM v1 style), `results.data[]`, or
/// `results[]`; a single object counts as one row.
pub(crate) fn rows(v: &Value) -> Vec<Value> {
    let list = v
        .get("data")
        .filter(|d| d.is_array())
        .or_else(|| v.get("results").and_then(|r| r.get("data")))
        .or_else(|| v.get("results"));
    match list {
        Some(Value::Array(a)) => a.clone(),
        Some(o @ Value::Object(m)) if !m.is_empty() => vec![o.clone()],
        _ => Vec::new(),
    }
}

/// A row's fields: `row.data.properties`, `row.data`, `row.properties` or the row itself,
/// whichever holds `key`.
pub(crate) fn fields_of<'a>(row: &'a Value, key: &str) -> &'a Value {
    let candidates = [
        row.get("data").and_then(|d| d.get("properties")),
        row.get("data"),
        row.get("properties"),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|c| c.get(key).is_some())
        .unwrap_or(row)
}

fn has_more(v: &Value, got: usize, limit: usize, page: usize) -> bool {
    let p = envelope::paging(v);
    match p.page_total {
        Some(total) => (page as i64) < total,
        None => got >= limit,
    }
}

/// The qdate a POST answer may carry (`results.data.qdate`, `data.qdate`, `qdate`).
fn qdate_in(v: &Value) -> Option<&str> {
    [
        v.pointer("/results/data/qdate"),
        v.pointer("/data/qdate"),
        v.get("qdate"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str)
    .filter(|s| !s.trim().is_empty())
}

impl Client {
    /// `GET /api/v2/snapshottable/{id}`: every snapshot of disposition search `search_id`
    /// (all pages), in the server's order.
    pub async fn disposition_snapshots(&self, search_id: i64) -> Result<Vec<DispositionSnapshot>> {
        let path = format!("/api/v2/snapshottable/{search_id}");
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let req = Req::get(&path).query("page", page).query("limit", PAGE);
            let v = self.json(&req).await?;
            let rows = rows(&v);
            for row in &rows {
                let mut s: DispositionSnapshot =
                    from_value(fields_of(row, "qdate").clone(), &path)?;
                s.set_zone(self.time_zone());
                all.push(s);
            }
            if rows.is_empty() || !has_more(&v, rows.len(), PAGE, page) {
                break;
            }
        }
        Ok(all)
    }

    /// `GET /api/v2/nodes/{id}/disposition-snapshots/qdate/{qdate}`: the snapshot's items
    /// (all pages) with review decision, action, calculated date and stage count.
    pub async fn disposition_snapshot(
        &self,
        search_id: i64,
        qdate: &SnapshotDate,
    ) -> Result<Vec<DispositionItem>> {
        let path = format!(
            "/api/v2/nodes/{search_id}/disposition-snapshots/qdate/{}",
            segment(qdate.as_str())
        );
        let mut all: Vec<DispositionItem> = Vec::new();
        for page in 1..=MAX_PAGES {
            let req = Req::get(&path).query("page", page).query("limit", PAGE);
            let v = self.json(&req).await?;
            let rows = rows(&v);
            let before = all.len();
            for row in &rows {
                let mut it: DispositionItem = from_value(fields_of(row, "id").clone(), &path)?;
                it.set_zone(self.time_zone());
                if !all.iter().any(|x| x.item_ref() == it.item_ref()) {
                    all.push(it);
                }
            }
            // A server that ignores `page` repeats the first page: stop there.
            if all.len() == before || !has_more(&v, rows.len(), PAGE, page) {
                break;
            }
        }
        Ok(all)
    }

    /// `POST /api/v1/nodes/{id}/startdispsearch`, then the snapshot it took: the one the
    /// answer names, else the newest of the search's snapshots.
    pub async fn start_disposition_search(&self, search_id: i64) -> Result<DispositionSnapshot> {
        let path = format!("/api/v1/nodes/{search_id}/startdispsearch");
        let v = self.json(&Req::post(&path)).await?;
        let named = qdate_in(&v).map(|q| SnapshotDate::parse_in(q, self.time_zone()));
        let snaps = self.disposition_snapshots(search_id).await?;
        let found = match &named {
            Some(q) => snaps
                .iter()
                .find(|s| s.qdate.as_str() == q.as_str())
                .or_else(|| {
                    let at = q.datetime()?;
                    snaps.iter().find(|s| s.qdate.datetime() == Some(at))
                }),
            None => snaps.iter().max_by_key(|s| s.qdate.datetime()),
        };
        found
            .cloned()
            .ok_or_else(|| Error::unexpected(&path, "the disposition search lists no snapshot"))
    }

    fn disposition_form(
        search_id: i64,
        qdate_key: &str,
        qdate: String,
        items: &[DispositionItemRef],
    ) -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = items
            .iter()
            .map(|i| ("objIdList".to_string(), i.obj_id()))
            .collect();
        form.push(("dispNodeID".into(), search_id.to_string()));
        form.push((qdate_key.into(), qdate));
        form
    }

    /// `POST /api/v1/members/{user_id}/disposition/changereviewdecision` for `items`
    /// (`applyTo=thisPage`). No items: nothing is sent.
    pub async fn change_review_decision(
        &self,
        user_id: i64,
        search_id: i64,
        qdate: &SnapshotDate,
        items: &[DispositionItemRef],
        change: &ReviewChange,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut form = Self::disposition_form(search_id, "qDate", qdate.form_value(), items);
        form.push(("applyTo".into(), "thisPage".into()));
        form.push(("decision".into(), change.decision.form_value().into()));
        if let Some(c) = &change.comment {
            form.push(("reviewComment".into(), c.clone()));
        }
        if let Some(r) = change.reviewer_id {
            form.push(("reviewerID".into(), r.to_string()));
        }
        if let Some(s) = change.reviewer_step {
            form.push(("reviewerstep".into(), s.to_string()));
        }
        let path = format!("/api/v1/members/{user_id}/disposition/changereviewdecision");
        self.json(&Req::post(path).form(form)).await.map(|_| ())
    }

    /// `POST /api/v1/members/{user_id}/disposition/finishreview`.
    pub async fn finish_disposition_review(
        &self,
        user_id: i64,
        search_id: i64,
        qdate: &SnapshotDate,
        reviewer: Option<(i64, i64)>,
    ) -> Result<()> {
        let mut form = Self::disposition_form(search_id, "qdate", qdate.finish_review_value(), &[]);
        if let Some((id, step)) = reviewer {
            form.push(("reviewerID".into(), id.to_string()));
            form.push(("reviewerstep".into(), step.to_string()));
        }
        let path = format!("/api/v1/members/{user_id}/disposition/finishreview");
        self.json(&Req::post(path).form(form)).await.map(|_| ())
    }

    /// `POST /api/v1/members/{user_id}/disposition/performactions` for `items`
    /// (`applyto=thisPage`), then one outcome per item: what the answer says about it when it
    /// says something, else the snapshot's `action_performed` read afterwards. Servers
    /// perform only approved items; one under hold is skipped.
    pub async fn perform_disposition_actions(
        &self,
        user_id: i64,
        search_id: i64,
        qdate: &SnapshotDate,
        items: &[DispositionItemRef],
    ) -> Result<Vec<ActionOutcome>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut form = Self::disposition_form(search_id, "qdate", qdate.form_value(), items);
        form.push(("applyto".into(), "thisPage".into()));
        let path = format!("/api/v1/members/{user_id}/disposition/performactions");
        let v = self.json(&Req::post(path).form(form)).await?;
        let reported = reported_outcomes(&v);
        let after = self.disposition_snapshot(search_id, qdate).await?;
        Ok(items
            .iter()
            .map(|item| {
                let said = reported.iter().find(|(r, _, _)| r == item);
                let listed = after.iter().find(|a| a.item_ref() == *item);
                let status = match (said.and_then(|s| s.1), listed) {
                    (Some(true), _) => ActionStatus::Performed,
                    (Some(false), _) => ActionStatus::Skipped,
                    (None, Some(l)) if l.action_performed => ActionStatus::Performed,
                    (None, Some(_)) => ActionStatus::Skipped,
                    (None, None) => ActionStatus::Unknown,
                };
                ActionOutcome {
                    item: *item,
                    status,
                    message: said.and_then(|s| s.2.clone()),
                }
            })
            .collect())
    }
}

/// Per-item results some servers send back: `results.data.items[]` / `data.items[]` /
/// `items[]`, each `{id, stage_count, performed, message}`.
fn reported_outcomes(v: &Value) -> Vec<(DispositionItemRef, Option<bool>, Option<String>)> {
    let list = [
        v.pointer("/results/data/items"),
        v.pointer("/data/items"),
        v.get("items"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_array);
    let int =
        |x: Option<&Value>| x.and_then(|x| x.as_i64().or_else(|| x.as_str()?.trim().parse().ok()));
    list.into_iter()
        .flatten()
        .filter_map(|it| {
            let id = int(it.get("id"))?;
            let stage_count = int(it.get("stage_count")).unwrap_or(1);
            let performed = it.get("performed").and_then(|p| match p {
                Value::Bool(b) => Some(*b),
                Value::Number(n) => n.as_i64().map(|n| n != 0),
                Value::String(s) => Some(matches!(s.as_str(), "true" | "1")),
                _ => None,
            });
            let message = it
                .get("message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map(str::to_string);
            Some((DispositionItemRef { id, stage_count }, performed, message))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_bare_wrapped_and_nested() {
        let top = json!({"data": [{"data": {"qdate": "2026-03-01"}}], "paging": {}});
        assert_eq!(fields_of(&rows(&top)[0], "qdate")["qdate"], "2026-03-01");
        let wrapped = json!({"results": {"data": [{"data": {"id": "5", "name": "x"}}]}});
        assert_eq!(fields_of(&rows(&wrapped)[0], "id")["id"], "5");
        let bare = json!({"results": [{"id": 5}]});
        assert_eq!(fields_of(&rows(&bare)[0], "id")["id"], 5);
        let props = json!({"results": [{"data": {"properties": {"id": 7}}}]});
        assert_eq!(fields_of(&rows(&props)[0], "id")["id"], 7);
        assert!(rows(&json!({"results": {}})).is_empty());
    }

    #[test]
    fn items_read_strings_and_numbers() {
        let it: DispositionItem = serde_json::from_value(json!({
            "id": "42", "name": "a.pdf", "disp_action": "32", "review_decision": "1",
            "stage_count": "2", "action_performed": 1, "calculated_date": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!((it.id, it.disp_action, it.stage_count), (42, Some(32), 2));
        assert!(it.is_approved() && it.action_performed);
        assert!(it.calculated_date.unwrap().has_zone());
        let it: DispositionItem =
            serde_json::from_value(json!({"id": 1, "review_decision": 0})).unwrap();
        assert_eq!(it.stage_count, 1);
        assert_eq!(it.item_ref().obj_id(), "1_1");
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("D/2026-03-01:10:00:00"), "D%2F2026-03-01:10:00:00");
        assert_eq!(segment("2026-03-01 10"), "2026-03-01%2010");
    }
}
