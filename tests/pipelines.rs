//! Pipelines: their own hooks fire once per run; `steps(..)` defaults apply
//! to every step inside, a step's own list replacing the default for that
//! event; failure hooks see which steps failed.

mod common;

use common::{record, take};
use hookflow::{pipeline, step, ErrorKind, HookContext, StepError};

fn default_failure(ctx: &HookContext, err: &StepError) {
    record(
        &common::key(ctx),
        format!("default-failure:{}", err.message()),
    );
}
fn default_success(ctx: &HookContext) {
    record(&common::key(ctx), "default-success");
}
fn own_failure(ctx: &HookContext) {
    record(&common::key(ctx), "own-failure");
}
fn run_failed(ctx: &HookContext) {
    let failed: Vec<String> = ctx
        .failed_steps()
        .iter()
        .map(|f| format!("{}({}):{}", f.name(), f.kind(), f.message()))
        .collect();
    assert!(
        ctx.step_name().is_none(),
        "a pipeline's own hooks have no step"
    );
    assert!(ctx.run_id().is_some());
    record(
        ctx.pipeline_name().unwrap(),
        format!("run-failed[{}]", failed.join(",")),
    );
}
fn run_succeeded(ctx: &HookContext) {
    record(ctx.pipeline_name().unwrap(), "run-succeeded");
}
fn run_finished(ctx: &HookContext) {
    record(
        ctx.pipeline_name().unwrap(),
        format!("run-finished:{}", ctx.status()),
    );
}

// Names `on_failure` itself: the default for failures is replaced.
#[step(on_failure = own_failure)]
fn overrides(fail: bool) -> anyhow::Result<u32> {
    anyhow::ensure!(!fail, "override failed");
    Ok(1)
}

// Names nothing: inherits every default.
#[step]
fn inherits(fail: bool) -> anyhow::Result<u32> {
    anyhow::ensure!(!fail, "inherit failed");
    Ok(2)
}

// Switches the failure default off with an empty list, keeps success.
#[step(on_failure = [])]
fn opts_out(fail: bool) -> anyhow::Result<u32> {
    anyhow::ensure!(!fail, "opt-out failed");
    Ok(3)
}

#[pipeline(
    on_failure = run_failed,
    on_success = run_succeeded,
    on_finish = run_finished,
    steps(on_failure = default_failure, on_success = default_success)
)]
fn etl(fail: [bool; 3]) -> anyhow::Result<u32> {
    let a = overrides(fail[0]).unwrap_or(0);
    let b = inherits(fail[1]).unwrap_or(0);
    let c = opts_out(fail[2]).unwrap_or(0);
    anyhow::ensure!(a + b + c == 6, "sum was {}", a + b + c);
    Ok(a + b + c)
}

#[test]
fn defaults_apply_where_steps_do_not_name_the_event_and_own_lists_replace_them() {
    // These checks share steps, so they run in one test.
    assert_eq!(etl([false; 3]).unwrap(), 6);
    // on_success is named by no step: all three inherit it.
    assert_eq!(take("overrides"), ["default-success"]);
    assert_eq!(take("inherits"), ["default-success"]);
    assert_eq!(take("opts_out"), ["default-success"]);
    assert_eq!(take("etl"), ["run-succeeded", "run-finished:completed"]);

    // A step's own list replaces the default for that event.
    let err = etl([true; 3]).unwrap_err();
    assert_eq!(take("overrides"), ["own-failure"]);
    assert_eq!(take("inherits"), ["default-failure:inherit failed"]);
    assert_eq!(take("opts_out"), Vec::<String>::new());
    assert_eq!(
        take("etl"),
        [
            "run-failed[overrides(error):override failed,inherits(error):inherit failed,opts_out(error):opt-out failed]",
            "run-finished:failed"
        ]
    );
    assert_eq!(err.kind(), ErrorKind::Error);
    assert_eq!(err.message(), "sum was 0");
    let names: Vec<_> = err
        .failed_steps()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(names, ["overrides", "inherits", "opts_out"]);

    // Outside a pipeline, steps run only their own hooks.
    assert_eq!(inherits(true).unwrap_err().message(), "inherit failed");
    assert_eq!(overrides(true).unwrap_err().message(), "override failed");
    assert_eq!(take("inherits"), Vec::<String>::new());
    assert_eq!(take("overrides"), ["own-failure"]);
}

#[derive(Debug, thiserror::Error)]
#[error("quota exceeded")]
struct Quota;

#[step]
fn charge() -> Result<(), Quota> {
    Err(Quota)
}

#[pipeline(on_failure = run_failed)]
fn billing() -> anyhow::Result<()> {
    charge()?;
    Ok(())
}

