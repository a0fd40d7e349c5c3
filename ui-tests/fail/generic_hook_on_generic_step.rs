// A generic hook has no single parameter type: it must not be bound to
// `HookContext` by inference (a hook meant to see the output would see the
// context). It is an error that asks for its type.
use std::fmt::Debug;

use hookflow::step;

fn show<T: Debug + 'static>(value: &T) {
    println!("{value:?}");
}

#[step(on_success = show)]
fn ident<T: Debug + Send + Sync + 'static>(t: T) -> T {
    t
}

fn main() {
    let _ = ident(1u32);
}
