use hookflow::hook;

#[hook]
struct Alert {
    channel: String,
}

fn main() {
    let _ = Alert { channel: String::new() }.channel;
}
