// A `retry_delay` that is not a humantime duration is an error on the string.
use hookflow::step;

#[step(retries = 2, retry_delay = "5 parsecs")]
fn load() {}

fn main() {}
