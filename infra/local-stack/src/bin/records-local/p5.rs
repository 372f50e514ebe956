//! The demo's fourth act (P5): the contract's content opened through OpenText, checked as
//! the user: jdoe is sent to a one-minute presigned URL of exactly its S3 version, an
//! outsider is refused; the browser page stays up (sign in as jdoe / jdoe-pass) until the
//! demo stops.

use anyhow::{Context, Result};
use local_stack::function_url::{UrlServer, serve};
use local_stack::stack::{Companion, Stack};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "records-bridge-demo";
const LEGAL: i64 = 2103;

/// The access endpoint and its Function URL, kept running for the browser.
pub struct Access {
    _url: UrlServer,
    _function: Companion,
}

pub async fn run(stack: &Stack, contract_key: &str) -> Result<Access> {
    println!("\n• P5: opening a record's S3 content through OpenText, checked as the user");
    let sim = reqwest::Url::parse(&stack.sim.base_url())?;
    let otds = format!("{}://{}", sim.scheme(), sim.authority());
    let function = stack
        .companion_with_env(
            &local_stack::workspace_root().join("target/debug/access-endpoint"),
            "AccessFunction",
            false,
            &[
                ("OTDS_BASE_URL", otds.as_str()),
                ("OTDS_CLIENT_ID", CLIENT_ID),
                ("BROWSE_FOLDER_ID", &LEGAL.to_string()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
        .await?;
    let url = serve(function.runtime.clone()).await?;
    stack
        .sim_admin_post(
            "otds-oauth-clients",
            json!({"client_id": CLIENT_ID, "redirect_uris": [format!("{}/callback", url.url)]}),
        )
        .await?;
    let node = crate::p4::node_of(stack, contract_key).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    for (user, password) in [("jdoe", "jdoe-pass"), ("outsider", "outsider-pass")] {
        let ticket = ticket(&http, stack, user, password).await?;
        let r = http
            .get(format!("{}/records/{node}/content", url.url))
            .header("otcsticket", &ticket)
            .send()
            .await?;
        let status = r.status().as_u16();
        if status == 303 {
            let location = r
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .context("no location")?
                .to_string();
            let expires = reqwest::Url::parse(&location)?
                .query_pairs()
                .find(|(k, _)| k == "X-Amz-Expires")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let bytes = reqwest::get(&location).await?.bytes().await?;
            println!(
                "  {user:<9} GET /records/{node}/content → 303 to a presigned GET ({expires} s) of that version: {} bytes, SHA-256 {}",
                bytes.len(),
                &hex::encode(Sha256::digest(&bytes))[..16]
            );
        } else {
            let body: Value = r.json().await.unwrap_or_default();
            println!(
                "  {user:<9} GET /records/{node}/content → {status} {}",
                body["message"].as_str().unwrap_or("")
            );
        }
    }
    println!(
        "  both audited (action access); the browser page: {}/ (sign in as jdoe / jdoe-pass)",
        url.url
    );
    Ok(Access {
        _url: url,
        _function: function,
    })
}

async fn ticket(
    http: &reqwest::Client,
    stack: &Stack,
    user: &str,
    password: &str,
) -> Result<String> {
    let v: Value = http
        .post(format!("{}/api/v1/auth", stack.sim.base_url()))
        .form(&[("username", user), ("password", password)])
        .send()
        .await?
        .json()
        .await?;
    v["ticket"]
        .as_str()
        .map(str::to_string)
        .context("no ticket")
}
