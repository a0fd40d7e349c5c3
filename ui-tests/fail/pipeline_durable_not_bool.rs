// `durable` is a flag (`durable`, or `durable = true` / `false`); any other
// value is rejected on the value.
use hookflow::pipeline;

#[pipeline(durable = "yes")]
fn nightly() {}

fn main() {}
