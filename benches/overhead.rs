//! Overhead of `#[hookflow::step]` against the plain function, the
//! hand-written equivalent, and `#[tracing::instrument]`, measured side by
//! side in one run (spec §6).
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --bench overhead
//! python3 benches/summarize.py          # ratios -> benches/RESULTS.md
//! ```
//!
//! Every variant runs the same body (`x.wrapping_add(1)`, or returning
//! `Err(OddInput(x))` on the error path); the input goes through
//! `black_box` and criterion `black_box`es (then drops) every output, so the
//! cost of dropping an error value is part of each error-path number.
//!
//! The hand-written equivalents really *call* their hook: it is reached
//! through a `black_box`ed function pointer and receives a small context (the
//! name and both timestamps, and the error on the error path), so the
//! compiler can neither inline nor drop the call; hookflow stores hooks
//! type-erased, so it cannot inline them either.
//!
//! No `tracing` subscriber is installed: `#[tracing::instrument]` and
//! hookflow's own spans and events take their disabled fast path.

use std::hint::black_box;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use futures::FutureExt as _;

// ----- the shared bodies and hooks ----------------------------------------

/// The error every error-path variant returns.
#[derive(Debug, thiserror::Error)]
#[error("odd input {0}")]
pub struct OddInput(u64);

/// hookflow's no-op hook.
fn noop() {}

// ----- (a) plain functions -------------------------------------------------

fn plain_add(x: u64) -> u64 {
    x.wrapping_add(1)
}

fn plain_fail(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

async fn plain_add_async(x: u64) -> u64 {
    x.wrapping_add(1)
}

async fn plain_fail_async(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

// ----- (b) hand-written equivalents ----------------------------------------

/// What a hand-written hook receives.
pub struct HandCtx<'a> {
    pub name: &'static str,
    pub started: Instant,
    pub finished: Instant,
    pub error: Option<&'a HandError>,
}

/// A hand-written step error: shared, keeps the source and its message
/// (the same work as building a `hookflow::StepError`).
#[derive(Clone, Debug)]
pub struct HandError(#[allow(dead_code)] Arc<HandErrorInner>);

#[derive(Debug)]
#[allow(dead_code)]
pub struct HandErrorInner {
    name: &'static str,
    message: String,
    source: Option<anyhow::Error>,
}

impl HandError {
    fn from_error(name: &'static str, e: impl Into<anyhow::Error>) -> Self {
        let e: anyhow::Error = e.into();
        let message = format!("{e:#}");
        HandError(Arc::new(HandErrorInner {
            name,
            message,
            source: Some(e),
        }))
    }

    fn from_panic(name: &'static str, payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        HandError(Arc::new(HandErrorInner {
            name,
            message,
            source: None,
        }))
    }
}

type HandHook = for<'a, 'b> fn(&'a HandCtx<'b>);

fn hand_noop(_: &HandCtx<'_>) {}

/// The hook, called for real (not inlined away).
#[inline(always)]
fn hand_hook() -> HandHook {
    black_box(hand_noop as HandHook)
}

fn hand_add(x: u64) -> Result<u64, HandError> {
    let started = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| x.wrapping_add(1)));
    let finished = Instant::now();
    match r {
        Ok(v) => {
            let ctx = HandCtx {
                name: "hand_add",
                started,
                finished,
                error: None,
            };
            hand_hook()(&ctx);
            Ok(v)
        }
        Err(p) => Err(HandError::from_panic("hand_add", &*p)),
    }
}

fn hand_fail(x: u64) -> Result<u64, HandError> {
    let started = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<u64, OddInput> {
        Err(OddInput(x))
    }));
    let finished = Instant::now();
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            let err = HandError::from_error("hand_fail", e);
            let ctx = HandCtx {
                name: "hand_fail",
                started,
                finished,
                error: Some(&err),
            };
            hand_hook()(&ctx);
            Err(err)
        }
        Err(p) => Err(HandError::from_panic("hand_fail", &*p)),
    }
}

async fn hand_add_async(x: u64) -> Result<u64, HandError> {
    let started = Instant::now();
    let r = AssertUnwindSafe(async move { x.wrapping_add(1) })
        .catch_unwind()
        .await;
    let finished = Instant::now();
    match r {
        Ok(v) => {
            let ctx = HandCtx {
                name: "hand_add_async",
                started,
                finished,
                error: None,
            };
            hand_hook()(&ctx);
            Ok(v)
        }
        Err(p) => Err(HandError::from_panic("hand_add_async", &*p)),
    }
}

async fn hand_fail_async(x: u64) -> Result<u64, HandError> {
    let started = Instant::now();
    let r = AssertUnwindSafe(async move { Err::<u64, _>(OddInput(x)) })
        .catch_unwind()
        .await;
    let finished = Instant::now();
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            let err = HandError::from_error("hand_fail_async", e);
            let ctx = HandCtx {
                name: "hand_fail_async",
                started,
                finished,
                error: Some(&err),
            };
            hand_hook()(&ctx);
            Err(err)
        }
        Err(p) => Err(HandError::from_panic("hand_fail_async", &*p)),
    }
}

