// `#[step]` on a const is an error on the `const` keyword.
use hookflow::step;

#[step]
const LOAD: u32 = 1;

fn main() {}
