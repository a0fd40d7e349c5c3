// `durable`, `durable = true` and `durable = false` are accepted, and the
// flag is in the pipeline's description (with the `journal` feature, which
// the UI tests build with).
use hookflow::{pipeline, registry};

#[pipeline(durable)]
fn a() {}

#[pipeline(durable = true)]
fn b() {}

#[pipeline(durable = false)]
fn c() {}

fn main() {
    assert!(registry::pipeline("a").unwrap().is_durable());
    assert!(registry::pipeline("b").unwrap().is_durable());
    assert!(!registry::pipeline("c").unwrap().is_durable());
}
