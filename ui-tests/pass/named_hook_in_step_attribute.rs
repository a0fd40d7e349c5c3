// A registered hook is still a plain function: a step's attribute can
// attach it directly, and calls it like any hook.
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use hookflow::{hook, step, StepError};

static PAGED: AtomicUsize = AtomicUsize::new(0);

#[hook]
fn page_oncall(err: &StepError) {
    assert_eq!(err.message(), "no rows");
    PAGED.fetch_add(1, SeqCst);
}

#[step(on_failure = page_oncall)]
fn load() -> anyhow::Result<u32> {
    anyhow::bail!("no rows")
}

fn main() {
    assert!(load().is_err());
    assert_eq!(PAGED.load(SeqCst), 1);
    assert!(hookflow::named::hook("page_oncall", None).is_ok());
}
