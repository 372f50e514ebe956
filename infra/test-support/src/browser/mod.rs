//! A real browser for the pages a test must see as a person would (P5's sign-in, records
//! list, download, sign-out): Debian's headless Chromium, driven by `chromedriver` over
//! W3C WebDriver. WebDriver is JSON over HTTP, so this is a small client over `reqwest`
//! rather than a WebDriver crate.
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! let browser = test_support::browser::Browser::start().await?;
//! browser.goto("http://127.0.0.1:8080/").await?;
//! browser.fill("#user", "alice").await?;
//! browser.click("button[type=submit]").await?;
//! browser.wait_for_url(|u| u.ends_with("/records")).await?;
//! assert_eq!(browser.find("h1").await?.text().await?, "Records");
//! # Ok(()) }
//! ```
//!
//! The browser is required, never optional: when Chromium or chromedriver is missing,
//! [`Browser::start`] fails with the `apt-get` command that installs them, so a test fails
//! rather than skips.
//!
//! Chromium and chromedriver come from [`Options`], else `CHROME_BIN` (else
//! `/usr/bin/chromium`) and `CHROMEDRIVER` (else `chromedriver` on `PATH`, else
//! `/usr/bin/chromedriver`).
//!
//! What Chromium does that a test relies on (checked in `tests/browser.rs`, Chromium 156):
//! `http://127.0.0.1` and `http://localhost` are secure contexts, so a `Secure` cookie set
//! over plain HTTP there is kept and sent back, no flag needed (others can be passed with
//! [`Options::extra_args`]); a download with both `filename="report.pdf"` and
//! `filename*=UTF-8''r%C3%A9port.pdf` is saved as `réport.pdf` (`filename*` wins, RFC 6266).

mod cookie;
mod element;
mod launch;
mod wire;

pub use cookie::Cookie;
pub use element::Element;
pub use launch::APT_INSTALL;
pub use wire::WebDriverError;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use wire::{ELEMENT_KEY, by_css, is_error, value_of};

/// How a [`Browser`] is started; [`Default`] is what P5's tests need.
#[derive(Debug, Clone)]
pub struct Options {
    /// Chromium flags added to the default ones (e.g.
    /// `--unsafely-treat-insecure-origin-as-secure=http://host:port`).
    pub extra_args: Vec<String>,
    /// The viewport in CSS pixels (device pixel ratio 1), phone-sized by default. Also the
    /// `--window-size`, but a headless window is never narrower than 500 px and loses 143
    /// px to toolbars, so the viewport is set by chromedriver's device emulation.
    pub window_size: (u32, u32),
    /// How long [`Browser::find`] and [`Browser::click`] retry before giving up.
    pub find_timeout: Duration,
    /// Chromium; `None`: `CHROME_BIN`, else `/usr/bin/chromium`.
    pub chrome: Option<PathBuf>,
    /// chromedriver; `None`: `CHROMEDRIVER`, else `chromedriver` on `PATH`, else
    /// `/usr/bin/chromedriver`.
    pub chromedriver: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            extra_args: Vec::new(),
            window_size: (390, 844),
            find_timeout: Duration::from_secs(5),
            chrome: None,
            chromedriver: None,
        }
    }
}

/// Headless Chromium in one WebDriver session, with its own download folder. Dropping it
/// ends the session (Chromium quits), stops chromedriver and removes the folder.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT`, chromedriver's address.
    driver_url: String,
    session: String,
    driver: Child,
    /// Holds `downloads/`, chromedriver's log and Chromium's profile; removed on drop.
    root: PathBuf,
    downloads: PathBuf,
    find_timeout: Duration,
    /// Downloads [`Browser::wait_for_download`] already returned, so "any" means a new one.
    taken: Mutex<HashSet<PathBuf>>,
}

impl Browser {
    /// Where downloads land (fresh per browser, removed on drop).
    pub fn download_dir(&self) -> &Path {
        &self.downloads
    }

