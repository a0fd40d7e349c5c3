// A pipeline with its own hooks and `steps(..)` defaults: every accepted
// shape of a default (`fn()`, `fn(&HookContext)`, `fn(&StepError)`,
// `fn(&HookContext, &StepError)`), a step that replaces the default for one
// event and inherits the others, sync and async.
use hookflow::{pipeline, step, HookContext, PipelineError, StepError};
use std::sync::Mutex;

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(s: impl Into<String>) {
    LOG.lock().unwrap().push(s.into());
}
fn take() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

fn default_start() {
    log("default_start");
}
fn default_ok(c: &HookContext) {
    log(format!("default_ok:{}", c.step_name().unwrap()));
}
fn default_fail(e: &StepError) -> Result<(), String> {
    log(format!("default_fail:{}", e.step_name()));
    Ok(())
}
fn default_fail_ctx(c: &HookContext, _e: &StepError) {
    log(format!("default_fail_ctx:{}", c.pipeline_name().unwrap()));
}
fn own_ok(c: &HookContext) {
    log(format!("own_ok:{}", c.step_name().unwrap()));
}
fn pipeline_done(c: &HookContext) {
    assert_eq!(c.step_name(), None);
    log(format!("pipeline:{}", c.status()));
}
fn pipeline_failed(e: &StepError) {
    log(format!("pipeline_failed:{}", e.message()));
}
async fn async_default(c: &HookContext) {
    log(format!("async_default:{}", c.step_name().unwrap()));
}

#[step]
fn inherits(x: u32) -> u32 {
    x + 1
}

#[step(on_success = own_ok)]
fn overrides(x: u32) -> Result<u32, std::io::Error> {
    if x > 10 {
        return Err(std::io::Error::other(format!("{x} is too big")));
    }
    Ok(x * 2)
}

#[pipeline(
    name = "etl",
    on_success = pipeline_done,
    on_failure = [pipeline_failed, |_c: &HookContext, _e: &StepError| log("pipeline_failed_ctx")],
    on_finish = pipeline_done,
    steps(on_start = default_start, on_success = default_ok, on_failure = [default_fail, default_fail_ctx]),
)]
fn etl(x: u32) -> anyhow::Result<u32> {
    let a = inherits(x)?;
    let b = overrides(a)?;
    Ok(b)
}

#[step]
async fn async_step() -> u8 {
    1
}

#[pipeline(on_finish = pipeline_done, steps(on_success = [async_default, default_ok]))]
async fn async_etl() -> Result<u8, std::io::Error> {
    Ok(async_step().await.map_err(std::io::Error::other)?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(etl(1).unwrap(), 4);
    assert_eq!(
        take(),
        [
            "default_start",
            "default_ok:inherits",
            "default_start",
            "own_ok:overrides",
            "pipeline:completed",
            "pipeline:completed",
        ]
    );
    let e: PipelineError = etl(10).unwrap_err();
    assert_eq!(e.pipeline_name(), "etl");
    let log = take();
    assert!(log.contains(&"default_fail:overrides".to_owned()), "{log:?}");
    assert!(log.contains(&"default_fail_ctx:etl".to_owned()), "{log:?}");
    assert!(log.contains(&"pipeline_failed_ctx".to_owned()), "{log:?}");
    assert_eq!(log.last().unwrap(), "pipeline:failed");

    assert_eq!(async_etl().await.unwrap(), 1);
    assert_eq!(
        take(),
        ["async_default:async_step", "default_ok:async_step", "pipeline:completed"]
    );
}
