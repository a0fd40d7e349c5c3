//! Heap allocations per step call (spec §6: "no heap allocation outside a
//! pipeline").
//!
//! A counting `#[global_allocator]` counts only the allocations made on the
//! thread that switched counting on (a thread-local flag), so the other test
//! threads of the harness cannot disturb the numbers: the assertions are
//! exact counts, not timings. Run with `--nocapture` to see the numbers:
//!
//! ```text
//! cargo test --test alloc -- --nocapture
//! ```
//!
//! Each step builds its hook set once, on its first call: every measurement
//! starts after a warm-up call.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

// The counting allocator, shared with `benches/memory.rs`.
#[path = "../benches/support/counting.rs"]
mod counting;

use counting::count;

// ----- helpers -------------------------------------------------------------------

/// Polls a future to completion on this thread with a no-op waker: no
/// executor, so whatever allocates belongs to the future.
fn poll_to_end<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

// ----- the steps ---------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
#[error("odd input {0}")]
struct OddInput(u64);

fn noop() {}

fn ctx_hook(ctx: &hookflow::HookContext) {
    black_box(ctx.step_name());
}

#[hookflow::step(on_success = noop)]
fn add(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step(on_start = noop, on_success = [noop, ctx_hook], on_finish = ctx_hook)]
fn add_many_hooks(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step(on_failure = noop)]
fn fail(x: u64) -> Result<u64, OddInput> {
    Err(OddInput(x))
}

#[hookflow::step(on_success = noop)]
async fn add_async(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::pipeline]
fn steps_in_pipeline(n: u64) -> anyhow::Result<u64> {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(add(black_box(i))?);
    }
    Ok(acc)
}

const CALLS: u64 = 1_000;

// ----- outside a pipeline: zero ------------------------------------------------

#[test]
fn sync_step_success_allocates_nothing() {
    add(0).unwrap(); // builds the hook set
    let (_, stats) = count(|| {
        for i in 0..CALLS {
            black_box(add(black_box(i)).unwrap());
        }
    });
    println!("sync step, success, no pipeline: {stats:?} for {CALLS} calls");
    assert_eq!(stats.allocs, 0, "a sync step call allocated: {stats:?}");
}

#[test]
fn sync_step_with_several_hooks_allocates_nothing() {
    add_many_hooks(0).unwrap();
    let (_, stats) = count(|| {
        for i in 0..CALLS {
            black_box(add_many_hooks(black_box(i)).unwrap());
        }
    });
    println!("sync step, 4 hooks (on_start, 2x on_success, on_finish), success: {stats:?} for {CALLS} calls");
    assert_eq!(stats.allocs, 0, "a sync step call allocated: {stats:?}");
}

#[test]
fn async_step_polled_by_hand_allocates_nothing() {
    poll_to_end(add_async(0)).unwrap();
    let (_, stats) = count(|| {
        for i in 0..CALLS {
            black_box(poll_to_end(add_async(black_box(i))).unwrap());
        }
    });
    println!("async step, success, polled with a no-op waker: {stats:?} for {CALLS} calls");
    assert_eq!(stats.allocs, 0, "an async step call allocated: {stats:?}");
}

#[test]
fn async_step_on_current_thread_runtime_allocates_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(add_async(0)).unwrap();
    let (_, stats) = count(|| {
        rt.block_on(async {
            for i in 0..CALLS {
                black_box(add_async(black_box(i)).await.unwrap());
            }
        })
    });
    println!("async step, success, current-thread Tokio runtime: {stats:?} for {CALLS} calls (one block_on)");
    assert_eq!(stats.allocs, 0, "an async step call allocated: {stats:?}");
}

/// Not asserted: the error path allocates by design (the boxed
/// `anyhow::Error`, its formatted message, the shared `StepError`), and more
/// when `RUST_BACKTRACE`/`RUST_LIB_BACKTRACE` make anyhow capture a backtrace.
#[test]
fn sync_step_error_path_allocations_are_reported() {
    let _ = fail(0);
    let (_, stats) = count(|| {
        for i in 0..CALLS {
            black_box(fail(black_box(i)).unwrap_err());
        }
    });
    println!(
        "sync step, error path (on_failure fires), no pipeline: {:.2} allocations, {:.0} bytes per call (RUST_BACKTRACE={:?}, RUST_LIB_BACKTRACE={:?})",
        stats.allocs as f64 / CALLS as f64,
        stats.bytes as f64 / CALLS as f64,
        std::env::var("RUST_BACKTRACE").ok(),
        std::env::var("RUST_LIB_BACKTRACE").ok(),
    );
}

// ----- inside a pipeline: bounded, linear --------------------------------------

/// A step inside a pipeline records the outcome of each of its hooks on the
/// run (`RunReport::hook_outcomes`), so the run's memory grows with its
/// steps; everything else a step needs is borrowed or shared.
///
/// Bound: at most 1 allocation per step (amortised: the outcome list grows
/// by doubling) and at most 256 bytes of peak memory per step (one
/// `HookOutcome` per hook call, with the list's spare capacity).
#[test]
fn steps_in_a_pipeline_allocate_a_bounded_amount() {
    steps_in_pipeline(1).unwrap();
    let (_, empty) = count(|| steps_in_pipeline(black_box(0)).unwrap());
    println!("pipeline run itself (0 steps): {empty:?}");
    for n in [10u64, 1_000, 100_000] {
        let (_, stats) = count(|| steps_in_pipeline(black_box(n)).unwrap());
        let allocs = (stats.allocs - empty.allocs) as f64 / n as f64;
        let bytes = (stats.bytes - empty.bytes) as f64 / n as f64;
        let peak = (stats.peak - empty.peak) as f64 / n as f64;
        println!(
            "pipeline of {n:>6} steps: {stats:?}; per step: {allocs:.3} allocations, \
             {bytes:.1} bytes allocated, {peak:.1} bytes peak"
        );
        if n >= 1_000 {
            assert!(
                allocs <= 1.0,
                "{allocs} allocations per step in a pipeline of {n}"
            );
            assert!(
                peak <= 256.0,
                "{peak} bytes of peak memory per step in a pipeline of {n}"
            );
        }
    }
}
