// `#[step]` on a method with a `self` receiver is an error on `self`.
use hookflow::step;

struct Loader;

impl Loader {
    #[step]
    fn load(&self) -> u32 {
        1
    }
}

fn main() {}
