//! Memory bench for chunked uploads: peak RSS of the client and of the
//! simulator for a 16 MiB baseline and a 1 GiB upload. Flat memory means the
//! 1 GiB / 16 MiB ratio is about 1.
//!
//! ```text
//! cargo run --release -p opentext-client --bin ot-upload-bench -- --sim-bin target/release/opentext-sim
//! ```
//!
//! Each size runs in a fresh child process of this binary (so `VmHWM` peaks
//! are separate) against a fresh simulator process.

use std::io;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use opentext_client::{
    Client, ContentReader, ContentSource, CreateOptions, Credentials, UploadMode,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};

const MIB: u64 = 1024 * 1024;
const FINANCE: i64 = 2101;

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn usage() -> ! {
    eprintln!(
        "usage: ot-upload-bench --sim-bin PATH [--sizes-mib 16,1024] [--part-mib 8]\n\
         (internal: ot-upload-bench --child --base URL --size BYTES)"
    );
    std::process::exit(2)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> AnyResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--child") {
        let base = arg(&args, "--base").unwrap_or_else(|| usage());
        let size: u64 = arg(&args, "--size")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage());
        return child(&base, size).await;
    }
    let sim_bin = arg(&args, "--sim-bin").unwrap_or_else(|| usage());
    let sizes: Vec<u64> = arg(&args, "--sizes-mib")
        .unwrap_or_else(|| "16,1024".into())
        .split(',')
        .map(|s| s.trim().parse::<u64>().map(|m| m * MIB))
        .collect::<Result<_, _>>()?;
    let part_mib: u64 = arg(&args, "--part-mib")
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);

    let mut rows = Vec::new();
    for &size in &sizes {
        rows.push(run_one(&sim_bin, size, part_mib).await?);
    }
    print_table(&rows);
    Ok(())
}

struct Row {
    size: u64,
    client_hwm: u64,
    sim_hwm: u64,
    secs: f64,
    hash_ok: bool,
}

/// One size: fresh simulator process, fresh client process.
async fn run_one(sim_bin: &str, size: u64, part_mib: u64) -> AnyResult<Row> {
    let data_dir = std::env::temp_dir().join(format!("ot-bench-{}-{size}", std::process::id()));
    let mut sim = tokio::process::Command::new(sim_bin)
        .args(["--listen", "127.0.0.1:0"])
        // The chunked API must accept the 16 MiB baseline too.
        .args(["--multipart-min-size", &MIB.to_string()])
        .args(["--part-size", &(part_mib * MIB).to_string()])
        .arg("--data-dir")
        .arg(&data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null()) // its request logging would drown the table
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(sim.stdout.take().expect("piped")).lines();
    let first = lines
        .next_line()
        .await?
        .ok_or("simulator exited before listening")?;
    let url = first
        .strip_prefix("opentext-sim listening on ")
        .ok_or_else(|| format!("unexpected first line: {first}"))?
        .trim()
        .to_string();
    // Keep draining its stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = if url.contains("/otcs/cs.exe") {
        url.trim_end_matches('/').to_string()
    } else {
        format!("{}/otcs/cs.exe", url.trim_end_matches('/'))
    };
    let origin = base.trim_end_matches("/otcs/cs.exe").to_string();

    let exe = std::env::current_exe()?;
    let out = tokio::process::Command::new(exe)
        .args(["--child", "--base", &base, "--size", &size.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .await?;
    if !out.status.success() {
        return Err(format!("child failed: {}", String::from_utf8_lossy(&out.stdout)).into());
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let http = reqwest::Client::new();
    let mem: serde_json::Value = http
        .get(format!("{origin}/sim/admin/memory"))
        .send()
        .await?
        .json()
        .await?;
    let node: serde_json::Value = http
        .get(format!("{origin}/sim/admin/nodes/{}", report["node_id"]))
        .send()
        .await?
        .json()
        .await?;
    let stored = node["versions"][0]["sha256"].as_str().unwrap_or_default();
    sim.kill().await.ok();
    tokio::fs::remove_dir_all(&data_dir).await.ok();
    Ok(Row {
        size,
        client_hwm: report["vmhwm_bytes"].as_u64().unwrap_or(0),
        sim_hwm: mem["peak_rss_bytes"].as_u64().unwrap_or(0),
        secs: report["secs"].as_f64().unwrap_or(0.0),
        hash_ok: Some(stored) == report["sha256"].as_str(),
    })
}

fn print_table(rows: &[Row]) {
    let mib = |b: u64| b as f64 / MIB as f64;
    println!(
        "{:>10} | {:>16} | {:>16} | {:>8} | {:>8} | sha256",
        "upload", "client peak RSS", "sim peak RSS", "secs", "MiB/s"
    );
    println!("{}", "-".repeat(80));
    for r in rows {
        println!(
            "{:>6} MiB | {:>12.1} MiB | {:>12.1} MiB | {:>8.2} | {:>8.0} | {}",
            r.size / MIB,
            mib(r.client_hwm),
            mib(r.sim_hwm),
            r.secs,
            mib(r.size) / r.secs.max(1e-9),
            if r.hash_ok { "match" } else { "MISMATCH" }
        );
    }
    if let (Some(a), Some(b)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        println!(
            "ratio {} MiB / {} MiB: client {:.2}, sim {:.2}",
            b.size / MIB,
            a.size / MIB,
            b.client_hwm as f64 / a.client_hwm.max(1) as f64,
            b.sim_hwm as f64 / a.sim_hwm.max(1) as f64
        );
    }
}

/// The measured process: one chunked upload, then its own VmHWM as JSON.
async fn child(base: &str, size: u64) -> AnyResult<()> {
    let client = Client::new(base, Credentials::new("svc-records", "svc-records-pass"))?;
    let src = Arc::new(Generated::new(size));
    let opts = CreateOptions {
        upload_mode: UploadMode::Chunked,
        ..CreateOptions::default()
    };
    let started = Instant::now();
    let name = format!("bench-{}-{size}.bin", std::process::id());
    let node = client
        .create_document(FINANCE, &name, src.clone(), &opts)
        .await?;
    let secs = started.elapsed().as_secs_f64();
    let report = serde_json::json!({
        "node_id": node.id,
        "secs": secs,
        "vmhwm_bytes": vm_hwm()?,
        "sha256": src.digest.lock().expect("digest").clone(),
    });
    println!("{report}");
    Ok(())
}

/// Peak resident set size of this process (`VmHWM` in /proc/self/status).
fn vm_hwm() -> io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| io::Error::other("no VmHWM"))
}

