//! Table 6: the declare function's content path against a streaming S3 (s3s-fs, which sends
//! a GET's first byte at once and streams from its disk, where moto first loads the whole
//! object), so the overlap of the S3 read with the OpenText upload is measured without
//! moto's late first byte.
//!
//! s3s-fs has no versioning, tagging or notifications, so this is a content-path bench, not
//! a whole declaration: (c) is the function's own `S3Source` (the GET's chunks hashed on the
//! way, a failed part re-read by range) handed to the OpenText client's document create, the
//! same two pieces a declaration streams its content through. (a) reads the same object from
//! s3s-fs alone and (b) uploads the same bytes from memory alone, each in its own process.

use super::*;

const STREAMING_BUCKET: &str = "bench-streaming";

/// The s3s-fs server, in its own process (as S3 is), over a scratch directory.
struct S3sFs {
    endpoint: String,
    _child: tokio::process::Child,
    _root: tempfile::TempDir,
}

impl S3sFs {
    async fn start(data_dir: &Path) -> Result<Self> {
        use tokio::io::AsyncBufReadExt;
        let root = tempfile::Builder::new()
            .prefix("records-bench-s3s-")
            .tempdir_in(data_dir)?;
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["s3s-fs", "--root"])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().context("s3s-fs stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .context("s3s-fs did not say where it listens")??;
        Ok(Self {
            endpoint: format!("http://{}", line.trim()),
            _child: child,
            _root: root,
        })
    }
}

