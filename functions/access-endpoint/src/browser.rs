//! The browser flow: sign in through OTDS (authorization code + PKCE), a sealed session
//! cookie, a folder's records as the user may see them, downloads through the checked
//! route, sign out.

use std::time::Duration;

use opentext_client::ListOptions;
use opentext_client::model::Node;
use opentext_client::otds::{Pkce, authorize_url, exchange_code};
use opentext_client::{Identity, Secret};
use records_domain::access::AccessRefusal;
use records_workflows::access::{AccessDeps, Credential};

use crate::html;
use crate::request::{Request, Response};
use crate::session::{
    CookieKey, LOGIN_COOKIE, Login, SESSION_COOKIE, Session, clear_cookie, cookie, now_secs,
    set_cookie,
};

/// What the browser flow needs (absent when the stack configures no OTDS client).
pub struct BrowserConfig {
    pub otds_base: String,
    pub client_id: String,
    /// The folder whose records the page lists.
    pub folder_id: i64,
    pub session_lifetime: Duration,
    pub key: CookieKey,
    pub http: reqwest::Client,
}

/// A sign-in has this long to come back from OTDS.
const LOGIN_LIFETIME: Duration = Duration::from_secs(300);

fn html_response(status: u16, body: String) -> Response {
    Response {
        status,
        headers: vec![
            ("content-type".into(), "text/html; charset=utf-8".into()),
            (
                "content-security-policy".into(),
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'".into(),
            ),
        ],
        body,
    }
}

/// This endpoint's own origin as the browser sees it (Function URLs are https).
fn origin(req: &Request) -> String {
    let proto = req.header("x-forwarded-proto").unwrap_or("https");
    let host = req.header("host").unwrap_or("localhost");
    format!("{proto}://{host}")
}

/// The signed-in session, if the cookie is ours and still valid.
pub fn session_of(cfg: &BrowserConfig, req: &Request) -> Option<Session> {
    let sealed = cookie(req.header("cookie"), SESSION_COOKIE)?;
    let s: Session = cfg.key.open(SESSION_COOKIE, sealed)?;
    (s.expires_at > now_secs()).then_some(s)
}

pub fn credential_of(cfg: &BrowserConfig, req: &Request) -> Option<Credential> {
    session_of(cfg, req).map(|s| Credential::Bearer(Secret::new(s.token)))
}

/// Does this request want a page rather than JSON?
pub fn wants_html(req: &Request) -> bool {
    req.header("accept")
        .is_some_and(|a| a.contains("text/html"))
}

pub fn refusal_page(r: &AccessRefusal, user: Option<&str>) -> Response {
    html_response(r.status(), html::refusal(r, user))
}

/// `GET /`: the records, or the sign-in page.
pub fn home(cfg: &BrowserConfig, req: &Request) -> Response {
    if session_of(cfg, req).is_some() {
        return Response::redirect(&format!("/folders/{}", cfg.folder_id));
    }
    let had_one = cookie(req.header("cookie"), SESSION_COOKIE).is_some_and(|c| !c.is_empty());
    html_response(
        200,
        html::sign_in(had_one.then_some("Your session has ended; sign in again.")),
    )
}

/// `GET /login`: to OTDS with a fresh state and PKCE challenge, both kept sealed.
pub fn login(cfg: &BrowserConfig, req: &Request) -> Response {
    let pkce = Pkce::from_random(random_32(&cfg.key));
    let state = cfg.key.random(24);
    let sealed = cfg.key.seal(
        LOGIN_COOKIE,
        &Login {
            state: state.clone(),
            verifier: pkce.verifier.expose().to_string(),
            expires_at: now_secs() + LOGIN_LIFETIME.as_secs(),
        },
    );
    let redirect_uri = format!("{}/callback", origin(req));
    let mut r = Response::redirect(&authorize_url(
        &cfg.otds_base,
        &cfg.client_id,
        &redirect_uri,
        &state,
        &pkce.challenge,
    ));
    r.status = 302;
    r.headers.push((
        "set-cookie".into(),
        set_cookie(LOGIN_COOKIE, &sealed, "Lax", LOGIN_LIFETIME),
    ));
    r
}

fn random_32(key: &CookieKey) -> [u8; 32] {
    use base64::Engine;
    let text = key.random(32);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap_or_default();
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes[..32]);
    out
}