/// Deterministic generated content, hashed as it is read.
struct Generated {
    len: u64,
    block: Arc<Vec<u8>>,
    digest: Arc<Mutex<Option<String>>>,
}

impl Generated {
    fn new(len: u64) -> Self {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut block = Vec::with_capacity(MIB as usize);
        while (block.len() as u64) < MIB {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            block.extend_from_slice(&x.to_le_bytes());
        }
        Generated {
            len,
            block: Arc::new(block),
            digest: Arc::new(Mutex::new(None)),
        }
    }
}

impl ContentSource for Generated {
    fn len(&self) -> u64 {
        self.len
    }
    fn file_name(&self) -> &str {
        "bench.bin"
    }
    fn mime_type(&self) -> &str {
        "application/octet-stream"
    }
    fn open(&self) -> BoxFuture<'_, io::Result<ContentReader>> {
        let r = GenReader {
            pos: 0,
            len: self.len,
            block: self.block.clone(),
            hasher: Some(Sha256::new()),
            digest: self.digest.clone(),
        };
        async move { Ok(Box::new(r) as ContentReader) }.boxed()
    }
}

struct GenReader {
    pos: u64,
    len: u64,
    block: Arc<Vec<u8>>,
    hasher: Option<Sha256>,
    digest: Arc<Mutex<Option<String>>>,
}

impl AsyncRead for GenReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos >= this.len {
            if let Some(h) = this.hasher.take() {
                *this.digest.lock().expect("digest") = Some(hex::encode(h.finalize()));
            }
            return Poll::Ready(Ok(()));
        }
        let bs = this.block.len() as u64;
        let off = (this.pos % bs) as usize;
        let n = (buf.remaining() as u64)
            .min(bs - off as u64)
            .min(this.len - this.pos) as usize;
        let start = buf.filled().len();
        buf.put_slice(&this.block[off..off + n]);
        if let Some(h) = this.hasher.as_mut() {
            h.update(&buf.filled()[start..start + n]);
        }
        this.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}
