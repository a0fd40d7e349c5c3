// With `retries`, every argument is cloned per attempt: a non-Clone argument
// is an error on that parameter.
use hookflow::step;

struct Connection;

#[step(retries = 2)]
fn load(conn: Connection, id: u32) -> u32 {
    let _ = conn;
    id
}

fn main() {}
