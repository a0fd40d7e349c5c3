//! What a hook can see: `HookContext` field by field, in step and pipeline
//! hooks, and `current()` in bodies and hooks.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use hookflow::{current, pipeline, step, ErrorKind, HookContext, Run, Status};

#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    step: Option<String>,
    pipeline: Option<String>,
    run_id: Option<String>,
    status: Option<Status>,
    success: bool,
    error: Option<(ErrorKind, String)>,
    attempt: (u32, u32),
    output: Option<String>,
    failed: Vec<String>,
    has_times: bool,
    duration: Duration,
}

static SEEN: Mutex<Vec<(String, Seen)>> = Mutex::new(Vec::new());

fn look(ctx: &HookContext) {
    let started = ctx.started_at().unwrap();
    let finished = ctx.finished_at();
    let seen = Seen {
        step: ctx.step_name().map(str::to_owned),
        pipeline: ctx.pipeline_name().map(str::to_owned),
        run_id: ctx.run_id().map(|id| {
            assert_eq!(id.get_version_num(), 7, "run ids are UUID v7");
            id.to_string()
        }),
        status: Some(ctx.status()),
        success: ctx.is_success(),
        error: ctx.error().map(|e| (e.kind(), e.message().to_owned())),
        attempt: (ctx.attempt(), ctx.max_attempts()),
        output: ctx.output::<String>().cloned(),
        failed: ctx.failed_steps().iter().map(|f| f.to_string()).collect(),
        has_times: finished.is_none_or(|f| f >= started) && started <= SystemTime::now(),
        duration: ctx.duration(),
    };
    let who = format!("{}:{}", ctx.step_name().unwrap_or("-"), ctx.status());
    SEEN.lock().unwrap().push((who, seen));
}

fn seen(who: &str) -> Seen {
    SEEN.lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(w, _)| w == who)
        .unwrap_or_else(|| panic!("no context seen for {who}"))
        .1
        .clone()
}

#[step(on_success = look, on_failure = look, retries = 1)]
async fn greet(name: &str) -> anyhow::Result<String> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    anyhow::ensure!(!name.is_empty(), "no name");
    Ok(format!("hello {name}"))
}

#[pipeline(on_failure = look, on_success = look)]
async fn greetings(names: Vec<&'static str>) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for n in names {
        out.push(greet(n).await.unwrap_or_default());
    }
    anyhow::ensure!(out.iter().all(|s| !s.is_empty()), "some greetings failed");
    Ok(out)
}

#[tokio::test]
async fn step_and_pipeline_hooks_see_their_context() {
    let report = Run::new().execute_async(greetings(vec!["ada", ""])).await;
    let run_id = report.run_id().unwrap().to_string();

    let ok = seen("greet:completed");
    assert_eq!(ok.step.as_deref(), Some("greet"));
    assert_eq!(ok.pipeline.as_deref(), Some("greetings"));
    assert_eq!(ok.run_id.as_deref(), Some(run_id.as_str()));
    assert!(ok.success && ok.error.is_none());
    assert_eq!(ok.attempt, (1, 2));
    assert_eq!(ok.output.as_deref(), Some("hello ada"));
    assert!(ok.has_times);
    assert!(ok.duration >= Duration::from_millis(5));
    assert!(ok.failed.is_empty(), "step hooks have no failed-steps list");

    let failed = seen("greet:failed");
    assert_eq!(failed.error, Some((ErrorKind::Error, "no name".to_owned())));
    assert_eq!(failed.attempt, (2, 2));
    assert!(!failed.success);
    assert!(failed.output.is_none());

    let run = seen("-:failed");
    assert_eq!(run.step, None);
    assert_eq!(run.pipeline.as_deref(), Some("greetings"));
    assert_eq!(run.run_id.as_deref(), Some(run_id.as_str()));
    assert_eq!(
        run.error,
        Some((ErrorKind::Error, "some greetings failed".to_owned()))
    );
    assert_eq!(run.failed, ["greet (error): no name"]);
    assert_eq!(run.attempt, (1, 1));
    assert!(run.duration >= Duration::from_millis(10));
}

#[step(on_success = look)]
fn outside_any_pipeline() -> String {
    "x".into()
}

#[test]
fn outside_a_pipeline_there_is_no_run() {
    outside_any_pipeline().unwrap();
    let s = seen("outside_any_pipeline:completed");
    assert_eq!(s.pipeline, None);
    assert_eq!(s.run_id, None);
    assert_eq!(s.output.as_deref(), Some("x"));
}

fn current_in_hook(ctx: &HookContext) {
    let cur = current().expect("hooks see the current step");
    assert_eq!(cur.step_name(), ctx.step_name());
    assert_eq!(cur.run_id(), ctx.run_id());
    assert_eq!(cur.status(), Status::Completed);
}

#[step(retries = 2, on_success = current_in_hook)]
fn body_sees_itself() -> anyhow::Result<(String, u32, u32, Status)> {
    let ctx = current().unwrap();
    anyhow::ensure!(ctx.attempt() >= 2, "first attempt fails");
    Ok((
        ctx.step_name().unwrap().to_owned(),
        ctx.attempt(),
        ctx.max_attempts(),
        ctx.status(),
    ))
}

#[pipeline]
fn pipeline_sees_itself() -> anyhow::Result<(Option<String>, Option<String>, bool)> {
    let ctx = current().unwrap();
    let inner = body_sees_itself()?;
    assert_eq!(inner.0, "body_sees_itself");
    // Back in the pipeline body after the step.
    let after = current().unwrap();
    assert_eq!(after.run_id(), ctx.run_id());
    Ok((
        ctx.step_name().map(str::to_owned),
        ctx.pipeline_name().map(str::to_owned),
        ctx.run_id().is_some(),
    ))
}

#[test]
fn current_in_bodies_and_hooks() {
    assert_eq!(
        body_sees_itself().unwrap(),
        ("body_sees_itself".to_owned(), 2, 3, Status::Running)
    );
    assert_eq!(
        pipeline_sees_itself().unwrap(),
        (None, Some("pipeline_sees_itself".to_owned()), true)
    );
    assert!(current().is_none());
}

fn span_name(ctx: &HookContext) {
    let name = ctx.span().metadata().map(|m| m.name());
    SEEN.lock()
        .unwrap()
        .push((format!("span:{}", name.unwrap_or("none")), Seen::default()));
}

#[step(on_success = span_name)]
fn spanned() {}

#[test]
fn the_context_carries_the_steps_span() {
    let subscriber = tracing_subscriber::registry();
    tracing::subscriber::with_default(subscriber, || spanned().unwrap());
    assert!(SEEN
        .lock()
        .unwrap()
        .iter()
        .any(|(w, _)| w == "span:hookflow.step"));
}
