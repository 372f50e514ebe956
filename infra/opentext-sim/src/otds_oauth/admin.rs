//! `/sim/admin` routes: OAuth client registration and OTDS token expiry.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{OAuthClient, register_client};
use crate::state::{AppState, lock};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/otds-oauth-clients", get(list_clients).post(add_client))
        .route("/otds-tokens/expire", post(expire_tokens))
}

fn admin_err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

async fn list_clients(State(sim): State<AppState>) -> Json<Value> {
    let mut clients: Vec<OAuthClient> = lock(&sim.otds_oauth).clients.values().cloned().collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    Json(json!({ "clients": clients }))
}

async fn add_client(
    State(sim): State<AppState>,
    body: Result<Json<OAuthClient>, JsonRejection>,
) -> Response {
    let Ok(Json(c)) = body else {
        return admin_err(
            StatusCode::BAD_REQUEST,
            "expected JSON {\"client_id\", \"redirect_uris\": [...], \"token_lifetime_seconds\"?, \"code_lifetime_seconds\"?}",
        );
    };
    match register_client(&sim, c) {
        Ok(c) => (StatusCode::CREATED, Json(json!(c))).into_response(),
        Err(e) => admin_err(StatusCode::BAD_REQUEST, e),
    }
}

/// `{"user": "jdoe" | 1001}` expires that user's OTDS tokens now (however they were minted);
/// `{}` or no body expires every OTDS token. OTCS tickets already handed out stay valid
/// (`/sim/admin/tickets/expire` ends those).
async fn expire_tokens(
    State(sim): State<AppState>,
    body: Result<Option<Json<Value>>, JsonRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b.map(|b| b.0).unwrap_or(Value::Null),
        Err(_) => return admin_err(StatusCode::BAD_REQUEST, "body must be JSON"),
    };
    let user = match body.get("user") {
        None | Some(Value::Null) => None,
        Some(u) => {
            let store = sim.read();
            let id = match u {
                Value::String(s) => store.user_by_name(s).map(|u| u.id),
                Value::Number(n) => n.as_i64().filter(|id| store.users.contains_key(id)),
                _ => None,
            };
            match id {
                Some(id) => Some(id),
                None => return admin_err(StatusCode::NOT_FOUND, "no such user"),
            }
        }
    };
    let removed: Vec<String> = {
        let mut map = lock(&sim.otds_tokens);
        let gone: Vec<String> = map
            .iter()
            .filter(|(_, uid)| user.is_none_or(|u| **uid == u))
            .map(|(t, _)| t.clone())
            .collect();
        for t in &gone {
            map.remove(t);
        }
        gone
    };
    {
        let mut st = lock(&sim.otds_oauth);
        for t in &removed {
            st.tokens.remove(t);
        }
    }
    Json(json!({"ok": true, "tokens_expired": removed.len()})).into_response()
}
