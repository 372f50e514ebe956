//! End-user sign-in through OTDS (OpenText Directory Services): OAuth 2.0 authorization code
//! with PKCE (RFC 6749 §4.1, RFC 7636 `S256`) for a public client.
//!
//! 1. [`Pkce::generate`] and a random `state`; keep both for the callback.
//! 2. Send the browser to [`authorize_url`] (`{OTDS}/otdsws/oauth2/auth`).
//! 3. On the callback, check `state`, then [`exchange_code`] (`{OTDS}/otdsws/oauth2/token`).
//! 4. Call Content Server as the user with [`OtdsToken::identity`] (`Authorization: Bearer`).
//!
//! `otds_base` is the OTDS server URL (`https://otds.example.com`); a trailing `/otdsws` is
//! accepted too. Tokens and verifiers are [`Secret`]s: never printed by `Debug`, never logged.

use std::time::Duration;

use futures_util::StreamExt;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, RETRY_AFTER};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::{Identity, Secret};
use crate::error::{Error, Result};

/// The only PKCE method sent (and the only one OTDS should be allowed to accept).
pub const CODE_CHALLENGE_METHOD: &str = "S256";

/// Prefix of the message of an error built from an OAuth error answer; see [`oauth_error`].
const OAUTH_ERROR_PREFIX: &str = "OTDS OAuth error ";
const TOKEN_CONTEXT: &str = "/otdsws/oauth2/token";

/// A PKCE pair: the `code_verifier` (kept secret until the token request) and its
/// `code_challenge` (sent in the authorization request).
#[derive(Clone, Debug)]
pub struct Pkce {
    /// 43 characters of base64url for generated pairs (RFC 7636 §4.1).
    pub verifier: Secret,
    /// `BASE64URL-NOPAD(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair from 32 random bytes (the thread-local CSPRNG).
    pub fn generate() -> Pkce {
        Self::from_random(rand::rng().random())
    }

    /// The pair for 32 caller-supplied random bytes: verifier = base64url of the bytes.
    pub fn from_random(bytes: [u8; 32]) -> Pkce {
        let verifier = b64url(&bytes);
        Pkce {
            challenge: s256_challenge(&verifier),
            verifier: Secret::new(verifier),
        }
    }

    /// The pair for an existing verifier (43–128 characters of `[A-Za-z0-9-._~]`).
    pub fn from_verifier(verifier: impl Into<Secret>) -> Result<Pkce> {
        let verifier = verifier.into();
        if !is_pkce_value(verifier.expose()) {
            return Err(Error::InvalidArgument(
                "a PKCE code_verifier is 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)"
                    .into(),
            ));
        }
        Ok(Pkce {
            challenge: s256_challenge(verifier.expose()),
            verifier,
        })
    }
}

/// `BASE64URL-NOPAD(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// `{OTDS}/otdsws/oauth2/auth`.
pub fn authorize_endpoint(otds_base: &str) -> String {
    format!("{}/oauth2/auth", otdsws(otds_base))
}

/// `{OTDS}/otdsws/oauth2/token`.
pub fn token_endpoint(otds_base: &str) -> String {
    format!("{}/oauth2/token", otdsws(otds_base))
}

fn otdsws(otds_base: &str) -> String {
    let b = otds_base.trim().trim_end_matches('/');
    if b.ends_with("/otdsws") {
        b.to_string()
    } else {
        format!("{b}/otdsws")
    }
}

/// The authorization request URL: `response_type=code`, `client_id`, `redirect_uri`, `state`,
/// `code_challenge`, `code_challenge_method=S256`, every value percent-encoded.
pub fn authorize_url(
    otds_base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", CODE_CHALLENGE_METHOD),
    ];
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", pct(v)))
        .collect();
    format!("{}?{}", authorize_endpoint(otds_base), query.join("&"))
}

/// An OTDS access token for one user.
#[derive(Clone, Debug)]
pub struct OtdsToken {
    pub access_token: Secret,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds from issue, when OTDS says (its default lifetime is 3600).
    pub expires_in: Option<u64>,
    /// Only when the OTDS client allows refresh tokens.
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
}