#[test]
fn pipeline_errors_keep_the_original_error_reachable_through_the_step() {
    let err = billing().unwrap_err();
    assert!(err.downcast_ref::<Quota>().is_some());
    assert!(err.downcast_ref::<StepError>().is_some());
    assert_eq!(err.pipeline_name(), "billing");
    assert!(err.to_string().starts_with("pipeline `billing` failed"));
    // The cause appears once in the whole chain (`source()` continues where
    // `Display` stops); the original stays reachable by type.
    let chain = format!("{:#}", anyhow::Error::new(err.clone()));
    assert_eq!(chain.matches("quota exceeded").count(), 1, "{chain}");
    assert!(err.as_step_error().original().is_some());
    assert_eq!(
        take("billing"),
        ["run-failed[charge(error):quota exceeded]"]
    );
    let as_anyhow: anyhow::Error = err.into();
    assert!(as_anyhow.to_string().contains("billing"));
}

#[pipeline(on_crash = |e: &StepError| record(e.step_name(), format!("crash:{}", e.message())), on_finish = run_finished)]
fn panicking_pipeline() -> u32 {
    panic!("pipeline bug")
}

#[test]
fn a_panicking_pipeline_body_is_crashed() {
    let err = panicking_pipeline().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(
        take("panicking_pipeline"),
        ["crash:pipeline bug", "run-finished:crashed"]
    );
}

async fn async_default(ctx: &HookContext) {
    tokio::task::yield_now().await;
    record(&common::key(ctx), "async-default");
}

#[step]
async fn fetch_one(i: u32) -> anyhow::Result<u32> {
    tokio::task::yield_now().await;
    anyhow::ensure!(i.is_multiple_of(2), "odd {i}");
    Ok(i)
}

#[pipeline(on_failure = run_failed, steps(on_failure = async_default))]
async fn async_etl() -> anyhow::Result<u32> {
    let (a, b) = tokio::join!(fetch_one(2), fetch_one(3));
    Ok(a? + b?)
}

#[tokio::test]
async fn async_pipelines_with_join_and_async_defaults() {
    let err = async_etl().await.unwrap_err();
    assert_eq!(err.failed_steps().len(), 1);
    assert_eq!(take("fetch_one"), ["async-default"]);
    assert_eq!(take("async_etl"), ["run-failed[fetch_one(error):odd 3]"]);
}

#[test]
fn the_pipeline_description_is_registered() {
    let meta = hookflow::registry::pipeline("etl").unwrap();
    assert_eq!(meta.hooks(hookflow::Event::Failure), ["run_failed"]);
    assert_eq!(
        meta.step_defaults(hookflow::Event::Success),
        ["default_success"]
    );
    assert!(hookflow::registry::pipeline("async_etl")
        .unwrap()
        .is_async());
}

fn run_started(ctx: &HookContext) {
    assert_eq!(ctx.status(), hookflow::Status::Running);
    record(ctx.pipeline_name().unwrap(), "run-start");
}

#[step]
fn sync_inside_async(fail: bool) -> anyhow::Result<()> {
    anyhow::ensure!(!fail, "sync step failed");
    Ok(())
}

#[pipeline(on_start = run_started, on_finish = run_finished, steps(on_failure = async_default))]
async fn async_run_with_sync_step() -> anyhow::Result<()> {
    sync_inside_async(false)?;
    let _ = sync_inside_async(true);
    Ok(())
}

#[tokio::test]
async fn an_async_default_on_a_sync_step_still_fires_once() {
    let report = hookflow::Run::new()
        .execute_async(async_run_with_sync_step())
        .await;
    report.output().as_ref().unwrap();
    assert_eq!(
        take("async_run_with_sync_step"),
        ["run-start", "run-finished:completed"]
    );
    // A sync step cannot await: the async default runs as a task of the runtime.
    let fired = |r: &hookflow::RunReport<_>| {
        r.hook_outcomes()
            .iter()
            .filter(|o| o.hook() == "async_default")
            .count()
    };
    for _ in 0..100 {
        if fired(&report) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(take("sync_inside_async"), ["async-default"]);
    assert_eq!(fired(&report), 1);
    let outcome = report
        .hook_outcomes()
        .into_iter()
        .find(|o| o.hook() == "async_default")
        .unwrap();
    assert_eq!(outcome.step(), Some("sync_inside_async"));
}

#[pipeline(name = "Named run")]
fn named_run() {}

fn sync_crash_first(e: &StepError) {
    record(e.step_name(), "sync-crash");
}

fn sync_finish_last(ctx: &HookContext) {
    record(&common::key(ctx), format!("sync-finish:{}", ctx.status()));
}

#[step(on_crash = sync_crash_first, on_finish = sync_finish_last)]
fn crashes_inside_async() {
    panic!("boom")
}

#[pipeline(steps(on_failure = async_default))]
async fn async_default_between_sync_hooks() -> anyhow::Result<()> {
    let _ = crashes_inside_async();
    Ok(())
}

#[tokio::test]
async fn a_sync_step_hands_only_the_rest_of_its_plan_to_the_hook_thread() {
    // Plan: on_crash (sync, runs in place), on_failure (async default: the
    // rest goes to the hook thread), on_finish (sync, after it, in order).
    async_default_between_sync_hooks().await.unwrap();
    assert!(hookflow::wait_for_detached_hooks(
        std::time::Duration::from_secs(5)
    ));
    assert_eq!(
        take("crashes_inside_async"),
        ["sync-crash", "async-default", "sync-finish:crashed"]
    );
}
