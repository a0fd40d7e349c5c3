fn main() {
    let p = std::env::args().nth(1).unwrap();
    let r = hookflow::config::load(&p);
    println!(
        "{p}: {}",
        match r {
            Ok(_) => "ok".to_string(),
            Err(e) => e.problems()[0].message().chars().take(120).collect(),
        }
    );
}
