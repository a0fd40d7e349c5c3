// With `retries`, an `impl Trait` argument is cloned per attempt too: an
// error at the parameter when the trait does not promise `Clone`.
use hookflow::step;

#[step(retries = 1)]
fn show(value: impl std::fmt::Display) -> String {
    value.to_string()
}

fn main() {}
