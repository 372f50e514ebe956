//! P5's pages in a real browser: headless Chromium (Debian's) driven over WebDriver signs in
//! through the simulator's OTDS (authorization code + PKCE), sees only the records OpenText
//! lets jdoe see, downloads one through the checked route and compares its SHA-256, meets
//! the refusal page for a record whose content is closed to them, sees the session end when
//! OTDS expires the token, and signs out. The real `access-endpoint` binary sits behind a
//! Function URL served over HTTP by local-stack.

mod access_support;

use std::collections::BTreeMap;
use std::time::Duration;

use access_support::*;
use local_stack::function_url::serve;
use local_stack::stack::{Stack, StackOptions};
use serde_json::json;
use sha2::{Digest, Sha256};
use test_support::browser::Browser;
use test_support::stack::OptionsExt;

const CLIENT_ID: &str = "records-bridge-browser";

/// Sets the Records Managers group's (jdoe's) permissions on one node, as an admin would.
async fn set_group_permissions(stack: &Stack, node: u64, permissions: Option<&[&str]>) {
    let ticket = &ticket(stack, "Admin", "livelink").await;
    let url = format!(
        "{}/api/v2/nodes/{node}/permissions/custom/1100",
        stack.sim.base_url()
    );
    let http = reqwest::Client::new();
    let r = match permissions {
        Some(p) => http
            .put(url)
            .header("otcsticket", ticket)
            .form(&[("body", json!({"permissions": p}).to_string())])
            .send()
            .await
            .unwrap(),
        None => http
            .delete(url)
            .header("otcsticket", ticket)
            .send()
            .await
            .unwrap(),
    };
    assert!(r.status().is_success(), "{r:?}");
}

