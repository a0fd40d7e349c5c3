//! **hookflow**: steps and pipelines with typed, compile-checked lifecycle
//! hooks.
//!
//! ```
//! use hookflow::prelude::*;
//!
//! fn page_oncall(err: &StepError) {
//!     eprintln!("paging: {err}");
//! }
//!
//! fn record(rows: &usize) {
//!     println!("loaded {rows} rows");
//! }
//!
//! #[step(on_failure = page_oncall, on_success = record, retries = 2)]
//! fn load(url: &str) -> anyhow::Result<usize> {
//!     anyhow::ensure!(url.starts_with("https://"), "refusing {url}");
//!     Ok(42)
//! }
//!
//! assert_eq!(load("https://example.org/orders").unwrap(), 42);
//! let err = load("ftp://example.org").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Error);
//! assert_eq!(err.attempt(), 3);
//! ```
//!
//! The generated wrapper catches the step's errors **and panics**, runs the
//! right hooks exactly once in a documented order, and returns
//! `Result<T, StepError>`. Hook signatures are checked at compile time: a
//! hook of the wrong shape is an error on the hook's own name.
//!
//! # Event order
//!
//! One call reaches exactly one terminal [`Status`]. Per attempt,
//! `on_start` fires first; after a failed attempt that will be retried,
//! `on_retry`. At the end:
//!
//! | terminal status | hooks, in this order |
//! |---|---|
//! | `Completed` | `on_success`, `on_finish` |
//! | `Failed` (error or timeout, after all retries) | `on_failure`, `on_finish` |
//! | `Crashed` (panic) | `on_crash`, `on_failure`, `on_finish` |
//! | `Cancelled` (future dropped, run cancelled) | `on_cancel`, `on_finish` |
//!
//! Within one event, hooks fire in the order written. A hook that returns
//! `Err`, panics or (async) overruns its time bound is reported (a `tracing`
//! event and, in a pipeline run, a [`HookOutcome`]); it never changes the
//! step's outcome and never stops the other hooks. Steps called from inside
//! a hook run without hooks.
//!
//! # Where to read on
//!
//! - [`step`] and [`pipeline`]: the attribute keys, return types, retries,
//!   timeouts, cancellation, pipeline defaults.
//! - [`signature`]: the accepted hook signatures.
//! - [`HookContext`] and [`current()`]: what a hook (or a step body) can see.
//! - [`Run`]: resources, cancellation and the records of a pipeline run.
//! - [`registry`]: every step and pipeline of the program, by name.

#![warn(missing_docs)]

