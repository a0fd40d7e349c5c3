// A hook whose argument is not one of the accepted types is an error on the
// hook's path.
use hookflow::step;

fn started(_: &String) {}

#[step(on_start = started)]
fn load() {}

fn main() {}
