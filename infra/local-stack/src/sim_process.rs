//! The OpenText simulator as its own process (the `opentext-sim` binary), for the demo and
//! the benches: what a user runs, on a free port, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

pub struct SimProcess {
    child: Child,
    base_url: String,
}

impl SimProcess {
    /// Starts `binary --listen 127.0.0.1:0 [args]` and reads the URL it prints.
    pub fn start(binary: &Path, args: &[&str]) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("sim stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(url) = line.trim().strip_prefix("opentext-sim listening on ") else {
            let _ = child.kill();
            bail!("opentext-sim printed {line:?} instead of its URL");
        };
        Ok(Self {
            base_url: url.to_string(),
            child,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http://127.0.0.1:PORT/otcs/cs.exe` → `http://127.0.0.1:PORT/sim/admin`.
pub fn admin_url_of(base_url: &str) -> String {
    let root = base_url
        .trim_end_matches('/')
        .trim_end_matches("/otcs/cs.exe");
    format!("{root}/sim/admin")
}
