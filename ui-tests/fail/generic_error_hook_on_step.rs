// A generic two-argument failure hook: not silently bound to `StepError`.
use std::fmt::Debug;

use hookflow::{step, HookContext};

fn show<E: Debug + 'static>(_ctx: &HookContext, err: &E) {
    println!("{err:?}");
}

#[step(on_failure = show)]
fn count() -> u32 {
    3
}

fn main() {
    let _ = count();
}
