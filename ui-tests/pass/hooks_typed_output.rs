// A step's `on_success` hooks may take its output: `fn(&T)`,
// `fn(&HookContext, &T)`, sync and `async`, returning `()` and `Result<(), E>`,
// for a plain return type and for the `Ok` type of a `Result`.
use hookflow::{step, HookContext};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

static SEEN: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, PartialEq)]
struct Order {
    id: u32,
}

fn total(v: &u64) {
    assert_eq!(*v, 42);
    SEEN.fetch_add(1, SeqCst);
}
fn ctx_total(c: &HookContext, v: &u64) -> Result<(), String> {
    assert!(c.is_success());
    assert_eq!(*v, 42);
    SEEN.fetch_add(1, SeqCst);
    Ok(())
}
fn order(o: &Order) -> Result<(), std::fmt::Error> {
    assert_eq!(o.id, 9);
    SEEN.fetch_add(1, SeqCst);
    Ok(())
}
async fn async_order(o: &Order) {
    assert_eq!(o.id, 9);
    SEEN.fetch_add(1, SeqCst);
}
async fn async_ctx_order(c: &HookContext, o: &Order) -> Result<(), String> {
    assert_eq!(c.step_name(), Some("load_async"));
    assert_eq!(o.id, 9);
    SEEN.fetch_add(1, SeqCst);
    Ok(())
}

#[step(on_success = [total, ctx_total])]
fn sum(a: u64, b: u64) -> u64 {
    a + b
}

#[step(on_success = order)]
fn load() -> anyhow::Result<Order> {
    Ok(Order { id: 9 })
}

#[step(on_success = [order, async_order, async_ctx_order])]
async fn load_async() -> Result<Order, std::io::Error> {
    Ok(Order { id: 9 })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(sum(40, 2).unwrap(), 42);
    assert_eq!(SEEN.load(SeqCst), 2);
    assert_eq!(load().unwrap(), Order { id: 9 });
    assert_eq!(SEEN.load(SeqCst), 3);
    assert_eq!(load_async().await.unwrap(), Order { id: 9 });
    assert_eq!(SEEN.load(SeqCst), 6);
}
