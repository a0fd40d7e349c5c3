// The failure-event hook shapes of a sync step: `fn(&StepError)`,
// `fn(&HookContext, &StepError)` and the step's own error type `fn(&E)`,
// `fn(&HookContext, &E)`, returning `()` and `Result<(), E>`, on `on_failure`,
// `on_retry` and `on_crash`.
use hookflow::{step, ErrorKind, HookContext, StepError};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

#[derive(Debug, thiserror::Error)]
#[error("not found: {0}")]
struct NotFound(u32);

static ERR: AtomicUsize = AtomicUsize::new(0);
static CTX_ERR: AtomicUsize = AtomicUsize::new(0);
static TYPED: AtomicUsize = AtomicUsize::new(0);
static CTX_TYPED: AtomicUsize = AtomicUsize::new(0);
static CRASH: AtomicUsize = AtomicUsize::new(0);

fn err(e: &StepError) {
    assert_eq!(e.kind(), ErrorKind::Error);
    ERR.fetch_add(1, SeqCst);
}
fn ctx_err(c: &HookContext, e: &StepError) -> Result<(), String> {
    assert_eq!(c.step_name(), Some("lookup"));
    assert_eq!(e.message(), "not found: 3");
    CTX_ERR.fetch_add(1, SeqCst);
    Ok(())
}
fn typed(e: &NotFound) {
    assert_eq!(e.0, 3);
    TYPED.fetch_add(1, SeqCst);
}
fn ctx_typed(c: &HookContext, e: &NotFound) -> Result<(), std::fmt::Error> {
    assert!(!c.is_success());
    assert_eq!(e.0, 3);
    CTX_TYPED.fetch_add(1, SeqCst);
    Ok(())
}
fn crashed(e: &StepError) -> Result<(), &'static str> {
    assert_eq!(e.kind(), ErrorKind::Panic);
    CRASH.fetch_add(1, SeqCst);
    Ok(())
}

#[step(
    on_failure = [err, ctx_err, typed, ctx_typed],
    on_retry = [err, ctx_err, typed, ctx_typed],
    retries = 2,
)]
fn lookup(id: u32) -> Result<String, NotFound> {
    Err(NotFound(id))
}

#[step(on_crash = [crashed, typed, ctx_typed])]
fn crashes() -> Result<(), NotFound> {
    panic!("boom")
}

/// Keeps the expected "boom" panics out of the test output.
fn quiet_boom() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"boom") {
            default(info)
        }
    }));
}

fn main() {
    quiet_boom();
    let e = lookup(3).unwrap_err();
    assert_eq!(e.downcast_ref::<NotFound>().unwrap().0, 3);
    // two retries and one failure
    for c in [&ERR, &CTX_ERR, &TYPED, &CTX_TYPED] {
        assert_eq!(c.load(SeqCst), 3);
    }
    assert!(crashes().unwrap_err().is_panic());
    assert_eq!(CRASH.load(SeqCst), 1);
    // a panic carries no `NotFound`: typed hooks are skipped
    assert_eq!(TYPED.load(SeqCst), 3);
}
