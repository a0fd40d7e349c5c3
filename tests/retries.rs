//! Retries: `on_start` before each attempt, `on_retry` after each failed
//! attempt that will be retried, `on_failure` only after the last;
//! arguments cloned per attempt; `retry_delay` between attempts; timeouts
//! count as failed attempts.
// The per-attempt copies must leave the user's lint attributes as they are
// on a plain fn: an `#[expect]` they leave unfulfilled fails this file, and
// CI's clippy (`-D warnings`) fails on lints the copies cause.
#![deny(unfulfilled_lint_expectations)]
#![warn(clippy::no_effect_underscore_binding, clippy::used_underscore_binding)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{on_failure, on_finish, on_retry, on_start, on_success, take};
use hookflow::{current, step, ErrorKind};

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

#[step(retries = 3, on_start = on_start, on_retry = on_retry, on_success = on_success, on_failure = on_failure, on_finish = on_finish)]
fn flaky_fails(succeed_on: u32, mut log: Vec<u32>) -> anyhow::Result<Vec<u32>> {
    FLAKY_CALLS.fetch_add(1, Ordering::SeqCst);
    let attempt = current().unwrap().attempt();
    // Each attempt gets its own copy of the arguments.
    log.push(attempt);
    anyhow::ensure!(attempt >= succeed_on, "attempt {attempt} failed");
    Ok(log)
}

#[step(retries = 3, on_start = on_start, on_retry = on_retry, on_success = on_success, on_failure = on_failure, on_finish = on_finish)]
fn flaky(succeed_on: u32, mut log: Vec<u32>) -> anyhow::Result<Vec<u32>> {
    FLAKY_CALLS.fetch_add(1, Ordering::SeqCst);
    let attempt = current().unwrap().attempt();
    // Each attempt gets its own copy of the arguments.
    log.push(attempt);
    anyhow::ensure!(attempt >= succeed_on, "attempt {attempt} failed");
    Ok(log)
}

#[test]
fn retries_until_success_with_hooks_per_attempt() {
    let log = flaky(3, vec![0]).unwrap();
    assert_eq!(log, [0, 3], "arguments are cloned per attempt");
    assert_eq!(
        take("flaky"),
        [
            "start#1",
            "retry#1:error",
            "start#2",
            "retry#2:error",
            "start#3",
            "success",
            "finish:completed"
        ]
    );
}

#[test]
fn failure_fires_only_after_the_last_attempt() {
    let err = flaky_fails(99, vec![]).unwrap_err();
    assert_eq!(err.attempt(), 4);
    assert_eq!(err.message(), "attempt 4 failed");
    assert_eq!(
        take("flaky_fails"),
        [
            "start#1",
            "retry#1:error",
            "start#2",
            "retry#2:error",
            "start#3",
            "retry#3:error",
            "start#4",
            "failure:error:attempt 4 failed",
            "finish:failed"
        ]
    );
}

#[step(retries = 2, retry_delay = "40ms")]
fn delayed() -> anyhow::Result<()> {
    anyhow::bail!("always")
}

#[test]
fn retry_delay_passes_between_attempts() {
    let started = Instant::now();
    let err = delayed().unwrap_err();
    assert_eq!(err.attempt(), 3);
    assert!(started.elapsed() >= Duration::from_millis(80), "two delays");
}

