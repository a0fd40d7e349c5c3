//! `alert_on_failure()` / `alert_on_success()` in steps and pipelines:
//! what they post, when, through which alerter, and how a failed delivery
//! is recorded without changing any outcome.

mod alerts_support;

use std::time::Duration;

use alerts_support::{all_events, capture_logs};
use hookflow::alert::{DefaultAlerter, RecordingAlerter};
use hookflow::{hooks, pipeline, step, ErrorKind, Event, HookStatus, Run, Status};

#[step(on_failure = hooks::alert_on_failure())]
async fn alert_load() -> anyhow::Result<u32> {
    anyhow::bail!("disk full")
}

#[pipeline]
async fn alert_nightly() -> Result<(), hookflow::StepError> {
    alert_load().await.map(|_| ())
}

#[tokio::test]
async fn a_failed_async_step_posts_the_default_message_once() {
    let recorder = RecordingAlerter::new();
    let report = Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .execute_async(alert_nightly())
        .await;
    let err = report.output().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert!(
        err.message()
            .starts_with("step `alert_load` failed: disk full"),
        "{err}"
    );

    let alerts = recorder.alerts();
    assert_eq!(alerts.len(), 1);
    let run_id = report.run_id().unwrap();
    assert_eq!(alerts[0].step(), Some("alert_load"));
    assert_eq!(alerts[0].status(), Status::Failed);
    assert_eq!(alerts[0].run_id(), Some(run_id));
    let message = alerts[0].message();
    let (first, rest) = message.split_once('\n').unwrap();
    assert_eq!(first, "step `alert_load` failed (error): disk full");
    assert!(
        rest.starts_with(&format!(
            "attempt 1/1 · pipeline `alert_nightly` · run {run_id} · took "
        )),
        "{rest}"
    );
    let outcome = report
        .hook_outcomes()
        .into_iter()
        .find(|o| o.step() == Some("alert_load"))
        .unwrap();
    assert_eq!(outcome.event(), Event::Failure);
    assert_eq!(outcome.status(), &HookStatus::Ok);
}

#[step(on_finish = [hooks::alert_on_failure(), hooks::alert_on_success()])]
async fn alert_fine() -> u32 {
    3
}

#[pipeline]
async fn alert_fine_pipeline() -> Result<u32, hookflow::StepError> {
    alert_fine().await
}

#[tokio::test]
async fn alert_on_success_posts_on_success_and_alert_on_failure_does_not() {
    let recorder = RecordingAlerter::new();
    let report = Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .execute_async(alert_fine_pipeline())
        .await;
    assert_eq!(*report.output().as_ref().unwrap(), 3);
    let messages = recorder.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("step `alert_fine` completed\n"),
        "{}",
        messages[0]
    );
    let statuses: Vec<HookStatus> = report
        .hook_outcomes()
        .into_iter()
        .filter(|o| o.step() == Some("alert_fine"))
        .map(|o| o.status().clone())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(matches!(&statuses[0], HookStatus::Skipped(why) if why.contains("alert_on_failure")));
    assert_eq!(statuses[1], HookStatus::Ok);
}

#[step(on_failure = hooks::alert_on_failure())]
async fn alert_undeliverable() -> anyhow::Result<u32> {
    anyhow::bail!("bad input")
}

#[pipeline]
async fn alert_undeliverable_pipeline() -> Result<u32, hookflow::StepError> {
    alert_undeliverable().await
}

#[tokio::test]
async fn a_failed_delivery_is_a_recorded_hook_failure_and_changes_no_outcome() {
    capture_logs();
    let recorder = RecordingAlerter::failing("receiver said no");
    let report = Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .execute_async(alert_undeliverable_pipeline())
        .await;
    let err = report.output().as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert!(
        err.message()
            .starts_with("step `alert_undeliverable` failed: bad input"),
        "{err}"
    );
    assert_eq!(recorder.len(), 1, "the delivery was attempted");
    let failures = report.hook_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].step(), Some("alert_undeliverable"));
    assert_eq!(
        failures[0].status(),
        &HookStatus::Failed("receiver said no".into())
    );
    let warned = all_events().into_iter().any(|e| {
        e.level == tracing::Level::WARN
            && e.field("step") == Some("alert_undeliverable")
            && e.field("error") == Some("receiver said no")
    });
    assert!(warned, "the hook failure is logged");
}

#[step(on_failure = hooks::alert_on_failure())]
async fn alert_without_alerter() -> anyhow::Result<u32> {
    anyhow::bail!("nobody listens")
}

#[pipeline]
async fn alert_without_alerter_pipeline() -> Result<u32, hookflow::StepError> {
    alert_without_alerter().await
}

