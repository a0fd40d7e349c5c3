// A step's hooks are built once and shared by every call, so a hook cannot
// depend on the step's generic parameters: a clear error, not a hook that
// silently keeps the first call's type.
use hookflow::{step, HookContext};

fn show<T>(_ctx: &HookContext) {}

#[step(on_success = show::<T>)]
fn identity<T: Clone>(value: T) -> u32 {
    let _ = value;
    1
}

fn main() {}
