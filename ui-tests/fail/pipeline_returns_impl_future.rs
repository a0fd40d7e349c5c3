// The same for a pipeline: its run would end before its body runs.
use std::future::Future;

use hookflow::pipeline;

#[pipeline]
fn nightly() -> impl Future<Output = anyhow::Result<()>> {
    async { Ok(()) }
}

fn main() {
    let _ = nightly();
}
