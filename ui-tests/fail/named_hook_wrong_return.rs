// A hook returns `()` or `Result<(), E: Display>`, not a value.
use hookflow::{hook, HookContext};

#[hook]
fn count(_ctx: &HookContext) -> u32 {
    1
}

fn main() {}
