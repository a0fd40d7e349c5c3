// A typed success hook sees the output of one step: configuration cannot
// attach it by name, so `#[hook]` rejects it.
use hookflow::{hook, HookContext};

#[hook]
fn loaded(_ctx: &HookContext, _rows: &Vec<u32>) {}

fn main() {}
