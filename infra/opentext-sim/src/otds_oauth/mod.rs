//! A minimal OTDS OAuth 2.0 authorization server: the authorization code grant with PKCE
//! (RFC 6749 §4.1, RFC 7636, `S256` only) for public clients, as the records-bridge browser flow
//! (pattern P5) uses it.
//!
//! Paths as OTDS serves them (OpenText "OTDS API Endpoints": auth endpoint
//! `{OTDS URL}/otdsws/oauth2/auth`, token endpoint `{OTDS URL}/otdsws/oauth2/token`; the sign-in
//! page is `/otdsws/login`, whose form fields are `otds_username` / `otds_password` with a
//! `loginbutton` submit):
//!
//! * `GET /otdsws/oauth2/auth` — validates the request and answers the sign-in page itself.
//!   Real OTDS first redirects to `/otdsws/login?RFA=…`; the sim skips that hop.
//! * `POST /otdsws/login` — the sign-in form; on success 303 to `redirect_uri?code=…&state=…`.
//! * `POST /otdsws/oauth2/token` — `grant_type=authorization_code`, answers
//!   `{"access_token","token_type":"Bearer","expires_in"}` (no refresh or ID token).
//!
//! Access tokens are ordinary sim OTDS tokens ([`crate::auth::mint_otds_token`]), so Content
//! Server accepts them as `Authorization: Bearer` / `OTDSTicket`; these ones also expire (the
//! client's lifetime, OTDS's default 3600 s) and are then dropped from `Sim::otds_tokens`.
//!
//! Admin (`/sim/admin`): `GET|POST /otds-oauth-clients`, `POST /otds-tokens/expire`.
//! Where OTDS behaviour is not documented the code follows the RFCs and says so.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::state::{Sim, lock};

mod admin;
pub mod authorize;
pub mod token;
mod wire;

pub use admin::router as admin_router;
pub use wire::s256_challenge;
pub(crate) use wire::{Params, digest_eq, is_pkce_value};
use wire::{digest, random_b64url};

pub const AUTH_PATH: &str = "/otdsws/oauth2/auth";
pub const LOGIN_PATH: &str = "/otdsws/login";
pub const TOKEN_PATH: &str = "/otdsws/oauth2/token";

/// OTDS's default OAuth client `accessTokenLifeTime`.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;
/// Authorization codes live 60 s unless a client says otherwise (a sim-only knob for tests).
pub const DEFAULT_CODE_LIFETIME_SECS: u64 = 60;
const MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;
/// How long a redeemed code is remembered, so a replay can revoke what it was exchanged for.
const USED_CODE_MEMORY: Duration = Duration::from_secs(600);
/// Form bodies (sign-in and token requests) are small; never buffer more than this.
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

/// A registered public client (no secret; PKCE `S256` required). JSON shape of the admin route.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    /// Compared exactly (RFC 6749 §3.1.2.3 simple string comparison).
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub token_lifetime_seconds: Option<u64>,
    /// Sim-only: authorization code lifetime (default 60 s), so tests need not wait a minute.
    #[serde(default)]
    pub code_lifetime_seconds: Option<u64>,
}

impl OAuthClient {
    fn token_lifetime(&self) -> Duration {
        Duration::from_secs(
            self.token_lifetime_seconds
                .unwrap_or(DEFAULT_TOKEN_LIFETIME_SECS),
        )
    }
    fn code_lifetime(&self) -> Duration {
        Duration::from_secs(
            self.code_lifetime_seconds
                .unwrap_or(DEFAULT_CODE_LIFETIME_SECS),
        )
    }
}

