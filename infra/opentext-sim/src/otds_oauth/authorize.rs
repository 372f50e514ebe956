//! `GET /otdsws/oauth2/auth` (the authorization endpoint) and `POST /otdsws/login` (its sign-in
//! form). Server-rendered HTML, no JavaScript.

use std::fmt::Write as _;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{LOGIN_PATH, MAX_FORM_BYTES, OAuthClient, Params, digest_eq, is_pkce_value};
use crate::state::{AppState, Sim};

/// A validated authorization request, as carried by the sign-in form's hidden fields.
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// `false` when the request left `redirect_uri` out and the client's only one was used.
    pub redirect_uri_given: bool,
    pub state: Option<String>,
    pub challenge: String,
    pub scope: Option<String>,
}

enum Invalid {
    /// The client or redirect URI cannot be trusted: an error page, never a redirect
    /// (RFC 6749 §4.1.2.1).
    Page(String),
    /// Everything else, once the redirect URI is known good: back to the client with `error`.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

/// RFC 6749 §4.1.1 / RFC 7636 §4.3, in the order §4.1.2.1 needs: client and redirect URI first.
fn validate(sim: &Sim, p: &Params) -> Result<(OAuthClient, AuthRequest), Invalid> {
    let page = |m: &str| Invalid::Page(m.to_string());
    let client_id = p
        .one("client_id")
        .map_err(|d| Invalid::Page(d.0))?
        .ok_or_else(|| page("The request has no client_id."))?;
    let client = super::client(sim, client_id)
        .ok_or_else(|| page("The client_id is not a registered OAuth client."))?;
    let (redirect_uri, redirect_uri_given) =
        match p.one("redirect_uri").map_err(|d| Invalid::Page(d.0))? {
            Some(r) if client.redirect_uris.iter().any(|u| u == r) => (r.to_string(), true),
            Some(_) => return Err(page("The redirect_uri is not registered for this client.")),
            // RFC 6749 §3.1.2.3: optional when exactly one URI is registered.
            None if client.redirect_uris.len() == 1 => (client.redirect_uris[0].clone(), false),
            None => {
                return Err(page(
                    "The request has no redirect_uri and the client registers more than one.",
                ));
            }
        };
    let state_param = p.one("state");
    let state = state_param
        .as_ref()
        .ok()
        .copied()
        .flatten()
        .map(str::to_string);
    let fail = |error: &'static str, description: String| Invalid::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
        state: state.clone(),
    };
    if let Some(d) = p.first_duplicate() {
        return Err(fail("invalid_request", d.0));
    }
    match p.one("response_type").ok().flatten() {
        Some("code") => {}
        None => return Err(fail("invalid_request", "response_type is required".into())),
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported".into(),
            ));
        }
    }
    let Some(challenge) = p.one("code_challenge").ok().flatten() else {
        return Err(fail(
            "invalid_request",
            "code_challenge is required (PKCE, RFC 7636)".into(),
        ));
    };
    // RFC 7636 §4.3: a missing method means `plain`, which this server refuses (§4.4.1).
    if p.one("code_challenge_method").ok().flatten() != Some("S256") {
        return Err(fail(
            "invalid_request",
            "code_challenge_method must be S256 (transform algorithm not supported)".into(),
        ));
    }
    if !is_pkce_value(challenge) {
        return Err(fail(
            "invalid_request",
            "code_challenge must be 43-128 characters of [A-Za-z0-9-._~]".into(),
        ));
    }
    let req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_given,
        state: state.clone(),
        challenge: challenge.to_string(),
        scope: p.one("scope").ok().flatten().map(str::to_string),
    };
    Ok((client, req))
}