/// Turns a function into a step whose hooks fire exactly once per call.
///
/// ```
/// use hookflow::{step, HookContext, StepError};
///
/// fn alert(ctx: &HookContext, err: &StepError) {
///     eprintln!("{} failed on attempt {}: {err}", ctx.step_name().unwrap(), ctx.attempt());
/// }
///
/// #[step(on_failure = alert, retries = 1, retry_delay = "10ms")]
/// fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
///     input.trim().parse()
/// }
///
/// assert_eq!(parse(" 12 ").unwrap(), 12);
/// let err = parse("twelve").unwrap_err();
/// assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
/// ```
///
/// # Keys
///
/// | key | value | meaning |
/// |---|---|---|
/// | `name` | string | display name; default: the function's name |
/// | `on_start` | hook or `[hooks]` | before each attempt |
/// | `on_success` | hook or `[hooks]` | the step completed |
/// | `on_failure` | hook or `[hooks]` | failed for good: error, panic or timeout, after all retries |
/// | `on_retry` | hook or `[hooks]` | an attempt failed and another will follow |
/// | `on_crash` | hook or `[hooks]` | the body panicked (fires before `on_failure`) |
/// | `on_cancel` | hook or `[hooks]` | the step was cancelled (future dropped, run cancelled) |
/// | `on_finish` | hook or `[hooks]` | any terminal state, after the specific hooks |
/// | `retries` | integer | extra attempts after the first |
/// | `retry_delay` | `"500ms"`, `"2s"` … | delay between attempts (humantime syntax) |
/// | `timeout` | `"30s"` … | per attempt; `async fn` steps only |
/// | `returns` | `"result"` or `"value"` | how to read the return type, when its name misleads (below) |
///
/// A hook is a path to a function (`alert`, `crate::alerts::page`), a call
/// that builds one (`make_hook("x")`), or a closure with annotated argument
/// types (`|ctx: &HookContext| ..`). `on_x = []` names the event with no
/// hooks, which switches off a pipeline's default for it.
///
/// # What the function becomes
///
/// `#[step] fn f(args) -> R` keeps its name, visibility, generics and
/// parameters, and returns `Result<T, StepError>`: `T` is the `Ok` type when
/// `R` is a `Result<T, E>` (any `E: Into<anyhow::Error>`, incl.
/// `anyhow::Result`; a return type whose name ends in `Result` is read as a
/// `Result`), and `R` itself otherwise. Where the name misleads, say so:
/// `returns = "result"` for a `Result` alias with another name
/// (`type Fallible<T> = Result<T, io::Error>`), `returns = "value"` for a
/// plain type whose name ends in `Result`. `return` and `?` in the body behave as
/// in the plain function. [`StepError::kind`] says what happened
/// ([`ErrorKind::Error`], `Panic`, `Timeout`, `Cancelled`) and
/// [`StepError::downcast_ref`] gives the original error back.
///
/// A panic in the body is caught (sync and async) and ends the call
/// `Crashed`: `on_crash`, then `on_failure`, then `on_finish` fire, and the
/// caller gets `Err` with [`ErrorKind::Panic`] and the panic message. The
/// panic hook of the process still prints the panic as usual.
///
/// # A future is written `async fn`
///
/// A sync `fn` that returns a future is a compile error on its return type:
/// the step would end when the future is *built*, before any of its work
/// runs, so `on_success` would fire too early and a panic inside the future
/// would not be caught. Write the step as `async fn`. Recognised: `impl
/// Future<Output = T>` (and `impl IntoFuture`), `dyn Future` behind `Box` or
/// `Pin<Box<..>>`, and, by their names, `futures`' `BoxFuture<'a, T>` and
/// `LocalBoxFuture<'a, T>`; an alias of another name is not recognised.
/// The same holds for [`pipeline`].
///
/// ```compile_fail
/// use std::future::Future;
///
/// // error: a sync `fn` that returns a future cannot be a step or pipeline:
/// //        write `async fn later(..) -> u32`; ...
/// #[hookflow::step]
/// fn later() -> impl Future<Output = u32> {
///     async { 7 }
/// }
/// ```
///
/// The fix:
///
/// ```
/// #[hookflow::step]
/// async fn later() -> u32 {
///     7
/// }
/// # assert_eq!(futures::executor::block_on(later()).unwrap(), 7);
/// ```
///
/// # Retries and timeouts
///
/// With `retries = N`, an attempt that returns `Err` or times out is tried
/// again up to `N` times: `on_retry` fires after each failed attempt that will
/// be retried (its context has that attempt's number and error), then
/// `retry_delay` passes, then `on_start` fires for the next attempt.
/// `on_failure` fires only after the last. The arguments are cloned for each
/// attempt, so they must be `Clone` (references are).
///
/// **Panics are not retried**: a panic is a bug, not a transient failure, so
/// it ends the call `Crashed` at once.
///
/// `timeout = "2s"` bounds each attempt of an `async fn` step, on any
/// executor (hookflow keeps its own timer; under a paused Tokio clock it uses
/// Tokio's, so tests advance it); a timed-out attempt fails with
/// [`ErrorKind::Timeout`] and is retried like an error.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use hookflow::{step, ErrorKind};
///
/// #[step(timeout = "20ms", retries = 1)]
/// async fn slow() -> anyhow::Result<()> {
///     tokio::time::sleep(Duration::from_secs(5)).await;
///     Ok(())
/// }
///
/// let err = slow().await.unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert_eq!(err.attempt(), 2);
/// # }
/// ```
///
/// # Cancellation
///
/// An async step whose future is dropped before it finishes (a caller's
/// `tokio::time::timeout`, a `select!`, an aborted task) ends `Cancelled`:
/// `on_cancel` then `on_finish` fire from `Drop`, exactly once. Sync hooks
/// run right there; an async hook cannot be awaited in `Drop`, so from the
/// first async hook on, the rest of the hooks (in their order) run on
/// hookflow's own hook thread, within their time bound, even if the
/// caller's runtime is shutting down. Call [`wait_for_detached_hooks`] at
/// the end of `main` to let them finish before the process exits. If the
/// future is dropped while hooks are running, the remaining ones fire from
/// `Drop` (without the output, which is gone) and the interrupted one is
/// recorded as [`HookStatus::Interrupted`]. A future that was never polled
/// never started: dropping it fires nothing.
///
/// # Signatures
///
/// Checked at compile time; see [`signature`] for the full table. A hook of
/// another shape is an error on the hook's path, naming the event and the
/// accepted shapes:
///
/// ```compile_fail
/// use hookflow::{step, StepError};
///
/// fn alert(err: &StepError) {}
///
/// // error: `fn(&StepError) {alert}` is not a valid `on_success` hook
/// //        for a step whose output is `u32`
/// #[step(on_success = alert)]
/// fn count() -> u32 { 3 }
/// ```
///
/// The fix: attach it to a failure event, or take what `on_success` gets.
///
/// ```
/// use hookflow::{step, StepError};
///
/// fn alert(err: &StepError) {}
/// fn record(n: &u32) {}
///
/// #[step(on_success = record, on_failure = alert)]
/// fn count() -> u32 { 3 }
/// # assert_eq!(count().unwrap(), 3);
/// ```
///
/// A generic hook is never given a type by inference (it would otherwise
/// be handed the context); write its type:
///
/// ```compile_fail,E0283
/// use std::fmt::Debug;
///
/// fn show<T: Debug>(value: &T) { println!("{value:?}"); }
///
/// // error[E0283]: type annotations needed: cannot infer type of the type
/// //               parameter `T` declared on the function `show`
/// #[hookflow::step(on_success = show)]
/// fn count() -> u32 { 3 }
/// ```
///
/// The fix: `show::<u32>` sees the step's output.
///
/// ```
/// use std::fmt::Debug;
/// use std::sync::Mutex;
///
/// static SHOWN: Mutex<String> = Mutex::new(String::new());
///
/// fn show<T: Debug>(value: &T) { *SHOWN.lock().unwrap() = format!("{value:?}"); }
///
/// #[hookflow::step(on_success = show::<u32>)]
/// fn count() -> u32 { 3 }
///
/// count().unwrap();
/// assert_eq!(*SHOWN.lock().unwrap(), "3");
/// ```
///
/// An `async fn` hook needs an `async fn` step:
///
/// ```compile_fail
/// async fn notify() {}
///
/// // error: an `async` hook cannot be attached to a sync step or pipeline
/// #[hookflow::step(on_success = notify)]
/// fn count() -> u32 { 3 }
/// ```
///
/// # Description
///
/// Each step registers a static [`StepMeta`] (name, location, retries,
/// timeout, hooks as written), found by name with [`registry::step`].
///
/// # Limits
///
/// - Methods taking `self`, `const fn` and functions returning `!` cannot be
///   steps.
/// - The generated code names the crate `hookflow`: depend on it under that
///   name.
/// - A hook that is a generic function needs its type written
///   (`on_success = show::<Report>`): its parameter is never inferred, so a
///   `fn show<T: Debug>(v: &T)` written as `on_success = show` is a compile
///   error that asks for `show::<T>`, on generic and non-generic steps
///   alike, rather than a hook silently given the context. Hooks are built
///   once per step, so they cannot use the step's own generic parameters or
///   arguments.
/// - An output that borrows through a lifetime the signature does not write
///   (a `struct Parsed<'a>` returned as `Parsed`) must write it
///   (`Parsed<'_>`) so that hookflow does not show it to hooks; `Cow<..>`,
///   `&str` and slices are recognised.
/// - Steps run on other threads (`std::thread::spawn`, `spawn_blocking`) do
///   not belong to the pipeline run; futures do when spawned with
///   [`spawn`] or wrapped with [`in_current_run`].
/// - Typed hooks (`fn(&T)`, `fn(&E)`) need the output and error types to be
///   nameable from a `static`: not generic, no borrowed data. Such steps take
///   the untyped shapes, and `HookContext::output` is `None` for them.
/// - A typed `fn(&E)` hook fires only for failures that carry an `E`; after a
///   panic or a timeout it is skipped (and recorded as skipped).
pub use hookflow_macros::step;