/// `records-bench s3s-fs --root DIR`: serves DIR over the S3 API on a loopback port it prints.
pub(crate) async fn child_s3s_fs(root: &Path) -> Result<()> {
    use std::io::Write;
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| anyhow::anyhow!("s3s-fs: {e:?}"))?;
    let mut service = s3s::service::S3ServiceBuilder::new(fs);
    // The SDK signs every request; s3s checks the signature against local_stack's test key.
    service.set_auth(s3s::auth::SimpleAuth::from_single("testing", "testing"));
    let service = service.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    loop {
        let (socket, _) = listener.accept().await?;
        let conn = http
            .serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

/// `records-bench content-path ...`: one object from S3 into a new OpenText document
/// through the declare function's `S3Source`; prints JSON.
pub(crate) async fn child_content_path(
    endpoint: &str,
    bucket: &str,
    key: &str,
    size: u64,
    base: &str,
    name: &str,
) -> Result<()> {
    let sdk = local_stack::sdk_config(endpoint).await;
    let objects = records_aws::s3_objects::S3Objects::new(local_stack::s3_client(&sdk));
    let client = opentext_client::Client::new(
        base,
        opentext_client::Credentials::new(SIM_SERVICE_USER, SIM_SERVICE_PASSWORD),
    )?;
    let source = Arc::new(records_workflows::declare::s3_source::S3Source::new(
        objects, bucket, key, None, size, name, None,
    ));
    let digest = source.digest();
    let started = Instant::now();
    let node = client
        .create_document(
            FOLDER,
            name,
            source,
            &opentext_client::CreateOptions::default(),
        )
        .await?;
    let secs = started.elapsed().as_secs_f64();
    let digested = digest.get().context("the S3 read did not run to its end")?;
    println!(
        "{}",
        json!({
            "secs": secs,
            "node_id": node.id,
            "bytes": digested.size,
            "sha256": digested.sha256_hex,
            "vmhwm_bytes": vm_field(std::process::id(), "VmHWM:")?,
        })
    );
    Ok(())
}

struct StreamingRow {
    size: u64,
    path: Vec<Measured>,
    s3: Vec<Measured>,
    ot: Vec<Measured>,
}

/// One measurement and how busy the machine's cores were meanwhile (all processes: the
/// child, s3s-fs, the simulator), to tell a CPU-bound run from one that waits.
struct Measured {
    run: Baseline,
    busy: f64,
}

/// (busy, total) jiffies of all cores, from `/proc/stat`'s first line.
fn cpu_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().sum();
    // idle + iowait
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

async fn measured(f: impl std::future::Future<Output = Result<Baseline>>) -> Result<Measured> {
    let (busy0, total0) = cpu_jiffies();
    let run = f.await?;
    let (busy1, total1) = cpu_jiffies();
    let busy = (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64;
    Ok(Measured { run, busy })
}

pub(crate) async fn streaming(
    stack: &Stack,
    sizes_mib: &[u64],
    runs: usize,
    data_dir: &Path,
) -> Result<()> {
    eprintln!("streaming: starting s3s-fs...");
    let server = S3sFs::start(data_dir).await?;
    let sdk = local_stack::sdk_config(&server.endpoint).await;
    let s3 = local_stack::s3_client(&sdk);
    s3.create_bucket()
        .bucket(STREAMING_BUCKET)
        .send()
        .await
        .context("creating the s3s-fs bucket")?;
    let mut rows = Vec::new();
    for &mib in sizes_mib {
        let size = mib * MIB;
        let mut row = StreamingRow {
            size,
            path: Vec::new(),
            s3: Vec::new(),
            ot: Vec::new(),
        };
        let key = format!("finance/streaming-{mib}m.bin");
        let (_, sha256) = put_generated(&s3, STREAMING_BUCKET, &key, size).await?;
        let obj = Object {
            key: key.clone(),
            name: format!("streaming-{mib}m.bin"),
            version_id: String::new(),
            size,
            sha256,
        };
        for run in 0..runs {
            eprintln!("streaming {mib} MiB run {}...", run + 1);
            // Alternate the order, as table 2 does.
            if run % 2 == 0 {
                row.path
                    .push(measured(content_path(stack, &server, &obj, run)).await?);
            }
            row.s3.push(measured(s3s_read(&server, &obj)).await?);
            row.ot
                .push(measured(baseline_ot_upload(stack, &obj, 1000 + run)).await?);
            if run % 2 == 1 {
                row.path
                    .push(measured(content_path(stack, &server, &obj, run)).await?);
            }
        }
        rows.push(row);
    }
    print_streaming(&rows);
    Ok(())
}

async fn content_path(stack: &Stack, server: &S3sFs, obj: &Object, run: usize) -> Result<Baseline> {
    let name = format!("streaming-path-{}m-{run}.bin", obj.size / MIB);
    let args = vec![
        "content-path".to_string(),
        "--endpoint".into(),
        server.endpoint.clone(),
        "--bucket".into(),
        STREAMING_BUCKET.into(),
        "--key".into(),
        obj.key.clone(),
        "--size".into(),
        obj.size.to_string(),
        "--base".into(),
        stack.sim.base_url(),
        "--name".into(),
        name,
    ];
    let v = run_child(&args).await?;
    ensure!(
        v["sha256"].as_str() == Some(&obj.sha256),
        "the content path hashed other bytes than were put: {v}"
    );
    let node = stack.sim_admin(&format!("nodes/{}", v["node_id"])).await?;
    ensure!(
        node["versions"][0]["sha256"].as_str() == Some(&obj.sha256),
        "the simulator stored other bytes for the content path: {}",
        node["versions"][0]
    );
    Ok(Baseline {
        secs: v["secs"].as_f64().unwrap_or(0.0),
        first_byte_secs: 0.0,
        hwm: v["vmhwm_bytes"].as_u64().unwrap_or(0),
    })
}

async fn s3s_read(server: &S3sFs, obj: &Object) -> Result<Baseline> {
    s3_read_in_child(&server.endpoint, STREAMING_BUCKET, obj, None).await
}

fn print_streaming(rows: &[StreamingRow]) {
    println!();
    println!(
        "== 6. Content path against a streaming S3 (s3s-fs; S3Source → OpenText create, each in its own process, N={}) target: (c) ≤ {WALL_TARGET}× max(a, b)",
        rows.first().map_or(0, |r| r.path.len())
    );
    println!(
        "{:>8} | {:>9} | {:>9} | {:>10} | {:>9} | {:>12} | {:>11} | {:>17} | {:>10}",
        "size",
        "(c) s",
        "(a) s",
        "(a) 1st B",
        "(b) s",
        "c / max(a,b)",
        "c / (a + b)",
        "cores busy c/a/b",
        "(c) VmHWM"
    );
    println!("{}", "-".repeat(124));
    let secs = |v: &[Measured]| median(&v.iter().map(|m| m.run.secs).collect::<Vec<_>>());
    let busy = |v: &[Measured]| median(&v.iter().map(|m| m.busy).collect::<Vec<_>>()) * 100.0;
    for row in rows {
        let (c, a, b) = (secs(&row.path), secs(&row.s3), secs(&row.ot));
        let first = median(
            &row.s3
                .iter()
                .map(|m| m.run.first_byte_secs)
                .collect::<Vec<_>>(),
        );
        let hwm = row.path.iter().map(|m| m.run.hwm).max().unwrap_or(0);
        let ratio = c / a.max(b).max(1e-9);
        println!(
            "{:>5} MiB | {c:>9.3} | {a:>9.3} | {first:>10.4} | {b:>9.3} | {ratio:>7.2} {:<4} | {:>11.2} | {:>5.0}/{:>3.0}/{:>3.0} % | {:>6.1} MiB",
            row.size / MIB,
            artifact_startup::verdict(ratio <= WALL_TARGET),
            c / (a + b).max(1e-9),
            busy(&row.path),
            busy(&row.s3),
            busy(&row.ot),
            hwm as f64 / MIB as f64
        );
    }
    let runs = |v: &[Measured]| {
        v.iter()
            .map(|m| format!("{:.3}", m.run.secs))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for row in rows {
        println!(
            "{} MiB runs (s): (c) {} | (a) {} | (b) {}",
            row.size / MIB,
            runs(&row.path),
            runs(&row.s3),
            runs(&row.ot)
        );
    }
}
