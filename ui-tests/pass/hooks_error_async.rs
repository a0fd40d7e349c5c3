// The failure-event hook shapes as `async fn` on an async step:
// `async fn(&StepError)`, `async fn(&HookContext, &StepError)`,
// `async fn(&E)`, `async fn(&HookContext, &E)`, returning `()` and
// `Result<(), E>`, on `on_failure`, `on_retry` and `on_crash`.
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

async fn err(e: &StepError) {
    assert_eq!(e.kind(), ErrorKind::Error);
    tokio::task::yield_now().await;
    ERR.fetch_add(1, SeqCst);
}
async fn ctx_err(c: &HookContext, e: &StepError) -> Result<(), String> {
    assert_eq!(c.step_name(), Some("lookup"));
    assert_eq!(e.message(), "not found: 3");
    CTX_ERR.fetch_add(1, SeqCst);
    Ok(())
}
async fn typed(e: &NotFound) {
    assert_eq!(e.0, 3);
    TYPED.fetch_add(1, SeqCst);
}
async fn ctx_typed(c: &HookContext, e: &NotFound) -> Result<(), std::fmt::Error> {
    assert!(!c.is_success());
    assert_eq!(e.0, 3);
    CTX_TYPED.fetch_add(1, SeqCst);
    Ok(())
}
async fn crashed(e: &StepError) -> Result<(), &'static str> {
    assert_eq!(e.kind(), ErrorKind::Panic);
    CRASH.fetch_add(1, SeqCst);
    Ok(())
}

#[step(
    on_failure = [err, ctx_err, typed, ctx_typed],
    on_retry = [err, ctx_err, typed, ctx_typed],
    retries = 2,
    retry_delay = "1ms",
)]
async fn lookup(id: u32) -> Result<String, NotFound> {
    tokio::task::yield_now().await;
    Err(NotFound(id))
}

#[step(on_crash = [crashed, typed, ctx_typed])]
async fn crashes() -> Result<(), NotFound> {
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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    quiet_boom();
    let e = lookup(3).await.unwrap_err();
    assert_eq!(e.downcast_ref::<NotFound>().unwrap().0, 3);
    for c in [&ERR, &CTX_ERR, &TYPED, &CTX_TYPED] {
        assert_eq!(c.load(SeqCst), 3);
    }
    assert!(crashes().await.unwrap_err().is_panic());
    assert_eq!(CRASH.load(SeqCst), 1);
    assert_eq!(TYPED.load(SeqCst), 3);
}
