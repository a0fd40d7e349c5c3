//! Alert hooks cost nothing where they do not fire: a step with
//! `on_failure = alert_on_failure()` allocates nothing on its success path
//! (counted by a thread-local counting allocator, as in `tests/alloc.rs`).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[path = "../benches/support/counting.rs"]
mod counting;

use counting::count;
use hookflow::hooks;

const CALLS: u64 = 1_000;

fn poll_to_end<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[hookflow::step(on_failure = hooks::alert_on_failure(), on_retry = hooks::log())]
fn cost_sync(x: u64) -> anyhow::Result<u64> {
    Ok(x.wrapping_add(1))
}

#[hookflow::step(on_failure = [hooks::alert_on_failure(), hooks::log()])]
async fn cost_async(x: u64) -> anyhow::Result<u64> {
    Ok(x.wrapping_add(1))
}

#[test]
fn a_sync_step_with_an_alert_hook_allocates_nothing_on_success() {
    cost_sync(0).unwrap(); // builds the hook set
    let (_, stats) = count(|| {
        for i in 0..CALLS {
            black_box(cost_sync(black_box(i)).unwrap());
        }
    });
    assert_eq!(stats.allocs, 0, "{stats:?}");
}

#[test]
fn an_async_step_with_an_alert_hook_allocates_nothing_on_success() {
    poll_to_end(cost_async(0)).unwrap();
    let (_, stats) = count(|| {
        for i in 0..CALLS {
            black_box(poll_to_end(cost_async(black_box(i))).unwrap());
        }
    });
    assert_eq!(stats.allocs, 0, "{stats:?}");
}
