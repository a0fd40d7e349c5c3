// A step whose output is generic cannot offer it to typed hooks: a typed
// `on_success` hook on it is an error on the hook's path.
use hookflow::step;

fn done(_: &u32) {}

#[step(on_success = done)]
fn identity<T: Send + 'static>(value: T) -> T {
    value
}

fn main() {}