/// `GET /callback?code&state`: the state checked against the sealed login, the code
/// exchanged with the verifier, the session sealed into a strict cookie.
pub async fn callback(cfg: &BrowserConfig, deps: &AccessDeps, req: &Request) -> Response {
    let refused = |why: &str| {
        html_response(
            400,
            html::sign_in(Some(&format!("Sign-in did not complete: {why}"))),
        )
    };
    if let Some(e) = req.query.get("error") {
        return refused(&format!("OTDS answered {e}"));
    }
    let Some(login) = cookie(req.header("cookie"), LOGIN_COOKIE)
        .and_then(|c| cfg.key.open::<Login>(LOGIN_COOKIE, c))
        .filter(|l| l.expires_at > now_secs())
    else {
        return refused("the sign-in expired or began elsewhere");
    };
    let (Some(code), Some(state)) = (req.query.get("code"), req.query.get("state")) else {
        return refused("OTDS sent no code");
    };
    if !constant_time_eq(state.as_bytes(), login.state.as_bytes()) {
        return refused("the state does not match");
    }
    let redirect_uri = format!("{}/callback", origin(req));
    let token = match exchange_code(
        &cfg.http,
        &cfg.otds_base,
        &cfg.client_id,
        &redirect_uri,
        code,
        &Secret::new(login.verifier),
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "OTDS refused the code");
            return refused("OTDS did not accept the sign-in");
        }
    };
    let user = match deps
        .opentext
        .as_identity(Identity::Bearer(token.access_token.clone()))
        .whoami()
        .await
    {
        Ok(u) => u.name,
        Err(e) => {
            tracing::warn!(error = %e, "OpenText did not accept the OTDS token");
            return refused("OpenText did not accept the sign-in");
        }
    };
    let lifetime = token
        .lifetime()
        .map_or(cfg.session_lifetime, |t| t.min(cfg.session_lifetime));
    let session = Session {
        token: token.access_token.expose().to_string(),
        user,
        expires_at: now_secs() + lifetime.as_secs(),
    };
    let mut r = html_response(
        200,
        html::continue_to(&format!("/folders/{}", cfg.folder_id)),
    );
    r.headers.push((
        "set-cookie".into(),
        set_cookie(
            SESSION_COOKIE,
            &cfg.key.seal(SESSION_COOKIE, &session),
            "Strict",
            lifetime,
        ),
    ));
    r.headers
        .push(("set-cookie".into(), clear_cookie(LOGIN_COOKIE, "Lax")));
    r
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /folders/{id}`: the folder's items the user may see, as OpenText lists them for
/// them, with what records-bridge knows of each (S3 link, SHA-256, holds).
pub async fn folder(cfg: &BrowserConfig, deps: &AccessDeps, req: &Request, id: i64) -> Response {
    let Some(session) = session_of(cfg, req) else {
        return home(cfg, req);
    };
    let as_user = deps
        .opentext
        .as_identity(Identity::Bearer(Secret::new(session.token.clone())));
    let folder = match as_user.get_node(id).await {
        Ok(n) => n,
        Err(opentext_client::Error::Unauthorized { .. }) => {
            return html_response(
                401,
                html::sign_in(Some("Your session has ended; sign in again.")),
            );
        }
        Err(_) => {
            return refusal_page(
                &AccessRefusal::UnknownRecord { node_id: id as u64 },
                Some(&session.user),
            );
        }
    };
    let opts = ListOptions {
        page: 1,
        limit: 100,
        where_name: None,
        where_type: Some(-3),
        sort: Some("asc_name".into()),
    };
    let children: Vec<Node> = match as_user.list_children(id, &opts).await {
        Ok(p) => p.items,
        Err(opentext_client::Error::Unauthorized { .. }) => {
            return html_response(
                401,
                html::sign_in(Some("Your session has ended; sign in again.")),
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "listing the folder");
            Vec::new()
        }
    };
    let mut rows = Vec::new();
    for n in children {
        let links = deps
            .links
            .get(n.id as u64)
            .await
            .map(|l| l.versions)
            .unwrap_or_default();
        let record_date = as_user
            .rm_classifications(n.id)
            .await
            .ok()
            .and_then(|rm| rm.primary().and_then(|d| d.record_date.clone()))
            // The day is what a reader needs; OpenText's time of day is usually midnight.
            .map(|d| d.to_string().chars().take(10).collect());
        let holds = deps
            .opentext
            .active_hold_ids(n.id)
            .await
            .unwrap_or_default();
        rows.push(html::Row {
            node_id: n.id,
            size: n.size.map(|s| s.max(0) as u64),
            record_date,
            // One version: its SHA-256; several: which one a download opens is the newest.
            sha256: match links.len() {
                1 => links.first().map(|l| l.sha256.clone()),
                0 => None,
                n => Some(format!("{n} versions")),
            },
            holds,
            in_s3: !links.is_empty(),
            name: n.name,
        });
    }
    html_response(200, html::folder(&folder.name, &session.user, &rows))
}

/// `POST /logout`: the cookie cleared (OTDS's own session is the user's to end).
pub fn logout() -> Response {
    let mut r = html_response(200, html::signed_out());
    r.headers
        .push(("set-cookie".into(), clear_cookie(SESSION_COOKIE, "Strict")));
    r
}
