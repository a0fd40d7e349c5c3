// A typed `on_success` hook must take the step's output: `&String` for a
// step returning `u32` is an error on the hook's path, naming the output type.
use hookflow::step;

fn done(_: &String) {}

#[step(on_success = done)]
fn load() -> u32 {
    1
}

fn main() {}
