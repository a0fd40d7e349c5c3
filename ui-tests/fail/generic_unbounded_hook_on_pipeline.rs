// A generic hook without bounds on a pipeline: still never given the
// context by inference.
use hookflow::{pipeline, HookContext};

fn show<T>(_ctx: &HookContext, _value: &T) {}

#[pipeline(on_failure = show)]
fn nightly() -> anyhow::Result<()> {
    Ok(())
}

fn main() {
    let _ = nightly();
}
