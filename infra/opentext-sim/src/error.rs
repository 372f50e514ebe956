//! Error bodies as Content Server sends them: `{"error":"…"}` (CS REST) or the RM v2 shape
//! `{"results":{"ok":false,"errMsg":"…","id":0}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub type ApiResult<T = Response> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// RM v2 endpoints (`/v2/holds`, `/v2/rsis`) answer with `results.ok=false`.
    pub rm_v2: bool,
}

/// Which "not found" the real server gives depends on the call (REFERENCE §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// GET node and most read calls: 400 "Could not get a node for {id}".
    Get,
    /// Browse/delete/categories: 500 "Could not get a node for {id}".
    Server,
    /// Content download: 500 "Could not locate node: {id}".
    Content,
    /// Versions/permissions: 400 or 500 "Sorry, the item you requested could not be accessed…".
    Access(StatusCode),
    /// RM v1 record details: 400 "Could not get node for {id}".
    Rm,
}

pub const NOT_ACCESSIBLE: &str = "Sorry, the item you requested could not be accessed. Either it does not exist, or you do not have permission to access it. If you were sent a link to this item, please contact the sender for assistance.";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            rm_v2: false,
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn server(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, m)
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    pub fn no_right(right: &str) -> Self {
        Self::forbidden(format!(
            "You do not have the '{right}' permission required to perform this action."
        ))
    }
    pub fn unknown_url() -> Self {
        Self::bad_request("The REST API URL could not be found in the mappings registry")
    }
    pub fn missing(kind: Missing, id: impl std::fmt::Display) -> Self {
        match kind {
            Missing::Get => Self::bad_request(format!("Could not get a node for {id}")),
            Missing::Server => Self::server(format!("Could not get a node for {id}")),
            Missing::Content => Self::server(format!("Could not locate node: {id}")),
            Missing::Access(s) => Self::new(s, NOT_ACCESSIBLE),
            Missing::Rm => Self::bad_request(format!("Could not get node for {id}")),
        }
    }
    /// Switch to the RM v2 body shape.
    pub fn rm(mut self) -> Self {
        self.rm_v2 = true;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = if self.rm_v2 {
            json!({"results": {"ok": false, "errMsg": self.message, "id": 0}})
        } else {
            json!({"error": self.message})
        };
        (self.status, Json(body)).into_response()
    }
}
