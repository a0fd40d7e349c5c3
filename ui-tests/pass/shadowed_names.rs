// User code that shadows `Result`, `Ok`, `Err`, `Option`, `Some`, `None`,
// `std` and `core` next to `#[step]` and `#[pipeline]` functions (sync,
// async, with retries, timeout and every hook family): the expansion uses
// absolute paths only, so it still compiles and works.
#![allow(dead_code, non_camel_case_types)]

use hookflow::{pipeline, step, HookContext, StepError};

mod std {}
mod core {}

#[derive(Debug)]
struct MyError(u32);

impl ::core::fmt::Display for MyError {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        write!(f, "my error {}", self.0)
    }
}

impl ::std::error::Error for MyError {}

type Result<T> = ::core::result::Result<T, MyError>;
struct Ok;
struct Err;
struct Option;
struct Some;
struct None;

static CALLS: ::std::sync::atomic::AtomicUsize = ::std::sync::atomic::AtomicUsize::new(0);

fn count() {
    CALLS.fetch_add(1, ::std::sync::atomic::Ordering::SeqCst);
}
fn on_err(_: &StepError) -> Result<()> {
    count();
    ::core::result::Result::Ok(())
}
fn on_typed(_: &HookContext, e: &MyError) {
    assert_eq!(e.0, 7);
    count();
}
fn on_out(v: &u32) -> ::core::result::Result<(), MyError> {
    assert_eq!(*v, 3);
    count();
    ::core::result::Result::Ok(())
}
async fn on_async(_: &HookContext) {
    count();
}

#[step(on_success = [count, on_out], on_failure = [on_err, on_typed], on_retry = on_err, retries = 1)]
fn shadowed(x: u32) -> Result<u32> {
    if x == 7 {
        return ::core::result::Result::Err(MyError(x));
    }
    ::core::result::Result::Ok(x)
}

#[step(on_finish = [count, on_async], timeout = "5s")]
async fn shadowed_async(x: u32) -> u32 {
    x
}

#[pipeline(on_finish = count, steps(on_failure = on_err))]
fn shadowed_pipeline() -> Result<u32> {
    let v = shadowed(3).map_err(|_| MyError(0))?;
    ::core::result::Result::Ok(v)
}

fn main() {
    let _ = (Ok, Err, Option, Some, None);
    assert_eq!(shadowed(3).unwrap(), 3);
    assert_eq!(CALLS.load(::std::sync::atomic::Ordering::SeqCst), 2);
    assert!(shadowed(7).is_err());
    // retry: on_err; failure: on_err, on_typed
    assert_eq!(CALLS.load(::std::sync::atomic::Ordering::SeqCst), 5);
    assert_eq!(shadowed_pipeline().unwrap(), 3);
    assert_eq!(CALLS.load(::std::sync::atomic::Ordering::SeqCst), 8);
    let rt = ::tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert_eq!(rt.block_on(shadowed_async(4)).unwrap(), 4);
    assert_eq!(CALLS.load(::std::sync::atomic::Ordering::SeqCst), 10);
}
