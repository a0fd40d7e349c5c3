// A step must be able to finish for its hooks to fire: `-> !` is rejected
// on the `!`.
use hookflow::step;

#[step]
fn forever() -> ! {
    loop {}
}

fn main() {}
