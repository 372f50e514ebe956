//! `test_support::browser` against a page that does what P5's will: a sign-in form whose
//! POST sets an `HttpOnly; Secure; SameSite=Strict` cookie and redirects (303), a page
//! that reads the cookie, and a download with both `filename` and `filename*`.
//!
//! The page is served by a few lines over a tokio listener (HTTP/1.1, one request per
//! connection) rather than axum: test-support has no axum dependency and this needs none.
//!
//! Run: `cargo test -p test-support --features browser --test browser` (needs Debian's
//! `chromium` and `chromium-driver`; without them the test fails, naming the apt command).

#![cfg(feature = "browser")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use test_support::browser::{APT_INSTALL, Browser, Cookie, Options};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The downloaded report's bytes: a PDF header, then every byte value (binary-safe).
fn report_bytes() -> Vec<u8> {
    let mut b = b"%PDF-1.4\n% test report\n".to_vec();
    b.extend((0..=255u8).cycle().take(64 * 1024));
    b
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    cookie: Option<String>,
}

/// Serves the pages on a free loopback port; returns its base URL and what it saw.
async fn serve() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                let Some((seen, body)) = read_request(&mut read).await else {
                    return; // a preconnect that sent nothing
                };
                let response = respond(&seen, &body);
                log.lock().unwrap().push(seen);
                let _ = write.write_all(&response).await;
                let _ = write.shutdown().await;
            });
        }
    });
    (base, seen)
}

async fn read_request<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Option<(Seen, Vec<u8>)> {
    let mut line = String::new();
    r.read_line(&mut line).await.ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let (mut length, mut cookie) = (0usize, None);
    loop {
        let mut header = String::new();
        r.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "cookie" => cookie = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await.ok()?;
    Some((
        Seen {
            method,
            path,
            cookie,
        },
        body,
    ))
}

fn respond(req: &Seen, body: &[u8]) -> Vec<u8> {
    let html = |page: String| {
        let page = format!(
            "<!doctype html><html><head><meta charset=utf-8><title>Records</title>\
             <meta name=viewport content=\"width=device-width\"></head>\
             <body style=\"font-family:sans-serif\">{page}</body></html>"
        );
        response(
            "200 OK",
            &[("Content-Type", "text/html; charset=utf-8")],
            page.into_bytes(),
        )
    };
    let session = req
        .cookie
        .as_deref()
        .unwrap_or_default()
        .split("; ")
        .find_map(|c| c.strip_prefix("session="))
        .map(str::to_owned);
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => html(
            "<h1>Sign in</h1><form method=post action=/login>\
             <label>User <input id=user name=user></label>\
             <label>Password <input id=password name=password type=password></label>\
             <button id=go type=submit>Sign in</button></form>"
                .into(),
        ),
        ("POST", "/login") => {
            let form = String::from_utf8_lossy(body);
            let user = form
                .split('&')
                .find_map(|kv| kv.strip_prefix("user="))
                .unwrap_or_default();
            let cookie = format!(
                "session=s-{user}; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict"
            );
            response(
                "303 See Other",
                &[("Location", "/records"), ("Set-Cookie", &cookie)],
                Vec::new(),
            )
        }
        ("GET", "/records") => match session {
            Some(s) => html(format!(
                "<h1>Records</h1><p id=who>signed in as {}</p>\
                 <ul><li><a id=dl href=/download>Report (PDF)</a></li></ul>",
                s.trim_start_matches("s-")
            )),
            None => html("<h1>Records</h1><p id=who>not signed in</p>".into()),
        },
        ("GET", "/download") if session.is_some() => response(
            "200 OK",
            &[
                ("Content-Type", "application/pdf"),
                (
                    "Content-Disposition",
                    "attachment; filename=\"report.pdf\"; filename*=UTF-8''r%C3%A9port.pdf",
                ),
            ],
            report_bytes(),
        ),
        _ => response("404 Not Found", &[], Vec::new()),
    }
}

