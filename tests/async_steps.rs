//! Async steps: awaited like the plain function, hooks (sync and async)
//! awaited in order, `current()` across `.await` on any worker thread.

#![warn(clippy::used_underscore_binding)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::{on_failure, on_finish, on_start, on_success, record, take};
use hookflow::{current, step, ErrorKind, HookContext, StepError};

async fn async_success(ctx: &HookContext) {
    tokio::time::sleep(Duration::from_millis(5)).await;
    record(ctx.step_name().unwrap(), "async-success");
}

async fn async_failure(ctx: &HookContext, err: &StepError) -> Result<(), String> {
    tokio::task::yield_now().await;
    record(
        ctx.step_name().unwrap(),
        format!("async-failure:{}", err.message()),
    );
    Ok(())
}

async fn async_typed(value: &String) {
    record("fetch", format!("typed:{value}"));
}

#[step(
    on_start = on_start,
    on_success = [on_success, async_success, async_typed],
    on_failure = [on_failure, async_failure],
    on_finish = on_finish
)]
async fn fetch(key: &str) -> anyhow::Result<String> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    anyhow::ensure!(!key.is_empty(), "empty key");
    Ok(key.to_uppercase())
}

#[tokio::test]
async fn async_hooks_are_awaited_in_the_order_written() {
    assert_eq!(fetch("abc").await.unwrap(), "ABC");
    assert_eq!(
        take("fetch"),
        [
            "start#1",
            "success",
            "async-success",
            "typed:ABC",
            "finish:completed"
        ]
    );
    let err = fetch("").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert_eq!(
        take("fetch"),
        [
            "start#1",
            "failure:error:empty key",
            "async-failure:empty key",
            "finish:failed"
        ]
    );
}