/// Turns a function into a pipeline: a run with its own id, hooks, resources
/// and records, in which steps called from the body (directly, through
/// `join!`, or in tasks from [`spawn`]) take the pipeline's `steps(..)`
/// defaults.
///
/// ```
/// use hookflow::{pipeline, step, HookContext};
///
/// fn report(ctx: &HookContext) {
///     for failed in ctx.failed_steps() {
///         eprintln!("{} failed: {}", failed.name(), failed.message());
///     }
/// }
/// fn log_failure(ctx: &HookContext) {
///     eprintln!("step {} failed", ctx.step_name().unwrap());
/// }
///
/// #[step]
/// fn extract() -> anyhow::Result<Vec<u32>> { Ok(vec![1, 2, 3]) }
///
/// #[step]
/// fn load(rows: Vec<u32>) -> anyhow::Result<usize> {
///     anyhow::ensure!(rows.len() < 3, "too many rows");
///     Ok(rows.len())
/// }
///
/// #[pipeline(on_failure = report, steps(on_failure = log_failure))]
/// fn nightly() -> anyhow::Result<usize> {
///     let rows = extract()?;
///     Ok(load(rows)?)
/// }
///
/// let err = nightly().unwrap_err();
/// assert_eq!(err.failed_steps()[0].name(), "load");
/// ```
///
/// # Keys
///
/// `name`, the `on_*` keys of [`step`] (they fire for the run itself, once,
/// when it reaches its terminal state; `on_retry` never fires, a run has one
/// attempt), and `steps(on_failure = .., on_success = .., ..)`: defaults for
/// every step run inside this pipeline. A step's own list for an event
/// **replaces** the default for that event (`on_failure = []` switches it
/// off); events the step does not name inherit it.
///
/// # What the function becomes
///
/// It returns `Result<T, PipelineError>` (a sync `fn` that returns a future
/// is a compile error, as for [`step`]: write `async fn`). The run is `Completed` when the body
/// returns `Ok`, `Failed` when it returns `Err`, `Crashed` when it panics, and
/// `Cancelled` when its [`CancelHandle`] was used and the body returned,
/// `Err` or even `Ok` (the caller asked to cancel it: it gets a
/// [`PipelineError`] of kind [`ErrorKind::Cancelled`], not the value), or
/// when its future was dropped. [`PipelineError`] lists the failed steps and
/// finds the original error through the steps' errors.
///
/// Pipeline hooks take `fn()` / `fn(&HookContext)`, and for failure-type
/// events also `fn(&StepError)` / `fn(&HookContext, &StepError)` (the run's
/// error). [`HookContext::failed_steps`] lists every step that failed.
///
/// Run a pipeline with [`Run`] to give it resources, cancel it, or read its
/// hook outcomes afterwards. A pipeline called inside another starts a run of
/// its own that shares the outer run's resources and cancellation.
pub use hookflow_macros::pipeline;

