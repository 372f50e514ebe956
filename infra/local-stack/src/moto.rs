//! A moto server (local AWS: S3, SQS, DynamoDB, Secrets Manager) in a child process.
//!
//! The OS picks the port (no race for a free port); the child holds a stdin pipe so it exits
//! by itself if this process dies without running `Drop`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{Context, Result, bail};

// moto's DynamoDB backend evaluates condition expressions without a lock, so two
// concurrent conditional writes can both succeed (measured: 2 of 8 concurrent claims won).
// Real DynamoDB makes each conditional write atomic; serialising DynamoDB requests here
// restores that guarantee. S3 and SQS stay concurrent (SQS long polls must not block).
const BOOT: &str = r#"
import sys, threading
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
dynamodb_lock = threading.Lock()
def serialised(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        with dynamodb_lock:
            return list(app(environ, start_response))
    return app(environ, start_response)
server = make_server("127.0.0.1", 0, serialised, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
sys.stdin.read()
server.shutdown()
"#;

/// The moto version whose XML the Rust SDK accepts for every call we make (see README).
pub const MOTO_PIN: &str = "moto[server]==5.1.22";

pub struct Moto {
    child: Child,
    _stdin: ChildStdin,
    endpoint: String,
}

impl Moto {
    /// Starts moto with `$MOTO_PYTHON`, else the workspace's `.venv-moto`, else `python3`.
    pub fn start() -> Result<Self> {
        let python = moto_python();
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(BOOT)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting moto with {}", python.display()))?;
        let stdin = child.stdin.take().context("moto stdin")?;
        let stdout = child.stdout.take().context("moto stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading moto's port")?;
        let port: u16 = match line.trim().parse() {
            Ok(p) => p,
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "moto did not start with {} (is {MOTO_PIN} installed? `make moto-venv`); it printed {line:?}",
                    python.display()
                )
            }
        };
        Ok(Self {
            child,
            _stdin: stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }

    /// `http://127.0.0.1:PORT`: use as `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python that has moto: `$MOTO_PYTHON`, the workspace venv, or `python3`.
pub fn moto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = crate::workspace_root().join(".venv-moto/bin/python");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("python3")
}