    /// Navigates and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.cmd(Method::POST, "url", json!({ "url": url }))
            .await
            .with_context(|| format!("goto {url}"))?;
        Ok(())
    }

    pub async fn current_url(&self) -> Result<String> {
        self.string(Method::GET, "url").await
    }

    /// Waits (up to the find timeout) until the URL satisfies `wanted`, and returns it: a
    /// click on a submit button may return before the navigation it starts has begun.
    pub async fn wait_for_url(&self, wanted: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + self.find_timeout;
        loop {
            let url = self.current_url().await?;
            if wanted(&url) {
                return Ok(url);
            }
            if Instant::now() > deadline {
                bail!("still on {url} after {:?}", self.find_timeout);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn title(&self) -> Result<String> {
        self.string(Method::GET, "title").await
    }

    /// The DOM as serialised now (not the bytes the server sent).
    pub async fn page_source(&self) -> Result<String> {
        self.string(Method::GET, "source").await
    }

    /// The first element matching a CSS selector, retried until the find timeout: a page
    /// after a click or a redirect may not be there yet.
    pub async fn find(&self, css: &str) -> Result<Element<'_>> {
        let deadline = Instant::now() + self.find_timeout;
        loop {
            match self.find_now(css).await {
                Ok(e) => return Ok(e),
                Err(e) if is_error(&e, "no such element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    let url = self.current_url().await.unwrap_or_default();
                    return Err(e.context(format!("find {css:?} on {url}")));
                }
            }
        }
    }

    /// Every element matching a CSS selector now (none is not an error: no waiting).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let found = self
            .cmd(Method::POST, "elements", by_css(css))
            .await
            .with_context(|| format!("find_all {css:?}"))?;
        let list = found.as_array().cloned().unwrap_or_default();
        list.iter().map(|v| self.element(v)).collect()
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let field = self.find(css).await?;
        field.clear().await?;
        field.send_keys(text).await
    }

    /// Clicks the element matching `css`; a submit button submits its form. chromedriver
    /// usually returns once a navigation the click started has loaded, but not always
    /// (it may not have started yet): follow with [`Browser::wait_for_url`] or a `find`.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.find(css).await?.click().await
    }

    /// Runs a script in the page (`arguments[0]`... are `args`) and returns its value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            Method::POST,
            "execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// The cookies visible to the current page, HttpOnly ones included.
    pub async fn cookies(&self) -> Result<Vec<Cookie>> {
        let v = self.cmd(Method::GET, "cookie", Value::Null).await?;
        Ok(v.as_array()
            .map(|a| a.iter().map(Cookie::from_json).collect())
            .unwrap_or_default())
    }

    /// One cookie of the current page by name.
    pub async fn cookie(&self, name: &str) -> Result<Option<Cookie>> {
        Ok(self.cookies().await?.into_iter().find(|c| c.name == name))
    }

    /// Sets a cookie for the current page's domain (navigate there first).
    pub async fn set_cookie(&self, cookie: &Cookie) -> Result<()> {
        self.cmd(
            Method::POST,
            "cookie",
            json!({ "cookie": cookie.to_json() }),
        )
        .await?;
        Ok(())
    }

    /// Deletes every cookie of the current page's domain.
    pub async fn delete_cookies(&self) -> Result<()> {
        self.cmd(Method::DELETE, "cookie", Value::Null).await?;
        Ok(())
    }

    /// The viewport as PNG bytes.
    pub async fn screenshot_png(&self) -> Result<Vec<u8>> {
        let b64 = self.string(Method::GET, "screenshot").await?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }

    /// Waits for a finished download: `Some(name)` for that file, `None` for any file not
    /// returned before. Finished means no `.crdownload` suffix (Chromium's partial file)
    /// and the same size on two polls in a row.
    pub async fn wait_for_download(
        &self,
        file_name: Option<&str>,
        timeout: Duration,
    ) -> Result<PathBuf> {
        let deadline = Instant::now() + timeout;
        let mut last: Option<(PathBuf, u64)> = None;
        loop {
            let candidate = self.finished_download(file_name)?;
            match (candidate, &last) {
                (Some((path, size)), Some((p, s))) if *p == path && *s == size => {
                    self.taken.lock().unwrap().insert(path.clone());
                    return Ok(path);
                }
                (c, _) => last = c,
            }
            if Instant::now() > deadline {
                let present = std::fs::read_dir(&self.downloads)?
                    .filter_map(|e| e.ok().map(|e| e.file_name()))
                    .collect::<Vec<_>>();
                bail!(
                    "no finished download {} in {} after {timeout:?}; present: {present:?}",
                    file_name.unwrap_or("(any)"),
                    self.downloads.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session now (Chromium quits), reporting a failure that drop would swallow.
    pub async fn quit(mut self) -> Result<()> {
        let url = format!("{}/session/{}", self.driver_url, self.session);
        let result = self.http.delete(url).send().await;
        self.session.clear();
        value_of(result?).await.map(drop)
    }

    fn finished_download(&self, file_name: Option<&str>) -> Result<Option<(PathBuf, u64)>> {
        let taken = self.taken.lock().unwrap();
        for entry in std::fs::read_dir(&self.downloads)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let wanted = match file_name {
                Some(n) => n == name,
                None => !taken.contains(&path),
            };
            // Chromium writes a hidden `.org.chromium.Chromium.XXXXXX` first, then
            // `NAME.crdownload`, then renames it to NAME.
            let partial = name.starts_with('.') || name.ends_with(".crdownload");
            if wanted && !partial && entry.file_type()?.is_file() {
                return Ok(Some((path, entry.metadata()?.len())));
            }
        }
        Ok(None)
    }

    async fn find_now(&self, css: &str) -> Result<Element<'_>> {
        let v = self.cmd(Method::POST, "element", by_css(css)).await?;
        self.element(&v)
    }

    fn element(&self, v: &Value) -> Result<Element<'_>> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| anyhow!("not an element reference: {v}"))?;
        Ok(Element {
            browser: self,
            id: id.to_owned(),
        })
    }

    async fn string(&self, method: Method, path: &str) -> Result<String> {
        let v = self.cmd(method, path, Value::Null).await?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{path}: not a string: {v}"))
    }

    /// One WebDriver command on this session: `path` is relative to `/session/{id}/`; a
    /// POST always sends a JSON body (`{}` when `body` is null), as chromedriver wants.
    async fn cmd(&self, method: Method, path: &str, body: Value) -> Result<Value> {
        let url = format!("{}/session/{}/{path}", self.driver_url, self.session);
        let mut req = self.http.request(method.clone(), url);
        if method == Method::POST {
            req = req.json(&if body.is_null() { json!({}) } else { body });
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        value_of(resp).await
    }
}
