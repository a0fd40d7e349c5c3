//! `HookContext::builder()` for unit tests of hooks, and the serialisation
//! of a context to the template variables (`hook.*`).

use std::time::{Duration, SystemTime};

use hookflow::{ErrorKind, FailedStep, HookContext, Status, StepError};

fn summary(ctx: &HookContext) -> String {
    format!(
        "{}/{}/{}/{}/{}/{:?}/{}",
        ctx.pipeline_name().unwrap_or("-"),
        ctx.step_name().unwrap_or("-"),
        ctx.status(),
        ctx.attempt(),
        ctx.max_attempts(),
        ctx.duration(),
        ctx.error()
            .map_or("ok".to_owned(), |e| e.message().to_owned()),
    )
}

#[test]
fn a_hand_built_context_has_what_was_given() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ctx = HookContext::builder()
        .pipeline("nightly")
        .step("load")
        .status(Status::Failed)
        .error(StepError::manual(
            "load",
            ErrorKind::Timeout,
            "timed out after 2s",
        ))
        .attempt(3)
        .max_attempts(3)
        .started_at(start)
        .finished_at(start + Duration::from_millis(2500))
        .output(7_u32)
        .failed_step(FailedStep::new(
            "load",
            "timed out after 2s",
            ErrorKind::Timeout,
        ))
        .build();
    assert_eq!(
        summary(&ctx),
        "nightly/load/failed/3/3/2.5s/timed out after 2s"
    );
    assert_eq!(ctx.run_id().unwrap().get_version_num(), 7);
    assert_eq!(ctx.output::<u32>(), Some(&7));
    assert_eq!(ctx.failed_steps()[0].kind(), ErrorKind::Timeout);
    assert_eq!(
        ctx.started_at_rfc3339().as_deref(),
        Some("2023-11-14T22:13:20.000Z")
    );
    assert!(!ctx.is_success());
}

#[test]
fn a_default_context_is_an_empty_running_one() {
    let ctx = HookContext::builder().build();
    assert_eq!(summary(&ctx), "-/-/running/1/1/0ns/ok");
    assert!(ctx.run_id().is_none());
}

#[cfg(feature = "serde")]
#[test]
fn the_context_serialises_to_the_template_variables() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ctx = HookContext::builder()
        .pipeline("nightly")
        .step("load")
        .status(Status::Failed)
        .error(StepError::manual("load", ErrorKind::Error, "disk full"))
        .attempt(2)
        .max_attempts(3)
        .started_at(start)
        .finished_at(start + Duration::from_millis(1500))
        .failed_step(FailedStep::new("load", "disk full", ErrorKind::Error))
        .build();
    let v = serde_json::to_value(&ctx).unwrap();
    assert_eq!(v["step_name"], "load");
    assert_eq!(v["pipeline"], "nightly");
    assert_eq!(v["run_id"], ctx.run_id().unwrap().to_string());
    assert_eq!(v["status"], "failed");
    assert_eq!(v["is_success"], false);
    assert_eq!(v["error_message"], "disk full");
    assert_eq!(v["error_kind"], "error");
    assert_eq!(v["attempt"], 2);
    assert_eq!(v["max_attempts"], 3);
    assert_eq!(v["started_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(v["completed_at"], "2023-11-14T22:13:21.500Z");
    assert_eq!(v["duration_secs"], 1.5);
    assert_eq!(
        v["failed_steps"],
        serde_json::json!([{"step_name": "load", "error_message": "disk full", "error_kind": "error"}])
    );
}
