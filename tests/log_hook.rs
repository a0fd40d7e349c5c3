//! `hookflow::hooks::log()`: one `tracing` event per state it fires in, at
//! the level the state calls for, with the context as structured fields.

mod alerts_support;

use alerts_support::{all_events, capture_logs, Captured};
use hookflow::{hooks, pipeline, step, ErrorKind};
use tracing::Level;

fn log_events(step: &str) -> Vec<Captured> {
    all_events()
        .into_iter()
        .filter(|e| e.target == "hookflow" && e.field("step") == Some(step))
        .collect()
}

#[step(on_finish = hooks::log())]
fn log_fails() -> anyhow::Result<u32> {
    anyhow::bail!("disk full")
}

#[step(on_finish = hooks::log())]
fn log_panics() -> u32 {
    panic!("index out of range")
}

#[step(on_finish = hooks::log())]
fn log_succeeds() -> u32 {
    7
}

#[pipeline]
fn log_nightly() -> anyhow::Result<()> {
    let _ = log_fails();
    let _ = log_panics();
    let _ = log_succeeds();
    Ok(())
}

#[test]
fn one_event_per_terminal_state_with_the_context_fields() {
    capture_logs();
    log_nightly().unwrap();

    let failed = log_events("log_fails");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let e = &failed[0];
    assert_eq!(e.level, Level::WARN);
    assert_eq!(e.field("pipeline"), Some("log_nightly"));
    assert_eq!(e.field("status"), Some("failed"));
    assert_eq!(e.field("kind"), Some("error"));
    assert_eq!(e.field("error"), Some("disk full"));
    assert_eq!(e.field("attempt"), Some("1"));
    assert_eq!(e.field("max_attempts"), Some("1"));
    assert_eq!(e.field("message"), Some("step failed"));
    let run_id = e.field("run_id").expect("run id");
    assert_eq!(uuid_version(run_id), Some(7));
    let secs: f64 = e.field("duration_secs").unwrap().parse().unwrap();
    assert!(secs >= 0.0);

    let crashed = log_events("log_panics");
    assert_eq!(crashed.len(), 1);
    assert_eq!(crashed[0].level, Level::ERROR);
    assert_eq!(crashed[0].field("status"), Some("crashed"));
    assert_eq!(crashed[0].field("kind"), Some("panic"));
    assert_eq!(crashed[0].field("error"), Some("index out of range"));
    assert_eq!(crashed[0].field("run_id"), Some(run_id));

    let ok = log_events("log_succeeds");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].level, Level::INFO);
    assert_eq!(ok[0].field("status"), Some("completed"));
    assert_eq!(ok[0].field("error"), None);
}

fn uuid_version(s: &str) -> Option<u32> {
    // xxxxxxxx-xxxx-Vxxx-…
    s.split('-').nth(2)?.chars().next()?.to_digit(16)
}

static ATTEMPTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[step(retries = 1, on_retry = hooks::log(), on_failure = hooks::log(), on_success = hooks::log())]
async fn log_flaky() -> anyhow::Result<()> {
    if ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
        anyhow::bail!("first attempt fails")
    }
    Ok(())
}

#[tokio::test]
async fn a_retried_attempt_is_a_warning_and_the_success_an_info() {
    capture_logs();
    log_flaky().await.unwrap();
    let events = log_events("log_flaky");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].level, Level::WARN);
    assert_eq!(events[0].field("status"), Some("running"));
    assert_eq!(events[0].field("attempt"), Some("1"));
    assert_eq!(events[0].field("error"), Some("first attempt fails"));
    assert_eq!(
        events[0].field("message"),
        Some("step attempt failed; retrying")
    );
    assert_eq!(events[1].level, Level::INFO);
    assert_eq!(events[1].field("attempt"), Some("2"));
    assert_eq!(
        events[1].field("pipeline"),
        None,
        "called outside a pipeline"
    );
}

#[pipeline(on_failure = hooks::log())]
fn log_failing_pipeline() -> anyhow::Result<()> {
    anyhow::bail!("no input")
}

#[test]
fn a_pipeline_event_has_no_step() {
    capture_logs();
    let err = log_failing_pipeline().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    let events: Vec<_> = all_events()
        .into_iter()
        .filter(|e| e.target == "hookflow" && e.field("pipeline") == Some("log_failing_pipeline"))
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].level, Level::WARN);
    assert_eq!(events[0].field("step"), None);
    assert_eq!(events[0].field("message"), Some("pipeline failed"));
    assert_eq!(events[0].field("error"), Some("no input"));
}

#[test]
fn the_log_hook_is_registered_by_name() {
    let hook = hookflow_runtime::named::hook("hookflow::log", None).unwrap();
    assert_eq!(hook.path(), "hookflow::log");
    assert_eq!(hook.shape(), hookflow_runtime::named::HookShape::Ctx);
    assert!(!hook.is_async());
    let alert = hookflow_runtime::named::hook("hookflow::alert_on_failure", None).unwrap();
    assert!(alert.is_async());
}
