// A typed failure hook sees the error type of one step: configuration
// cannot attach it by name, so `#[hook]` rejects it.
use hookflow::hook;

#[derive(Debug)]
pub struct NotFound;

#[hook]
fn gone(_err: &NotFound) {}

fn main() {}
