// A boxed future is a future too: write `async fn`.
use std::future::Future;
use std::pin::Pin;

use hookflow::step;

#[step]
fn later() -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async { 1 })
}

fn main() {
    let _ = later();
}