// ----- (c) #[tracing::instrument], no subscriber ---------------------------

#[tracing::instrument]
fn traced_add(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[tracing::instrument(err)]
fn traced_fail(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

#[tracing::instrument]
async fn traced_add_async(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[tracing::instrument(err)]
async fn traced_fail_async(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

// ----- hookflow -------------------------------------------------------------

#[hookflow::step(on_success = noop)]
fn hf_add(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step(on_failure = noop)]
fn hf_fail(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

#[hookflow::step(on_success = noop)]
async fn hf_add_async(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step(on_failure = noop)]
async fn hf_fail_async(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

#[hookflow::pipeline]
fn hf_pipeline(n: u64) -> anyhow::Result<u64> {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(hf_add(black_box(i))?);
    }
    Ok(acc)
}

// ----- the benchmarks -------------------------------------------------------

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .noise_threshold(0.03)
        .without_plots()
}

/// What the hand-written wrappers mostly cost: two reads of the monotonic
/// clock (the spec's "timing").
fn clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("baseline");
    g.bench_function("instant_now_x2", |b| {
        b.iter(|| {
            let start = Instant::now();
            let end = Instant::now();
            black_box((start, end))
        })
    });
    g.finish();
}

fn sync_steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("sync_success");
    g.bench_function("plain", |b| b.iter(|| plain_add(black_box(7))));
    g.bench_function("hand_written", |b| b.iter(|| hand_add(black_box(7))));
    g.bench_function("tracing_instrument", |b| {
        b.iter(|| traced_add(black_box(7)))
    });
    g.bench_function("hookflow", |b| b.iter(|| hf_add(black_box(7))));
    g.finish();

    let mut g = c.benchmark_group("sync_error");
    g.bench_function("plain", |b| b.iter(|| plain_fail(black_box(7))));
    g.bench_function("hand_written", |b| b.iter(|| hand_fail(black_box(7))));
    g.bench_function("tracing_instrument", |b| {
        b.iter(|| traced_fail(black_box(7)))
    });
    g.bench_function("hookflow", |b| b.iter(|| hf_fail(black_box(7))));
    g.finish();
}

fn async_steps(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");

    let mut g = c.benchmark_group("async_success");
    g.bench_function("plain", |b| {
        b.to_async(&rt).iter(|| plain_add_async(black_box(7)))
    });
    g.bench_function("hand_written", |b| {
        b.to_async(&rt).iter(|| hand_add_async(black_box(7)))
    });
    g.bench_function("tracing_instrument", |b| {
        b.to_async(&rt).iter(|| traced_add_async(black_box(7)))
    });
    g.bench_function("hookflow", |b| {
        b.to_async(&rt).iter(|| hf_add_async(black_box(7)))
    });
    g.finish();

    let mut g = c.benchmark_group("async_error");
    g.bench_function("plain", |b| {
        b.to_async(&rt).iter(|| plain_fail_async(black_box(7)))
    });
    g.bench_function("hand_written", |b| {
        b.to_async(&rt).iter(|| hand_fail_async(black_box(7)))
    });
    g.bench_function("tracing_instrument", |b| {
        b.to_async(&rt).iter(|| traced_fail_async(black_box(7)))
    });
    g.bench_function("hookflow", |b| {
        b.to_async(&rt).iter(|| hf_fail_async(black_box(7)))
    });
    g.finish();
}

/// Per-step cost inside a pipeline: `n` steps in one run, against the same
/// `n` step calls outside a pipeline and `n` hand-written calls.
fn pipelines(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline");
    for n in [10u64, 1_000, 100_000] {
        g.throughput(Throughput::Elements(n));
        if n >= 100_000 {
            g.sample_size(10).measurement_time(Duration::from_secs(4));
        }
        g.bench_with_input(BenchmarkId::new("hand_written_loop", n), &n, |b, &n| {
            b.iter(|| {
                let mut acc = 0u64;
                for i in 0..n {
                    acc = acc.wrapping_add(hand_add(black_box(i)).unwrap());
                }
                acc
            })
        });
        g.bench_with_input(BenchmarkId::new("hookflow_no_pipeline", n), &n, |b, &n| {
            b.iter(|| {
                let mut acc = 0u64;
                for i in 0..n {
                    acc = acc.wrapping_add(hf_add(black_box(i)).unwrap());
                }
                acc
            })
        });
        g.bench_with_input(BenchmarkId::new("hookflow_pipeline", n), &n, |b, &n| {
            b.iter(|| hf_pipeline(black_box(n)).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = clock, sync_steps, async_steps, pipelines
}

fn main() {
    // anyhow captures a backtrace for every error when `RUST_BACKTRACE=1` is
    // inherited (several µs, far more than anything measured here, on both
    // the hand-written and the hookflow error paths). Measure without, unless
    // asked for explicitly with `RUST_LIB_BACKTRACE=1`.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // Edition 2021: safe; no other thread runs yet.
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
        eprintln!("overhead: RUST_LIB_BACKTRACE unset, measuring with RUST_LIB_BACKTRACE=0");
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
