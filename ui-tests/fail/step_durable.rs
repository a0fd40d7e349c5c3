// `durable` belongs to a pipeline (a run is what a journal records), not to
// a step.
use hookflow::step;

#[step(durable)]
fn load() {}

fn main() {}
