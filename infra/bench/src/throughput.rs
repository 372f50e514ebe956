//! Table 7: many small objects end to end. The objects are put into the governed bucket
//! (moto sends their notifications to the declare queue, as S3 does), then the queue is
//! drained the way one Lambda instance would: receive up to ten, invoke, delete. Every
//! message counts, also the ones records-bridge's own tagging causes, which moto sends
//! without the `userIdentity` real S3 carries, so the function cannot tell them from a
//! person's here and looks each up (README "Figures").

use super::*;
use futures_util::{StreamExt, TryStreamExt};

const RATE_TARGET: f64 = 20.0;
/// Uploads in flight while the objects are put (moto serves them one at a time anyway).
const PUTS_IN_FLIGHT: usize = 8;

pub(crate) async fn throughput(stack: &Stack, count: usize) -> Result<()> {
    eprintln!("throughput: putting {count} × 1 KiB objects...");
    let objects: Vec<Object> =
        futures_util::stream::iter(0..count)
            .map(|i| async move {
                put_object(stack, &format!("finance/bench-many-{i:05}.bin"), KIB).await
            })
            .buffer_unordered(PUTS_IN_FLIGHT)
            .try_collect()
            .await?;
    eprintln!("throughput: draining the declare queue...");
    let started = Instant::now();
    let (mut messages, mut invocations, mut failed) = (0usize, 0usize, 0usize);
    let mut busy = Duration::ZERO;
    let mut last_work = started.elapsed();
    let mut quiet = 0;
    while quiet < 3 {
        let report = stack.poll().await?;
        if report.received == 0 {
            quiet += 1;
            continue;
        }
        quiet = 0;
        messages += report.received;
        invocations += 1;
        failed += report.failed_ids.len();
        busy += report.invocation;
        last_work = started.elapsed();
    }
    let mut done = 0;
    let mut states = futures_util::stream::iter(&objects)
        .map(|o| declarations::workflow_state(stack, o))
        .buffer_unordered(PUTS_IN_FLIGHT);
    while let Some(state) = states.next().await {
        if state? == "done" {
            done += 1;
        }
    }
    let secs = last_work.as_secs_f64();
    let rate = done as f64 / secs.max(1e-9);
    println!();
    println!(
        "== 7. {count} × 1 KiB objects end to end (one function instance draining the declare queue; OpenText at 0 ms) target: ≥ {RATE_TARGET} declarations/s"
    );
    println!("{:<44} | {:>12}", "figure", "value");
    println!("{}", "-".repeat(60));
    for (name, value) in [
        (
            "objects declared (workflow item done)",
            format!("{done} of {count}"),
        ),
        ("messages processed", messages.to_string()),
        (
            "messages per object",
            format!("{:.2}", messages as f64 / count.max(1) as f64),
        ),
        ("invocations (batches of ≤ 10)", invocations.to_string()),
        ("messages failed (redelivered)", failed.to_string()),
        ("first poll → last batch settled, s", format!("{secs:.1}")),
        (
            "of which inside the function, s",
            format!("{:.1}", busy.as_secs_f64()),
        ),
        ("declarations/s", format!("{rate:.1}")),
    ] {
        println!("{name:<44} | {value:>12}");
    }
    println!(
        "declarations/s {rate:.1} vs target {RATE_TARGET}: {} ({:.2}× the target); the function's share of the drain: {:.0} % (the rest is the harness's SQS receive and delete against moto)",
        artifact_startup::verdict(rate >= RATE_TARGET),
        rate / RATE_TARGET,
        100.0 * busy.as_secs_f64() / secs.max(1e-9)
    );
    ensure!(
        done == count,
        "only {done} of {count} objects were declared"
    );
    Ok(())
}
