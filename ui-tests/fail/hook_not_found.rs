// A hook path that does not resolve is one error on the path (rustc's own
// "cannot find", with its suggestion), not a cascade.
use hookflow::step;

fn alert() {}

#[step(on_failure = alrt)]
fn load() {}

fn main() {}
