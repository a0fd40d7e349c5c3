// Three parameters: no shape configuration can attach.
use hookflow::{hook, HookContext, StepError};

#[hook]
fn page(_ctx: &HookContext, _err: &StepError, _channel: &str) {}

fn main() {}