/// `GET /otdsws/oauth2/auth?response_type=code&client_id&redirect_uri&state&code_challenge&code_challenge_method=S256[&scope]`
pub async fn authorize(State(sim): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let params = match Params::parse(q.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    match validate(&sim, &params) {
        Ok((_, req)) => sign_in_page(&req, "", None),
        Err(e) => invalid(e),
    }
}

/// `POST /otdsws/login`: the hidden authorization fields plus `otds_username`, `otds_password`.
pub async fn login(State(sim): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if !super::token::is_form(&headers) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The sign-in form must be sent as application/x-www-form-urlencoded.",
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The sign-in form is too large.",
        );
    };
    let params = match Params::parse(&bytes) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    // The hidden fields came back from the browser: check them all again.
    let (client, req) = match validate(&sim, &params) {
        Ok(v) => v,
        Err(e) => return invalid(e),
    };
    let field = |name| params.one(name).ok().flatten().unwrap_or("");
    let (name, pass) = (field("otds_username"), field("otds_password"));
    if name.is_empty() || pass.is_empty() {
        return sign_in_page(&req, name, Some("Enter your user name and password."));
    }
    let user = {
        let store = sim.read();
        // Content Server (and so the sim's users) compare login names case-insensitively.
        store
            .user_by_name(name)
            .filter(|u| digest_eq(u.password.as_bytes(), pass.as_bytes()))
            .map(|u| u.id)
    };
    let Some(user_id) = user else {
        // The page again, no redirect: a failed sign-in never reaches the client.
        return sign_in_page(&req, name, Some("Invalid username or password."));
    };
    let code = super::issue_code(&sim, &client, &req, user_id);
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        pairs.push(("state", s));
    }
    // 303: the browser follows a POST's redirect with GET (RFC 9110 §15.4.4).
    redirect(StatusCode::SEE_OTHER, &req.redirect_uri, &pairs)
}

fn invalid(e: Invalid) -> Response {
    match e {
        Invalid::Page(m) => error_page(StatusCode::BAD_REQUEST, &m),
        Invalid::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => {
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &state {
                pairs.push(("state", s));
            }
            redirect(StatusCode::FOUND, &redirect_uri, &pairs)
        }
    }
}

/// `base` plus form-encoded parameters (RFC 6749 Appendix B), keeping any query `base` has
/// (§3.1.2).
fn redirect(status: StatusCode, base: &str, pairs: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let Ok(location) = HeaderValue::from_str(&format!("{base}{sep}{query}")) else {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "Bad redirect URI.");
    };
    (
        status,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
    <title>OpenText Directory Services</title></head>\n<body>\n";

fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        format!(
            "{HEAD}<h1>Sign-in request refused</h1>\n<p id=\"error\" role=\"alert\">{}</p>\n</body>\n</html>\n",
            esc(message)
        ),
    )
}

fn sign_in_page(req: &AuthRequest, username: &str, error: Option<&str>) -> Response {
    let mut hidden = vec![
        ("response_type", "code"),
        ("client_id", req.client_id.as_str()),
        ("code_challenge", req.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if req.redirect_uri_given {
        hidden.push(("redirect_uri", &req.redirect_uri));
    }
    if let Some(s) = &req.state {
        hidden.push(("state", s));
    }
    if let Some(s) = &req.scope {
        hidden.push(("scope", s));
    }
    let mut page = format!("{HEAD}<h1>Sign in</h1>\n");
    if let Some(e) = error {
        let _ = writeln!(page, "<p id=\"error\" role=\"alert\">{}</p>", esc(e));
    }
    let _ = writeln!(page, "<form method=\"post\" action=\"{LOGIN_PATH}\">");
    for (k, v) in hidden {
        let _ = writeln!(
            page,
            "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
            esc(v)
        );
    }
    let _ = write!(
        page,
        "<p><label for=\"otds_username\">User name</label>\n\
         <input type=\"text\" id=\"otds_username\" name=\"otds_username\" autocomplete=\"username\" value=\"{}\"></p>\n\
         <p><label for=\"otds_password\">Password</label>\n\
         <input type=\"password\" id=\"otds_password\" name=\"otds_password\" autocomplete=\"current-password\"></p>\n\
         <p><button type=\"submit\" id=\"loginbutton\">Sign in</button></p>\n\
         </form>\n</body>\n</html>\n",
        esc(username)
    );
    // 200 also after a failed sign-in: a 401 must carry a WWW-Authenticate challenge
    // (RFC 9110 §15.5.2), and this is a form, not HTTP authentication.
    html(StatusCode::OK, page)
}

/// HTML text and attribute escaping.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
