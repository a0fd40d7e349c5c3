// `on_success` hooks cannot take `&StepError`: there is no error on success.
use hookflow::{step, StepError};

fn done(_: &StepError) {}

#[step(on_success = done)]
fn load() -> u32 {
    1
}

fn main() {}
