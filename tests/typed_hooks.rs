//! Typed hooks: `on_success` may take the step's output, failure hooks the
//! step's own error type; untyped hooks read the output with `output::<T>()`.

mod common;

use common::{record, take};
use hookflow::{step, HookContext, HookStatus, Run, StepError};

#[derive(Debug, Clone, PartialEq)]
struct Report {
    rows: usize,
}

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("timeout talking to {0}")]
    Upstream(String),
}

fn rows(report: &Report) {
    record("load", format!("rows={}", report.rows));
}
fn rows_with_ctx(ctx: &HookContext, report: &Report) -> Result<(), String> {
    record(
        ctx.step_name().unwrap(),
        format!("ctx+rows={}", report.rows),
    );
    Ok(())
}
fn untyped(ctx: &HookContext) {
    let r = ctx.output::<Report>().expect("the output, by type");
    assert!(ctx.output::<String>().is_none(), "another type gives None");
    record(ctx.step_name().unwrap(), format!("untyped={}", r.rows));
}
fn upstream(err: &LoadError) {
    let LoadError::Upstream(host) = err;
    record("load", format!("typed-error={host}"));
}
fn upstream_with_ctx(ctx: &HookContext, err: &LoadError) {
    record(ctx.step_name().unwrap(), format!("ctx+typed-error={err}"));
}
async fn async_typed(report: &Report) {
    tokio::task::yield_now().await;
    record("load_async", format!("async-rows={}", report.rows));
}
async fn async_typed_error(ctx: &HookContext, err: &LoadError) {
    tokio::task::yield_now().await;
    record(ctx.step_name().unwrap(), format!("async-error={err}"));
}

#[step(on_success = [rows, rows_with_ctx, untyped], on_failure = [upstream, upstream_with_ctx], on_retry = upstream, retries = 1)]
fn load(fail: bool) -> Result<Report, LoadError> {
    if fail {
        return Err(LoadError::Upstream("db-1".into()));
    }
    Ok(Report { rows: 12 })
}

#[test]
fn typed_output_and_error_hooks_get_the_steps_own_types() {
    assert_eq!(load(false).unwrap(), Report { rows: 12 });
    assert_eq!(take("load"), ["rows=12", "ctx+rows=12", "untyped=12"]);
    load(true).unwrap_err();
    assert_eq!(
        take("load"),
        [
            "typed-error=db-1",
            "typed-error=db-1",
            "ctx+typed-error=timeout talking to db-1"
        ]
    );
}

#[step(on_success = async_typed, on_failure = async_typed_error)]
async fn load_async(fail: bool) -> Result<Report, LoadError> {
    if fail {
        return Err(LoadError::Upstream("db-2".into()));
    }
    Ok(Report { rows: 3 })
}

#[tokio::test]
async fn async_typed_hooks() {
    load_async(false).await.unwrap();
    load_async(true).await.unwrap_err();
    assert_eq!(
        take("load_async"),
        ["async-rows=3", "async-error=timeout talking to db-2"]
    );
}

fn anyhow_typed(err: &anyhow::Error) {
    record("anyhow_step", format!("anyhow={err}"));
}

#[step(on_failure = anyhow_typed)]
fn anyhow_step() -> anyhow::Result<()> {
    anyhow::bail!("plain anyhow")
}

#[test]
fn anyhow_error_is_a_typed_error_too() {
    anyhow_step().unwrap_err();
    assert_eq!(take("anyhow_step"), ["anyhow=plain anyhow"]);
}

fn typed_after_panic(_: &LoadError) {
    record("panicky", "typed hook ran");
}
fn untyped_after_panic(e: &StepError) {
    record("panicky", format!("untyped saw {}", e.kind()));
}

#[step(on_failure = [typed_after_panic, untyped_after_panic])]
fn panicky() -> Result<(), LoadError> {
    panic!("no LoadError here")
}

#[hookflow::pipeline]
fn panicky_run() -> anyhow::Result<()> {
    let _ = panicky();
    Ok(())
}

#[test]
fn a_typed_error_hook_is_skipped_when_the_failure_carries_no_such_error() {
    let report = Run::new().execute(panicky_run);
    report.output().as_ref().unwrap();
    assert_eq!(take("panicky"), ["untyped saw panic"]);
    let outcomes = report.hook_outcomes();
    assert!(matches!(outcomes[0].status(), HookStatus::Skipped(_)));
    assert_eq!(outcomes[0].hook(), "typed_after_panic");
    assert_eq!(outcomes[1].status(), &HookStatus::Ok);
}

fn never_sees_output(ctx: &HookContext) {
    assert!(ctx.output::<&str>().is_none());
    record("borrowed_output", "no output for borrowed types");
}

#[step(on_success = never_sees_output)]
fn borrowed_output(s: &str) -> &str {
    s.trim()
}

#[test]
fn borrowed_outputs_are_not_exposed() {
    assert_eq!(borrowed_output(" a ").unwrap(), "a");
    assert_eq!(take("borrowed_output"), ["no output for borrowed types"]);
}
