//! Step and pipeline error messages: every cause exactly once, in
//! `message()`, `Display` and the `{:#}` chain of `anyhow::Error`.

use anyhow::Context as _;
use hookflow::{pipeline, step, ErrorKind};

#[derive(Debug, thiserror::Error)]
#[error("disk full")]
struct DiskFull;

#[derive(Debug, thiserror::Error)]
#[error("saving report")]
struct Saving(#[source] DiskFull);

#[step]
fn build() -> anyhow::Result<()> {
    anyhow::bail!("compiler exploded")
}

#[step]
fn save_plain() -> Result<(), DiskFull> {
    Err(DiskFull)
}

#[step]
fn save_with_source() -> Result<(), Saving> {
    Err(Saving(DiskFull))
}

#[step]
fn save_with_context() -> anyhow::Result<()> {
    Err(anyhow::Error::new(DiskFull)).context("writing /tmp/report")
}

#[step]
fn explode() {
    panic!("boom")
}

#[pipeline]
fn ci() -> anyhow::Result<()> {
    build()?;
    Ok(())
}

#[pipeline]
fn nightly() -> anyhow::Result<()> {
    save_with_context()?;
    Ok(())
}

#[pipeline]
fn direct() -> anyhow::Result<()> {
    anyhow::bail!("no input")
}

fn chain(e: impl std::error::Error + Send + Sync + 'static) -> String {
    format!("{:#}", anyhow::Error::new(e))
}

#[test]
fn a_pipeline_names_its_failed_step_and_the_cause_once() {
    let err = ci().unwrap_err();
    assert_eq!(err.message(), "step `build` failed: compiler exploded");
    assert_eq!(
        err.to_string(),
        "pipeline `ci` failed: step `build` failed: compiler exploded"
    );
    assert_eq!(
        chain(err),
        "pipeline `ci` failed: step `build` failed: compiler exploded"
    );
}

#[test]
fn a_pipeline_keeps_a_steps_context_chain_once() {
    let err = nightly().unwrap_err();
    assert_eq!(
        err.message(),
        "step `save_with_context` failed: writing /tmp/report: disk full"
    );
    let text = chain(err.clone());
    assert_eq!(text.matches("disk full").count(), 1, "{text}");
    assert_eq!(text.matches("writing /tmp/report").count(), 1, "{text}");
    assert!(err.downcast_ref::<DiskFull>().is_some());
}

#[test]
fn a_pipeline_error_of_its_own() {
    let err = direct().unwrap_err();
    assert_eq!(err.message(), "no input");
    assert_eq!(err.to_string(), "pipeline `direct` failed: no input");
    assert_eq!(chain(err), "pipeline `direct` failed: no input");
}

#[test]
fn step_errors_without_a_source() {
    let err = save_plain().unwrap_err();
    assert_eq!(err.message(), "disk full");
    assert_eq!(err.to_string(), "step `save_plain` failed: disk full");
    assert_eq!(chain(err.clone()), "step `save_plain` failed: disk full");
    assert!(err.downcast_ref::<DiskFull>().is_some());

    let err = explode().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(err.to_string(), "step `explode` panicked: boom");
    assert_eq!(chain(err), "step `explode` panicked: boom");
}

#[test]
fn step_errors_with_sources_print_each_cause_once() {
    let err = save_with_source().unwrap_err();
    assert_eq!(err.message(), "saving report: disk full");
    assert_eq!(
        err.to_string(),
        "step `save_with_source` failed: saving report"
    );
    assert_eq!(
        chain(err.clone()),
        "step `save_with_source` failed: saving report: disk full"
    );
    assert!(err.downcast_ref::<Saving>().is_some());

    let err = save_with_context().unwrap_err();
    assert_eq!(err.message(), "writing /tmp/report: disk full");
    assert_eq!(
        chain(err),
        "step `save_with_context` failed: writing /tmp/report: disk full"
    );
}

#[hookflow::step]
fn leaks_a_token() -> anyhow::Result<()> {
    anyhow::bail!("auth failed with token err-msg-secret-4c2b9e")
}

#[test]
fn a_known_secret_in_a_steps_error_is_redacted_in_display_and_debug() {
    hookflow::secret::register_named("ERR_MSG_TOKEN", "err-msg-secret-4c2b9e");
    let err = leaks_a_token().unwrap_err();
    assert_eq!(
        err.to_string(),
        "step `leaks_a_token` failed: auth failed with token [secret ERR_MSG_TOKEN]"
    );
    assert!(!format!("{err:?}").contains("err-msg-secret"), "{err:?}");
    assert!(!format!("{err:#}").contains("err-msg-secret"), "{err:#}");
}
