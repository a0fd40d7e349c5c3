//! Memory per step inside a pipeline, with a counting global allocator.
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --bench memory
//! ```
//!
//! Prints, for runs of 10, 1 000 and 100 000 steps (each with one no-op
//! `on_success` hook), the heap allocations and bytes per step, and the peak
//! of live heap memory per step, net of an empty run. With
//! `HOOKFLOW_MEMORY_JSON=path` it also writes them as JSON (read by
//! `benches/summarize.py`). Not timed.

use std::hint::black_box;

#[path = "support/counting.rs"]
mod counting;

use counting::{count, Stats};

fn noop() {}

#[hookflow::step(on_success = noop)]
fn add(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step(on_success = noop)]
async fn add_async(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::pipeline]
fn sync_pipeline(n: u64) -> anyhow::Result<u64> {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(add(black_box(i))?);
    }
    Ok(acc)
}

#[hookflow::pipeline]
async fn async_pipeline(n: u64) -> anyhow::Result<u64> {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(add_async(black_box(i)).await?);
    }
    Ok(acc)
}

struct Row {
    kind: &'static str,
    steps: u64,
    total: Stats,
    allocs_per_step: f64,
    bytes_per_step: f64,
    peak_per_step: f64,
}

fn row(kind: &'static str, steps: u64, total: Stats, empty: Stats) -> Row {
    let n = steps as f64;
    Row {
        kind,
        steps,
        total,
        allocs_per_step: (total.allocs - empty.allocs) as f64 / n,
        bytes_per_step: (total.bytes - empty.bytes) as f64 / n,
        peak_per_step: (total.peak - empty.peak) as f64 / n,
    }
}

fn main() {
    let sizes = [10u64, 1_000, 100_000];
    let mut rows = Vec::new();

    sync_pipeline(1).unwrap(); // builds the hook sets
    let (_, empty) = count(|| sync_pipeline(black_box(0)).unwrap());
    for n in sizes {
        let (_, total) = count(|| sync_pipeline(black_box(n)).unwrap());
        rows.push(row("sync", n, total, empty));
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    rt.block_on(async_pipeline(1)).unwrap();
    let (_, empty_async) = count(|| rt.block_on(async_pipeline(black_box(0))).unwrap());
    for n in sizes {
        let (_, total) = count(|| rt.block_on(async_pipeline(black_box(n))).unwrap());
        rows.push(row("async", n, total, empty_async));
    }

    println!("\nhookflow: heap memory of a pipeline run, per step (net of an empty run)");
    println!("empty run: sync {empty:?}, async {empty_async:?}\n");
    println!("| pipeline | steps | allocations / step | bytes allocated / step | peak live bytes / step |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.3} | {:.1} | {:.1} |",
            r.kind, r.steps, r.allocs_per_step, r.bytes_per_step, r.peak_per_step
        );
    }
    println!();

    if let Some(path) = std::env::var_os("HOOKFLOW_MEMORY_JSON") {
        let json: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "pipeline": r.kind,
                    "steps": r.steps,
                    "allocs": r.total.allocs,
                    "bytes": r.total.bytes,
                    "peak": r.total.peak,
                    "allocs_per_step": r.allocs_per_step,
                    "bytes_per_step": r.bytes_per_step,
                    "peak_per_step": r.peak_per_step,
                })
            })
            .collect();
        std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap())
            .expect("writing HOOKFLOW_MEMORY_JSON");
    }
}
