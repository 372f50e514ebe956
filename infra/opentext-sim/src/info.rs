//! `GET /api/v1/ping` (no auth) and `GET /api/v1/serverinfo`.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::request::ApiReq;
use crate::state::AppState;

pub const SERVER_VERSION: &str = "25.4";

pub async fn ping() -> Json<Value> {
    Json(json!({"build": 2, "href": "api/v1", "version": 1}))
}

/// Shapes follow the real server (objects), not the spec's arrays; see SPEC-DEVIATIONS.md.
pub async fn serverinfo(State(sim): State<AppState>, req: ApiReq) -> ApiResult {
    req.caller()?;
    let idle_ms = sim.ticket_idle.as_millis() as u64;
    Ok(Json(json!({
        "mobile": {"offline_use": false, "client_timeout": 120},
        "server": {
            "url": "/otcs/cs.exe", "version": SERVER_VERSION, "character_encoding": 1,
            "current_locale_suffix": "_en_US", "domain_access_enabled": false,
            "time_zone_offset_enabled": false, "language_code": "en",
            "languages": [{"language_code": "en", "language_name": "English"}],
            "metadata_languages": [], "current_date": crate::dates::now_rm(sim.time_zone),
            "available_mime_types": [], "force_download_for_mime_types": [],
            "advanced_versioning": false, "enhanced_advanced_versioning": false,
            "xecmgovInstalled": false,
            "product": "opentext-sim (OpenText Content Server simulator)",
        },
        "sessions": {
            "enabled": true, "expire_after_last_request": true, "expire_after_last_login": false,
            "session_timeout": idle_ms, "session_inactivity": idle_ms, "session_reaction_time": 0,
            "logout_url": "/otcs/cs.exe?func=ll.DoLogout",
        },
        "viewer": {"content_suite": []},
    }))
    .into_response())
}