#[tokio::test]
async fn sign_in_see_only_permitted_records_download_one_refusal_expiry_sign_out() {
    let policy = test_support::policy::policy(&[test_support::policy::FINANCE]);
    let mut stack = test_support::stack::start(
        StackOptions::new(env!("CARGO_BIN_EXE_access-endpoint"), "AccessFunction")
            .with_policy(&policy),
    )
    .await;
    let sim_origin = {
        let u = reqwest::Url::parse(&stack.sim.base_url()).unwrap();
        format!("{}://{}", u.scheme(), u.authority())
    };
    stack
        .restart_function(BTreeMap::from([
            ("OTDS_BASE_URL".to_string(), sim_origin),
            ("OTDS_CLIENT_ID".to_string(), CLIENT_ID.to_string()),
            ("BROWSE_FOLDER_ID".to_string(), FINANCE.to_string()),
        ]))
        .await
        .expect("restart with the browser flow");
    let front = serve(stack.runtime.clone()).await.expect("function URL");
    stack
        .sim_admin_post(
            "otds-oauth-clients",
            json!({"client_id": CLIENT_ID, "redirect_uris": [format!("{}/callback", front.url)]}),
        )
        .await
        .expect("OAuth client");

    let body = b"quarterly ledger, signed".to_vec();
    let (open_node, open_v) =
        record(&stack, "ledger-q3.bin", &body, "application/octet-stream").await;
    let (closed_node, _) = record(
        &stack,
        "payroll-q3.bin",
        b"payroll",
        "application/octet-stream",
    )
    .await;
    set_group_permissions(&stack, closed_node, Some(&["see"])).await;
    let (hidden_node, _) = record(
        &stack,
        "board-minutes.bin",
        b"minutes",
        "application/octet-stream",
    )
    .await;
    set_group_permissions(&stack, hidden_node, None).await;
    // What the page shows of a record: its record date and a hold.
    let ot = test_support::opentext::service_client(&stack);
    test_support::opentext::classify_official(
        &ot,
        open_node as i64,
        4100,
        "FIN-7Y",
        "2026-09-30T00:00:00Z",
    )
    .await;
    ot.apply_hold(closed_node as i64, 6100).await.unwrap();

    let browser = Browser::start().await.expect("Chromium");
    browser.goto(&format!("{}/", front.url)).await.unwrap();
    browser.click("#sign-in").await.unwrap();
    // The simulator's OTDS sign-in page.
    browser
        .fill("input[name=otds_username]", "jdoe")
        .await
        .unwrap();
    browser
        .fill("input[name=otds_password]", "jdoe-pass")
        .await
        .unwrap();
    browser.click("#loginbutton").await.unwrap();
    let at = browser
        .wait_for_url(|u| u.contains(&format!("/folders/{FINANCE}")))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.function.logs().join("\n")));
    assert!(at.starts_with(&front.url), "{at}");

    let session = browser
        .cookie("rb_session")
        .await
        .unwrap()
        .expect("session");
    assert!(session.http_only && session.secure, "{session:?}");
    assert_eq!(session.same_site.as_deref(), Some("Strict"));
    assert!(!session.value.contains("OTDS"), "the token is sealed");

    // Only what OpenText lets jdoe see: the open and the closed record, not the hidden one.
    let rows = browser.find_all("tr[data-node]").await.unwrap();
    let mut listed = Vec::new();
    for r in &rows {
        listed.push(r.attribute("data-node").await.unwrap().unwrap_or_default());
    }
    assert!(listed.contains(&open_node.to_string()), "{listed:?}");
    assert!(listed.contains(&closed_node.to_string()), "{listed:?}");
    assert!(!listed.contains(&hidden_node.to_string()), "{listed:?}");
    let page = browser.page_source().await.unwrap();
    assert!(page.contains(&open_v.sha256), "the SHA-256 is shown");
    assert!(page.contains("2026-09-30"), "the record date is shown");
    assert!(page.contains("on hold (6100)"), "the hold is shown");
    if let Ok(path) = std::env::var("P5_SCREENSHOT") {
        std::fs::write(path, browser.screenshot_png().await.unwrap()).unwrap();
    }

    // Download the open one: its bytes, by SHA-256.
    browser
        .click(&format!("a.record[data-node=\"{open_node}\"]"))
        .await
        .unwrap();
    let file = browser
        .wait_for_download(None, Duration::from_secs(30))
        .await
        .unwrap();
    let got = std::fs::read(&file).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&got)), open_v.sha256);

    // The closed one: the refusal page, no URL.
    browser
        .goto(&format!("{}/records/{closed_node}/content", front.url))
        .await
        .unwrap();
    let refusal = browser.find("#refusal").await.unwrap();
    assert_eq!(
        refusal.attribute("data-code").await.unwrap().as_deref(),
        Some("no_permission")
    );

    // OTDS ends the session: the next page asks to sign in again.
    stack
        .sim_admin_post("otds-tokens/expire", json!({"user": "jdoe"}))
        .await
        .unwrap();
    browser
        .goto(&format!("{}/folders/{FINANCE}", front.url))
        .await
        .unwrap();
    browser
        .find("#sign-in")
        .await
        .expect("signed out by expiry");
    let notice = browser.find("#notice").await.unwrap().text().await.unwrap();
    assert!(notice.contains("session has ended"), "{notice}");

    // Sign in again, then out.
    browser.click("#sign-in").await.unwrap();
    browser
        .fill("input[name=otds_username]", "jdoe")
        .await
        .unwrap();
    browser
        .fill("input[name=otds_password]", "jdoe-pass")
        .await
        .unwrap();
    browser.click("#loginbutton").await.unwrap();
    browser
        .wait_for_url(|u| u.contains("/folders/"))
        .await
        .unwrap();
    browser.click("#sign-out").await.unwrap();
    browser.find("#signed-out").await.unwrap();
    assert!(browser.cookie("rb_session").await.unwrap().is_none());

    let logs = stack.function.logs().join("\n");
    assert!(
        !logs.contains("X-Amz-Signature"),
        "no presigned URL in the logs"
    );
    assert!(!logs.contains("*OTDSSSO*"), "no OTDS token in the logs");
    browser.quit().await.ok();
}
