// A typed `on_failure` hook must take the step's error type: `&ParseIntError`
// for a step failing with `std::io::Error` is an error on the hook's path,
// naming the error type.
use hookflow::step;

fn failed(_: &std::num::ParseIntError) {}

#[step(on_failure = failed)]
fn load() -> Result<u32, std::io::Error> {
    Ok(1)
}

fn main() {}
