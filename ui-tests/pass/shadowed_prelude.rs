// User code that shadows more prelude names the expansion could rely on
// (`Box`, `String`, `Vec`, `Clone`, `Send`, `Sync`, `Fn`, `FnOnce`, `Drop`,
// `Into`, `From`, `Default`, `Iterator`, `drop`, `Future`, `hookflow` as a
// local name inside a module, `line`, `file`, `module_path`), plus hook and
// step names that look like generated ones.
#![allow(dead_code, non_camel_case_types, unused_macros)]

struct Box;
struct String;
struct Vec;
trait Clone {}
trait Send {}
trait Sync {}
trait Fn {}
trait FnOnce {}
trait Drop {}
trait Into {}
trait From {}
trait Default {}
trait Iterator {}
trait Future {}
fn drop() {}
macro_rules! line { () => { "not a line" }; }
macro_rules! file { () => { 0u8 }; }
macro_rules! module_path { () => { 0u8 }; }

static CALLS: ::std::sync::atomic::AtomicUsize = ::std::sync::atomic::AtomicUsize::new(0);

fn __hookflow_hooks() {
    CALLS.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
}

mod inner {
    // `hookflow` here is a local module, not the crate
    mod hookflow {}

    #[::hookflow::step(on_success = super::__hookflow_hooks, retries = 2)]
    pub fn step_with_clone(v: ::std::vec::Vec<u8>, mut n: u32) -> ::std::string::String {
        n += 1;
        ::std::format!("{}:{n}", v.len())
    }

    #[::hookflow::step(on_success = super::__hookflow_hooks)]
    pub async fn async_step(__hookflow_b: u8) -> u8 {
        __hookflow_b
    }
}

fn main() {
    assert_eq!(inner::step_with_clone(::std::vec![1, 2], 0).unwrap(), "2:1");
    let rt = ::tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(inner::async_step(3)).unwrap(), 3);
    assert_eq!(CALLS.load(::std::sync::atomic::Ordering::SeqCst), 2);
}
