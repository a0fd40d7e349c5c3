// A key given twice is an error on the second occurrence.
use hookflow::step;

#[step(retries = 1, retries = 2)]
fn load() {}

fn main() {}
