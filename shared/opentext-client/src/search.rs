//! `POST /api/v2/search` (REFERENCE §5): LQL in `where`, paged with `page` / `limit`.
//! Results are read from `results[].data.properties` as the CS spec shows them, and also from
//! a `results` object wrapping `data[]`, bare `{id,name}` rows, the `regions`
//! (`OTObjectID`, `OTName`) and `search_result_metadata.object_id` (`DataId=N&Version=1`).
//! The search index lags behind writes on real servers: a node just created may be missing.

use serde_json::Value;

use crate::client::Client;
use crate::disposition::{fields_of, rows};
use crate::envelope;
use crate::error::Result;
use crate::http::Req;
use crate::model::SearchHit;

const MAX_PAGES: usize = 10_000;

fn int(v: Option<&Value>) -> Option<i64> {
    let v = v?;
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn hit(row: &Value) -> Option<SearchHit> {
    let props = fields_of(row, "id");
    let regions = row.pointer("/data/regions").or_else(|| row.get("regions"));
    let object_id = row
        .pointer("/search_result_metadata/object_id")
        .and_then(Value::as_str)
        .and_then(|o| {
            o.split('&')
                .find_map(|kv| kv.strip_prefix("DataId="))
                .and_then(|n| n.trim().parse().ok())
        });
    let id = int(props.get("id"))
        .or_else(|| int(regions.and_then(|r| r.get("OTObjectID"))))
        .or(object_id)?;
    let name = props
        .get("name")
        .or_else(|| regions.and_then(|r| r.get("OTName")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Some(SearchHit { id, name })
}

impl Client {
    /// Every node the LQL `where_lql` finds (e.g. `OTSubType:144 AND OTParentID:2101`),
    /// reading `limit` results per page until the last page; each node once, in the server's
    /// order.
    pub async fn search(&self, where_lql: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let limit = limit.clamp(1, 1000);
        let mut all: Vec<SearchHit> = Vec::new();
        for page in 1..=MAX_PAGES {
            let form = vec![
                ("where".to_string(), where_lql.to_string()),
                ("limit".to_string(), limit.to_string()),
                ("page".to_string(), page.to_string()),
            ];
            let v = self.json(&Req::post("/api/v2/search").form(form)).await?;
            let rows = rows(&v);
            let before = all.len();
            for h in rows.iter().filter_map(hit) {
                if !all.iter().any(|x| x.id == h.id) {
                    all.push(h);
                }
            }
            let paging = envelope::paging(&v);
            let more = match paging.page_total {
                Some(total) => (page as i64) < total,
                None => rows.len() >= limit,
            };
            if all.len() == before || !more {
                break;
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hits_from_every_shape() {
        let spec = json!({"data": {"properties": {"id": 42, "name": "a.pdf"}}});
        assert_eq!(
            hit(&spec),
            Some(SearchHit {
                id: 42,
                name: "a.pdf".into()
            })
        );
        let strings = json!({"data": {"properties": {"id": "43", "name": "b"}}});
        assert_eq!(hit(&strings).map(|h| h.id), Some(43));
        let regions = json!({"data": {"regions": {"OTObjectID": "44", "OTName": "c"}}});
        assert_eq!(
            hit(&regions),
            Some(SearchHit {
                id: 44,
                name: "c".into()
            })
        );
        let meta = json!({"search_result_metadata": {"object_id": "DataId=45&Version=1"}});
        assert_eq!(hit(&meta).map(|h| h.id), Some(45));
        assert_eq!(hit(&json!({"id": 46, "name": "d"})).map(|h| h.id), Some(46));
        assert_eq!(hit(&json!({"data": {}})), None);
    }
}
