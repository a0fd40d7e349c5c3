// A generic hook on a step with a typed output: not silently bound to the
// context, nor left to a bare "type annotations needed".
use std::fmt::Debug;

use hookflow::step;

fn show<T: Debug + 'static>(value: &T) {
    println!("{value:?}");
}

#[step(on_success = show)]
fn count() -> u32 {
    3
}

fn main() {
    let _ = count();
}