#[step]
async fn where_am_i(hops: usize) -> Vec<(String, u32)> {
    let mut seen = Vec::new();
    for _ in 0..hops {
        let ctx = current().expect("inside the step");
        seen.push((ctx.step_name().unwrap().to_owned(), ctx.attempt()));
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn current_follows_the_step_across_awaits_on_a_multi_thread_runtime() {
    let handles: Vec<_> = (0..16).map(|_| tokio::spawn(where_am_i(20))).collect();
    for h in handles {
        let seen = h.await.unwrap().unwrap();
        assert_eq!(seen.len(), 20);
        assert!(seen
            .iter()
            .all(|(name, attempt)| name == "where_am_i" && *attempt == 1));
    }
    // Outside any step there is no context.
    assert!(current().is_none());
}

#[step(on_success = on_success)]
async fn borrowed<'a>(items: &'a [u32], extra: &'a u32) -> &'a u32 {
    tokio::task::yield_now().await;
    items.iter().max().unwrap_or(extra)
}

#[tokio::test]
async fn references_in_and_out() {
    let items = vec![3, 9, 4];
    assert_eq!(*borrowed(&items, &0).await.unwrap(), 9);
    assert_eq!(take("borrowed"), ["success"]);
}

#[step(on_failure = on_failure)]
async fn early(x: u32) -> Result<u32, std::num::TryFromIntError> {
    if x == 0 {
        return Ok(0);
    }
    let y: u8 = u8::try_from(x)?;
    Ok(y as u32 + 1)
}

#[tokio::test]
async fn early_return_and_question_mark_in_async_bodies() {
    assert_eq!(early(0).await.unwrap(), 0);
    assert_eq!(early(5).await.unwrap(), 6);
    let err = early(1000).await.unwrap_err();
    assert!(err.downcast_ref::<std::num::TryFromIntError>().is_some());
    assert_eq!(take("early").len(), 1);
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

fn flag() -> (DropFlag, Arc<AtomicBool>) {
    let dropped = Arc::new(AtomicBool::new(false));
    (DropFlag(dropped.clone()), dropped)
}

#[step(on_start = on_start)]
async fn guarded(
    _guard: DropFlag,
    _: DropFlag,
    seen: Arc<AtomicBool>,
    seen_wild: Arc<AtomicBool>,
) -> (bool, bool) {
    tokio::task::yield_now().await;
    (seen.load(SeqCst), seen_wild.load(SeqCst))
}

#[step(retries = 1)]
async fn guarded_retried(
    _guard: DropFlag,
    _: DropFlag,
    seen: Arc<AtomicBool>,
    seen_wild: Arc<AtomicBool>,
) -> (bool, bool) {
    tokio::task::yield_now().await;
    (seen.load(SeqCst), seen_wild.load(SeqCst))
}

impl Clone for DropFlag {
    fn clone(&self) -> Self {
        // A copy for an attempt shares no flag: only the caller's value is
        // watched.
        DropFlag(Arc::new(AtomicBool::new(false)))
    }
}

#[tokio::test]
async fn an_async_step_holds_its_unused_parameters_until_its_body_ends_as_async_fn_does() {
    let (guard, dropped) = flag();
    let (wild, wild_dropped) = flag();
    let fut = guarded(guard, wild, dropped.clone(), wild_dropped.clone());
    // Nothing runs before the first poll, and the parameters are held.
    assert!(take("guarded").is_empty());
    assert!(!dropped.load(SeqCst));
    assert!(!wild_dropped.load(SeqCst));
    assert_eq!(fut.await.unwrap(), (false, false));
    assert_eq!(take("guarded"), ["start#1"]);
    assert!(dropped.load(SeqCst));
    assert!(wild_dropped.load(SeqCst));

    let (guard, dropped) = flag();
    let (wild, wild_dropped) = flag();
    let fut = guarded_retried(guard, wild, dropped.clone(), wild_dropped.clone());
    assert!(!dropped.load(SeqCst));
    assert!(!wild_dropped.load(SeqCst));
    assert_eq!(fut.await.unwrap(), (false, false));
    assert!(dropped.load(SeqCst));
    assert!(wild_dropped.load(SeqCst));
}

fn is_send<T: Send>(_: &T) {}

#[test]
fn an_async_steps_future_borrows_its_arguments_and_is_send() {
    let items = vec![1, 5];
    let fut = borrowed(&items, &0);
    is_send(&fut);
    drop(fut);
    assert!(take("borrowed").is_empty());
}

#[step(on_start = on_start, on_cancel = common::on_cancel, on_finish = on_finish)]
async fn never_polled(x: u32) -> u32 {
    record("never_polled", "body");
    x
}

#[hookflow::pipeline(on_start = on_start, on_cancel = common::on_cancel, on_finish = on_finish)]
async fn never_polled_run() -> u32 {
    record("never_polled_run", "body");
    never_polled(1).await.unwrap()
}

#[test]
fn a_step_or_run_dropped_before_its_first_poll_fires_nothing() {
    drop(never_polled(1));
    drop(never_polled_run());
    assert!(take("never_polled").is_empty());
    assert!(take("never_polled_run").is_empty());
    // Polled, the same calls fire as usual.
    let v = futures::executor::block_on(never_polled_run()).unwrap();
    assert_eq!(v, 1);
    assert_eq!(
        take("never_polled"),
        ["start#1", "body", "finish:completed"]
    );
    assert_eq!(
        take("never_polled_run"),
        ["start#1", "body", "finish:completed"]
    );
}

/// A job whose guard the step's body never names.
#[allow(dead_code)] // the guard is only ever dropped
struct Job {
    id: u32,
    guard: DropFlag,
}

#[step(on_start = on_start)]
async fn destructured(Job { id, .. }: Job, (n, _): (u32, DropFlag), seen: Arc<AtomicBool>) -> u32 {
    tokio::task::yield_now().await;
    assert!(
        !seen.load(SeqCst),
        "a field the body does not name was dropped early"
    );
    id + n
}

#[tokio::test]
async fn parts_of_a_parameter_the_body_does_not_name_are_held_until_the_call_ends() {
    let (guard, dropped) = flag();
    let (wild, wild_dropped) = flag();
    let fut = destructured(Job { id: 1, guard }, (2, wild), dropped.clone());
    assert!(!dropped.load(SeqCst));
    assert!(!wild_dropped.load(SeqCst));
    assert_eq!(fut.await.unwrap(), 3);
    assert!(dropped.load(SeqCst));
    assert!(wild_dropped.load(SeqCst));
    assert_eq!(take("destructured"), ["start#1"]);
}

#[step(on_success = on_success)]
#[allow(clippy::toplevel_ref_arg)] // the pattern under test
async fn by_ref(ref name: String, ref mut count: u32) -> usize {
    *count += 1;
    tokio::task::yield_now().await;
    name.len() + *count as usize
}

#[step(on_success = on_success)]
async fn summed(items: impl Iterator<Item = &u32>) -> u32 {
    tokio::task::yield_now().await;
    items.sum()
}

#[step(on_success = on_success)]
async fn configured(
    #[cfg(not(any()))] _kept: DropFlag,
    #[cfg(any())] _gone: DropFlag,
    x: u32,
) -> u32 {
    tokio::task::yield_now().await;
    x
}

#[tokio::test]
async fn every_parameter_shape_an_async_fn_takes_is_taken_by_an_async_step() {
    assert_eq!(by_ref("abc".into(), 1).await.unwrap(), 5);
    assert_eq!(take("by_ref"), ["success"]);
    let items = [1, 2, 3];
    assert_eq!(summed(items.iter()).await.unwrap(), 6);
    assert_eq!(take("summed"), ["success"]);
    let (kept, dropped) = flag();
    assert_eq!(configured(kept, 7).await.unwrap(), 7);
    assert!(dropped.load(SeqCst));
    assert_eq!(take("configured"), ["success"]);
}

/// The names of the current span and its parents, innermost first, as
/// seen from inside a step's body.
fn current_scope() -> Vec<&'static str> {
    use tracing_subscriber::registry::{LookupSpan, Registry};
    let Some(id) = tracing::Span::current().id() else {
        return Vec::new();
    };
    tracing::dispatcher::get_default(|d| {
        let registry = d.downcast_ref::<Registry>().expect("the test's subscriber");
        let span = registry.span(&id).expect("a live span");
        span.scope().map(|s| s.name()).collect()
    })
}

#[step(on_success = on_success)]
#[tracing::instrument(name = "instrumented_call", skip_all)]
#[inline(never)]
async fn instrumented(x: u32) -> Vec<&'static str> {
    tokio::task::yield_now().await;
    let _ = x;
    current_scope()
}

#[test]
fn attributes_below_the_step_attribute_apply_to_the_async_step_as_to_an_async_fn() {
    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        let fut = instrumented(1);
        // `#[tracing::instrument]` wraps the whole call: nothing enters its
        // span before the first poll, and the body runs inside the step's
        // span inside it.
        assert!(current_scope().is_empty());
        let scope = futures::executor::block_on(fut).unwrap();
        assert_eq!(scope, ["hookflow.step", "instrumented_call"]);
    });
    assert_eq!(take("instrumented"), ["success"]);
}

