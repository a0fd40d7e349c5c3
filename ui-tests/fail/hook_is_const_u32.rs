// A path to something that is not a function (a `u32` const) is an error on
// the path.
use hookflow::step;

const ALERT: u32 = 3;

#[step(on_failure = ALERT)]
fn load() {}

fn main() {}