impl OtdsToken {
    /// The identity for [`crate::Client::as_identity`]: `Authorization: Bearer <token>`.
    pub fn identity(&self) -> Identity {
        Identity::Bearer(self.access_token.clone())
    }

    /// How long the token lives, when OTDS said.
    pub fn lifetime(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
}

/// Exchanges an authorization code (`grant_type=authorization_code`, RFC 6749 §4.1.3) for an
/// access token. Sent once, never retried: a code is single use, and a retry after a lost
/// answer could only get `invalid_grant`.
///
/// An OAuth error answer becomes [`Error::Api`] (400; [`Error::Unauthorized`] for 401) whose
/// message starts `OTDS OAuth error <code>`; [`oauth_error`] reads the code back. None of them
/// is retryable: on `invalid_grant` the user has to sign in again.
pub async fn exchange_code(
    http: &reqwest::Client,
    otds_base: &str,
    client_id: &str,
    redirect_uri: &str,
    code: &str,
    verifier: &Secret,
) -> Result<OtdsToken> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier.expose()),
    ];
    let resp = http
        .post(token_endpoint(otds_base))
        .header(ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(Error::from_reqwest)?;
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_capped(resp).await?;
    if !status.is_success() {
        return Err(token_error(status, &body, retry_after));
    }
    parse_token(&body)
}

/// The OAuth `error` code (`invalid_grant`, `invalid_client`, ...) of an error from
/// [`exchange_code`]; `None` for any other error.
pub fn oauth_error(e: &Error) -> Option<&str> {
    let rest = e.message()?.strip_prefix(OAUTH_ERROR_PREFIX)?;
    Some(rest.split(':').next().unwrap_or(rest))
}

async fn read_capped(resp: reqwest::Response) -> Result<Vec<u8>> {
    const CAP: usize = 64 * 1024;
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let c = chunk.map_err(Error::from_reqwest)?;
        body.extend_from_slice(&c[..c.len().min(CAP - body.len())]);
        if body.len() >= CAP {
            break;
        }
    }
    Ok(body)
}

/// Never echoes the body of a success answer into an error: it holds the token.
fn parse_token(body: &[u8]) -> Result<OtdsToken> {
    let bad = |m: &str| Error::unexpected(TOKEN_CONTEXT, m);
    let v: Value =
        serde_json::from_slice(body).map_err(|_| bad("the token response is not JSON"))?;
    let access_token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("no access_token in the token response"))?;
    // RFC 6749 §7.1: the type is case-insensitive; OTDS sends `Bearer`.
    let token_type = v
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer")
        .to_string();
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(bad(&format!(
            "token_type {token_type:?} is not Bearer; Content Server needs a bearer token"
        )));
    }
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(OtdsToken {
        access_token: Secret::new(access_token),
        token_type,
        expires_in,
        refresh_token: text("refresh_token").map(Secret::new),
        scope: text("scope"),
    })
}

/// RFC 6749 §5.2 `{"error","error_description"?}` to a crate error; other bodies (a proxy's
/// HTML, an OTDS REST error) as any OpenText error.
fn token_error(status: StatusCode, body: &[u8], retry_after: Option<Duration>) -> Error {
    let oauth = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let code = v.get("error")?.as_str()?.to_string();
        // §5.2: error codes are printable ASCII without `"` and `\`.
        let plain = !code.is_empty()
            && code
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        plain.then(|| {
            let desc = v
                .get("error_description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .map(|d| d.chars().take(300).collect::<String>());
            (code, desc)
        })
    });
    let Some((code, desc)) = oauth else {
        return Error::from_status(status, body, retry_after);
    };
    let message = match desc {
        Some(d) => format!("{OAUTH_ERROR_PREFIX}{code}: {d}"),
        None => format!("{OAUTH_ERROR_PREFIX}{code}"),
    };
    let status = status.as_u16();
    match status {
        401 => Error::Unauthorized { status, message },
        _ => Error::Api {
            status,
            message,
            retry_after,
        },
    }
}

fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(is_unreserved)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes everything but RFC 3986 unreserved characters (valid form encoding too).
fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Base64url without padding (RFC 4648 §5); the crate has no base64 dependency.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let n = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const RFC_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let p = Pkce::from_random(RFC_OCTETS);
        assert_eq!(p.verifier.expose(), RFC_VERIFIER);
        assert_eq!(p.challenge, RFC_CHALLENGE);
        assert_eq!(s256_challenge(RFC_VERIFIER), RFC_CHALLENGE);
        let q = Pkce::from_verifier(RFC_VERIFIER).unwrap();
        assert_eq!(q.challenge, RFC_CHALLENGE);
    }

    #[test]
    fn generated_pairs_are_fresh_and_well_formed() {
        let (a, b) = (Pkce::generate(), Pkce::generate());
        assert_ne!(a.verifier, b.verifier);
        for p in [&a, &b] {
            assert_eq!(p.verifier.expose().len(), 43);
            assert!(is_pkce_value(p.verifier.expose()));
            assert_eq!(p.challenge, s256_challenge(p.verifier.expose()));
            assert_eq!(p.challenge.len(), 43);
        }
    }

    #[test]
    fn from_verifier_checks_rfc7636_syntax() {
        assert!(Pkce::from_verifier("short").is_err());
        assert!(Pkce::from_verifier("a".repeat(129)).is_err());
        assert!(Pkce::from_verifier(format!("{}+", "a".repeat(42))).is_err());
        assert!(Pkce::from_verifier(format!("{}.~", "a".repeat(41))).is_ok());
        assert!(Pkce::from_verifier("a".repeat(128)).is_ok());
    }

    #[test]
    fn base64url_pads_nothing_and_covers_every_tail_length() {
        assert_eq!(b64url(b""), "");
        assert_eq!(b64url(b"f"), "Zg");
        assert_eq!(b64url(b"fo"), "Zm8");
        assert_eq!(b64url(b"foo"), "Zm9v");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn authorize_url_is_encoded() {
        let url = authorize_url(
            "https://otds.example.com/",
            "records bridge",
            "https://app.example.com/cb?x=1&y=2",
            "s t&a=te/é",
            RFC_CHALLENGE,
        );
        assert_eq!(
            url,
            "https://otds.example.com/otdsws/oauth2/auth?response_type=code\
             &client_id=records%20bridge\
             &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1%26y%3D2\
             &state=s%20t%26a%3Dte%2F%C3%A9\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
             &code_challenge_method=S256"
        );
        // With or without /otdsws and trailing slashes, the same endpoints.
        for base in [
            "https://otds.example.com",
            "https://otds.example.com/otdsws",
            "https://otds.example.com/otdsws/",
        ] {
            assert_eq!(
                token_endpoint(base),
                "https://otds.example.com/otdsws/oauth2/token"
            );
            assert_eq!(
                authorize_endpoint(base),
                "https://otds.example.com/otdsws/oauth2/auth"
            );
        }
    }

    #[test]
    fn debug_never_shows_verifier_or_tokens() {
        let p = Pkce::from_random(RFC_OCTETS);
        let t = parse_token(
            br#"{"access_token":"tok-123","token_type":"Bearer","expires_in":3600,"refresh_token":"ref-456"}"#,
        )
        .unwrap();
        let s = format!("{p:?} {t:?} {:?}", t.identity());
        for secret in [RFC_VERIFIER, "tok-123", "ref-456"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(s.contains(RFC_CHALLENGE), "the challenge is public: {s}");
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(t.access_token.expose(), "tok-123");
    }

    #[test]
    fn token_answers_are_checked_without_echoing_them() {
        let e = parse_token(br#"{"token_type":"Bearer"}"#).unwrap_err();
        assert!(matches!(e, Error::UnexpectedResponse { .. }));
        let e = parse_token(br#"{"access_token":"tok-9","token_type":"mac"}"#).unwrap_err();
        assert!(!e.to_string().contains("tok-9"), "{e}");
        let t = parse_token(br#"{"access_token":"x","token_type":"bearer","expires_in":"60"}"#)
            .unwrap();
        assert_eq!(t.lifetime(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn oauth_errors_map_to_clear_non_retryable_errors() {
        let e = token_error(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"authorization code was already used"}"#,
            None,
        );
        assert_eq!(oauth_error(&e), Some("invalid_grant"));
        assert!(!e.is_retryable());
        assert_eq!(e.status(), Some(400));
        assert!(e.to_string().contains("already used"), "{e}");
        let e = token_error(
            StatusCode::UNAUTHORIZED,
            br#"{"error":"invalid_client"}"#,
            None,
        );
        assert!(matches!(e, Error::Unauthorized { status: 401, .. }));
        assert_eq!(oauth_error(&e), Some("invalid_client"));
        // Not an OAuth body: the crate's usual classification (a 503 is transient).
        let e = token_error(StatusCode::SERVICE_UNAVAILABLE, b"<html>busy</html>", None);
        assert_eq!(oauth_error(&e), None);
        assert!(e.is_retryable());
        let e = Error::InvalidArgument("x".into());
        assert_eq!(oauth_error(&e), None);
    }

    /// The whole flow against the simulator's OTDS: sign in, exchange, call Content Server.
    #[tokio::test]
    async fn code_exchange_against_the_simulator() {
        let sim = opentext_sim::SimServer::start(opentext_sim::SimConfig::default())
            .await
            .unwrap();
        let otds = format!("http://{}", sim.addr());
        let redirect = "http://127.0.0.1:9/callback";
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http
            .post(format!("{}/otds-oauth-clients", sim.admin_url()))
            .json(&serde_json::json!({"client_id": "records-bridge", "redirect_uris": [redirect]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);

        let sign_in = |pkce: &Pkce, state: &str| {
            let url = authorize_url(&otds, "records-bridge", redirect, state, &pkce.challenge);
            let (http, otds, challenge, state) = (
                http.clone(),
                otds.clone(),
                pkce.challenge.clone(),
                state.to_string(),
            );
            async move {
                let page = http.get(&url).send().await.unwrap();
                assert_eq!(page.status(), StatusCode::OK);
                assert!(page.text().await.unwrap().contains("otds_password"));
                let r = http
                    .post(format!("{otds}/otdsws/login"))
                    .form(&[
                        ("response_type", "code"),
                        ("client_id", "records-bridge"),
                        ("redirect_uri", redirect),
                        ("state", state.as_str()),
                        ("code_challenge", challenge.as_str()),
                        ("code_challenge_method", "S256"),
                        ("otds_username", "jdoe"),
                        ("otds_password", "jdoe-pass"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::SEE_OTHER);
                let loc = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
                let q: std::collections::HashMap<String, String> =
                    loc.query_pairs().into_owned().collect();
                assert_eq!(q["state"], state);
                q["code"].clone()
            }
        };

        let pkce = Pkce::generate();
        let code = sign_in(&pkce, "st-1 &x").await;
        let token = exchange_code(
            &http,
            &otds,
            "records-bridge",
            redirect,
            &code,
            &pkce.verifier,
        )
        .await
        .unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(token.expires_in, Some(3600));
        let cs = crate::Client::builder(sim.base_url()).build().unwrap();
        let me = cs.as_identity(token.identity()).whoami().await.unwrap();
        assert_eq!(me.name, "jdoe");

        // The code is single use.
        let e = exchange_code(
            &http,
            &otds,
            "records-bridge",
            redirect,
            &code,
            &pkce.verifier,
        )
        .await
        .unwrap_err();
        assert_eq!(oauth_error(&e), Some("invalid_grant"), "{e}");
        assert!(!e.is_retryable());

        // Another sign-in, redeemed with someone else's verifier.
        let code = sign_in(&pkce, "st-2").await;
        let other = Pkce::generate();
        let e = exchange_code(
            &http,
            &otds,
            "records-bridge",
            redirect,
            &code,
            &other.verifier,
        )
        .await
        .unwrap_err();
        assert_eq!(oauth_error(&e), Some("invalid_grant"), "{e}");
        assert!(e.to_string().contains("code_verifier"), "{e}");
        sim.shutdown().await;
    }
}
