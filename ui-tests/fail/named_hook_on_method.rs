// A hook attached by name is called without a receiver.
use hookflow::{hook, HookContext};

pub struct Pager;

impl Pager {
    #[hook]
    pub fn page(&self, _ctx: &HookContext) {}
}

fn main() {}
