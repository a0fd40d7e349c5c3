// With `retries`, each binding of a pattern parameter is cloned per attempt:
// a non-Clone part is an error at that binding.
use hookflow::step;

struct Connection;

#[step(retries = 1)]
fn load((conn, id): (Connection, u32)) -> u32 {
    let _ = conn;
    id
}

fn main() {}
