// The basic hook shapes as `async fn` (`async fn()`, `async fn(&HookContext)`,
// returning `()` and `Result<(), E>`), mixed with sync ones, on every event of
// an async step; `on_cancel` fires when the step's future is dropped.
use hookflow::{step, HookContext};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

static UNIT: AtomicUsize = AtomicUsize::new(0);
static CTX: AtomicUsize = AtomicUsize::new(0);
static UNIT_RES: AtomicUsize = AtomicUsize::new(0);
static CTX_RES: AtomicUsize = AtomicUsize::new(0);
static SYNC: AtomicUsize = AtomicUsize::new(0);

async fn unit() {
    UNIT.fetch_add(1, SeqCst);
}
async fn ctx(c: &HookContext) {
    assert_eq!(c.step_name(), Some("basic"));
    tokio::task::yield_now().await;
    CTX.fetch_add(1, SeqCst);
}
async fn unit_res() -> Result<(), String> {
    UNIT_RES.fetch_add(1, SeqCst);
    Ok(())
}
async fn ctx_res(c: &HookContext) -> Result<(), std::fmt::Error> {
    assert_eq!(c.step_name(), Some("basic"));
    CTX_RES.fetch_add(1, SeqCst);
    Ok(())
}
fn sync(_: &HookContext) {
    SYNC.fetch_add(1, SeqCst);
}

#[step(
    on_start = [unit, ctx, unit_res, ctx_res, sync],
    on_success = [unit, ctx, unit_res, ctx_res, sync],
    on_failure = [unit, ctx, unit_res, ctx_res, sync],
    on_retry = [unit, ctx, unit_res, ctx_res, sync],
    on_crash = [unit, ctx, unit_res, ctx_res, sync],
    on_cancel = [unit, ctx, unit_res, ctx_res, sync],
    on_finish = [unit, ctx, unit_res, ctx_res, sync],
    retries = 1,
)]
async fn basic(mode: u8) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    match mode {
        0 => Ok(7),
        1 => Err(std::io::Error::other("no")),
        2 => panic!("boom"),
        _ => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(0)
        }
    }
}

fn counts() -> [usize; 5] {
    [
        UNIT.load(SeqCst),
        CTX.load(SeqCst),
        UNIT_RES.load(SeqCst),
        CTX_RES.load(SeqCst),
        SYNC.load(SeqCst),
    ]
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
    // start, success, finish
    assert_eq!(basic(0).await.unwrap(), 7);
    assert_eq!(counts(), [3; 5]);
    // start, retry, start, failure, finish
    assert!(basic(1).await.is_err());
    assert_eq!(counts(), [8; 5]);
    // start, crash, failure, finish
    assert!(basic(2).await.unwrap_err().is_panic());
    assert_eq!(counts(), [12; 5]);
    // start, then dropped: cancel, finish
    assert!(tokio::time::timeout(Duration::from_millis(20), basic(3)).await.is_err());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(counts(), [15; 5]);
}
