//! OTDS OAuth 2.0 authorization code + PKCE against the in-process simulator, over HTTP as a
//! browser and the records-bridge access endpoint would drive it (redirects never followed).
//! The same flow through `opentext_client::otds::exchange_code` is tested in that crate
//! (`otds::tests`): `opentext-client` is not a dev-dependency of this crate.

use std::collections::HashMap;
use std::time::Duration;

use opentext_sim::otds_oauth::s256_challenge;
use opentext_sim::{SimConfig, SimServer};
use reqwest::{Client, Response, StatusCode, Url};
use serde_json::{Value, json};

const CLIENT: &str = "records-bridge";
const REDIRECT: &str = "http://127.0.0.1:9/p5/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const STATE: &str = "s t&a=te/é+\"<x>";

struct T {
    sim: SimServer,
    http: Client,
}

async fn start() -> T {
    let sim = SimServer::start(SimConfig::default()).await.unwrap();
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let t = T { sim, http };
    t.register(
        json!({"client_id": CLIENT, "redirect_uris": [REDIRECT, "https://other.example/cb"]}),
    )
    .await;
    t
}

impl T {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.sim.addr())
    }

    async fn register(&self, body: Value) {
        let r = self
            .http
            .post(format!("{}/otds-oauth-clients", self.sim.admin_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    }

    fn auth_params(&self, client: &str, state: &str) -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("state", state),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("scope", "openid"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    async fn authorize(&self, params: &[(String, String)]) -> Response {
        self.http
            .get(self.url("/otdsws/oauth2/auth"))
            .query(params)
            .send()
            .await
            .unwrap()
    }

    /// Opens the sign-in page and submits it as a browser would: its hidden fields plus
    /// the credentials.
    async fn sign_in_with(&self, params: &[(String, String)], user: &str, pass: &str) -> Response {
        let page = self.authorize(params).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        let mut form = hidden_fields(&html);
        form.push(("otds_username".into(), user.into()));
        form.push(("otds_password".into(), pass.into()));
        self.http
            .post(self.url(&form_action(&html)))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A code for jdoe, with the state checked.
    async fn code_for(&self, client: &str) -> String {
        let r = self
            .sign_in_with(&self.auth_params(client, STATE), "JDoe", "jdoe-pass")
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let q = callback(&r);
        assert_eq!(q.get("state").map(String::as_str), Some(STATE));
        q["code"].clone()
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url("/otdsws/oauth2/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn token_for_jdoe(&self) -> String {
        let code = self.code_for(CLIENT).await;
        let (s, v) = self.exchange(&code, VERIFIER).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    async fn whoami(&self, bearer: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}/api/v1/auth", self.sim.base_url()))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

/// `(name, value)` of every `<input type="hidden" ...>` (the sim's own markup).
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|tag| (attr(tag, "name"), attr(tag, "value")))
        .collect()
}

fn form_action(html: &str) -> String {
    let form = html.split("<form ").nth(1).expect("a form");
    assert!(form.starts_with("method=\"post\""), "{form}");
    attr(form, "action")
}

fn attr(tag: &str, name: &str) -> String {
    let start = tag.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
    let raw = &tag[start..start + tag[start..].find('"').unwrap()];
    raw.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The query of a redirect to the registered callback.
fn callback(r: &Response) -> HashMap<String, String> {
    let loc = r
        .headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap();
    assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
    Url::parse(loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[test]
fn s256_matches_rfc7636_appendix_b() {
    assert_eq!(s256_challenge(VERIFIER), CHALLENGE);
}

#[tokio::test]
async fn full_flow_gives_a_bearer_token_for_the_signed_in_user() {
    let t = start().await;
    let page = t.authorize(&t.auth_params(CLIENT, STATE)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"otds_username\"") && html.contains("type=\"password\""));
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(
        !html.contains(STATE),
        "the state is HTML-escaped in the page"
    );

    // User names compare case-insensitively, as Content Server's do; the state comes back exactly.
    let code = t.code_for(CLIENT).await;
    let r = t
        .http
        .post(t.url("/otdsws/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert_eq!(v["scope"], "openid");
    let token = v["access_token"].as_str().unwrap();

    let (s, me) = t.whoami(token).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["data"]["name"], "jdoe");
    assert_eq!(me["data"]["id"], 1001);
    // OTDSTicket carries the same token.
    let r = t
        .http
        .get(format!("{}/api/v2/nodes/2000", t.sim.base_url()))
        .header("OTDSTicket", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_code_is_single_use_and_a_replay_revokes_its_token() {
    let t = start().await;
    let code = t.code_for(CLIENT).await;
    let (s, v) = t.exchange(&code, VERIFIER).await;
    assert_eq!(s, StatusCode::OK);
    let token = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(t.whoami(&token).await.0, StatusCode::OK);

    let (s, v) = t.exchange(&code, VERIFIER).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "invalid_grant", "{v}");
    // RFC 6749 §4.1.2: tokens issued for a replayed code are revoked.
    assert_eq!(t.whoami(&token).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_verifier_is_invalid_grant_and_burns_the_code() {
    let t = start().await;
    let code = t.code_for(CLIENT).await;
    let wrong = "A".repeat(43);
    let (s, v) = t.exchange(&code, &wrong).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );
    let (s, v) = t.exchange(&code, VERIFIER).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_code_is_bound_to_client_and_redirect_uri_and_expires() {
    let t = start().await;
    t.register(
        json!({"client_id": "other", "redirect_uris": [REDIRECT], "code_lifetime_seconds": 1}),
    )
    .await;

    let code = t.code_for(CLIENT).await;
    let (s, v) = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://other.example/cb"),
            ("client_id", CLIENT),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    let code = t.code_for(CLIENT).await;
    let (s, v) = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // redirect_uri was in the authorization request, so the token request must repeat it.
    let code = t.code_for(CLIENT).await;
    let (s, v) = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", CLIENT),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    let code = t.code_for("other").await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (s, v) = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "other"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn untrusted_client_or_redirect_uri_gets_an_error_page_never_a_redirect() {
    let t = start().await;
    let with = |k: &str, v: &str| {
        let mut p = t.auth_params(CLIENT, STATE);
        p.retain(|(n, _)| n != k);
        if !v.is_empty() {
            p.push((k.to_string(), v.to_string()));
        }
        p
    };
    for params in [
        with("redirect_uri", "http://evil.example/cb"),
        with("redirect_uri", &format!("{REDIRECT}/")),
        with("redirect_uri", &format!("{REDIRECT}?x=1")),
        // Two registered URIs: redirect_uri cannot be left out.
        with("redirect_uri", ""),
        with("client_id", "nobody"),
        with("client_id", ""),
    ] {
        let r = t.authorize(&params).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{params:?}");
        assert!(r.headers().get("location").is_none(), "{params:?}");
        assert!(r.text().await.unwrap().contains("<p id=\"error\""));
    }
    // The sign-in form re-checks its hidden fields.
    let mut form = with("redirect_uri", "http://evil.example/cb");
    form.push(("otds_username".into(), "jdoe".into()));
    form.push(("otds_password".into(), "jdoe-pass".into()));
    let r = t
        .http
        .post(t.url("/otdsws/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
}

#[tokio::test]
async fn missing_or_plain_pkce_redirects_back_with_invalid_request() {
    let t = start().await;
    let variants: Vec<(Vec<(String, String)>, &str)> = {
        let base = t.auth_params(CLIENT, STATE);
        let without = |k: &str| base.iter().filter(|(n, _)| n != k).cloned().collect();
        let replace = |k: &str, v: &str| {
            base.iter()
                .map(|(n, x)| (n.clone(), if n == k { v.to_string() } else { x.clone() }))
                .collect()
        };
        vec![
            (without("code_challenge"), "invalid_request"),
            (without("code_challenge_method"), "invalid_request"),
            (replace("code_challenge_method", "plain"), "invalid_request"),
            (replace("code_challenge", "too-short"), "invalid_request"),
            (
                replace("response_type", "token"),
                "unsupported_response_type",
            ),
            (without("response_type"), "invalid_request"),
            (
                {
                    let mut p = base.clone();
                    p.push(("scope".into(), "again".into()));
                    p
                },
                "invalid_request",
            ),
        ]
    };
    for (params, error) in variants {
        let r = t.authorize(&params).await;
        assert_eq!(r.status(), StatusCode::FOUND, "{params:?}");
        let q = callback(&r);
        assert_eq!(q["error"], error, "{params:?}");
        assert_eq!(q["state"], STATE);
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn wrong_password_shows_the_page_again_without_a_code() {
    let t = start().await;
    let params = t.auth_params(CLIENT, STATE);
    for (user, pass) in [("jdoe", "nope"), ("nobody", "jdoe-pass"), ("jdoe", "")] {
        let r = t.sign_in_with(&params, user, pass).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get("location").is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"error\""), "{html}");
        assert!(!html.contains("code="), "{html}");
        // The retry keeps the request (hidden fields) and the user name.
        assert!(
            hidden_fields(&html)
                .iter()
                .any(|(k, v)| k == "state" && v == STATE)
        );
        assert!(html.contains(&format!("value=\"{user}\"")));
    }
}

#[tokio::test]
async fn tokens_stop_working_after_their_lifetime_and_on_admin_expiry() {
    let t = start().await;
    t.register(
        json!({"client_id": CLIENT, "redirect_uris": [REDIRECT], "token_lifetime_seconds": 1}),
    )
    .await;
    let code = t.code_for(CLIENT).await;
    let (s, v) = t.exchange(&code, VERIFIER).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["expires_in"], 1);
    let short = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(t.whoami(&short).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let (s, v) = t.whoami(&short).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    // Admin expiry, per user: jdoe's token stops working, the admin's keeps working.
    t.register(json!({"client_id": CLIENT, "redirect_uris": [REDIRECT]}))
        .await;
    let jdoe = t.token_for_jdoe().await;
    let admin_token: Value = t
        .http
        .post(format!("{}/otds-tokens", t.sim.admin_url()))
        .json(&json!({"user": "Admin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin_token = admin_token["token"].as_str().unwrap();
    let r: Value = t
        .http
        .post(format!("{}/otds-tokens/expire", t.sim.admin_url()))
        .json(&json!({"user": "jdoe"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["tokens_expired"], 1, "{r}");
    assert_eq!(t.whoami(&jdoe).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(t.whoami(admin_token).await.0, StatusCode::OK);
    let r = t
        .http
        .post(format!("{}/otds-tokens/expire", t.sim.admin_url()))
        .json(&json!({"user": "nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc6749_section_5_2() {
    let t = start().await;
    let code = t.code_for(CLIENT).await;
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", CLIENT),
        ("code_verifier", VERIFIER),
    ];
    let with = |k: &'static str, v: Option<&'static str>| -> Vec<(&str, &str)> {
        let mut f: Vec<(&str, &str)> = base.iter().copied().filter(|(n, _)| *n != k).collect();
        if let Some(v) = v {
            f.push((k, v));
        }
        f
    };
    for (form, error) in [
        (
            with("grant_type", Some("password")),
            "unsupported_grant_type",
        ),
        (with("grant_type", None), "invalid_request"),
        (with("code", None), "invalid_request"),
        (with("code_verifier", None), "invalid_request"),
        (with("code_verifier", Some("short")), "invalid_request"),
        (with("client_id", None), "invalid_request"),
        (with("client_id", Some("nobody")), "invalid_client"),
        (with("client_secret", Some("s3cret")), "invalid_client"),
        (
            [&base[..], &[("grant_type", "authorization_code")]].concat(),
            "invalid_request", // given twice
        ),
    ] {
        let (s, v) = t.token(&form).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{form:?} {v}");
        assert_eq!(v["error"], error, "{form:?} {v}");
    }
    // None of those touched the code.
    assert_eq!(t.exchange(&code, VERIFIER).await.0, StatusCode::OK);

    let r = t
        .http
        .post(t.url("/otdsws/oauth2/token"))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    let r = t
        .http
        .post(t.url("/otdsws/oauth2/token"))
        .basic_auth(CLIENT, Some("x"))
        .form(&base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
}

#[tokio::test]
async fn client_registration_is_validated() {
    let t = start().await;
    for body in [
        json!({"client_id": "x", "redirect_uris": []}),
        json!({"client_id": "", "redirect_uris": [REDIRECT]}),
        json!({"client_id": "x", "redirect_uris": ["http://a.example/cb#frag"]}),
        json!({"client_id": "x", "redirect_uris": ["/relative"]}),
        json!({"client_id": "x", "redirect_uris": ["http://a.example/ü"]}),
        json!({"client_id": "x", "redirect_uris": [REDIRECT], "token_lifetime_seconds": 0}),
        json!({"redirect_uris": [REDIRECT]}),
    ] {
        let r = t
            .http
            .post(format!("{}/otds-oauth-clients", t.sim.admin_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let list: Value = t
        .http
        .get(format!("{}/otds-oauth-clients", t.sim.admin_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["clients"][0]["client_id"], CLIENT);

    // In-process registration; a redirect URI with its own query keeps it (RFC 6749 §3.1.2).
    opentext_sim::otds_oauth::register_client(
        t.sim.state(),
        opentext_sim::otds_oauth::OAuthClient {
            client_id: "solo".into(),
            redirect_uris: vec!["http://127.0.0.1:9/cb?tenant=a".into()],
            token_lifetime_seconds: None,
            code_lifetime_seconds: None,
        },
    )
    .unwrap();
    // redirect_uri may be left out when the client registers exactly one.
    let params: Vec<(String, String)> = t
        .auth_params("solo", "st")
        .into_iter()
        .filter(|(k, _)| k != "redirect_uri")
        .collect();
    let r = t.sign_in_with(&params, "auditor", "auditor-pass").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.starts_with("http://127.0.0.1:9/cb?tenant=a&code="),
        "{loc}"
    );
    let q: HashMap<String, String> = Url::parse(&loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let (s, v) = t
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("client_id", "solo"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, me) = t.whoami(v["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, me["data"]["name"].as_str()),
        (StatusCode::OK, Some("auditor"))
    );
}

/// Hostile input: every answer is an HTTP error page or JSON, and the server keeps serving.
#[tokio::test]
async fn garbage_never_breaks_the_endpoints() {
    let t = start().await;
    let queries = [
        "",
        "%",
        "client_id=%FF%FE",
        "client_id=records-bridge&client_id=records-bridge",
        "redirect_uri=%00&client_id=records-bridge",
        "a=b=c&&&==",
        "client_id=records-bridge&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fp5%2Fcallback&state=%0D%0ALocation:%20x",
    ];
    for q in queries {
        let r = t
            .http
            .get(format!("{}?{q}", t.url("/otdsws/oauth2/auth")))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_client_error() || r.status() == StatusCode::FOUND,
            "{q}"
        );
        if let Some(loc) = r.headers().get("location") {
            assert!(!loc.to_str().unwrap().contains('\n'), "{q}");
        }
    }
    let big = vec![b'a'; 200 * 1024];
    for path in ["/otdsws/login", "/otdsws/oauth2/token"] {
        for body in [b"\xff\xfe=\x00".to_vec(), big.clone(), b"code=%ZZ".to_vec()] {
            let r = t
                .http
                .post(t.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_client_error(), "{path} {}", r.status());
        }
    }
    // Still serving.
    assert!(!t.token_for_jdoe().await.is_empty());
}