// The declared return type is the async body's, as in a plain `async fn`:
// the tail and every `return` coerce to it (`Box<String>` to a trait
// object), with and without `retries`, for steps and pipelines.

#[allow(clippy::borrowed_box)] // a typed hook takes `&` of the output as it is
fn shown_value(value: &Box<dyn std::fmt::Display + Send + Sync>) {
    record("coerced", format!("value:{value}"));
}

#[step(on_success = shown_value)]
async fn boxed_display(s: String) -> Box<dyn std::fmt::Display + Send + Sync> {
    tokio::task::yield_now().await;
    Box::new(s)
}

#[step(retries = 1)]
async fn boxed_early(early: bool) -> anyhow::Result<Box<dyn std::fmt::Display + Send>> {
    if early {
        return Ok(Box::new(7u8));
    }
    tokio::task::yield_now().await;
    anyhow::ensure!(current().unwrap().attempt() == 2, "first attempt");
    Ok(Box::new("late"))
}

#[hookflow::pipeline]
async fn boxed_pipeline(n: u32) -> anyhow::Result<Box<dyn std::fmt::Debug + Send>> {
    if n == 0 {
        return Ok(Box::new("none"));
    }
    Ok(Box::new(n))
}

#[tokio::test]
async fn the_declared_return_type_coerces_the_tail_and_every_return() {
    let shown = boxed_display("hi".to_owned()).await.unwrap();
    assert_eq!(shown.to_string(), "hi");
    assert_eq!(take("coerced"), ["value:hi"]);
    assert_eq!(boxed_early(true).await.unwrap().to_string(), "7");
    assert_eq!(boxed_early(false).await.unwrap().to_string(), "late");
    assert_eq!(
        format!("{:?}", boxed_pipeline(0).await.unwrap()),
        "\"none\""
    );
    assert_eq!(format!("{:?}", boxed_pipeline(3).await.unwrap()), "3");
}
