//! Cancellation: a dropped step future ends `Cancelled` and fires
//! `on_cancel`, `on_finish` exactly once (from `Drop`); a cancelled run
//! stops its steps and fires its own `on_cancel`.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{on_cancel, on_failure, on_finish, on_start, on_success, record, take};
use hookflow::{pipeline, step, ErrorKind, HookContext, HookStatus, Run, Status};

#[step(on_start = on_start, on_success = on_success, on_failure = on_failure, on_cancel = on_cancel, on_finish = on_finish)]
async fn sleepy_a(ms: u64) -> anyhow::Result<u64> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(ms)
}

#[step(on_start = on_start, on_success = on_success, on_failure = on_failure, on_cancel = on_cancel, on_finish = on_finish)]
async fn sleepy_b(ms: u64) -> anyhow::Result<u64> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(ms)
}

#[step(on_start = on_start, on_success = on_success, on_failure = on_failure, on_cancel = on_cancel, on_finish = on_finish)]
async fn sleepy_c(ms: u64) -> anyhow::Result<u64> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(ms)
}

#[tokio::test(start_paused = true)]
async fn a_future_dropped_by_the_callers_timeout_fires_cancel_then_finish() {
    let r = tokio::time::timeout(Duration::from_millis(10), sleepy_a(1000)).await;
    assert!(r.is_err(), "the caller gave up");
    assert_eq!(take("sleepy_a"), ["start#1", "cancel", "finish:cancelled"]);
}

#[tokio::test(start_paused = true)]
async fn a_future_dropped_by_select_fires_cancel_once() {
    tokio::select! {
        _ = sleepy_b(1000) => unreachable!(),
        () = tokio::time::sleep(Duration::from_millis(5)) => {}
    }
    assert_eq!(take("sleepy_b"), ["start#1", "cancel", "finish:cancelled"]);
}

#[tokio::test(start_paused = true)]
async fn a_future_never_polled_fires_nothing() {
    let fut = sleepy_c(1);
    drop(fut);
    assert_eq!(take("sleepy_c"), Vec::<String>::new());
}

static ABORTED_CANCEL: AtomicU32 = AtomicU32::new(0);

#[step(on_cancel = |ctx: &HookContext| {
    assert_eq!(ctx.status(), Status::Cancelled);
    assert_eq!(ctx.error().unwrap().kind(), ErrorKind::Cancelled);
    ABORTED_CANCEL.fetch_add(1, Ordering::SeqCst);
})]
async fn abortable() -> u32 {
    std::future::pending::<()>().await;
    1
}

#[tokio::test]
async fn an_aborted_task_fires_cancel_exactly_once() {
    let handle = tokio::spawn(abortable());
    tokio::time::sleep(Duration::from_millis(20)).await;
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert_eq!(ABORTED_CANCEL.load(Ordering::SeqCst), 1);
}

static ASYNC_CANCEL: AtomicU32 = AtomicU32::new(0);
async fn async_cancel_hook(ctx: &HookContext) {
    tokio::task::yield_now().await;
    assert_eq!(ctx.status(), Status::Cancelled);
    ASYNC_CANCEL.fetch_add(1, Ordering::SeqCst);
}

#[step(on_cancel = async_cancel_hook)]
async fn with_async_cancel_hook() {
    std::future::pending::<()>().await
}

#[tokio::test]
async fn async_cancel_hooks_fired_from_drop_run_on_the_runtime() {
    let _ = tokio::time::timeout(Duration::from_millis(5), with_async_cancel_hook()).await;
    // Spawned from Drop: give it a moment to run.
    for _ in 0..100 {
        if ASYNC_CANCEL.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(ASYNC_CANCEL.load(Ordering::SeqCst), 1);
}

fn run_cancelled(ctx: &HookContext) {
    assert_eq!(ctx.status(), Status::Cancelled);
    record(ctx.pipeline_name().unwrap(), "run-cancel");
}
fn run_finished(ctx: &HookContext) {
    record(
        ctx.pipeline_name().unwrap(),
        format!("run-finish:{}", ctx.status()),
    );
}

#[step(on_start = on_start, on_cancel = on_cancel, on_finish = on_finish)]
async fn long_step() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[step(on_start = on_start, on_cancel = on_cancel, on_finish = on_finish)]
fn later_step() -> anyhow::Result<()> {
    Ok(())
}

#[step(on_start = on_start, on_cancel = on_cancel, on_finish = on_finish)]
async fn later_async_step() -> anyhow::Result<()> {
    Ok(())
}

#[pipeline(on_cancel = run_cancelled, on_finish = run_finished)]
async fn cancellable() -> anyhow::Result<()> {
    let first = long_step().await;
    // Not yet started when the run was cancelled: they end cancelled without running.
    let second = later_step();
    let third = later_async_step().await;
    first?;
    second?;
    third?;
    Ok(())
}

/// Cancels `run` through its handle 50 ms from now (Tokio's clock).
fn cancel_in_50ms(run: &Run) {
    let handle = run.cancel_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        handle.cancel();
    });
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_run_stops_running_steps_and_skips_the_rest() {
    let run = Run::new();
    cancel_in_50ms(&run);
    let report = run.execute_async(cancellable()).await;
    let err = report.output().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(report.status(), Some(Status::Cancelled));
    assert_eq!(take("long_step"), ["start#1", "cancel", "finish:cancelled"]);
    assert_eq!(take("later_step"), ["cancel", "finish:cancelled"]);
    assert_eq!(take("later_async_step"), ["cancel", "finish:cancelled"]);
    assert_eq!(take("cancellable"), ["run-cancel", "run-finish:cancelled"]);
    let failed: Vec<_> = report
        .failed_steps()
        .iter()
        .map(|f| (f.name().to_owned(), f.kind()))
        .collect();
    assert_eq!(
        failed,
        [
            ("long_step".to_owned(), ErrorKind::Cancelled),
            ("later_step".to_owned(), ErrorKind::Cancelled),
            ("later_async_step".to_owned(), ErrorKind::Cancelled)
        ]
    );
}