#[tokio::test]
async fn without_an_alerter_the_hook_is_skipped_with_a_warning() {
    capture_logs();
    let report = Run::new()
        .execute_async(alert_without_alerter_pipeline())
        .await;
    assert_eq!(
        report.output().as_ref().unwrap_err().kind(),
        ErrorKind::Error
    );
    let outcome = report
        .hook_outcomes()
        .into_iter()
        .find(|o| o.step() == Some("alert_without_alerter"))
        .unwrap();
    assert!(
        matches!(outcome.status(), HookStatus::Skipped(why) if why.contains("DefaultAlerter")),
        "{:?}",
        outcome.status()
    );
    let warned = all_events().into_iter().any(|e| {
        e.level == tracing::Level::WARN
            && e.target == "hookflow"
            && e.field("step") == Some("alert_without_alerter")
    });
    assert!(warned);
}

#[step]
fn alert_part_a() -> anyhow::Result<()> {
    anyhow::bail!("a broke")
}

#[step]
fn alert_part_b() -> u32 {
    panic!("b panicked")
}

#[pipeline(on_failure = hooks::alert_on_failure())]
fn alert_two_failures() -> anyhow::Result<()> {
    let _ = alert_part_a();
    let _ = alert_part_b();
    anyhow::bail!("two steps failed")
}

#[test]
fn a_pipeline_failure_alert_lists_its_failed_steps_in_one_message() {
    let recorder = RecordingAlerter::new();
    let report = Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .execute(alert_two_failures);
    assert!(report.output().is_err());
    assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(10)));
    let alerts = recorder.alerts();
    assert_eq!(alerts.len(), 1, "one message for the run");
    assert_eq!(alerts[0].step(), None);
    assert_eq!(alerts[0].failed_steps(), ["alert_part_a", "alert_part_b"]);
    let message = alerts[0].message();
    assert!(
        message.starts_with("pipeline `alert_two_failures` failed (error): two steps failed\n"),
        "{message}"
    );
    assert!(message.ends_with(
        "failed steps (2):\n- `alert_part_a` (error): a broke\n- `alert_part_b` (panic): b panicked"
    ), "{message}");
}

#[step(on_failure = hooks::alert_on_failure())]
fn alert_sync_step(n: u32) -> anyhow::Result<u32> {
    anyhow::ensure!(n < 5, "{n} is too large");
    Ok(n)
}

#[pipeline]
fn alert_sync_pipeline() -> anyhow::Result<u32> {
    let _ = alert_sync_step(9);
    Ok(alert_sync_step(2)?)
}

#[test]
fn on_a_sync_step_the_alert_is_delivered_by_the_hook_thread() {
    let recorder = RecordingAlerter::new();
    let report = Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .execute(alert_sync_pipeline);
    assert_eq!(*report.output().as_ref().unwrap(), 2);
    assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(10)));
    let messages = recorder.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].starts_with("step `alert_sync_step` failed (error): 9 is too large"));
}

fn direct_recorder() -> &'static RecordingAlerter {
    static R: std::sync::OnceLock<RecordingAlerter> = std::sync::OnceLock::new();
    R.get_or_init(RecordingAlerter::new)
}

#[step(on_failure = hooks::alert_on_failure().via(direct_recorder().clone()))]
async fn alert_direct() -> anyhow::Result<()> {
    anyhow::bail!("no pipeline here")
}

#[tokio::test]
async fn via_posts_through_the_given_alerter_outside_any_run() {
    let err = alert_direct().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    let alerts = direct_recorder().alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].pipeline(), None);
    assert!(alerts[0]
        .message()
        .starts_with("step `alert_direct` failed (error): no pipeline here\nattempt 1/1 · took "));
}

#[cfg(feature = "config")]
mod templated {
    use super::*;
    use hookflow::template::Template;

    fn template() -> Template {
        Template::compile(
            "Deploy {{ hook.step_name }} FAILED: {{ hook.error_message }} (try {{ hook.attempt }})",
        )
        .unwrap()
    }

    #[step(retries = 1, on_failure = hooks::alert_on_failure().template(template()))]
    async fn alert_templated() -> anyhow::Result<()> {
        anyhow::bail!("exit code 2")
    }

    #[pipeline]
    async fn alert_templated_pipeline() -> Result<(), hookflow::StepError> {
        alert_templated().await
    }

    #[tokio::test]
    async fn a_template_makes_the_message() {
        let recorder = RecordingAlerter::new();
        Run::new()
            .resource(DefaultAlerter::new(recorder.clone()))
            .execute_async(alert_templated_pipeline())
            .await;
        assert_eq!(
            recorder.messages(),
            ["Deploy alert_templated FAILED: exit code 2 (try 2)"]
        );
    }
}
