//! Async hooks that cannot be awaited where they fire (from `Drop`, on sync
//! steps) run on hookflow's hook thread, in plan order, even after the
//! caller's runtime is gone; runtimes without timers never make a hook
//! panic the caller; cancellation between retries ends the step cancelled.

mod common;

use std::time::Duration;

use common::{on_cancel, on_failure, on_finish, on_retry, on_start, record, take};
use hookflow::{pipeline, step, wait_for_detached_hooks, HookContext, HookStatus, Run, Status};

async fn async_cancel(ctx: &HookContext) {
    tokio::time::sleep(Duration::from_millis(20)).await;
    record(&common::key(ctx), "async-cancel");
}

#[step(on_cancel = [async_cancel, on_cancel], on_finish = on_finish)]
async fn dropped_with_async_cancel_hook() {
    std::future::pending::<()>().await
}

#[tokio::test]
async fn order_is_kept_when_an_async_hook_fires_from_drop() {
    let _ = tokio::time::timeout(Duration::from_millis(5), dropped_with_async_cancel_hook()).await;
    assert!(wait_for_detached_hooks(Duration::from_secs(5)));
    assert_eq!(
        take("dropped_with_async_cancel_hook"),
        ["async-cancel", "cancel", "finish:cancelled"]
    );
}

#[step(on_cancel = async_cancel, on_finish = on_finish)]
async fn outlives_its_runtime() {
    std::future::pending::<()>().await
}

#[test]
fn detached_hooks_run_even_when_the_callers_runtime_shuts_down() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::spawn(outlives_its_runtime());
        tokio::time::sleep(Duration::from_millis(5)).await;
    });
    // Dropping the runtime drops the spawned step: it is cancelled from Drop.
    drop(rt);
    assert!(wait_for_detached_hooks(Duration::from_secs(5)));
    assert_eq!(
        take("outlives_its_runtime"),
        ["async-cancel", "finish:cancelled"]
    );
}

#[step(retries = 3, on_start = on_start, on_retry = on_retry, on_failure = on_failure, on_cancel = on_cancel, on_finish = on_finish)]
fn cancels_its_own_run() -> anyhow::Result<()> {
    hookflow::current().unwrap();
    CANCEL.with(|c| c.borrow().as_ref().unwrap().cancel());
    anyhow::bail!("failed after cancelling")
}

thread_local! {
    static CANCEL: std::cell::RefCell<Option<hookflow::CancelHandle>> = const { std::cell::RefCell::new(None) };
}

#[pipeline]
fn run_that_gets_cancelled() -> anyhow::Result<()> {
    cancels_its_own_run()?;
    Ok(())
}

#[test]
fn a_sync_step_cancelled_between_retries_ends_cancelled() {
    let run = Run::new();
    CANCEL.with(|c| *c.borrow_mut() = Some(run.cancel_handle()));
    let report = run.execute(run_that_gets_cancelled);
    assert_eq!(report.status(), Some(Status::Cancelled));
    assert_eq!(
        take("cancels_its_own_run"),
        ["start#1", "cancel", "finish:cancelled"]
    );
}

async fn slow_start(ctx: &HookContext) {
    record(&common::key(ctx), "slow-start");
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[step(on_start = slow_start, on_cancel = on_cancel)]
async fn dropped_during_on_start() {}

#[pipeline]
async fn drops_during_on_start() -> anyhow::Result<()> {
    let _ = tokio::time::timeout(Duration::from_millis(10), dropped_during_on_start()).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_on_start_hook_is_recorded() {
    let report = Run::new().execute_async(drops_during_on_start()).await;
    assert_eq!(take("dropped_during_on_start"), ["slow-start", "cancel"]);
    let statuses: Vec<_> = report
        .hook_outcomes()
        .iter()
        .map(|o| (o.hook(), o.event(), o.status().clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "slow_start",
                hookflow::Event::Start,
                HookStatus::Interrupted
            ),
            ("on_cancel", hookflow::Event::Cancel, HookStatus::Ok),
        ]
    );
}

/// Records each alert it delivers under its step; slow for alerts about a
/// failed attempt that will be retried.
struct StepAlerts;

impl hookflow::alert::Alerter for StepAlerts {
    fn deliver<'a>(
        &'a self,
        alert: &'a hookflow::alert::Alert<'a>,
    ) -> hookflow::alert::AlertFuture<'a> {
        Box::pin(async move {
            let ctx = alert.context();
            if ctx.status() == Status::Running {
                // Slower than the next attempt and the terminal hooks.
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            record(
                &common::key(ctx),
                format!("alert:{}:{}", ctx.status().as_str(), ctx.attempt()),
            );
            Ok(())
        })
    }
}

fn step_alert() -> hookflow::hooks::AlertHook {
    hookflow::hooks::alert_on_failure().via(StepAlerts)
}

#[step(retries = 1, on_retry = step_alert(), on_failure = [step_alert(), on_failure])]
fn fails_twice_with_async_hooks() -> anyhow::Result<()> {
    anyhow::bail!("no")
}

#[step(on_failure = step_alert())]
fn fails_once_elsewhere() -> anyhow::Result<()> {
    anyhow::bail!("no")
}

#[test]
fn one_sync_calls_detached_plans_run_in_the_order_they_fired() {
    assert!(fails_twice_with_async_hooks().is_err());
    // Another call's plan does not wait for the slow one.
    assert!(fails_once_elsewhere().is_err());
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(take("fails_once_elsewhere"), ["alert:failed:1"]);
    assert!(wait_for_detached_hooks(Duration::from_secs(5)));
    // The retry's slow alert was delivered before the terminal plan began.
    assert_eq!(
        take("fails_twice_with_async_hooks"),
        ["alert:running:1", "alert:failed:2", "failure:error:no"]
    );
}
