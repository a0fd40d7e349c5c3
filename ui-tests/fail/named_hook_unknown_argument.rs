// `#[hook]` takes no arguments: the hook is registered under its path.
use hookflow::hook;

#[hook(name = "pager")]
fn page() {}

fn main() {
    page();
}
