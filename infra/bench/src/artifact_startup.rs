//! The release artifact's size (table 4) and the start-up to the first Runtime API poll
//! (table 3), each against the minimal Lambda.

use super::*;

pub(crate) struct Artifact {
    pub(crate) binary: u64,
    pub(crate) zip: u64,
    pub(crate) file: String,
}

pub(crate) fn artifact(bin: &Path) -> Result<Artifact> {
    let dir = std::env::temp_dir().join(format!(
        "records-bench-zip-{}-{}",
        std::process::id(),
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin")
    ));
    std::fs::create_dir_all(&dir)?;
    let bootstrap = dir.join("bootstrap");
    std::fs::copy(bin, &bootstrap)?;
    let zip = dir.join("function.zip");
    let status = std::process::Command::new("zip")
        .args(["-q", "-9", "-X", "-j"])
        .arg(&zip)
        .arg(&bootstrap)
        .status()
        .context("running `zip` (install the zip CLI: apt-get install zip)")?;
    ensure!(status.success(), "zip failed: {status}");
    let out = Artifact {
        binary: std::fs::metadata(bin)?.len(),
        zip: std::fs::metadata(&zip)?.len(),
        file: std::process::Command::new("file")
            .arg("-b")
            .arg(bin)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default(),
    };
    std::fs::remove_dir_all(&dir).ok();
    Ok(out)
}

pub(crate) fn artifact_sizes(declare_bin: &Path, minimal_bin: &Path) -> Result<()> {
    let d = artifact(declare_bin)?;
    let m = artifact(minimal_bin)?;
    let mib = |b: u64| b as f64 / MIB as f64;
    println!();
    println!(
        "== 4. Release artifact (host {} build, profile release; zip -9 of `bootstrap`) target: zip <= {ZIP_TARGET_MIB} MiB",
        std::env::consts::ARCH
    );
    println!(
        "{:<22} | {:>10} | {:>9} | file",
        "binary", "size MiB", "zip MiB"
    );
    println!("{}", "-".repeat(78));
    for (name, a) in [("declare", &d), ("bench-minimal-lambda", &m)] {
        let kind: String = a.file.split(',').take(2).collect::<Vec<_>>().join(",");
        let stripped = if a.file.contains("not stripped") {
            "not stripped"
        } else if a.file.contains("stripped") {
            "stripped"
        } else {
            "?"
        };
        println!(
            "{name:<22} | {:>10.2} | {:>9.2} | {kind}, {stripped}",
            mib(a.binary),
            mib(a.zip)
        );
    }
    println!(
        "ratio declare / minimal: binary {:.2}, zip {:.2}; declare zip {:.2} MiB vs target {ZIP_TARGET_MIB} MiB: {}",
        d.binary as f64 / m.binary.max(1) as f64,
        d.zip as f64 / m.zip.max(1) as f64,
        mib(d.zip),
        verdict(mib(d.zip) <= ZIP_TARGET_MIB)
    );
    Ok(())
}

pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

// ------------------------------------------------------------------ 3. start-up

pub(crate) async fn time_to_first_poll(
    bin: &Path,
    env: &BTreeMap<String, String>,
) -> Result<Duration> {
    let api = RuntimeApi::start(FUNCTION).await?;
    let started = Instant::now();
    let mut process = FunctionProcess::spawn(bin, &api.address(), FUNCTION, env, false)?;
    let polled = api.wait_first_poll(Duration::from_secs(30)).await;
    let elapsed = started.elapsed();
    if let Err(e) = polled {
        let logs = process.logs().join("\n");
        process.kill();
        bail!(
            "{} did not poll: {e}; init error {:?}; logs:\n{logs}",
            bin.display(),
            api.init_error()
        );
    }
    process.kill();
    Ok(elapsed)
}

pub(crate) async fn startup(
    stack: &Stack,
    declare_bin: &Path,
    minimal_bin: &Path,
    runs: usize,
) -> Result<()> {
    eprintln!("start-up: {runs} runs per binary (alternating, one warm-up each discarded)...");
    let env = &stack.env;
    time_to_first_poll(declare_bin, env).await?;
    time_to_first_poll(minimal_bin, env).await?;
    let mut declare = Vec::new();
    let mut minimal = Vec::new();
    for _ in 0..runs.max(1) {
        declare.push(ms(time_to_first_poll(declare_bin, env).await?));
        minimal.push(ms(time_to_first_poll(minimal_bin, env).await?));
    }
    println!();
    println!(
        "== 3. Start-up: process spawn to first GET invocation/next (N={}, same env: moto endpoint, the stack's policy parameter) target: ratio <= {STARTUP_TARGET}",
        declare.len()
    );
    println!(
        "{:<22} | {:>10} | {:>8} | {:>8} | all (ms)",
        "binary", "median ms", "min", "max"
    );
    println!("{}", "-".repeat(78));
    for (name, v) in [("declare", &declare), ("bench-minimal-lambda", &minimal)] {
        println!(
            "{name:<22} | {:>10.1} | {:>8.1} | {:>8.1} | {}",
            median(v),
            min(v),
            max(v),
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let ratio = median(&declare) / median(&minimal).max(1e-9);
    println!(
        "ratio declare / minimal (medians): {ratio:.2} vs target {STARTUP_TARGET}: {}",
        verdict(ratio <= STARTUP_TARGET)
    );
    Ok(())
}