/// Registers a function as a hook by name, so that configuration files can
/// attach it, and checks at compile time that configuration can.
///
/// ```
/// use hookflow::prelude::*;
///
/// pub mod alerts {
///     use hookflow::prelude::*;
///
///     #[hook]
///     pub fn page_oncall(ctx: &HookContext, err: &StepError) {
///         eprintln!("paging: {} failed: {err}", ctx.step_name().unwrap_or("?"));
///     }
/// }
///
/// // Its full path, a `crate::` path, or its bare name while no other
/// // registered hook has it:
/// let by_path = hookflow::named::hook("rust_out::alerts::page_oncall", None).unwrap();
/// let by_crate_path = hookflow::named::hook("crate::alerts::page_oncall", Some("rust_out")).unwrap();
/// let by_name = hookflow::named::hook("page_oncall", None).unwrap();
/// assert_eq!(by_path.path(), "rust_out::alerts::page_oncall");
/// assert_eq!(by_name.path(), by_crate_path.path());
/// assert_eq!(by_name.shape(), hookflow::named::HookShape::CtxErr);
/// assert!(!by_name.is_async());
/// assert_eq!(
///     hookflow::named::hook("page_on_call", None).unwrap_err(),
///     hookflow::named::HookLookupError::Unknown,
/// );
///
/// // The function itself is unchanged: it can still be called, and attached
/// // in a step's attribute.
/// #[step(on_failure = alerts::page_oncall)]
/// fn load() -> anyhow::Result<u32> { anyhow::bail!("no rows") }
/// assert!(load().is_err());
/// ```
///
/// # Names
///
/// A hook is registered under its path, `concat!(module_path!(), "::", name)`
/// (`my_crate::alerts::page_oncall`), and found by
/// [`named::hook`] by that path, by the crate-relative
/// `crate::alerts::page_oncall`, or by its bare name `page_oncall` when only
/// one registered hook has it (otherwise the lookup answers
/// [`Ambiguous`](crate::named::HookLookupError::Ambiguous) with every full
/// path). [`named::hooks`] lists them all. The built-in
/// hooks are registered the same way under `hookflow::…` names.
/// Registration happens at link time: it costs nothing when the program
/// starts or runs. `#[hook]` takes no arguments and needs no cargo feature.
///
/// # Shapes
///
/// A registered hook has one of the untyped shapes, which fit any step or
/// pipeline:
///
/// | shape | events it fits |
/// |---|---|
/// | `fn()` | every event |
/// | `fn(&HookContext)` | every event |
/// | `fn(&StepError)` | `on_failure`, `on_retry`, `on_crash` |
/// | `fn(&HookContext, &StepError)` | `on_failure`, `on_retry`, `on_crash` |
///
/// each sync or `async fn`, returning `()` or `Result<(), E>` with
/// `E: Display`. Any other shape is a compile error on the function's name
/// that lists these. A typed hook sees a value only one step has (its own
/// error type, its output), so it can only be attached in that step's
/// attribute:
///
/// ```compile_fail,E0277
/// use hookflow::hook;
///
/// #[derive(Debug)]
/// struct NotFound;
///
/// // error: `for<'a> fn(&'a NotFound) {gone}` cannot be registered with
/// //        `#[hook]`: configuration files can only attach hooks of the
/// //        untyped shapes
/// #[hook]
/// fn gone(err: &NotFound) {}
/// ```
///
/// The fix: take the [`StepError`] and find the typed error in it (or drop
/// `#[hook]` and attach the typed hook in the step's attribute).
///
/// ```
/// use hookflow::{hook, StepError};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("not found")]
/// struct NotFound;
///
/// #[hook]
/// fn gone(err: &StepError) {
///     if let Some(NotFound) = err.downcast_ref::<NotFound>() {
///         eprintln!("gone");
///     }
/// }
/// # fn main() { assert!(hookflow::named::hook("gone", None).is_ok()); }
/// ```
///
/// `#[hook]` on a method (a function taking `self`), on a generic function
/// (type or const parameters, `impl Trait` parameters) or on anything that
/// is not a function is a compile error too; the function is still emitted,
/// so one mistake gives one error. In an `impl` block, register a free
/// function that calls the associated one.
pub use hookflow_macros::hook;