#[step(on_start = on_start, on_cancel = on_cancel, on_finish = on_finish)]
async fn long_step_in_dropped_run() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[pipeline(on_cancel = run_cancelled, on_finish = run_finished)]
async fn dropped_run() -> anyhow::Result<()> {
    long_step_in_dropped_run().await?;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_dropped_pipeline_future_cancels_its_steps_then_itself() {
    let _ = tokio::time::timeout(Duration::from_millis(10), dropped_run()).await;
    assert_eq!(
        take("long_step_in_dropped_run"),
        ["start#1", "cancel", "finish:cancelled"]
    );
    assert_eq!(take("dropped_run"), ["run-cancel", "run-finish:cancelled"]);
}

async fn slow_success(ctx: &HookContext) {
    record(&common::key(ctx), "slow-success-started");
    tokio::time::sleep(Duration::from_secs(60)).await;
    record(&common::key(ctx), "slow-success-done");
}

#[step(on_success = [slow_success, on_success], on_finish = on_finish)]
async fn dropped_mid_hooks() -> u32 {
    5
}

#[pipeline]
async fn drops_a_step_during_its_hooks() -> anyhow::Result<()> {
    let r = tokio::time::timeout(Duration::from_millis(10), dropped_mid_hooks()).await;
    anyhow::ensure!(r.is_err(), "the step was dropped");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn hooks_left_when_dropped_during_terminal_hooks_still_fire_once() {
    let report = Run::new()
        .execute_async(drops_a_step_during_its_hooks())
        .await;
    report.output().as_ref().unwrap();
    // The interrupted hook is not run again; the remaining ones fire from Drop.
    assert_eq!(
        take("dropped_mid_hooks"),
        ["slow-success-started", "success", "finish:completed"]
    );
    let statuses: Vec<_> = report
        .hook_outcomes()
        .iter()
        .map(|o| (o.hook(), o.status().clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("slow_success", HookStatus::Interrupted),
            ("on_success", HookStatus::Ok),
            ("on_finish", HookStatus::Ok)
        ]
    );
}

fn run_succeeded(ctx: &HookContext) {
    record(ctx.pipeline_name().unwrap(), "run-success");
}

#[step(on_start = on_start, on_success = on_success, on_cancel = on_cancel, on_finish = on_finish)]
async fn ignored_long_step() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[pipeline(on_success = run_succeeded, on_cancel = run_cancelled, on_finish = run_finished)]
async fn ignores_its_cancelled_step() -> anyhow::Result<u32> {
    let _ = ignored_long_step().await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_run_whose_body_returns_ok_ends_cancelled() {
    let run = Run::new();
    cancel_in_50ms(&run);
    let report = run.execute_async(ignores_its_cancelled_step()).await;
    // The caller asked to cancel the run: it gets a cancellation, not the value.
    let err = report.output().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(report.status(), Some(Status::Cancelled));
    assert_eq!(
        take("ignored_long_step"),
        ["start#1", "cancel", "finish:cancelled"]
    );
    assert_eq!(
        take("ignores_its_cancelled_step"),
        ["run-cancel", "run-finish:cancelled"]
    );
}

#[step(on_start = on_start, on_success = on_success, on_cancel = on_cancel, on_finish = on_finish)]
fn ignored_sync_step() -> anyhow::Result<()> {
    Ok(())
}

#[pipeline(on_success = run_succeeded, on_cancel = run_cancelled, on_finish = run_finished)]
fn ignores_its_cancelled_sync_step() -> anyhow::Result<u32> {
    let _ = ignored_sync_step();
    Ok(1)
}

#[test]
fn a_cancelled_sync_run_whose_body_returns_ok_ends_cancelled() {
    let run = Run::new();
    run.cancel_handle().cancel();
    let report = run.execute(ignores_its_cancelled_sync_step);
    let err = report.output().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(report.status(), Some(Status::Cancelled));
    assert_eq!(take("ignored_sync_step"), ["cancel", "finish:cancelled"]);
    assert_eq!(
        take("ignores_its_cancelled_sync_step"),
        ["run-cancel", "run-finish:cancelled"]
    );
}

#[step(on_start = on_start, on_success = on_success, on_cancel = on_cancel, on_finish = on_finish)]
async fn spawned_in_dropped_run() -> anyhow::Result<u32> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(1)
}

#[pipeline(on_cancel = run_cancelled, on_finish = run_finished)]
async fn dropped_run_with_a_spawned_step() -> anyhow::Result<u32> {
    Ok(hookflow::spawn(spawned_in_dropped_run()).await??)
}

#[tokio::test(start_paused = true)]
async fn a_dropped_pipeline_future_cancels_the_steps_it_spawned() {
    let r =
        tokio::time::timeout(Duration::from_millis(50), dropped_run_with_a_spawned_step()).await;
    assert!(r.is_err(), "the caller gave up");
    assert_eq!(
        take("dropped_run_with_a_spawned_step"),
        ["run-cancel", "run-finish:cancelled"]
    );
    // The spawned step is another task: it ends at its next poll. Long
    // enough for it to have completed, had it been left running.
    tokio::time::sleep(Duration::from_secs(7200)).await;
    assert_eq!(
        take("spawned_in_dropped_run"),
        ["start#1", "cancel", "finish:cancelled"]
    );
}

#[step(on_start = on_start, on_success = on_success, on_cancel = on_cancel, on_finish = on_finish)]
async fn spawned_in_crashed_run() -> anyhow::Result<u32> {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Ok(1)
}

#[pipeline(on_cancel = run_cancelled, on_finish = run_finished)]
async fn crashes_with_a_spawned_step() -> anyhow::Result<u32> {
    let _task = hookflow::spawn(spawned_in_crashed_run());
    tokio::time::sleep(Duration::from_millis(10)).await;
    panic!("the body crashed")
}

#[tokio::test(start_paused = true)]
async fn a_crashed_run_cancels_the_steps_it_spawned() {
    let report = Run::new()
        .execute_async(crashes_with_a_spawned_step())
        .await;
    assert_eq!(
        report.output().as_ref().unwrap_err().kind(),
        ErrorKind::Panic
    );
    assert_eq!(report.status(), Some(Status::Crashed));
    assert_eq!(take("crashes_with_a_spawned_step"), ["run-finish:crashed"]);
    tokio::time::sleep(Duration::from_secs(7200)).await;
    assert_eq!(
        take("spawned_in_crashed_run"),
        ["start#1", "cancel", "finish:cancelled"]
    );
    let failed: Vec<_> = report
        .failed_steps()
        .iter()
        .map(|f| (f.name().to_owned(), f.kind()))
        .collect();
    assert_eq!(
        failed,
        [("spawned_in_crashed_run".to_owned(), ErrorKind::Cancelled)]
    );
}

static CLEANUP_RAN: AtomicU32 = AtomicU32::new(0);

#[step]
async fn cleanup() -> u32 {
    tokio::task::yield_now().await;
    CLEANUP_RAN.fetch_add(1, Ordering::SeqCst);
    7
}

async fn cleans_up(ctx: &HookContext) {
    let r = cleanup().await;
    record(
        ctx.pipeline_name().unwrap(),
        format!("cleanup:{}", r.is_ok()),
    );
}

#[pipeline(on_crash = cleans_up, on_cancel = cleans_up)]
async fn crashes_then_cleans_up() -> anyhow::Result<()> {
    panic!("the body crashed")
}

#[tokio::test]
async fn a_step_called_from_a_hook_of_a_crashed_run_still_runs() {
    // Steps called from hooks are no steps of the run: the run's end does
    // not cancel them.
    let report = Run::new().execute_async(crashes_then_cleans_up()).await;
    assert_eq!(report.status(), Some(Status::Crashed));
    assert_eq!(take("crashes_then_cleans_up"), ["cleanup:true"]);
    assert_eq!(CLEANUP_RAN.load(Ordering::SeqCst), 1);
}

#[step(on_success = on_success, on_cancel = on_cancel)]
async fn after_a_crashed_inner_run() -> u32 {
    tokio::task::yield_now().await;
    3
}

#[pipeline]
async fn inner_run_that_crashes() -> anyhow::Result<()> {
    panic!("the inner body crashed")
}

#[pipeline]
async fn outer_run_of_a_crashed_one() -> anyhow::Result<u32> {
    let inner = inner_run_that_crashes().await;
    anyhow::ensure!(inner.unwrap_err().kind() == ErrorKind::Panic);
    Ok(after_a_crashed_inner_run().await?)
}

#[tokio::test]
async fn a_crashed_nested_run_leaves_its_parent_run_alone() {
    let report = Run::new().execute_async(outer_run_of_a_crashed_one()).await;
    assert_eq!(*report.output().as_ref().unwrap(), 3);
    assert_eq!(report.status(), Some(Status::Completed));
    assert_eq!(take("after_a_crashed_inner_run"), ["success"]);
}
