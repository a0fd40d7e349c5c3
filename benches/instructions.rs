//! Instructions per call, counted by callgrind: a measure that other load
//! on the machine does not disturb. `benches/instructions.sh` builds this
//! program, runs each variant under `valgrind --tool=callgrind` and prints
//! the counts per call and their ratios; the timings of `benches/overhead.rs`
//! say what they cost in time.
//!
//! Each variant runs N calls of the same body (`x.wrapping_add(1)`) with a
//! no-op success hook; `none` runs nothing and is subtracted (start-up).
//! The hand-written wrapper is the spec's: `catch_unwind` + two
//! `Instant::now` + a call of the hook through a `black_box`ed pointer.

use std::hint::black_box;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

fn noop() {}

#[hookflow::step(on_success = noop)]
fn add(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step]
fn add_bare(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step(on_success = noop)]
async fn add_async(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::pipeline]
fn in_pipeline(n: u64) -> anyhow::Result<u64> {
    let mut acc = 0u64;
    for i in 0..n {
        acc = acc.wrapping_add(add(black_box(i))?);
    }
    Ok(acc)
}

struct HandCtx {
    _name: &'static str,
    _started: Instant,
    _finished: Instant,
}

fn hand_noop(_: &HandCtx) {}

#[inline(never)]
fn hand(x: u64) -> Option<u64> {
    let started = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| x.wrapping_add(1)));
    let finished = Instant::now();
    let v = r.ok()?;
    let hook: fn(&HandCtx) = black_box(hand_noop);
    hook(&HandCtx {
        _name: "hand",
        _started: started,
        _finished: finished,
    });
    Some(v)
}

#[inline(never)]
async fn hand_async(x: u64) -> Option<u64> {
    use futures::FutureExt as _;
    let started = Instant::now();
    let r = AssertUnwindSafe(async move { x.wrapping_add(1) })
        .catch_unwind()
        .await;
    let finished = Instant::now();
    let v = r.ok()?;
    let hook: fn(&HandCtx) = black_box(hand_noop);
    hook(&HandCtx {
        _name: "hand_async",
        _started: started,
        _finished: finished,
    });
    Some(v)
}

/// Polls `f` to its end with a no-op waker (no executor in the count).
fn poll_to_end<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let Some(mode) = args.next() else {
        // Run by `cargo bench` without arguments: nothing to measure here.
        eprintln!("usage: instructions MODE [N]; see benches/instructions.sh");
        return;
    };
    let n: u64 = args.next().map_or(10_000, |s| s.parse().expect("a count"));
    let mut acc = 0u64;
    match mode.as_str() {
        "none" => {}
        "hand" => (0..n).for_each(|i| acc = acc.wrapping_add(hand(black_box(i)).unwrap())),
        // Awaited from an async caller, as a user's code does (which counts
        // moving each call's future into the caller's state).
        "hand_async" => {
            acc = poll_to_end(async {
                let mut acc = 0u64;
                for i in 0..n {
                    acc = acc.wrapping_add(hand_async(black_box(i)).await.unwrap());
                }
                acc
            })
        }
        "bare" => (0..n).for_each(|i| acc = acc.wrapping_add(add_bare(black_box(i)).unwrap())),
        "sync" => (0..n).for_each(|i| acc = acc.wrapping_add(add(black_box(i)).unwrap())),
        "async" => {
            acc = poll_to_end(async {
                let mut acc = 0u64;
                for i in 0..n {
                    acc = acc.wrapping_add(add_async(black_box(i)).await.unwrap());
                }
                acc
            })
        }
        "pipeline" => acc = in_pipeline(n).unwrap(),
        other => panic!("unknown mode {other}"),
    }
    black_box(acc);
}
