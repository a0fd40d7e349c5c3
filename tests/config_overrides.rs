//! `retries`, `retry_delay` and `timeout` from a configuration file replace
//! the attribute's values for the calls that start after `install`.
#![cfg(feature = "config")]

mod config_common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use config_common::{exclusive, record, take};
use hookflow::config::Config;
use hookflow::{step, ErrorKind, HookContext};

fn retried(ctx: &HookContext) {
    record(
        ctx,
        &format!("retry#{}/{}", ctx.attempt(), ctx.max_attempts()),
    );
}

fn install(text: &str) {
    Config::from_toml_str("hookflow.toml", text)
        .unwrap()
        .install();
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

#[step(retries = 0, on_retry = retried)]
fn flaky() -> anyhow::Result<()> {
    FLAKY_CALLS.fetch_add(1, Ordering::SeqCst);
    anyhow::bail!("still down")
}

static STUBBORN_CALLS: AtomicU32 = AtomicU32::new(0);

#[step(retries = 3)]
fn stubborn() -> anyhow::Result<()> {
    STUBBORN_CALLS.fetch_add(1, Ordering::SeqCst);
    anyhow::bail!("no")
}

#[step(retries = 1, retry_delay = "2s")]
fn slow_retry() -> anyhow::Result<()> {
    anyhow::bail!("no")
}

#[step(retries = 1)]
fn quick_retry() -> anyhow::Result<()> {
    anyhow::bail!("no")
}

#[step]
async fn sleepy() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(400)).await;
    Ok(())
}

#[step(timeout = "10ms")]
async fn tight() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(60)).await;
    Ok(())
}

#[test]
fn configured_retries_raise_the_attempts() {
    let _g = exclusive();
    install("[steps.flaky]\nretries = 2\n");
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    let err = flaky().unwrap_err();
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(err.attempt(), 3);
    assert_eq!(take("flaky"), ["retry#1/3", "retry#2/3"]);

    // Without the file, the attribute's `retries = 0` holds again.
    hookflow::config::uninstall();
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    assert_eq!(flaky().unwrap_err().attempt(), 1);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 1);
    assert!(take("flaky").is_empty());
}

#[test]
fn configured_retries_can_lower_the_attempts() {
    let _g = exclusive();
    install("[steps.stubborn]\nretries = 0\n");
    STUBBORN_CALLS.store(0, Ordering::SeqCst);
    assert_eq!(stubborn().unwrap_err().attempt(), 1);
    assert_eq!(STUBBORN_CALLS.load(Ordering::SeqCst), 1);
}

#[test]
fn configured_retry_delay_replaces_the_attribute_delay() {
    let _g = exclusive();
    install(
        "[steps.slow_retry]\nretry_delay = \"1ms\"\n[steps.quick_retry]\nretry_delay = \"120ms\"\n",
    );
    let started = Instant::now();
    slow_retry().unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the attribute's 2s delay was used: {:?}",
        started.elapsed()
    );

    let started = Instant::now();
    quick_retry().unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "the configured delay was not waited: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn configured_timeout_bounds_an_async_step() {
    let _g = exclusive();
    install("[steps.sleepy]\ntimeout = \"20ms\"\n[steps.tight]\ntimeout = \"5s\"\n");
    let started = Instant::now();
    let err = sleepy().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_millis(400));

    // A longer configured bound replaces the attribute's 10ms.
    tight().await.unwrap();

    hookflow::config::uninstall();
    assert_eq!(tight().await.unwrap_err().kind(), ErrorKind::Timeout);
    sleepy().await.unwrap();
}

#[test]
fn yaml_overrides_retries_and_delay_too() {
    let _g = exclusive();
    Config::from_yaml_str(
        "hookflow.yaml",
        "steps:\n  flaky:\n    retries: 1\n    retry_delay: 1ms\n",
    )
    .unwrap()
    .install();
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    assert_eq!(flaky().unwrap_err().attempt(), 2);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(take("flaky"), ["retry#1/2"]);
}
