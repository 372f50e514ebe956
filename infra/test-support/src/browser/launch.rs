//! Starting and stopping: finding the binaries, chromedriver on a free port, the session's
//! capabilities, and a drop that leaves no process or folder behind.

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::wire::{request_blocking, value_of};
use super::{Browser, Options};

/// What installs the browser on Debian (bookworm), named in every "missing" error.
pub const APT_INSTALL: &str =
    "apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver";

impl Browser {
    /// Starts chromedriver and a headless Chromium with the default [`Options`].
    pub async fn start() -> Result<Self> {
        Self::start_with(Options::default()).await
    }

    /// Starts chromedriver on a free loopback port, waits for its `/status`, then opens a
    /// session: headless, phone-sized, downloads into a fresh folder without asking.
    pub async fn start_with(options: Options) -> Result<Self> {
        let chrome = chrome_binary(options.chrome.clone())?;
        let chromedriver = chromedriver_binary(options.chromedriver.clone())?;

        let root = fresh_dir()?;
        let downloads = root.join("downloads");
        std::fs::create_dir_all(&downloads)
            .with_context(|| format!("creating {}", downloads.display()))?;
        let log_path = root.join("chromedriver.log");
        let log = std::fs::File::create(&log_path)?;

        let port = free_port()?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // Chromium's profile and singleton dirs land here too, and go with it.
            .env("TMPDIR", &root)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver.display()))?;
        // From here on, drop cleans up whatever fails.
        let mut browser = Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            driver_url: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            driver,
            root,
            downloads,
            find_timeout: options.find_timeout,
            taken: Mutex::new(HashSet::new()),
        };
        // The cause first, then what chromedriver logged (its "why" is often there).
        let with_log = |e: anyhow::Error| anyhow!("{e:#}\n{}", read_log(&log_path));
        browser.wait_ready().await.map_err(with_log)?;
        browser.session = browser
            .new_session(&chrome, &options)
            .await
            .map_err(with_log)?;
        Ok(browser)
    }

    /// Waits until chromedriver's `/status` says ready, or fails if it exited.
    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status_url = format!("{}/status", self.driver_url);
        loop {
            if let Some(exit) = self.driver.try_wait()? {
                bail!("chromedriver exited ({exit}) before it was ready");
            }
            if let Ok(resp) = self.http.get(&status_url).send().await {
                let body: Value = resp.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver not ready on {status_url} after 15 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens the W3C session: headless, phone-sized, downloads into [`Self::download_dir`]
    /// without asking.
    async fn new_session(&self, chrome: &Path, options: &Options) -> Result<String> {
        let (w, h) = options.window_size;
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--window-size={w},{h}"),
        ];
        args.extend(options.extra_args.iter().cloned());
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 30_000 },
            "goog:chromeOptions": {
                "binary": chrome,
                "args": args,
                // The window cannot be narrower than 500 px (and has 143 px of toolbars
                // even headless): the viewport itself is set through device emulation.
                "mobileEmulation": { "deviceMetrics": {
                    "width": w, "height": h, "pixelRatio": 1.0, "mobile": true, "touch": true,
                }},
                "prefs": {
                    "download.default_directory": self.downloads,
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                },
            },
        }}});
        let resp = self
            .http
            .post(format!("{}/session", self.driver_url))
            .json(&capabilities)
            .send()
            .await
            .context("creating a WebDriver session")?;
        let v = value_of(resp)
            .await
            .with_context(|| format!("starting Chromium ({})", chrome.display()))?;
        v["sessionId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("chromedriver answered no sessionId: {v}"))
    }
}

impl Drop for Browser {
    /// Drop may run outside any runtime (or in a panicking test), so it speaks plain
    /// blocking HTTP: end the session (Chromium quits), ask chromedriver to shut down, kill
    /// it if it has not within 5 s, then remove the folder (profile and downloads).
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request_blocking(
                &self.driver_url,
                "DELETE",
                &format!("/session/{}", self.session),
            );
        }
        let _ = request_blocking(&self.driver_url, "GET", "/shutdown");
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.driver.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A Chromium helper may still be writing as it exits: try again for a moment.
        for _ in 0..20 {
            if std::fs::remove_dir_all(&self.root).is_ok() || !self.root.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn chrome_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    let path = given
        .or_else(|| std::env::var_os("CHROME_BIN").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !path.is_file() {
        bail!(
            "Chromium not found at {}; install it: {APT_INSTALL}",
            path.display()
        );
    }
    Ok(path)
}

fn chromedriver_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = given.or_else(|| std::env::var_os("CHROMEDRIVER").map(PathBuf::from)) {
        if !p.is_file() {
            bail!(
                "chromedriver not found at {}; install it: {APT_INSTALL}",
                p.display()
            );
        }
        return Ok(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
    });
    let fallback = PathBuf::from("/usr/bin/chromedriver");
    match on_path {
        Some(p) => Ok(p),
        None if fallback.is_file() => Ok(fallback),
        None => bail!(
            "chromedriver not found (CHROMEDRIVER, PATH, /usr/bin/chromedriver); install it: {APT_INSTALL}"
        ),
    }
}

/// A port free now on 127.0.0.1 (chromedriver takes a port number, not a socket).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A new, empty folder under the system temp dir, unique within and across processes.
fn fresh_dir() -> Result<PathBuf> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "test-support-browser-{}-{}-{nanos}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The last lines of chromedriver's log, for an error message.
fn read_log(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("chromedriver log ({}):\n{tail}", path.display())
}
