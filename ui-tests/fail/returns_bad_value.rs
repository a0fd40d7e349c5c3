// `returns` takes "result" or "value".
use hookflow::step;

#[step(returns = "maybe")]
fn load() -> u32 {
    1
}

fn main() {}
