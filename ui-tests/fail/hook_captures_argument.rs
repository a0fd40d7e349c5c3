// A call that builds a hook runs once, not per call: it cannot capture the
// step's arguments.
use hookflow::{step, HookContext};

fn tagged(_tag: String) -> impl Fn(&HookContext) + Send + Sync + 'static {
    |_ctx| {}
}

#[step(on_success = tagged(tag.clone()))]
fn load(tag: String) -> u32 {
    tag.len() as u32
}

fn main() {}
