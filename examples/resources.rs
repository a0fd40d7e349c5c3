//! The same pipeline and hooks, with a "production" alerter in one run and a
//! recording test alerter in another: switching resources switches what the
//! hooks do, without touching them.
//!
//! Run it with `cargo run --example resources`.

use std::sync::{Arc, Mutex};

use hookflow::prelude::*;

/// Something that sends alerts.
trait Alerter: Send + Sync {
    fn send(&self, text: &str);
}

/// The alerter resource hooks look up.
type SharedAlerter = Arc<dyn Alerter>;

/// Production: writes to the operations console (stands in for a chat service).
struct ConsoleAlerter {
    channel: &'static str,
}

impl Alerter for ConsoleAlerter {
    fn send(&self, text: &str) {
        println!("  -> {}: {text}", self.channel);
    }
}

/// Tests: keeps the alerts to look at.
#[derive(Default)]
struct RecordingAlerter {
    sent: Mutex<Vec<String>>,
}

impl Alerter for RecordingAlerter {
    fn send(&self, text: &str) {
        self.sent.lock().unwrap().push(text.to_owned());
    }
}

/// The hook: unchanged between the runs.
fn alert(ctx: &HookContext, err: &StepError) -> Result<(), String> {
    let alerter = ctx
        .resource::<SharedAlerter>()
        .ok_or("no alerter resource given to this run")?;
    alerter.send(&format!(
        "[{}] step {} failed: {}",
        ctx.pipeline_name().unwrap_or("-"),
        ctx.step_name().unwrap_or("-"),
        err.message()
    ));
    Ok(())
}

#[step]
fn charge(amount: u32) -> anyhow::Result<u32> {
    anyhow::ensure!(amount <= 100, "amount {amount} over the limit");
    Ok(amount)
}

#[pipeline(steps(on_failure = alert))]
fn billing(amounts: Vec<u32>) -> anyhow::Result<u32> {
    let mut total = 0;
    for a in amounts {
        total += charge(a).unwrap_or(0);
    }
    Ok(total)
}

fn main() {
    println!("production run:");
    let production: SharedAlerter = Arc::new(ConsoleAlerter {
        channel: "#billing-alerts",
    });
    let report = Run::new()
        .resource(production)
        .execute(|| billing(vec![20, 300, 50]));
    println!("  total: {:?}", report.output().as_ref().unwrap());

    println!("test run:");
    let recorder = Arc::new(RecordingAlerter::default());
    let as_alerter: SharedAlerter = recorder.clone();
    let report = Run::new()
        .resource(as_alerter)
        .execute(|| billing(vec![500, 7]));
    println!("  total: {:?}", report.output().as_ref().unwrap());
    let sent = recorder.sent.lock().unwrap();
    println!("  recorded alerts: {sent:?}");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("amount 500 over the limit"));
}
