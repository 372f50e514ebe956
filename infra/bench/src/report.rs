//! The memory and wall-time tables of the declarations.

use super::*;

pub(crate) fn print_memory(idle_hwm: u64, tiny: &Declaration, rows: &[SizeRow]) {
    let mib = |b: u64| b as f64 / MIB as f64;
    println!();
    println!(
        "== 1. Peak RSS of the declare process (VmHWM from /proc/PID/status after the declaration; fresh process per size) target: <= {MEMORY_TARGET_MIB} MiB and flat"
    );
    println!(
        "{:<32} | {:>10} | {:>12} | {:>14} | {:>18}",
        "declare process", "VmHWM MiB", "vs 1 KiB", "VmRSS after MiB", "baseline procs MiB"
    );
    println!("{}", "-".repeat(98));
    println!(
        "{:<32} | {:>10.1} | {:>12} | {:>14} | {:>18}",
        "started, polled once (baseline)",
        mib(idle_hwm),
        "",
        "",
        ""
    );
    println!(
        "{:<32} | {:>10.1} | {:>12} | {:>14.1} | {:>18}",
        "same process, 1 KiB (baseline)",
        mib(tiny.hwm),
        "1.00",
        mib(tiny.rss_after),
        ""
    );
    for r in rows {
        let hwm = r.decl.iter().map(|d| d.hwm).max().unwrap_or(0);
        let rss = r.decl.iter().map(|d| d.rss_after).max().unwrap_or(0);
        let s3 = r.s3.iter().map(|b| b.hwm).max().unwrap_or(0);
        let ot = r.ot.iter().map(|b| b.hwm).max().unwrap_or(0);
        println!(
            "{:<32} | {:>10.1} | {:>12.2} | {:>14.1} | {:>18}",
            format!("fresh process, {} MiB", r.size / MIB),
            mib(hwm),
            hwm as f64 / tiny.hwm.max(1) as f64,
            mib(rss),
            format!("(a) {:.1} (b) {:.1}", mib(s3), mib(ot))
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        let peak = |r: &SizeRow| r.decl.iter().map(|d| d.hwm).max().unwrap_or(0);
        let ratio = peak(last) as f64 / peak(first).max(1) as f64;
        let worst = rows.iter().map(peak).max().unwrap_or(0);
        println!(
            "ratio {} MiB / {} MiB: {ratio:.2}; largest peak {:.1} MiB vs target {MEMORY_TARGET_MIB} MiB: {}",
            last.size / MIB,
            first.size / MIB,
            mib(worst),
            verdict(mib(worst) <= MEMORY_TARGET_MIB)
        );
    }
    println!(
        "(baseline procs: peak RSS of the child processes that ran (a) the S3 read alone and (b) the OpenText upload alone)"
    );
}

/// Every run of one size, when there were several.
fn print_runs(r: &SizeRow) {
    let list = |v: Vec<f64>| {
        v.iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "{:>8}   runs: declaration {} | (a) {} | (b) {}",
        "",
        list(r.decl.iter().map(|d| d.wall.as_secs_f64()).collect()),
        list(r.s3.iter().map(|b| b.secs).collect()),
        list(r.ot.iter().map(|b| b.secs).collect())
    );
}

pub(crate) fn print_wall(rows: &[SizeRow]) {
    println!();
    println!(
        "== 2. Wall time of one declaration vs (a) S3 GetObject alone streamed to a sink and (b) opentext-client create_document alone (generated stream) target: ratio <= {WALL_TARGET}"
    );
    println!(
        "{:>8} | {:>13} | {:>17} | {:>17} | {:>9} | {:>6} | verdict | {:>11} | {:>5}",
        "object",
        "declaration s",
        "(a) S3 read s",
        "(b) OT upload s",
        "max(a,b)",
        "ratio",
        "whole poll s",
        "ratio"
    );
    println!("{}", "-".repeat(124));
    let rate = |size: u64, s: f64| size as f64 / MIB as f64 / s.max(1e-9);
    for r in rows {
        let d = median(
            &r.decl
                .iter()
                .map(|d| d.wall.as_secs_f64())
                .collect::<Vec<_>>(),
        );
        let poll = median(
            &r.decl
                .iter()
                .map(|d| d.poll.as_secs_f64())
                .collect::<Vec<_>>(),
        );
        let a = median(&r.s3.iter().map(|b| b.secs).collect::<Vec<_>>());
        let b = median(&r.ot.iter().map(|b| b.secs).collect::<Vec<_>>());
        let base = a.max(b);
        let ratio = d / base.max(1e-9);
        let target = if r.size >= 64 * MIB {
            verdict(ratio <= WALL_TARGET)
        } else {
            "(not a target size)"
        };
        println!(
            "{:>4} MiB | {:>13.3} | {:>7.3} ({:>4.0}/s) | {:>7.3} ({:>4.0}/s) | {:>9.3} | {:>6.2} | {target} | {:>12.3} | {:>5.2}",
            r.size / MIB,
            d,
            a,
            rate(r.size, a),
            b,
            rate(r.size, b),
            base,
            ratio,
            poll,
            poll / base.max(1e-9)
        );
        if r.decl.len() > 1 {
            print_runs(r);
        }
        // moto reads a whole object into memory before it sends the first byte, so a
        // declaration, which cannot upload a byte before it has received it, waits that
        // long before its upload can even start: (a)'s first byte + (b) is a floor.
        let first_byte = median(&r.s3.iter().map(|b| b.first_byte_secs).collect::<Vec<_>>());
        println!(
            "{:>8}   (a)'s first byte after {first_byte:.3} s ({:.0}% of (a)); floor for any streaming declaration here: first byte + (b) = {:.3} s = {:.2}x",
            "",
            100.0 * first_byte / a.max(1e-9),
            first_byte + b,
            (first_byte + b) / base.max(1e-9)
        );
    }
    println!(
        "(declaration: the invocation, from the event handed to the function to its answer, as Lambda times it; whole poll: adds the event source's SQS receive and delete. The process is fresh, so both include the OpenText sign-in, as (b) does. Rates in MiB/s; medians when --wall-runs > 1, order alternated)"
    );
}
