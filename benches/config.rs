//! A step whose hooks come from an installed configuration file against the
//! same step with its hooks in the attribute, side by side in one run
//! (target: at most 1.1×).
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --bench config --features config
//! ```
//!
//! Both steps run the same body (`x.wrapping_add(1)`) and fire one
//! `on_success` hook (a relaxed counter increment, so that the run can
//! check that both hooks fired). Both are measured with the configuration
//! installed, so both pay for reading it; `attribute, nothing installed` is
//! the reference without any configuration. Then a paired run alternates
//! short batches of the two steps and prints the median ratio, which a
//! shared machine's load changes do not skew.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};

/// Calls of each hook: the paired run checks that both really fired.
static ATTR_CALLS: AtomicU64 = AtomicU64::new(0);
static CFG_CALLS: AtomicU64 = AtomicU64::new(0);

/// The hook attached by the attribute: one relaxed increment.
fn noop() {
    ATTR_CALLS.fetch_add(1, Ordering::Relaxed);
}

/// The same hook, registered by name for the file.
#[hookflow::hook]
pub fn noop_named() {
    CFG_CALLS.fetch_add(1, Ordering::Relaxed);
}

#[hookflow::step(on_success = noop)]
fn with_attribute_hook(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step]
fn with_configured_hook(x: u64) -> u64 {
    x.wrapping_add(1)
}

fn install() {
    hookflow::config::Config::from_toml_str(
        "bench.toml",
        "[steps.with_configured_hook]\non_success = [\"noop_named\"]\n",
    )
    .expect("the bench's configuration loads")
    .install();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60)
}

fn steps(c: &mut Criterion) {
    hookflow::config::uninstall();
    let mut g = c.benchmark_group("config_hooks");
    g.bench_function("attribute, nothing installed", |b| {
        b.iter(|| with_attribute_hook(black_box(7)))
    });
    install();
    g.bench_function("attribute", |b| {
        b.iter(|| with_attribute_hook(black_box(7)))
    });
    g.bench_function("configured", |b| {
        b.iter(|| with_configured_hook(black_box(7)))
    });
    g.finish();
    hookflow::config::uninstall();
}

criterion_group! {
    name = benches;
    config = config();
    targets = steps
}

/// The ratio measured pairwise: many short rounds that time a batch of each
/// step in turn (shorter than a scheduler time slice, so that another
/// process's load hits both alike); the median of the per-round ratios, and
/// the ratio of the fastest batches.
fn paired_ratio() {
    const BATCH: u32 = 500;
    const ROUNDS: usize = 20_001;
    fn batch(f: fn(u64) -> Result<u64, hookflow::StepError>) -> Duration {
        let started = Instant::now();
        for i in 0..BATCH {
            let _ = black_box(f(black_box(u64::from(i))));
        }
        started.elapsed()
    }
    install();
    let before = (
        ATTR_CALLS.load(Ordering::Relaxed),
        CFG_CALLS.load(Ordering::Relaxed),
    );
    let mut ratios = Vec::with_capacity(ROUNDS);
    let (mut attr_best, mut cfg_best) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        let attr = batch(with_attribute_hook);
        let cfg = batch(with_configured_hook);
        attr_best = attr_best.min(attr);
        cfg_best = cfg_best.min(cfg);
        ratios.push(cfg.as_secs_f64() / attr.as_secs_f64());
    }
    hookflow::config::uninstall();
    let calls = ROUNDS as u64 * u64::from(BATCH);
    assert_eq!(
        ATTR_CALLS.load(Ordering::Relaxed) - before.0,
        calls,
        "the attribute hook fired"
    );
    assert_eq!(
        CFG_CALLS.load(Ordering::Relaxed) - before.1,
        calls,
        "the configured hook fired"
    );
    ratios.sort_by(f64::total_cmp);
    let per_call = |best: Duration| best.as_secs_f64() * 1e9 / f64::from(BATCH);
    println!(
        "config_hooks/paired: configured / attribute = {:.3} (median of {ROUNDS} paired rounds \
         of {BATCH} calls; quartiles {:.3} .. {:.3}); fastest batch per call: attribute {:.1} ns, \
         configured {:.1} ns, ratio {:.3}",
        ratios[ROUNDS / 2],
        ratios[ROUNDS / 4],
        ratios[3 * ROUNDS / 4],
        per_call(attr_best),
        per_call(cfg_best),
        cfg_best.as_secs_f64() / attr_best.as_secs_f64(),
    );
}

fn main() {
    benches();
    paired_ratio();
    Criterion::default().configure_from_args().final_summary();
}
