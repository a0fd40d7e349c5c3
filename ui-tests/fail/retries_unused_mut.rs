// With `retries`, the copies of the arguments keep the user's `mut`: an
// unneeded one is reported at the parameter, sync and async.
#![deny(unused_mut)]

use hookflow::step;

#[step(retries = 1)]
fn sync_step(mut count: u32) -> u32 {
    count
}

#[step(retries = 1)]
async fn async_step(mut count: u32) -> u32 {
    count
}

fn main() {}
