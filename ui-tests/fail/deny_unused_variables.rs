// The user's own lints still fire on an annotated function: an unused
// parameter of a `#[step]` fn is reported on that parameter.
#![deny(unused_variables)]

use hookflow::step;

#[step]
fn load(id: u32, unused: &str) -> u32 {
    id
}

fn main() {}
