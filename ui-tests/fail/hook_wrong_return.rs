// A hook must return `()` or `Result<(), E: Display>`: a hook returning `u32`
// is an error on the hook's path.
use hookflow::step;

fn started() -> u32 {
    1
}

#[step(on_start = started)]
fn load() {}

fn main() {}
