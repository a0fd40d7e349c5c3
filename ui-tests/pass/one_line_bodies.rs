// One-line bodies, as rustfmt writes short functions, compile without a
// single warning: the generated code adds no braces, parentheses or
// closures that a lint would point at in the user's own body.
#![deny(warnings)]

use hookflow::step;

#[step]
fn plain(id: u32) -> u32 { id }

#[step]
fn result(id: u32) -> anyhow::Result<u32> { Ok(id + 1) }

#[step(retries = 1)]
fn retried(mut x: u8, (a, b): (u8, u8)) -> u8 { x += a; x + b }

#[step(retries = 1)]
fn retried_result(x: u8) -> anyhow::Result<u8> { Ok(x) }

#[step]
async fn later(id: u32) -> u32 { id }

#[step(retries = 1)]
async fn later_retried(id: u32) -> anyhow::Result<u32> { Ok(id) }

fn main() {
    assert_eq!(plain(1).unwrap(), 1);
    assert_eq!(result(1).unwrap(), 2);
    assert_eq!(retried(1, (2, 3)).unwrap(), 6);
    assert_eq!(retried_result(4).unwrap(), 4);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(later(5)).unwrap(), 5);
    assert_eq!(rt.block_on(later_retried(6)).unwrap(), 6);
}
