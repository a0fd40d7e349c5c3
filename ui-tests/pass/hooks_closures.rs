// Closures as hooks, with annotated arguments, for each family: basic,
// error, typed error and typed output, returning `()` or `Result<(), E>`.
use hookflow::{step, HookContext, StepError};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[step(
    on_start = || { CALLS.fetch_add(1, SeqCst); },
    on_success = [
        |c: &HookContext| { assert!(c.is_success()); CALLS.fetch_add(1, SeqCst); },
        |v: &u32| { assert_eq!(*v, 5); CALLS.fetch_add(1, SeqCst); },
        |_c: &HookContext, v: &u32| -> Result<(), String> { assert_eq!(*v, 5); CALLS.fetch_add(1, SeqCst); Ok(()) },
    ],
)]
fn five() -> u32 {
    5
}

#[step(
    on_failure = [
        |e: &StepError| { assert_eq!(e.message(), "invalid digit found in string"); CALLS.fetch_add(1, SeqCst); },
        |_c: &HookContext, e: &StepError| { assert!(!e.is_panic()); CALLS.fetch_add(1, SeqCst); },
        |e: &std::num::ParseIntError| { let _ = e; CALLS.fetch_add(1, SeqCst); },
        |_c: &HookContext, _e: &std::num::ParseIntError| { CALLS.fetch_add(1, SeqCst); },
    ],
)]
fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
    s.parse()
}

fn main() {
    assert_eq!(five().unwrap(), 5);
    assert_eq!(CALLS.load(SeqCst), 4);
    let _ = parse("x");
    assert_eq!(CALLS.load(SeqCst), 8);
}
