//! `POST /otdsws/oauth2/token`: the authorization code grant for public clients
//! (RFC 6749 §4.1.3–§4.1.4, §5; RFC 7636 §4.5–§4.6).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{MAX_FORM_BYTES, Params, Redeem, is_pkce_value};
use crate::state::AppState;

pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// RFC 6749 §5.2 error body, 400 unless said otherwise.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn bad(error: &str, description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

pub async fn token(State(sim): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    // Only public clients are registered here. RFC 6749 §5.2: a client that tried to
    // authenticate with the Authorization header gets 401 and a challenge.
    if headers.contains_key(header::AUTHORIZATION) {
        let mut r = oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is not supported: clients here are public (send client_id in the body, and PKCE)",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"OTDS\""),
        );
        return r;
    }
    if !is_form(&headers) {
        return bad(
            "invalid_request",
            "the token request must be application/x-www-form-urlencoded",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return bad("invalid_request", "the token request body is too large");
    };
    let p = match Params::parse(&bytes) {
        Ok(p) => p,
        Err(e) => return bad("invalid_request", &e),
    };
    if let Some(d) = p.first_duplicate() {
        return bad("invalid_request", &d.0);
    }
    let get = |name| p.one(name).ok().flatten();
    match get("grant_type") {
        None => return bad("invalid_request", "grant_type is required"),
        Some("authorization_code") => {}
        Some(_) => {
            return bad(
                "unsupported_grant_type",
                "only grant_type=authorization_code is supported",
            );
        }
    }
    let Some(client_id) = get("client_id") else {
        return bad(
            "invalid_request",
            "client_id is required for public clients (RFC 6749 §4.1.3)",
        );
    };
    if get("client_secret").is_some() {
        return bad(
            "invalid_client",
            "this client is public and has no client_secret",
        );
    }
    let Some(client) = super::client(&sim, client_id) else {
        return bad("invalid_client", "unknown client_id");
    };
    let Some(code) = get("code") else {
        return bad("invalid_request", "code is required");
    };
    let Some(verifier) = get("code_verifier") else {
        return bad(
            "invalid_request",
            "code_verifier is required (PKCE, RFC 7636 §4.5)",
        );
    };
    if !is_pkce_value(verifier) {
        return bad(
            "invalid_request",
            "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)",
        );
    }
    match super::redeem(&sim, &client, code, get("redirect_uri"), verifier) {
        Redeem::InvalidGrant(why) => bad("invalid_grant", why),
        Redeem::Ok {
            token,
            lifetime,
            scope,
        } => {
            let mut body = json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": lifetime.as_secs(),
            });
            if let Some(s) = scope {
                body["scope"] = json!(s);
            }
            (
                StatusCode::OK,
                [
                    (header::CACHE_CONTROL, "no-store"),
                    (header::PRAGMA, "no-cache"),
                ],
                Json(body),
            )
                .into_response()
        }
    }
}
