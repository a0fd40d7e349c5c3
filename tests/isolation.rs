//! A hook that errs, panics or overruns never changes the outcome, never
//! stops the other hooks, and is reported: a tracing event naming hook and
//! step, and a record on the run. Steps called from hooks fire no hooks.

mod common;

use std::time::Duration;

use common::{record, take};
use hookflow::{pipeline, step, Event, HookContext, HookStatus, Run, StepError};

fn errs(ctx: &HookContext) -> Result<(), String> {
    record(&common::key(ctx), "errs");
    Err("alerting service is down".into())
}
fn panics(ctx: &HookContext) {
    record(&common::key(ctx), "panics");
    panic!("hook bug");
}
fn fine(ctx: &HookContext) {
    record(&common::key(ctx), "fine");
}
async fn hangs(ctx: &HookContext) {
    record(&common::key(ctx), "hangs");
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

#[step(on_success = [errs, panics, fine], on_finish = fine)]
fn value_kept() -> u32 {
    41 + 1
}

#[test]
fn failing_hooks_do_not_change_the_value_or_stop_other_hooks() {
    assert_eq!(value_kept().unwrap(), 42);
    assert_eq!(take("value_kept"), ["errs", "panics", "fine", "fine"]);
}

#[step(on_failure = [panics, errs, fine])]
fn error_kept() -> anyhow::Result<u32> {
    anyhow::bail!("real error")
}

#[test]
fn failing_hooks_do_not_change_the_error() {
    let err = error_kept().unwrap_err();
    assert_eq!(err.message(), "real error");
    assert_eq!(take("error_kept"), ["panics", "errs", "fine"]);
}

#[step(on_success = [hangs, fine])]
async fn bounded() -> u32 {
    7
}

#[step(on_success = [errs, panics, fine], on_finish = fine)]
fn value_kept_in_run() -> u32 {
    42
}

#[pipeline(on_finish = [errs, fine])]
async fn isolated_run() -> anyhow::Result<u32> {
    Ok(bounded().await? + value_kept_in_run()?)
}

#[tokio::test]
async fn hook_outcomes_are_recorded_on_the_run() {
    let report = Run::new()
        .hook_timeout(Duration::from_millis(30))
        .execute_async(isolated_run())
        .await;
    assert_eq!(*report.output().as_ref().unwrap(), 49);
    assert_eq!(take("bounded"), ["hangs", "fine"]);
    assert_eq!(
        take("value_kept_in_run"),
        ["errs", "panics", "fine", "fine"]
    );
    assert_eq!(take("isolated_run"), ["errs", "fine"]);

    let outcomes = report.hook_outcomes();
    let summary: Vec<String> = outcomes
        .iter()
        .map(|o| {
            format!(
                "{}/{}/{}/{}",
                o.step().unwrap_or("-"),
                o.event(),
                o.hook(),
                o.status()
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "bounded/on_success/hangs/timed out after 30ms",
            "bounded/on_success/fine/ok",
            "value_kept_in_run/on_success/errs/failed: alerting service is down",
            "value_kept_in_run/on_success/panics/panicked: hook bug",
            "value_kept_in_run/on_success/fine/ok",
            "value_kept_in_run/on_finish/fine/ok",
            "-/on_finish/errs/failed: alerting service is down",
            "-/on_finish/fine/ok",
        ]
    );
    let timed_out = &outcomes[0];
    assert_eq!(
        timed_out.status(),
        &HookStatus::TimedOut(Duration::from_millis(30))
    );
    assert!(timed_out.duration() >= Duration::from_millis(30));
    assert_eq!(report.hook_failures().len(), 4);
    assert_eq!(outcomes[2].event(), Event::Success);
}

#[step(on_success = record_inner, on_start = |ctx: &HookContext| record(&common::key(ctx), "inner-start"))]
fn inner() -> u32 {
    1
}
fn record_inner(ctx: &HookContext) {
    record(&common::key(ctx), "inner-success");
}
fn calls_a_step(ctx: &HookContext) {
    // A step called from a hook fires no hooks.
    let v = inner().expect("still runs");
    record(&common::key(ctx), format!("outer-hook-got-{v}"));
}
fn calls_a_step_on_error(_: &StepError) {
    let _ = inner();
}

#[step(on_success = calls_a_step, on_failure = calls_a_step_on_error)]
fn outer(fail: bool) -> anyhow::Result<()> {
    anyhow::ensure!(!fail, "x");
    Ok(())
}

#[test]
fn steps_called_from_hooks_fire_no_hooks() {
    outer(false).unwrap();
    outer(true).unwrap_err();
    assert_eq!(take("outer"), ["outer-hook-got-1"]);
    assert_eq!(take("inner"), Vec::<String>::new());
    // Outside hooks, `inner` fires its hooks as usual.
    inner().unwrap();
    assert_eq!(take("inner"), ["inner-start", "inner-success"]);
}

fn broken_builder() -> fn(&HookContext) {
    panic!("missing ALERT_URL")
}

#[step(on_success = broken_builder(), on_finish = fine)]
fn builder_panics() -> u32 {
    5
}

#[test]
fn a_call_that_builds_a_hook_and_panics_leaves_the_step_running() {
    assert_eq!(builder_panics().unwrap(), 5);
    assert_eq!(builder_panics().unwrap(), 5);
    // The set could not be built: the step runs without its hooks.
    assert_eq!(take("builder_panics"), Vec::<String>::new());
}

#[step]
fn failing_inner() -> anyhow::Result<()> {
    anyhow::bail!("inner failure")
}

fn hook_with_failing_step() {
    let _ = failing_inner();
}

#[step(on_success = hook_with_failing_step)]
fn runs_a_failing_step_in_its_hook() {}

#[pipeline]
fn run_with_hook_steps() -> anyhow::Result<()> {
    runs_a_failing_step_in_its_hook()?;
    Ok(())
}

#[test]
fn steps_called_from_hooks_are_not_failed_steps_of_the_run() {
    let report = Run::new().execute(run_with_hook_steps);
    report.output().as_ref().unwrap();
    assert!(report.failed_steps().is_empty());
}
