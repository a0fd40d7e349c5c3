//! Resources: given to a run, read by hooks through the context and by steps
//! through `current()`; switching them switches what hooks do.

use std::sync::{Arc, Mutex};

use hookflow::{current, pipeline, step, HookContext, HookStatus, Resources, Run};

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

struct Prefix(&'static str);

fn notify(ctx: &HookContext) -> Result<(), String> {
    let rec = ctx.resource::<Arc<Recorder>>().ok_or("no recorder")?;
    let prefix = ctx.resource::<Prefix>().map_or("", |p| p.0);
    rec.0
        .lock()
        .unwrap()
        .push(format!("{prefix}{}", ctx.step_name().unwrap()));
    Ok(())
}

#[step(on_success = notify)]
fn uses_resources() -> String {
    let ctx = current().unwrap();
    ctx.resource::<Prefix>().map_or("none", |p| p.0).to_owned()
}

#[pipeline]
fn with_resources() -> anyhow::Result<String> {
    Ok(uses_resources()?)
}

#[test]
fn hooks_and_steps_read_the_runs_resources() {
    let a = Arc::new(Recorder::default());
    let report = Run::new()
        .resource(a.clone())
        .resource(Prefix("prod:"))
        .execute(with_resources);
    assert_eq!(report.output().as_ref().unwrap(), "prod:");
    assert_eq!(*a.0.lock().unwrap(), ["prod:uses_resources"]);

    // Another run, other resources, same hooks.
    let b = Arc::new(Recorder::default());
    let resources = Resources::new().with(b.clone()).with(Prefix("test:"));
    let report = Run::new().resources(resources).execute(with_resources);
    assert_eq!(report.output().as_ref().unwrap(), "test:");
    assert_eq!(*b.0.lock().unwrap(), ["test:uses_resources"]);
    assert_eq!(
        a.0.lock().unwrap().len(),
        1,
        "the first recorder saw nothing more"
    );
}

#[test]
fn a_missing_resource_is_a_reported_hook_failure_not_a_panic() {
    let report = Run::new().execute(with_resources);
    assert_eq!(report.output().as_ref().unwrap(), "none");
    let failures = report.hook_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].status(),
        &HookStatus::Failed("no recorder".into())
    );
}

#[step(on_success = notify)]
async fn async_uses(i: u32) -> u32 {
    tokio::task::yield_now().await;
    assert!(current().unwrap().resource::<Arc<Recorder>>().is_some());
    i
}

#[pipeline]
async fn async_with_resources() -> anyhow::Result<u32> {
    let (a, b) = tokio::join!(async_uses(1), async_uses(2));
    Ok(a? + b?)
}

#[pipeline]
async fn nested_outer() -> anyhow::Result<u32> {
    // A pipeline inside another shares its resources.
    let inner = async_with_resources().await?;
    Ok(inner)
}

#[tokio::test]
async fn async_runs_and_nested_pipelines_share_resources() {
    let rec = Arc::new(Recorder::default());
    let report = Run::new()
        .resource(rec.clone())
        .execute_async(nested_outer())
        .await;
    assert_eq!(*report.output().as_ref().unwrap(), 3);
    assert_eq!(rec.0.lock().unwrap().len(), 2);
}

#[test]
fn the_builder_sets_resources_for_unit_tests_of_hooks() {
    let rec = Arc::new(Recorder::default());
    let ctx = HookContext::builder()
        .step("charge")
        .resource(rec.clone())
        .resource(Prefix("unit:"))
        .build();
    notify(&ctx).unwrap();
    assert_eq!(*rec.0.lock().unwrap(), ["unit:charge"]);
    let bare = HookContext::builder().step("charge").build();
    assert_eq!(notify(&bare), Err("no recorder".to_owned()));
}

struct Token(&'static str);

static AUDIT_SAW: Mutex<Vec<bool>> = Mutex::new(Vec::new());

#[hookflow::pipeline]
fn audit() -> anyhow::Result<bool> {
    Ok(current().unwrap().resource::<Token>().is_some())
}

fn start_audit() {
    // A pipeline started from inside a hook must not take the configuration
    // the `Run` holds for the pipeline it was given.
    let saw_token = audit().unwrap();
    AUDIT_SAW.lock().unwrap().push(saw_token);
}

#[step(on_success = start_audit)]
fn warmup() {}

#[pipeline]
fn main_flow() -> anyhow::Result<&'static str> {
    let ctx = current().unwrap();
    Ok(ctx.resource::<Token>().map_or("none", |t| t.0))
}

#[test]
fn a_pipeline_started_inside_a_hook_leaves_the_runs_configuration_alone() {
    let report = Run::new().resource(Token("prod")).execute(|| {
        warmup().unwrap();
        main_flow()
    });
    assert_eq!(*report.output().as_ref().unwrap(), "prod");
    assert_eq!(report.status(), Some(hookflow::Status::Completed));
    assert_eq!(*AUDIT_SAW.lock().unwrap(), [false]);
}
