// A wrong-signature hook in a pipeline's `steps(..)` defaults is an error on
// that hook's path (defaults cannot take a step's typed output or error).
use hookflow::pipeline;

fn failed(_: &std::io::Error) {}

#[pipeline(steps(on_failure = failed))]
fn nightly() -> u32 {
    1
}

fn main() {}
