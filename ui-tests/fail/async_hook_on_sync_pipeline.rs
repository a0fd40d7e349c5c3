// An `async fn` hook on a sync pipeline (its own hooks or a `steps(..)`
// default) is an error on the hook, saying so.
use hookflow::{pipeline, HookContext};

async fn notify(_: &HookContext) {}

#[pipeline(on_finish = notify, steps(on_start = notify))]
fn nightly() {}

fn main() {}
