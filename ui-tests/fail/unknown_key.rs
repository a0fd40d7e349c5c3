// A misspelled key is rejected on the key itself, with a "did you mean".
use hookflow::step;

fn alert() {}

#[step(on_failur = alert)]
fn load() {}

fn main() {}
