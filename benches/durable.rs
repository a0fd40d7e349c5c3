//! What a durable pipeline step costs over the same step in a plain
//! pipeline (spec §6: at most 10 µs more on the embedded journal, no fsync
//! per step, every record in the kernel's hands before the next action).
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --features journal --bench durable
//! ```
//!
//! Both variants call the same `#[step]` with a no-op `on_success` hook
//! inside one long pipeline run: `plain` in a `#[pipeline]`, `durable` in a
//! `#[pipeline(durable)]`, whose every step writes its three groups of
//! records (start; outcome with the hook's intent; the hook's outcome with
//! the close) to the embedded journal in a scratch directory under the
//! bench's target directory (a real disk, not a tmpfs).

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;

fn noop() {}

#[hookflow::step(on_success = noop)]
fn add(x: u64) -> anyhow::Result<u64> {
    Ok(x.wrapping_add(1))
}

#[hookflow::pipeline]
fn plain(c: &mut Criterion) -> anyhow::Result<()> {
    c.bench_function("pipeline_step/plain", |b| {
        b.iter(|| add(black_box(1)).unwrap())
    });
    Ok(())
}

#[hookflow::pipeline(durable)]
fn durable(c: &mut Criterion) -> anyhow::Result<()> {
    c.bench_function("pipeline_step/durable", |b| {
        b.iter(|| add(black_box(1)).unwrap())
    });
    Ok(())
}

fn main() {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("durable-bench-journal")))
        .unwrap_or_else(|| std::env::temp_dir().join("hookflow-durable-bench"));
    let _ = std::fs::remove_dir_all(&dir);
    hookflow::use_journal(hookflow::journal::FileJournal::new(&dir));
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    // Side by side, twice, so that a drift of the machine shows.
    for _ in 0..2 {
        plain(&mut c).unwrap();
        durable(&mut c).unwrap();
    }
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
}
