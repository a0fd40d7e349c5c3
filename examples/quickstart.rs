//! A small pipeline where one step fails and one panics, showing the hooks
//! firing in their documented order.
//!
//! Run it with `cargo run --example quickstart`.

use hookflow::prelude::*;

/// Fires when any step of the pipeline fails for good (a `steps(..)` default).
fn page_oncall(ctx: &HookContext, err: &StepError) {
    println!(
        "  [on_failure] page on-call: step `{}` {} on attempt {}/{}: {}",
        ctx.step_name().unwrap_or("?"),
        match err.kind() {
            ErrorKind::Panic => "panicked",
            ErrorKind::Timeout => "timed out",
            _ => "failed",
        },
        ctx.attempt(),
        ctx.max_attempts(),
        err.message()
    );
}

/// Sees the step's typed output (a typed hook takes `&T` for the step's
/// exact output type, hence `&Vec` rather than a slice).
#[allow(clippy::ptr_arg)]
fn record_rows(rows: &Vec<u32>) {
    println!("  [on_success] extracted {} rows", rows.len());
}

fn retrying(ctx: &HookContext, err: &StepError) {
    println!(
        "  [on_retry]   attempt {} failed ({}), trying again",
        ctx.attempt(),
        err.message()
    );
}

fn crashed(err: &StepError) {
    println!("  [on_crash]   caught a panic: {}", err.message());
}

fn finished(ctx: &HookContext) {
    println!(
        "  [on_finish]  {} is {} after {:?}",
        ctx.step_name().unwrap_or("the run"),
        ctx.status(),
        ctx.duration()
    );
}

fn summary(ctx: &HookContext) {
    println!(
        "[pipeline on_failure] run {} of `{}` failed; failed steps:",
        ctx.run_id().unwrap(),
        ctx.pipeline_name().unwrap()
    );
    for step in ctx.failed_steps() {
        println!("    - {step}");
    }
}

#[step(on_success = record_rows)]
fn extract() -> anyhow::Result<Vec<u32>> {
    Ok(vec![3, 1, 4, 1, 5, 9, 2, 6])
}

#[step(retries = 2, retry_delay = "10ms", on_retry = retrying, on_finish = finished)]
fn transform(rows: Vec<u32>) -> anyhow::Result<Vec<u32>> {
    let attempt = current().map_or(1, |c| c.attempt());
    anyhow::ensure!(attempt >= 2, "upstream not ready (attempt {attempt})");
    anyhow::ensure!(rows.iter().all(|r| *r < 9), "value 9 is out of range");
    Ok(rows)
}

#[step(on_crash = crashed, on_finish = finished)]
fn load(rows: &[u32]) -> usize {
    let first_big = rows.iter().position(|r| *r > 5).unwrap();
    let slice = &rows[first_big..first_big + 100]; // out of bounds: panics
    slice.len()
}

#[pipeline(on_failure = summary, steps(on_failure = page_oncall))]
fn nightly() -> anyhow::Result<usize> {
    let rows = extract()?;
    // A failing step: the pipeline goes on with the raw rows.
    let rows = transform(rows.clone()).unwrap_or(rows);
    // A panicking step: caught, reported, turned into an error.
    Ok(load(&rows)?)
}

fn main() {
    // A panic is still printed by the process's panic hook; keep the output short.
    std::panic::set_hook(Box::new(|_| {}));

    println!("running the `nightly` pipeline:");
    match nightly() {
        Ok(n) => println!("loaded {n} rows"),
        Err(e) => {
            println!("nightly returned an error: {e}");
            println!(
                "(kind: {}, {} failed steps)",
                e.kind(),
                e.failed_steps().len()
            );
        }
    }
}