#[step(retries = 2, timeout = "50ms", on_retry = on_retry, on_failure = on_failure, on_success = on_success)]
async fn slow_then_fast(sleep_ms: [u64; 3]) -> anyhow::Result<u32> {
    let attempt = current().unwrap().attempt();
    tokio::time::sleep(Duration::from_millis(sleep_ms[attempt as usize - 1])).await;
    Ok(attempt)
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_attempt_is_retried() {
    assert_eq!(slow_then_fast([1000, 1000, 10]).await.unwrap(), 3);
    assert_eq!(
        take("slow_then_fast"),
        ["retry#1:timeout", "retry#2:timeout", "success"]
    );
    let err = slow_then_fast([1000, 1000, 1000]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.message(), "timed out after 50ms");
    assert_eq!(
        take("slow_then_fast"),
        [
            "retry#1:timeout",
            "retry#2:timeout",
            "failure:timeout:timed out after 50ms"
        ]
    );
}

#[step(retries = 1, retry_delay = "1s")]
async fn async_delay() -> anyhow::Result<()> {
    anyhow::bail!("no")
}

#[tokio::test(start_paused = true)]
async fn async_retry_delay_uses_the_runtime_clock() {
    let before = tokio::time::Instant::now();
    async_delay().await.unwrap_err();
    assert_eq!(before.elapsed(), Duration::from_secs(1));
}

// ----- parameter shapes with `retries` ------------------------------------

/// Counts live copies: each attempt's copy is one more strong reference.
fn live(a: &std::sync::Arc<()>) -> usize {
    std::sync::Arc::strong_count(a)
}

#[step(retries = 1)]
#[allow(clippy::toplevel_ref_arg)] // the pattern under test
fn sync_refs(
    ref mut count: u32,
    (ref mut pair, _): (u32, u8),
    ref name: String,
) -> anyhow::Result<u32> {
    // Each attempt changes its own copies, never the caller's.
    *count += 1;
    *pair += 10;
    let name: &String = name;
    anyhow::ensure!(current().unwrap().attempt() == 2, "first attempt");
    Ok(*count + *pair + name.len() as u32)
}

#[step(retries = 1)]
#[allow(clippy::toplevel_ref_arg)] // the pattern under test
async fn async_refs(
    ref mut count: u32,
    (ref mut pair, _): (u32, u8),
    ref name: String,
) -> anyhow::Result<u32> {
    *count += 1;
    *pair += 10;
    let name: &String = name;
    tokio::task::yield_now().await;
    anyhow::ensure!(current().unwrap().attempt() == 2, "first attempt");
    Ok(*count + *pair + name.len() as u32)
}

#[test]
fn ref_and_ref_mut_parameters_bind_each_attempts_own_copy() {
    // Attempt 2 sees fresh copies (1 + 1, 2 + 10), not attempt 1's changes.
    assert_eq!(sync_refs(1, (2, 0), "abc".into()).unwrap(), 2 + 12 + 3);
    let v = futures::executor::block_on(async_refs(1, (2, 0), "abc".into())).unwrap();
    assert_eq!(v, 2 + 12 + 3);
}

#[step(retries = 0)]
fn sync_holds(
    _permit: std::sync::Arc<()>,
    (_a, b): (std::sync::Arc<()>, u8),
    seen: std::sync::Arc<()>,
) -> usize {
    let _ = b;
    live(&seen)
}

#[step(retries = 0)]
async fn async_holds(
    _permit: std::sync::Arc<()>,
    (_a, b): (std::sync::Arc<()>, u8),
    seen: std::sync::Arc<()>,
) -> usize {
    let _ = b;
    tokio::task::yield_now().await;
    live(&seen)
}

#[test]
fn an_attempt_holds_its_copies_of_unused_parameters_until_it_ends() {
    let p = std::sync::Arc::new(());
    // The caller's `p`, the three arguments, and the attempt's three copies.
    let sync = sync_holds(p.clone(), (p.clone(), 0), p.clone()).unwrap();
    let fut = async_holds(p.clone(), (p.clone(), 0), p.clone());
    let async_ = futures::executor::block_on(fut).unwrap();
    assert_eq!(sync, 7);
    assert_eq!(async_, 7);
    assert_eq!(live(&p), 1);
}

#[step(retries = 1)]
fn expects_unused(x: u32, #[expect(unused_variables)] y: u32) -> u32 {
    x
}

#[step(retries = 1)]
async fn expects_unused_async(x: u32, #[expect(unused_variables)] y: u32) -> u32 {
    x
}

#[test]
fn an_expected_lint_on_a_parameter_is_fulfilled_once() {
    // Compiling this file with `-D warnings` (as CI does) is the test: an
    // unfulfilled `#[expect]` would be a warning.
    assert_eq!(expects_unused(1, 2).unwrap(), 1);
    assert_eq!(
        futures::executor::block_on(expects_unused_async(3, 4)).unwrap(),
        3
    );
}

#[step(retries = 1)]
fn expects_unused_part(#[expect(unused_variables)] (a, b): (u32, u32)) -> u32 {
    a
}

#[step(retries = 1)]
async fn expects_unused_part_async(#[expect(unused_variables)] (a, b): (u32, u32)) -> u32 {
    a
}

#[step(retries = 1)]
fn expects_unused_mut(#[expect(unused_mut)] mut x: u32) -> u32 {
    x
}

#[step(retries = 1)]
async fn expects_unused_mut_async(#[expect(unused_mut)] mut x: u32) -> u32 {
    x
}

#[step(retries = 1)]
fn expects_through_cfg_attr(x: u32, #[cfg_attr(all(), expect(unused_variables))] y: u32) -> u32 {
    x
}

#[step(retries = 1)]
async fn expects_through_cfg_attr_async(
    x: u32,
    #[cfg_attr(all(), expect(unused_variables))] y: u32,
) -> u32 {
    x
}

#[step(retries = 1)]
async fn holds_a_guard_async(_guard: std::sync::Arc<()>, (_a, b): (u8, u8)) -> u8 {
    b
}

#[test]
fn expectations_on_patterns_mut_and_cfg_attr_are_fulfilled_as_on_a_plain_fn() {
    // The file's `deny(unfulfilled_lint_expectations)` is what this tests:
    // the expectation on `(a, b)` is met by `b` alone, the one on `mut x`
    // by the copy's unused `mut`, the one inside `cfg_attr` once.
    assert_eq!(expects_unused_part((1, 2)).unwrap(), 1);
    assert_eq!(expects_unused_mut(3).unwrap(), 3);
    assert_eq!(expects_through_cfg_attr(4, 5).unwrap(), 4);
    use futures::executor::block_on;
    assert_eq!(block_on(expects_unused_part_async((6, 7))).unwrap(), 6);
    assert_eq!(block_on(expects_unused_mut_async(8)).unwrap(), 8);
    assert_eq!(block_on(expects_through_cfg_attr_async(9, 10)).unwrap(), 9);
    let guard = std::sync::Arc::new(());
    assert_eq!(
        block_on(holds_a_guard_async(guard.clone(), (1, 2))).unwrap(),
        2
    );
    assert_eq!(std::sync::Arc::strong_count(&guard), 1);
}

// ----- cancellation during the retry delay --------------------------------

#[step(retries = 2, retry_delay = "3s", on_start = on_start, on_retry = on_retry, on_cancel = common::on_cancel, on_finish = on_finish)]
async fn waits_out_a_long_delay() -> anyhow::Result<()> {
    anyhow::bail!("no")
}

#[hookflow::pipeline]
async fn cancelled_during_a_retry_delay() -> anyhow::Result<()> {
    waits_out_a_long_delay().await?;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_run_cuts_an_async_steps_retry_delay_short() {
    let run = hookflow::Run::new();
    let handle = run.cancel_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        handle.cancel();
    });
    let before = tokio::time::Instant::now();
    let report = run.execute_async(cancelled_during_a_retry_delay()).await;
    // The step ends at the cancellation, not after the 3 s delay.
    assert!(
        before.elapsed() < Duration::from_secs(1),
        "the step waited out its delay: {:?}",
        before.elapsed()
    );
    assert_eq!(
        report.output().as_ref().unwrap_err().kind(),
        ErrorKind::Cancelled
    );
    assert_eq!(
        take("waits_out_a_long_delay"),
        ["start#1", "retry#1:error", "cancel", "finish:cancelled"]
    );
}
