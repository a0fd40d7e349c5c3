// Independent mistakes in one attribute are all reported at once, each on
// its own tokens, and nothing else (the function is still emitted, so its
// callers do not cascade into more errors).
use hookflow::step;

fn alert() {}

#[step(on_falure = alert, retry_delay = "soon", retries = "two")]
fn load() -> u32 {
    1
}

fn main() {
    let _: u32 = load();
}
