// The basic hook shapes, `fn()` and `fn(&HookContext)`, each returning `()`
// and `Result<(), E: Display>`, on every event of a sync step; each hook
// fires once per event reached.
use hookflow::{step, HookContext, Status};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

static UNIT: AtomicUsize = AtomicUsize::new(0);
static CTX: AtomicUsize = AtomicUsize::new(0);
static UNIT_RES: AtomicUsize = AtomicUsize::new(0);
static CTX_RES: AtomicUsize = AtomicUsize::new(0);

fn unit() {
    UNIT.fetch_add(1, SeqCst);
}
fn ctx(c: &HookContext) {
    assert_eq!(c.step_name(), Some("basic"));
    CTX.fetch_add(1, SeqCst);
}
fn unit_res() -> Result<(), String> {
    UNIT_RES.fetch_add(1, SeqCst);
    Ok(())
}
fn ctx_res(c: &HookContext) -> Result<(), std::fmt::Error> {
    assert_eq!(c.step_name(), Some("basic"));
    CTX_RES.fetch_add(1, SeqCst);
    Ok(())
}

#[step(
    on_start = [unit, ctx, unit_res, ctx_res],
    on_success = [unit, ctx, unit_res, ctx_res],
    on_failure = [unit, ctx, unit_res, ctx_res],
    on_retry = [unit, ctx, unit_res, ctx_res],
    on_crash = [unit, ctx, unit_res, ctx_res],
    on_cancel = [unit, ctx, unit_res, ctx_res],
    on_finish = [unit, ctx, unit_res, ctx_res],
    retries = 1,
)]
fn basic(mode: u8) -> Result<u32, std::io::Error> {
    match mode {
        0 => Ok(7),
        1 => Err(std::io::Error::other("no")),
        _ => panic!("boom"),
    }
}

fn counts() -> [usize; 4] {
    [UNIT.load(SeqCst), CTX.load(SeqCst), UNIT_RES.load(SeqCst), CTX_RES.load(SeqCst)]
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
    // start, success, finish
    assert_eq!(basic(0).unwrap(), 7);
    assert_eq!(counts(), [3; 4]);
    // start, retry, start, failure, finish
    assert!(basic(1).is_err());
    assert_eq!(counts(), [8; 4]);
    // start, crash, failure, finish
    assert!(basic(2).unwrap_err().is_panic());
    assert_eq!(counts(), [12; 4]);
    let _ = Status::Completed;
}
