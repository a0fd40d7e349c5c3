// An `async fn` hook on a sync step is an error on the hook, saying so.
use hookflow::{step, HookContext};

async fn notify(_: &HookContext) {}

#[step(on_finish = notify)]
fn load() {}

fn main() {}
