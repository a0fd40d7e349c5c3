// `suggest_fix()` needs a failure to fix: it is a failure-event hook only.
use hookflow::{hooks, step};

#[step(on_success = hooks::suggest_fix())]
async fn load() -> anyhow::Result<u32> {
    Ok(1)
}

#[step(on_finish = hooks::suggest_fix())]
async fn save() -> anyhow::Result<()> {
    Ok(())
}

fn main() {}