pub use hookflow_runtime::{
    current, default_hook_timeout, in_current_run, named, registry, set_default_hook_timeout,
    signature, spawn, wait_for_detached_hooks, CancelHandle, ErrorKind, Event, FailedStep,
    HookContext, HookContextBuilder, HookOutcome, HookStatus, InRun, PipelineError, PipelineMeta,
    Resources, Run, RunReport, Status, StepError, StepMeta,
};

/// The journal of durable pipelines: records, stores, recovery plans.
#[cfg(feature = "journal")]
pub use hookflow_runtime::journal;
#[cfg(feature = "config")]
pub use hookflow_runtime::template;
pub use hookflow_runtime::{alert, hooks, secret};
#[cfg(feature = "journal")]
pub use hookflow_runtime::{
    recover, recover_from, use_journal, when_unavailable, RecoveredRun, RecoveryReport,
    WhenUnavailable,
};

/// The common names: `use hookflow::prelude::*;`.
pub mod prelude {
    pub use crate::{
        current, hook, pipeline, step, ErrorKind, HookContext, PipelineError, Resources, Run,
        Status, StepError,
    };
}

/// Configuration files that attach hooks by name (feature `config`).
#[cfg(feature = "config")]
pub use hookflow_runtime::config;

#[doc(hidden)]
pub use hookflow_runtime::__private;

// The README's quickstart is compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