fn response(status: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend(body);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_cookie_download_and_screenshot_in_headless_chromium() {
    let (base, seen) = serve().await;
    let browser = Browser::start().await.expect("start the browser");

    // The form, filled and submitted; the 303 is followed to the records page.
    browser.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Records");
    browser.fill("#user", "alice").await.unwrap();
    browser.fill("#password", "secret").await.unwrap();
    assert_eq!(
        browser
            .find("#user")
            .await
            .unwrap()
            .property("value")
            .await
            .unwrap()
            .as_deref(),
        Some("alice")
    );
    let password = browser.find("#password").await.unwrap();
    assert_eq!(
        password.attribute("type").await.unwrap().as_deref(),
        Some("password")
    );
    assert_eq!(
        password.attribute("value").await.unwrap(),
        None,
        "typed, not markup"
    );
    browser.click("#go").await.unwrap();
    let records = format!("{base}/records");
    browser.wait_for_url(|u| u == records).await.unwrap();

    // The Secure cookie was kept over http://127.0.0.1 (a secure context) and sent back.
    let who = browser.find("#who").await.unwrap().text().await.unwrap();
    assert_eq!(
        who,
        "signed in as alice",
        "{}",
        browser.page_source().await.unwrap()
    );
    let cookie = browser
        .cookie("session")
        .await
        .unwrap()
        .expect("the session cookie");
    println!("cookie as Chromium holds it: {cookie:?}");
    assert_eq!(cookie.value, "s-alice");
    assert!(cookie.http_only && cookie.secure, "{cookie:?}");
    assert_eq!(cookie.same_site.as_deref(), Some("Strict"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry = cookie.expiry.expect("Max-Age gives an expiry");
    assert!(
        expiry > now + 3500 && expiry <= now + 3601,
        "{expiry} vs {now}"
    );
    // HttpOnly: invisible to the page's scripts.
    let js = browser
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert_eq!(js, "", "document.cookie must not show an HttpOnly cookie");

    // The screenshot, phone-sized.
    let png = browser.screenshot_png().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    println!("screenshot: {width}x{height}, {} bytes", png.len());
    if let Some(out) = std::env::var_os("BROWSER_SCREENSHOT") {
        std::fs::write(out, &png).unwrap();
    }
    assert_eq!((width, height), (390, 844), "the viewport is phone-sized");
    let viewport = browser
        .execute("return [innerWidth, innerHeight, devicePixelRatio]", vec![])
        .await
        .unwrap();
    assert_eq!(viewport, serde_json::json!([390, 844, 1]));

    // The download: `filename*` (RFC 6266: preferred over `filename`) names the file.
    browser.click("#dl").await.unwrap();
    let file = browser
        .wait_for_download(None, Duration::from_secs(20))
        .await
        .unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    println!("Chromium saved the download as {name:?}");
    assert_eq!(name, "réport.pdf");
    assert_eq!(file.parent().unwrap(), browser.download_dir());
    assert_eq!(std::fs::read(&file).unwrap(), report_bytes());
    let again = browser
        .wait_for_download(Some("réport.pdf"), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        again, file,
        "by name, an already returned file is found again"
    );

    // The download request carried the cookie too (same-site navigation: Strict is sent).
    let requests = seen.lock().unwrap().clone();
    let download = requests
        .iter()
        .find(|r| r.path == "/download")
        .expect("the download was requested");
    assert_eq!(download.cookie.as_deref(), Some("session=s-alice"));

    // Sign out, as far as the browser goes: no cookie, and the page says so.
    browser.delete_cookies().await.unwrap();
    assert!(browser.cookies().await.unwrap().is_empty());
    browser.goto(&format!("{base}/records")).await.unwrap();
    let who = browser.find("#who").await.unwrap().text().await.unwrap();
    assert_eq!(who, "not signed in");
    assert!(browser.find_all("#dl").await.unwrap().is_empty());
    assert_eq!(browser.find_all("h1, p").await.unwrap().len(), 2);

    // A cookie the test sets itself is the page's (and the server's) next time.
    browser
        .set_cookie(&Cookie::new("session", "s-carol"))
        .await
        .unwrap();
    browser.goto(&format!("{base}/records")).await.unwrap();
    let who = browser.find("#who").await.unwrap().text().await.unwrap();
    assert_eq!(who, "signed in as carol");
    let cookie = browser.cookie("session").await.unwrap().unwrap();
    assert!(!cookie.http_only && !cookie.secure, "{cookie:?}");

    // The same over http://localhost, the other name of a secure context.
    let local = base.replace("127.0.0.1", "localhost");
    browser.goto(&format!("{local}/")).await.unwrap();
    browser.fill("#user", "dave").await.unwrap();
    browser.click("#go").await.unwrap();
    let who = browser.find("#who").await.unwrap().text().await.unwrap();
    assert_eq!(who, "signed in as dave");
    let cookie = browser.cookie("session").await.unwrap().unwrap();
    assert_eq!(cookie.domain.as_deref(), Some("localhost"));
    assert!(cookie.http_only && cookie.secure, "{cookie:?}");

    // find waits for an element that comes late (a script, a slow redirect)...
    browser
        .execute(
            "setTimeout(() => document.body.insertAdjacentHTML('beforeend', \
             '<p id=late>late</p>'), 700)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        browser.find("#late").await.unwrap().text().await.unwrap(),
        "late"
    );
    // ...and fails after its timeout (5 s) for one that never comes, naming the selector.
    let started = std::time::Instant::now();
    let missing = browser.find("#nowhere").await.err().unwrap();
    assert!(started.elapsed() >= Duration::from_secs(5));
    let missing = format!("{missing:#}");
    assert!(
        missing.contains("#nowhere") && missing.contains("no such element"),
        "{missing}"
    );
    println!("a missing element: {missing}");

    browser.quit().await.unwrap();
}

#[tokio::test]
async fn a_missing_browser_fails_naming_the_apt_command() {
    let options = Options {
        chromedriver: Some("/nonexistent/chromedriver".into()),
        ..Options::default()
    };
    let err = Browser::start_with(options)
        .await
        .err()
        .expect("no browser");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(APT_INSTALL) && msg.contains("/nonexistent/chromedriver"),
        "{msg}"
    );

    let options = Options {
        chrome: Some("/nonexistent/chromium".into()),
        ..Options::default()
    };
    let err = Browser::start_with(options)
        .await
        .err()
        .expect("no browser");
    let msg = format!("{err:#}");
    assert!(
        msg.contains(APT_INSTALL) && msg.contains("/nonexistent/chromium"),
        "{msg}"
    );
}
