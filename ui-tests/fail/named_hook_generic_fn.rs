// Configuration attaches one function: a generic one has no single
// signature to check.
use hookflow::hook;

#[hook]
fn show<T: std::fmt::Debug + 'static>(_value: &T) {}

fn main() {}
