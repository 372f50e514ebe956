//! `opentext-sim`: run the Content Server simulator from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use opentext_sim::{Faults, MultipartSettings, SimConfig, SimServer};

/// Local OpenText Content Server / xECM Records Management simulator.
#[derive(Parser, Debug)]
#[command(name = "opentext-sim", version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// Seed file (JSON); default: the shipped seed/default.json.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Where content is stored; default: a temp dir removed on exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Tickets expire after this many idle seconds.
    #[arg(long, default_value_t = 1800)]
    ticket_idle_secs: u64,
    /// Added delay before every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Random error rate per status, e.g. `--error-rate 503=0.1` (repeatable).
    #[arg(long = "error-rate", value_name = "STATUS=RATE", value_parser = parse_error_rate)]
    error_rates: Vec<String>,
    /// Share of API calls whose connection is dropped without a response (0..1).
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    drop_rate: f64,
    /// `Retry-After` seconds sent with injected errors.
    #[arg(long)]
    retry_after_secs: Option<u64>,
    /// Smallest file accepted by the chunked (multipart) upload API, in bytes.
    #[arg(long, default_value_t = MultipartSettings::default().min_size)]
    multipart_min_size: u64,
    /// Largest file accepted by the chunked upload API, in bytes.
    #[arg(long, default_value_t = MultipartSettings::default().max_size)]
    multipart_max_size: u64,
    /// Part size of the chunked upload API, in bytes.
    #[arg(long, default_value_t = MultipartSettings::default().part_size,
          value_parser = clap::value_parser!(u64).range(1..))]
    part_size: u64,
    /// Turn the chunked upload API off (`is_enabled: false`).
    #[arg(long)]
    no_multipart: bool,
    /// The server clock's offset (`UTC`, `+02:00`): RM dates are written zone-less in it.
    #[arg(long, default_value = "UTC", value_parser = opentext_sim::dates::parse_zone)]
    time_zone: time::UtcOffset,
}

fn main() -> anyhow::Result<()> {
    // File I/O runs on tokio's blocking pool; every new pool thread gets its own malloc arena,
    // which kept freed part buffers and made peak RSS creep up with the upload size. A small
    // fixed pool keeps memory flat.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()?
        .block_on(serve())
}

async fn serve() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let a = Args::parse();
    let mut faults = Faults {
        latency_ms: a.latency_ms,
        drop_rate: a.drop_rate,
        retry_after_secs: a.retry_after_secs,
        ..Faults::default()
    };
    for spec in &a.error_rates {
        faults.add_error_rate(spec).map_err(anyhow::Error::msg)?;
    }
    let cfg = SimConfig {
        listen: a.listen,
        seed: a.seed,
        data_dir: a.data_dir,
        ticket_idle_timeout: Duration::from_secs(a.ticket_idle_secs),
        faults,
        multipart: MultipartSettings {
            is_enabled: !a.no_multipart,
            min_size: a.multipart_min_size,
            max_size: a.multipart_max_size,
            part_size: a.part_size,
        },
        time_zone: a.time_zone,
    };
    let server = SimServer::start(cfg).await?;
    // Scripts read this exact first line to learn the port.
    let mut out = std::io::stdout().lock();
    writeln!(out, "opentext-sim listening on {}", server.base_url())?;
    out.flush()?;
    drop(out);
    tracing::info!(admin = %server.admin_url(), "ready");
    wait_for_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Validates `STATUS=RATE` at parse time so a typo gets clap's usage message.
fn parse_error_rate(s: &str) -> Result<String, String> {
    Faults::default().add_error_rate(s)?;
    Ok(s.to_string())
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("not a number: {s:?}"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err("must be within 0..=1".into())
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
