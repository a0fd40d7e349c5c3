//! A durable pipeline killed mid-run, and `recover()` finishing it.
//!
//! ```text
//! cargo run --example durable --features journal
//! ```
//!
//! The example runs itself twice: a child process runs the `nightly`
//! pipeline and is killed with SIGKILL while its `load` step runs; then this
//! process calls `hookflow::recover()`, which fires the hooks the child
//! never fired — `load` ends `Crashed` with `ErrorKind::Aborted`, then the
//! run — and prints what each hook saw.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use hookflow::{pipeline, step, HookContext};

fn page_oncall(ctx: &HookContext) {
    println!(
        "  page_oncall   step={:<8} status={:<9} recovered={} key={}",
        ctx.step_name().unwrap_or("-"),
        ctx.status().as_str(),
        ctx.recovered(),
        ctx.delivery_key().unwrap_or_default(),
    );
    if let Some(err) = ctx.error() {
        println!("                {err}");
    }
}

fn summary(ctx: &HookContext) {
    let failed: Vec<String> = ctx
        .failed_steps()
        .iter()
        .map(|f| format!("{} ({})", f.name(), f.kind()))
        .collect();
    println!(
        "  summary       run={} status={} recovered={} failed_steps=[{}]",
        ctx.pipeline_name().unwrap_or("-"),
        ctx.status().as_str(),
        ctx.recovered(),
        failed.join(", ")
    );
}

#[step(on_success = page_oncall)]
fn extract() -> anyhow::Result<u32> {
    Ok(1_000)
}

#[step(on_failure = page_oncall)]
fn load(rows: u32) -> anyhow::Result<()> {
    println!("child: loading {rows} rows (the parent kills this process now)");
    std::thread::sleep(Duration::from_secs(600));
    Ok(())
}

#[pipeline(durable, on_finish = summary)]
fn nightly() -> anyhow::Result<()> {
    let rows = extract()?;
    load(rows)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let journal = std::env::temp_dir().join(format!("hookflow-example-{}", std::process::id()));
    if std::env::var_os("EXAMPLE_CHILD").is_some() {
        nightly()?;
        return Ok(());
    }
    // The child: this program again, journaling into a scratch directory.
    let mut child = Command::new(std::env::current_exe()?)
        .env("EXAMPLE_CHILD", "1")
        .env("HOOKFLOW_JOURNAL", &journal)
        .stdout(Stdio::piped())
        .spawn()?;
    // Wait until the child is inside `load`.
    let out = child.stdout.take().expect("piped");
    for line in BufReader::new(out).lines() {
        let line = line?;
        println!("{line}");
        if line.contains("loading") {
            break;
        }
    }
    child.kill()?; // SIGKILL: no destructor, no hook runs in the child
    child.wait()?;
    println!("parent: the child was killed; recovering");

    hookflow::use_journal(hookflow::journal::FileJournal::new(&journal));
    let report = hookflow::recover()?;
    for run in &report.runs {
        println!(
            "parent: recovered run {} of `{}`: {:?}, aborted steps {:?}, {} hook calls",
            run.run_id,
            run.pipeline,
            run.status,
            run.aborted_steps,
            run.hooks.len()
        );
    }
    // Nothing is left: a second recovery finds nothing to do.
    assert!(hookflow::recover()?.runs.is_empty());
    let _ = std::fs::remove_dir_all(&journal);
    Ok(())
}
