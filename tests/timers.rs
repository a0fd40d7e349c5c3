//! Timeouts, retry delays and async hook time bounds on runtimes without
//! Tokio's timer: they work, and nothing panics on the way (the process's
//! panic hook sees no panic at all).
//!
//! One test in this binary: the panic hook it installs is process-global.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{on_failure, on_finish, on_retry, record, take};
use hookflow::{step, ErrorKind, HookContext, HookStatus, Run};

async fn async_success(ctx: &HookContext) {
    record(&common::key(ctx), "async-success");
}

#[step(on_success = [async_success, on_finish], timeout = "1s", retries = 1, retry_delay = "1ms")]
async fn quick(fail_first: bool) -> anyhow::Result<u32> {
    let attempt = hookflow::current().unwrap().attempt();
    anyhow::ensure!(!(fail_first && attempt == 1), "first attempt fails");
    Ok(7)
}

#[step(timeout = "30ms", retries = 1, on_retry = on_retry, on_failure = on_failure, on_finish = on_finish)]
async fn hangs() -> u32 {
    std::future::pending::<u32>().await
}

async fn slow_hook() {
    std::future::pending::<()>().await
}

#[step(on_success = slow_hook)]
async fn with_slow_hook() -> u32 {
    1
}

#[hookflow::pipeline]
async fn slow_hook_run() -> anyhow::Result<u32> {
    Ok(with_slow_hook().await?)
}

fn no_timer_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn block_on_futures<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

#[test]
fn bounds_work_without_tokio_timers_and_the_panic_hook_sees_nothing() {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    std::panic::set_hook(Box::new(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    }));

    // A Tokio runtime without `enable_time`: `timeout`, `retry_delay` and
    // an async hook, on the success path after one retry.
    let rt = no_timer_runtime();
    assert_eq!(rt.block_on(quick(true)).unwrap(), 7);
    assert_eq!(take("quick"), ["async-success", "finish:completed"]);

    // The timeout really fires there, and is retried.
    let started = Instant::now();
    let err = rt.block_on(hangs()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.attempt(), 2);
    assert!(started.elapsed() >= Duration::from_millis(60));
    assert_eq!(
        take("hangs"),
        [
            "retry#1:timeout",
            "failure:timeout:timed out after 30ms",
            "finish:failed"
        ]
    );

    // An async hook that never ends is stopped at the run's bound.
    let report = rt.block_on(
        Run::new()
            .hook_timeout(Duration::from_millis(20))
            .execute_async(slow_hook_run()),
    );
    assert_eq!(*report.output().as_ref().unwrap(), 1);
    let outcomes = report.hook_outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].status(),
        &HookStatus::TimedOut(Duration::from_millis(20))
    );

    // No Tokio runtime at all.
    assert_eq!(block_on_futures(quick(true)).unwrap(), 7);
    assert_eq!(take("quick"), ["async-success", "finish:completed"]);
    let err = block_on_futures(hangs()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    take("hangs");

    let _ = std::panic::take_hook();
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "the panic hook saw a panic"
    );
}
