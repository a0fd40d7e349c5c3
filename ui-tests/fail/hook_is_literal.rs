// A literal is not a hook: the error is on the literal, from the attribute
// parser.
use hookflow::step;

#[step(on_failure = 42)]
fn load() {}

fn main() {}
