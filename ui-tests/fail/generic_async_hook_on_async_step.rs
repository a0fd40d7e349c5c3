// A generic `async` hook on an async step: its type must be written too.
use std::fmt::Debug;

use hookflow::step;

async fn show<T: Debug + Sync>(value: &T) {
    println!("{value:?}");
}

#[step(on_success = show)]
async fn count() -> u32 {
    3
}

fn main() {
    let _ = count();
}