/// An issued, not yet redeemed authorization code (keyed by the SHA-256 of the code).
struct Grant {
    client_id: String,
    redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri` (RFC 6749 §4.1.3).
    redirect_uri_given: bool,
    challenge: String,
    user_id: i64,
    scope: Option<String>,
    expires: Instant,
}

struct UsedCode {
    tokens: Vec<String>,
    forget_at: Instant,
}

/// OAuth state of one simulator (lives in `Sim::otds_oauth`).
#[derive(Default)]
pub struct OAuthState {
    clients: HashMap<String, OAuthClient>,
    codes: HashMap<[u8; 32], Grant>,
    used: HashMap<[u8; 32], UsedCode>,
    /// Tokens issued here, with their expiry.
    tokens: HashMap<String, (i64, Instant)>,
}

impl OAuthState {
    /// Drops expired codes and forgotten used codes; returns the expired tokens (removed here,
    /// still to be removed from `Sim::otds_tokens` by the caller, outside this lock).
    fn sweep(&mut self, now: Instant) -> Vec<String> {
        self.codes.retain(|_, g| g.expires > now);
        self.used.retain(|_, u| u.forget_at > now);
        let expired: Vec<String> = self
            .tokens
            .iter()
            .filter(|(_, (_, exp))| *exp <= now)
            .map(|(t, _)| t.clone())
            .collect();
        for t in &expired {
            self.tokens.remove(t);
        }
        expired
    }
}

/// Registers (or replaces) a client; the in-process equivalent of the admin route.
pub fn register_client(sim: &Sim, client: OAuthClient) -> Result<OAuthClient, String> {
    validate_client(&client)?;
    lock(&sim.otds_oauth)
        .clients
        .insert(client.client_id.clone(), client.clone());
    Ok(client)
}

fn validate_client(c: &OAuthClient) -> Result<(), String> {
    if c.client_id.is_empty()
        || c.client_id.len() > 256
        || c.client_id.chars().any(char::is_control)
    {
        return Err("client_id must be 1..=256 characters without control characters".into());
    }
    if c.redirect_uris.is_empty() {
        return Err("redirect_uris must list at least one URI".into());
    }
    for uri in &c.redirect_uris {
        valid_redirect_uri(uri)?;
    }
    for (name, v) in [
        ("token_lifetime_seconds", c.token_lifetime_seconds),
        ("code_lifetime_seconds", c.code_lifetime_seconds),
    ] {
        if let Some(s) = v
            && !(1..=MAX_LIFETIME_SECS).contains(&s)
        {
            return Err(format!("{name} must be within 1..={MAX_LIFETIME_SECS}"));
        }
    }
    Ok(())
}

/// Absolute URI (RFC 3986 scheme), no fragment (RFC 6749 §3.1.2), visible ASCII only so it can
/// go into a `Location` header as registered.
fn valid_redirect_uri(uri: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("redirect URI {uri:?}: {why}"));
    if uri.is_empty() || uri.len() > 2048 {
        return bad("must be 1..=2048 characters");
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("must be visible ASCII (percent-encode anything else)");
    }
    if uri.contains('#') {
        return bad("must not contain a fragment (RFC 6749 §3.1.2)");
    }
    let scheme_ok = uri.split_once(':').is_some_and(|(s, rest)| {
        !rest.is_empty()
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok {
        return bad("must be an absolute URI with a scheme");
    }
    Ok(())
}

pub(crate) fn client(sim: &Sim, client_id: &str) -> Option<OAuthClient> {
    lock(&sim.otds_oauth).clients.get(client_id).cloned()
}

/// Stores a new authorization code for a signed-in user; returns the code.
pub(crate) fn issue_code(
    sim: &Sim,
    client: &OAuthClient,
    req: &authorize::AuthRequest,
    user_id: i64,
) -> String {
    let code = random_b64url();
    let now = Instant::now();
    let grant = Grant {
        client_id: client.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        redirect_uri_given: req.redirect_uri_given,
        challenge: req.challenge.clone(),
        user_id,
        scope: req.scope.clone(),
        expires: now + client.code_lifetime(),
    };
    let expired = {
        let mut st = lock(&sim.otds_oauth);
        let expired = st.sweep(now);
        st.codes.insert(digest(code.as_bytes()), grant);
        expired
    };
    drop_tokens(sim, &expired);
    code
}

/// Mints an OTDS token for `user_id` that stops working after `lifetime`.
fn issue_token(sim: &Arc<Sim>, user_id: i64, lifetime: Duration) -> String {
    let token = crate::auth::mint_otds_token(sim, user_id);
    lock(&sim.otds_oauth)
        .tokens
        .insert(token.clone(), (user_id, Instant::now() + lifetime));
    // `authenticate` (auth.rs) only consults `otds_tokens`; removing the token there at its
    // expiry is what makes Content Server answer 401. Sweeps on every code/token request back
    // this timer up. The task holds no strong reference, so it never keeps a stopped sim alive.
    let weak: Weak<Sim> = Arc::downgrade(sim);
    let t = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(lifetime).await;
        if let Some(sim) = weak.upgrade() {
            lock(&sim.otds_oauth).tokens.remove(&t);
            drop_tokens(&sim, std::slice::from_ref(&t));
        }
    });
    token
}

fn drop_tokens(sim: &Sim, tokens: &[String]) {
    if tokens.is_empty() {
        return;
    }
    let mut map = lock(&sim.otds_tokens);
    for t in tokens {
        map.remove(t);
    }
}

/// Why redeeming a code failed: the `invalid_grant` description.
pub(crate) enum Redeem {
    Ok {
        token: String,
        lifetime: Duration,
        scope: Option<String>,
    },
    InvalidGrant(&'static str),
}

/// Redeems `code` (single use: any attempt consumes it). A code presented again after it was
/// redeemed revokes the tokens issued for it (RFC 6749 §4.1.2).
pub(crate) fn redeem(
    sim: &Arc<Sim>,
    client: &OAuthClient,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
) -> Redeem {
    let key = digest(code.as_bytes());
    let now = Instant::now();
    let (grant, replayed, expired) = {
        let mut st = lock(&sim.otds_oauth);
        let grant = st.codes.remove(&key);
        let replayed = if grant.is_none() {
            st.used.remove(&key).map(|u| u.tokens)
        } else {
            None
        };
        let expired = st.sweep(now);
        (grant, replayed, expired)
    };
    drop_tokens(sim, &expired);
    let Some(grant) = grant else {
        return match replayed {
            Some(tokens) => {
                revoke(sim, &tokens);
                Redeem::InvalidGrant(
                    "authorization code was already used; the tokens issued for it are revoked",
                )
            }
            None => Redeem::InvalidGrant("authorization code is invalid or expired"),
        };
    };
    let burn = |tokens: Vec<String>| {
        lock(&sim.otds_oauth).used.insert(
            key,
            UsedCode {
                tokens,
                forget_at: now + USED_CODE_MEMORY,
            },
        );
    };
    let failure = if grant.expires <= now {
        Some("authorization code has expired")
    } else if grant.client_id != client.client_id {
        Some("authorization code was issued to another client")
    } else if !redirect_matches(&grant, redirect_uri) {
        Some("redirect_uri does not match the authorization request")
    } else if !digest_eq(
        s256_challenge(verifier).as_bytes(),
        grant.challenge.as_bytes(),
    ) {
        Some("code_verifier does not match the code_challenge")
    } else if !sim.read().users.contains_key(&grant.user_id) {
        Some("the signed-in user no longer exists")
    } else {
        None
    };
    if let Some(why) = failure {
        burn(Vec::new());
        return Redeem::InvalidGrant(why);
    }
    let lifetime = client.token_lifetime();
    let token = issue_token(sim, grant.user_id, lifetime);
    burn(vec![token.clone()]);
    Redeem::Ok {
        token,
        lifetime,
        scope: grant.scope,
    }
}

/// RFC 6749 §4.1.3: identical to the authorization request's `redirect_uri` when that had one;
/// otherwise, if given, it must still be the (single) registered URI the code was bound to.
fn redirect_matches(grant: &Grant, given: Option<&str>) -> bool {
    match given {
        Some(r) => r == grant.redirect_uri,
        None => !grant.redirect_uri_given,
    }
}

fn revoke(sim: &Sim, tokens: &[String]) {
    {
        let mut st = lock(&sim.otds_oauth);
        for t in tokens {
            st.tokens.remove(t);
        }
    }
    drop_tokens(sim, tokens);
}
