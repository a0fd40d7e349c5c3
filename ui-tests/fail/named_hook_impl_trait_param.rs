// An `impl Trait` parameter makes a function generic too.
use hookflow::hook;

#[hook]
fn show(_value: &impl std::fmt::Debug) {}

fn main() {}
