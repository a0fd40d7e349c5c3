//! A step whose hooks come from an installed configuration file against the
//! same step with its hooks in the attribute, side by side in one run
//! (target: at most 1.1×).
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --bench config --features config
//! ```
//!
//! Both steps run the same body (`x.wrapping_add(1)`) and fire one no-op
//! `on_success` hook. Both are measured with the configuration installed,
//! so both pay for reading it; `attribute, nothing installed` is the
//! reference without any configuration.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion};

/// The no-op hook, attached by the attribute.
fn noop() {}

/// The same no-op hook, registered by name for the file.
#[hookflow::hook]
pub fn noop_named() {}

#[hookflow::step(on_success = noop)]
fn with_attribute_hook(x: u64) -> u64 {
    x.wrapping_add(1)
}

#[hookflow::step]
fn with_configured_hook(x: u64) -> u64 {
    x.wrapping_add(1)
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60)
}

fn steps(c: &mut Criterion) {
    hookflow::config::uninstall();
    let mut g = c.benchmark_group("config_hooks");
    g.bench_function("attribute, nothing installed", |b| {
        b.iter(|| with_attribute_hook(black_box(7)))
    });
    hookflow::config::Config::from_toml_str(
        "bench.toml",
        "[steps.with_configured_hook]\non_success = [\"noop_named\"]\n",
    )
    .expect("the bench's configuration loads")
    .install();
    g.bench_function("attribute", |b| {
        b.iter(|| with_attribute_hook(black_box(7)))
    });
    g.bench_function("configured", |b| {
        b.iter(|| with_configured_hook(black_box(7)))
    });
    g.finish();
    hookflow::config::uninstall();
}

criterion_group! {
    name = benches;
    config = config();
    targets = steps
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
