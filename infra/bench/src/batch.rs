//! Table 5: one declaration against a batch of ten, with OpenText 50 ms away (the simulator
//! answers every call after `latency_ms`), and the OpenText calls each declaration makes.

use super::*;

/// OpenText's latency for this table: a Content Server in another data centre.
const OT_LATENCY_MS: u64 = 50;
const BATCH: usize = 10;
const BATCH_TARGET: f64 = 1.5;
const CALLS_TARGET: f64 = 3.0;

async fn set_latency(stack: &Stack, ms: u64) -> Result<()> {
    reqwest::Client::new()
        .put(format!("{}/faults", stack.sim.admin_url()))
        .json(&serde_json::json!({"latency_ms": ms, "error_rates": {}, "drop_rate": 0.0}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Declares `objects` in one invocation; its duration and the OpenText calls it made.
async fn declare_batch(stack: &Stack, objects: &[declarations::Object]) -> Result<(f64, usize)> {
    let bodies = declarations::take_created_events(stack, objects).await?;
    test_support::sim::clear_requests(stack).await;
    for body in bodies {
        declarations::send_event(stack, body).await?;
    }
    let report = stack.poll().await?;
    ensure!(
        report.received == objects.len() && report.failed_ids.is_empty(),
        "batch of {} not declared in one invocation: {report:?}",
        objects.len()
    );
    for obj in objects {
        let state = declarations::workflow_state(stack, obj).await?;
        ensure!(state == "done", "{} ended {state:?}", obj.key);
    }
    Ok((
        ms(report.invocation),
        test_support::sim::opentext_calls(stack).await.len(),
    ))
}

async fn put_ten(stack: &Stack, tag: &str) -> Result<Vec<declarations::Object>> {
    let mut ten = Vec::new();
    for i in 0..BATCH {
        let key = format!("finance/bench-ten-{tag}-{i}.bin");
        ten.push(declarations::put_object(stack, &key, KIB).await?);
    }
    Ok(ten)
}

pub(crate) async fn batch(stack: &mut Stack, runs: usize) -> Result<()> {
    eprintln!(
        "batch: {runs} runs of 1 and of {BATCH} declarations at {OT_LATENCY_MS} ms OpenText latency..."
    );
    // Warm: sign-in and the server's upload settings are once per process.
    let warm = declarations::put_object(stack, "finance/bench-batch-warm.bin", KIB).await?;
    declarations::declare_once(stack, &warm).await?;
    // The floor the local stack sets: ten declarations with OpenText answering at once
    // (moto's calls, which Python serves one at a time, and the function's own work), plus
    // one declaration's OpenText latency (its three calls, which the batch makes at once).
    let mut local = Vec::new();
    for run in 0..runs.max(1) {
        let ten = put_ten(stack, &format!("floor-{run}")).await?;
        local.push(declare_batch(stack, &ten).await?.0);
    }
    set_latency(stack, OT_LATENCY_MS).await?;
    let (mut single, mut batch, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs.max(1) {
        let one =
            declarations::put_object(stack, &format!("finance/bench-one-{run}.bin"), KIB).await?;
        let (t, n) = declare_batch(stack, std::slice::from_ref(&one)).await?;
        single.push(t);
        calls.push(n as f64);
        let ten = put_ten(stack, &run.to_string()).await?;
        let (t, n) = declare_batch(stack, &ten).await?;
        batch.push(t);
        calls.push(n as f64 / BATCH as f64);
    }
    set_latency(stack, 0).await?;
    println!();
    println!(
        "== 5. Batches at {OT_LATENCY_MS} ms OpenText latency (1 KiB objects; invocation time, N={}) target: {BATCH} ≤ {BATCH_TARGET}× one; OpenText calls ≤ {CALLS_TARGET} per declaration",
        single.len()
    );
    println!(
        "{:<28} | {:>10} | {:>8} | {:>8}",
        "invocation", "median ms", "min", "max"
    );
    println!("{}", "-".repeat(64));
    for (name, v) in [
        ("1 declaration", &single),
        ("10 declarations", &batch),
        ("10, OpenText at 0 ms", &local),
    ] {
        println!(
            "{name:<28} | {:>10.1} | {:>8.1} | {:>8.1}",
            median(v),
            min(v),
            max(v)
        );
    }
    let ratio = median(&batch) / median(&single).max(1e-9);
    let floor = (median(&local) + 3.0 * OT_LATENCY_MS as f64) / median(&single).max(1e-9);
    let per_declaration = median(&calls);
    println!(
        "ratio 10 / 1 (medians): {ratio:.2} vs target {BATCH_TARGET}: {}; floor here (10 at 0 ms + 3 × {OT_LATENCY_MS} ms) / 1: {floor:.2}; OpenText calls per declaration (sign-in excluded): {per_declaration:.1} (all runs: {}) vs target {CALLS_TARGET}: {}; one declaration = {:.1}× the latency",
        artifact_startup::verdict(ratio <= BATCH_TARGET),
        calls
            .iter()
            .map(|c| format!("{c:.1}"))
            .collect::<Vec<_>>()
            .join(" "),
        artifact_startup::verdict(per_declaration <= CALLS_TARGET),
        median(&single) / OT_LATENCY_MS as f64
    );
    Ok(())
}
