// A sync fn that returns a future would "complete" when the future is
// built, before any of its work runs: write `async fn`.
use std::future::Future;

use hookflow::step;

fn done() {}
fn crashed() {}

#[step(on_success = done, on_crash = crashed)]
fn later() -> impl Future<Output = u32> {
    async { panic!("inside the future") }
}

fn main() {
    let _ = later();
}
