//! Hook wiring from a configuration file: `examples/hookflow.toml` attaches
//! registered hooks by name and changes retries and timeouts, without
//! touching the code. Then a file with mistakes shows the load-time report.
//!
//! Run it with `cargo run --example config --features config`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hookflow::prelude::*;

/// `#[hook]` registers a function by name, so that the file can attach it.
#[hook]
fn page_oncall(ctx: &HookContext, err: &StepError) {
    println!(
        "  [on_failure] page on-call: `{}` failed after {} attempts: {}",
        ctx.step_name().unwrap_or("?"),
        ctx.attempt(),
        err.message()
    );
}

#[hook]
fn log_retry(ctx: &HookContext) {
    println!(
        "  [on_retry]   `{}` attempt {}/{} failed, retrying",
        ctx.step_name().unwrap_or("?"),
        ctx.attempt(),
        ctx.max_attempts()
    );
}

#[hook]
fn log_success(ctx: &HookContext) {
    println!(
        "  [on_success] `{}` done in {:?}",
        ctx.step_name().unwrap_or("?"),
        ctx.duration()
    );
}

mod alerts {
    use hookflow::{hook, HookContext};

    #[hook]
    pub fn open_ticket(ctx: &HookContext) {
        println!(
            "  [on_failure] ticket for run {} of `{}`: {} step(s) failed",
            ctx.run_id().map(|id| id.to_string()).unwrap_or_default(),
            ctx.pipeline_name().unwrap_or("?"),
            ctx.failed_steps().len()
        );
    }
}

/// The attribute's own hook; the file replaces it.
fn attribute_alert(err: &StepError) {
    println!("  [on_failure] attribute hook (not configured away?): {err}");
}

fn attribute_success() {
    println!("  [on_success] the attribute's pipeline hook (switched off by the file)");
}

static LOAD_ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[step(on_success = log_success)]
fn extract() -> anyhow::Result<Vec<u32>> {
    Ok(vec![3, 1, 2])
}

#[step]
async fn fetch() -> anyhow::Result<u32> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(1)
}

#[step(retries = 0, on_failure = attribute_alert)]
fn load(rows: Vec<u32>) -> anyhow::Result<usize> {
    let attempt = LOAD_ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    anyhow::ensure!(attempt > 5, "warehouse busy (attempt {attempt})");
    Ok(rows.len())
}

#[pipeline(on_success = attribute_success)]
async fn nightly() -> anyhow::Result<usize> {
    let rows = extract()?;
    if let Err(e) = fetch().await {
        println!("  fetch: {e} ({:?})", e.kind());
    }
    Ok(load(rows)?)
}

fn config_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hookflow.toml")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let config = hookflow::config::load(config_path())?;
    println!("loaded {config:#?}\n");
    config.install();

    println!("nightly, configured by examples/hookflow.toml:");
    let result = nightly().await;
    println!(
        "  -> {}\n",
        result.map_or_else(|e| e.to_string(), |n| format!("{n} rows"))
    );

    println!("a file with mistakes is refused whole, every problem at once:\n");
    let broken = "\
[steps.lod]
retries = 2

[steps.fetch]
timeout = \"fast\"
on_success = [\"page_oncal\"]

[pipelines.nightly]
on_succes = []
";
    match hookflow::config::Config::from_toml_str("broken.toml", broken) {
        Ok(_) => unreachable!("the file has mistakes"),
        Err(e) => println!("{e}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The pattern for CI: load the production file in a test, so that a
    /// renamed step or hook fails `cargo test`, not the deployment.
    #[test]
    fn production_config_loads() {
        hookflow::config::load(super::config_path()).unwrap();
    }
}
