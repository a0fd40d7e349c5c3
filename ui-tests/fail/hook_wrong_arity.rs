// A hook taking more arguments than any accepted signature is an error on
// the hook's path, naming the event and listing the accepted signatures.
use hookflow::{step, HookContext, StepError};

fn alert(_: &HookContext, _: &StepError, _: u32) {}

#[step(on_failure = alert)]
fn load() -> std::io::Result<()> {
    Ok(())
}

fn main() {}
