// `timeout` needs an `async fn` step: on a sync fn it is an error on the
// value of `timeout`.
use hookflow::step;

#[step(timeout = "2s")]
fn load() {}

fn main() {}
