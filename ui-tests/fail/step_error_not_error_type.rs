// A step's error type must convert into `anyhow::Error`: `Result<u32, String>`
// is rejected, and the error should point at the user's return type.
use hookflow::step;

#[step]
fn load() -> Result<u32, String> {
    Ok(1)
}

fn main() {}
