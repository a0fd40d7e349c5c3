// `#[step]` on a struct is an error on the `struct` keyword.
use hookflow::step;

#[step]
struct Load {
    id: u32,
}

fn main() {}
