//! A node's audit trail (paged; OpenText has no system-wide feed).

use crate::client::Client;
use crate::envelope::{self, v2_data_list};
use crate::error::Result;
use crate::http::Req;
use crate::model::AuditPage;
use crate::nodes::node_path;

/// Filters and paging for [`Client::node_audit`].
#[derive(Debug, Clone)]
pub struct AuditQuery {
    /// 1-based page.
    pub page: usize,
    /// Page size.
    pub limit: usize,
    /// Newest first when true.
    pub newest_first: bool,
    /// Only this event type.
    pub where_type: Option<i64>,
    /// Only this user's events.
    pub where_user_id: Option<i64>,
    /// From this day (`YYYY-MM-DD`).
    pub date_start: Option<String>,
    /// Until this day (`YYYY-MM-DD`).
    pub date_end: Option<String>,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            page: 1,
            limit: 100,
            newest_first: true,
            where_type: None,
            where_user_id: None,
            date_start: None,
            date_end: None,
        }
    }
}

impl Client {
    /// `GET /api/v2/nodes/{id}/audit`: one page of events.
    pub async fn node_audit(&self, id: i64, q: &AuditQuery) -> Result<AuditPage> {
        let path = format!("{}/audit", node_path(id));
        let sort = if q.newest_first {
            "desc_audit_date"
        } else {
            "asc_audit_date"
        };
        let req = Req::get(&path)
            .query("page", q.page.max(1))
            .query("limit", q.limit.max(1))
            .query("sort", sort)
            .query_opt("where_type", q.where_type)
            .query_opt("where_user_id", q.where_user_id)
            .query_opt("where_audit_date_start", q.date_start.as_ref())
            .query_opt("where_audit_date_end", q.date_end.as_ref());
        let v = self.json(&req).await?;
        Ok(self.in_zone(AuditPage {
            entries: v2_data_list(&v, "audit", &path)?,
            event_types: v2_data_list(&v, "audit_event_types", &path)?,
            paging: envelope::paging(&v),
        }))
    }
}
