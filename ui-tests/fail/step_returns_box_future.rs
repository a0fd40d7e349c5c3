// `futures`' `BoxFuture` alias is recognised by its name: write `async fn`.
use futures::future::BoxFuture;

use hookflow::step;

#[step]
fn later() -> BoxFuture<'static, u32> {
    Box::pin(async { 1 })
}

fn main() {
    let _ = later();
}
