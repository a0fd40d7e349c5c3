// A misspelled key inside a pipeline's `steps(..)` defaults is rejected on
// the key, with a "did you mean".
use hookflow::pipeline;

fn done() {}

#[pipeline(steps(on_sucess = done))]
fn nightly() {}

fn main() {}
