//! What the generated wrappers call: the body adapters, and the generic
//! entry points, which only call or poll the body, catch its panics and
//! hand the outcome to the non-generic lifecycle (`unit` for sync calls,
//! `driver` for async ones). Everything here is monomorphised per step, so
//! it is kept to the least that must know the body's types.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::call::take_panic;
use crate::context::OutputPtr;
use crate::decide::AttemptEnd;
use crate::driver::{first_poll, Attempts, Core, Init, Op};
use crate::error::{PipelineError, StepError};
use crate::frame::{enter, Frame};
use crate::hook::{HookSet, PipelineHooks};
use crate::meta::{PipelineMeta, StepMeta};
use crate::signature::StepErrorType;
use crate::unit::{drive_pipeline_sync, drive_sync, SyncBody};

/// A step's return type, seen as a `Result`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Result`",
    label = "hookflow reads a return type whose name ends in `Result` as `Result<T, E>`",
    note = "return `Result<T, E>` (or an alias of it), or a type whose name does not end in `Result`"
)]
pub trait StepReturn {
    /// The value of a successful call.
    type Ok;
    /// The body's own error type.
    type Err: StepErrorType;
    /// What an async body's future yields: `Self` for a `Result`, `T` for
    /// a plain `T` (so that no adapter wraps the body's future).
    type Value;
    /// The outcome as a `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// An async body's value as a `Result`.
    fn read(value: Self::Value) -> Result<Self::Ok, Self::Err>;
}

impl<T, E: StepErrorType> StepReturn for Result<T, E> {
    type Ok = T;
    type Err = E;
    type Value = Self;
    #[inline]
    fn into_result(self) -> Result<T, E> {
        self
    }
    #[inline]
    fn read(value: Self) -> Result<T, E> {
        value
    }
}

/// A plain (non-`Result`) return value.
pub struct Plain<T>(pub T);

impl<T> StepReturn for Plain<T> {
    type Ok = T;
    type Err = Infallible;
    type Value = T;
    #[inline]
    fn into_result(self) -> Result<T, Infallible> {
        Ok(self.0)
    }
    #[inline]
    fn read(value: T) -> Result<T, Infallible> {
        Ok(value)
    }
}

/// A step body, called once per attempt.
pub trait Body {
    /// What one attempt returns (a value, or a future for async steps).
    type Out;
    /// Runs one attempt.
    fn attempt(&mut self) -> Self::Out;
}

/// A body without retries: called once.
pub struct Once<F>(Option<F>);

impl<F> Once<F> {
    /// Wraps the body.
    #[inline]
    pub fn new(f: F) -> Self {
        Once(Some(f))
    }
}

impl<F: FnOnce() -> O, O> Body for Once<F> {
    type Out = O;
    #[inline]
    fn attempt(&mut self) -> O {
        match self.0.take() {
            Some(f) => f(),
            // Unreachable: a step without `retries` has one attempt.
            None => panic!("hookflow: a step without `retries` was attempted twice"),
        }
    }
}

/// An async pipeline's body: its one future.
pub struct OnceFut<F>(Option<F>);

impl<F> Body for OnceFut<F> {
    type Out = F;
    #[inline]
    fn attempt(&mut self) -> F {
        match self.0.take() {
            Some(f) => f,
            // Unreachable: a pipeline has one attempt.
            None => panic!("hookflow: a pipeline body was started twice"),
        }
    }
}

/// A body with retries: its arguments are cloned per attempt.
pub struct Retry<F>(pub F);

impl<F: FnMut() -> O, O> Body for Retry<F> {
    type Out = O;
    #[inline]
    fn attempt(&mut self) -> O {
        (self.0)()
    }
}

/// Whether hooks see a step's output (see `HookContext::output`): chosen at
/// the step's definition, as a type, so that the call is static.
pub trait Expose<T>: Copy {
    /// The pointer hooks see, if they see the output.
    fn expose(self, value: &T) -> Option<OutputPtr>;
}

/// The output is shown to hooks (`'static + Send + Sync` outputs).
#[derive(Clone, Copy, Debug)]
pub struct Shown;

impl<T: Any + Send + Sync> Expose<T> for Shown {
    #[inline(always)]
    fn expose(self, value: &T) -> Option<OutputPtr> {
        Some(OutputPtr::new(value))
    }
}

/// The output is not shown to hooks.
#[derive(Clone, Copy, Debug)]
pub struct Hidden;

impl<T> Expose<T> for Hidden {
    #[inline(always)]
    fn expose(self, _: &T) -> Option<OutputPtr> {
        None
    }
}

/// Chooses, at the step's definition, whether its output can be shown to
/// hooks (`'static + Send + Sync` outputs can).
#[doc(hidden)]
pub struct Probe<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Probe<T> {
    #[doc(hidden)]
    pub const NEW: Probe<T> = Probe(std::marker::PhantomData);
}

#[doc(hidden)]
pub trait ExposeOutput<T> {
    fn expose(&self) -> Shown;
}

impl<T: Any + Send + Sync> ExposeOutput<T> for Probe<T> {
    #[inline]
    fn expose(&self) -> Shown {
        Shown
    }
}

#[doc(hidden)]
pub trait HideOutput<T> {
    fn expose(&self) -> Hidden;
}

impl<T> HideOutput<T> for &Probe<T> {
    #[inline]
    fn expose(&self) -> Hidden {
        Hidden
    }
}

// ----- sync entry points ------------------------------------------------------

/// A sync step's body and the value of its successful attempt, as the
/// lifecycle sees it (`M` says how the body is called and what it returns).
struct SyncCall<B, T, X, M> {
    body: B,
    out: Option<T>,
    expose: X,
    mode: PhantomData<fn() -> M>,
}

/// Called once, returns the value itself.
struct OncePlain;
/// Called once, returns `R` (a `Result`).
struct OnceResult<R>(PhantomData<R>);
/// Called per attempt (its arguments cloned), returns the value itself.
struct RetryPlain;
/// Called per attempt, returns `R` (a `Result`).
struct RetryResult<R>(PhantomData<R>);

impl<T, X: Expose<T>, F: FnOnce() -> T> SyncBody for SyncCall<Option<F>, T, X, OncePlain> {
    fn attempt(&mut self) -> Result<Option<OutputPtr>, anyhow::Error> {
        let Some(body) = self.body.take() else {
            attempted_twice()
        };
        Ok(self.expose.expose(self.out.insert(body())))
    }
}

impl<R: StepReturn, X: Expose<R::Ok>, F: FnOnce() -> R> SyncBody
    for SyncCall<Option<F>, R::Ok, X, OnceResult<R>>
{
    fn attempt(&mut self) -> Result<Option<OutputPtr>, anyhow::Error> {
        let Some(body) = self.body.take() else {
            attempted_twice()
        };
        match body().into_result() {
            Ok(v) => Ok(self.expose.expose(self.out.insert(v))),
            Err(e) => Err(e.into_anyhow()),
        }
    }
}

impl<T, X: Expose<T>, F: FnMut() -> T> SyncBody for SyncCall<F, T, X, RetryPlain> {
    fn attempt(&mut self) -> Result<Option<OutputPtr>, anyhow::Error> {
        Ok(self.expose.expose(self.out.insert((self.body)())))
    }
}

impl<R: StepReturn, X: Expose<R::Ok>, F: FnMut() -> R> SyncBody
    for SyncCall<F, R::Ok, X, RetryResult<R>>
{
    fn attempt(&mut self) -> Result<Option<OutputPtr>, anyhow::Error> {
        match (self.body)().into_result() {
            Ok(v) => Ok(self.expose.expose(self.out.insert(v))),
            Err(e) => Err(e.into_anyhow()),
        }
    }
}

/// Unreachable: a step without `retries` has one attempt.
#[cold]
#[inline(never)]
fn attempted_twice() -> ! {
    panic!("hookflow: a step without `retries` was attempted twice")
}

/// Unreachable: a step that completed kept its value.
#[cold]
#[inline(never)]
fn no_value() -> ! {
    unreachable!("a completed step has an output")
}

/// The step's result once the lifecycle ended (generic only over the
/// value, so steps of one output type share it).
#[inline]
fn finish<T>(ended: Result<(), StepError>, out: Option<T>) -> Result<T, StepError> {
    match (ended, out) {
        (Ok(()), Some(v)) => Ok(v),
        (Err(e), _) => Err(e),
        (Ok(()), None) => no_value(),
    }
}

/// Runs a step's body (in the call mode `$mode`) through the lifecycle and
/// returns its value: the body of each sync entry point below, written out
/// in each so that a step instantiates one generic function, not two.
macro_rules! drive {
    ($meta:ident, $hooks:ident, $expose:ident, $body:expr, $mode:ty) => {{
        let mut call = SyncCall {
            body: $body,
            out: None,
            expose: $expose,
            mode: PhantomData::<fn() -> $mode>,
        };
        let ended = drive_sync($meta, $hooks, &mut call);
        finish(ended, call.out)
    }};
}

/// Runs a sync step without `retries` whose return type is not a `Result`:
/// the generated wrapper of `#[step] fn` calls this (or one of its three
/// siblings) with the body as a closure.
#[inline]
pub fn run_plain<T, X, F>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: X,
    body: F,
) -> Result<T, StepError>
where
    X: Expose<T>,
    F: FnOnce() -> T,
{
    drive!(meta, hooks, expose, Some(body), OncePlain)
}

/// Runs a sync step without `retries` that returns a `Result`.
#[inline]
pub fn run_once<R, X, F>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: X,
    body: F,
) -> Result<R::Ok, StepError>
where
    X: Expose<R::Ok>,
    R: StepReturn,
    F: FnOnce() -> R,
{
    drive!(meta, hooks, expose, Some(body), OnceResult<R>)
}

/// Runs a sync step with `retries` whose return type is not a `Result`
/// (`body` clones its arguments on each call).
#[inline]
pub fn run_plain_retry<T, X, F>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: X,
    body: F,
) -> Result<T, StepError>
where
    X: Expose<T>,
    F: FnMut() -> T,
{
    drive!(meta, hooks, expose, body, RetryPlain)
}

/// Runs a sync step with `retries` that returns a `Result`.
#[inline]
pub fn run_retry<R, X, F>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: X,
    body: F,
) -> Result<R::Ok, StepError>
where
    X: Expose<R::Ok>,
    R: StepReturn,
    F: FnMut() -> R,
{
    drive!(meta, hooks, expose, body, RetryResult<R>)
}

/// Runs a sync pipeline: the generated wrapper of `#[pipeline] fn` calls this.
#[inline]
pub fn pipeline_sync<R, F>(
    meta: &'static PipelineMeta,
    hooks: &'static PipelineHooks,
    body: F,
) -> Result<R::Ok, PipelineError>
where
    R: StepReturn,
    F: FnOnce() -> R,
{
    let mut body = Some(body);
    let mut out: Option<R::Ok> = None;
    let r = {
        let mut run = || -> Result<(), anyhow::Error> {
            let body = body.take().expect("a pipeline body runs once");
            match body().into_result() {
                Ok(v) => {
                    out = Some(v);
                    Ok(())
                }
                Err(e) => Err(e.into_anyhow()),
            }
        };
        drive_pipeline_sync(meta, hooks, &mut run)
    };
    match (r, out) {
        (Ok(()), Some(v)) => Ok(v),
        (Err(e), _) => Err(e),
        (Ok(()), None) => unreachable!("a completed pipeline has an output"),
    }
}

// ----- async entry points -------------------------------------------------------

pin_project_lite::pin_project! {
    /// An async step call, the future the generated `async fn` awaits: the
    /// generic shell around the non-generic async lifecycle (`driver`). It
    /// only builds, polls and drops the body's attempt futures and keeps
    /// the output.
    pub struct StepFuture<R: StepReturn, X, B: Body> {
        // Only what the call needs is written when the future is made
        // (what to build, the body); a core is built in place only when
        // the call needs its state machine (see `driver::first_poll`).
        init: Init,
        // Dropped by hand (below), and only when there is one: most calls
        // never build one.
        core: ManuallyDrop<Option<Core>>,
        body: B,
        #[pin]
        fut: Option<B::Out>,
        out: Option<R::Ok>,
        expose: X,
    }

    impl<R: StepReturn, X, B: Body> PinnedDrop for StepFuture<R, X, B> {
        // Two tests; most calls end with neither an attempt's future nor a
        // core left to drop.
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // The body goes first: its own `Drop` runs before `on_cancel`.
            if this.fut.is_some() {
                drop_fut(this.fut.as_mut());
            }
            if this.core.is_some() {
                drop_core(this.core);
            }
        }
    }
}

/// Drops a call's core: fires what is left, exactly once (see
/// [`Core::on_drop`]).
#[inline(never)]
fn drop_core(core: &mut ManuallyDrop<Option<Core>>) {
    if let Some(core) = &mut **core {
        core.on_drop();
    }
    // SAFETY: dropped once, here, as the future goes away; the field is not
    // used after this.
    unsafe { ManuallyDrop::drop(core) };
}

/// Runs `f`, catching its panic: not generic, so that one copy of the
/// unwinding machinery serves every step.
#[inline]
fn guarded(f: &mut dyn FnMut()) -> std::thread::Result<()> {
    catch_unwind(AssertUnwindSafe(f))
}

/// Runs an attempt's build and poll, catching its panic. An optimised build
/// compiles the closure in place, in its own `catch_unwind` (the hot path
/// then has no call of its own for it); a debug build, where compile time
/// counts for more, goes through the one shared, non-generic guard instead.
/// Both catch the same panics.
#[inline(always)]
fn catch_attempt(f: &mut impl FnMut()) -> std::thread::Result<()> {
    #[cfg(not(debug_assertions))]
    {
        catch_unwind(AssertUnwindSafe(f))
    }
    #[cfg(debug_assertions)]
    {
        guarded(f)
    }
}

/// Drops an attempt's future; a panic in its `Drop` goes no further.
fn drop_fut<F>(mut fut: Pin<&mut Option<F>>) {
    if let Err(payload) = guarded(&mut || clear(&mut fut)) {
        take_panic(payload);
    }
}

/// Drops an attempt's future in place (one copy per body, shared by every
/// place that drops it).
#[inline]
fn clear<F>(fut: &mut Pin<&mut Option<F>>) {
    fut.set(None);
}

/// The shell's fields that know the body's types, lent to the core for one
/// poll.
struct Lent<'a, R: StepReturn, X, B: Body> {
    body: &'a mut B,
    fut: Pin<&'a mut Option<B::Out>>,
    out: &'a mut Option<R::Ok>,
    expose: X,
}

impl<R, X, B> Attempts for Lent<'_, R, X, B>
where
    R: StepReturn,
    X: Expose<R::Ok>,
    B: Body,
    B::Out: Future<Output = R::Value>,
{
    // One method for all three operations: one generic function per step
    // instead of three (the core's helpers on `dyn Attempts` name them).
    fn run(
        &mut self,
        op: Op,
        cx: &mut Context<'_>,
        frame: &Frame,
    ) -> Poll<Result<Option<OutputPtr>, AttemptEnd>> {
        if op == Op::DROP {
            drop_fut(self.fut.as_mut());
            return Poll::Ready(Ok(None));
        }
        let mut polled = Poll::Pending;
        let caught = {
            let _entered = enter(frame);
            let (body, fut, out) = (&mut *self.body, &mut self.fut, &mut polled);
            catch_attempt(&mut || {
                if op.builds() {
                    fut.set(Some(body.attempt()));
                }
                if op.polls() {
                    let _span = frame.span.enter();
                    if let Some(f) = fut.as_mut().as_pin_mut() {
                        *out = f.poll(cx);
                    }
                    if out.is_ready() {
                        // Done with: dropped here, under the same guard (a
                        // panic of its `Drop` leaves `None` in its place
                        // and changes nothing: the attempt's value stands).
                        clear(fut);
                    }
                }
            })
        };
        let panicked = match caught {
            Ok(()) => None,
            // In building or polling it, or in dropping it once it was
            // ready (then its value stands).
            Err(payload) => Some(take_panic(payload)),
        };
        let Poll::Ready(r) = polled else {
            if let Some(msg) = panicked {
                drop_fut(self.fut.as_mut());
                return Poll::Ready(Err(AttemptEnd::Panicked(msg)));
            }
            return if op.polls() {
                Poll::Pending
            } else {
                Poll::Ready(Ok(None))
            };
        };
        Poll::Ready(match R::read(r) {
            Ok(v) => Ok(self.expose.expose(self.out.insert(v))),
            Err(e) => Err(AttemptEnd::Error(e.into_anyhow())),
        })
    }
}

impl<R, X, B> Future for StepFuture<R, X, B>
where
    R: StepReturn,
    X: Expose<R::Ok>,
    B: Body,
    B::Out: Future<Output = R::Value>,
{
    type Output = Result<R::Ok, StepError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut lent = Lent::<R, X, B> {
            body: this.body,
            fut: this.fut,
            out: this.out,
            expose: *this.expose,
        };
        let polled = match &mut **this.core {
            Some(core) => core.drive(cx, &mut lent),
            None => first_poll(this.core, this.init, cx, &mut lent),
        };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => match lent.out.take() {
                Some(v) => Poll::Ready(Ok(v)),
                None => unreachable!("a completed call has an output"),
            },
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }
}

/// Runs an async step: the generated wrapper of `#[step] async fn` returns
/// this.
#[inline]
pub fn run_async<R, X, B>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: X,
    body: B,
) -> StepFuture<R, X, B>
where
    R: StepReturn,
    X: Expose<R::Ok>,
    B: Body,
    B::Out: Future<Output = R::Value>,
{
    StepFuture {
        init: Init::Step(meta, hooks),
        core: ManuallyDrop::new(None),
        body,
        fut: None,
        out: None,
        expose,
    }
}

pin_project_lite::pin_project! {
    /// An async pipeline run: the future the generated wrapper of
    /// `#[pipeline] async fn` awaits.
    pub struct PipelineFuture<R: StepReturn, F> {
        #[pin]
        shell: StepFuture<R, Hidden, OnceFut<F>>,
    }
}

impl<R, F> Future for PipelineFuture<R, F>
where
    R: StepReturn,
    F: Future<Output = R::Value>,
{
    type Output = Result<R::Ok, PipelineError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut shell = self.project().shell;
        match shell.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(v)) => Poll::Ready(Ok(v)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(match &**shell.project().core {
                Some(core) => core.pipeline_error(e),
                None => unreachable!("a polled call has its core"),
            })),
        }
    }
}

/// Runs an async pipeline: the generated wrapper of `#[pipeline] async fn`
/// awaits this.
#[inline]
pub fn pipeline_async<R, F>(
    meta: &'static PipelineMeta,
    hooks: &'static PipelineHooks,
    body: F,
) -> PipelineFuture<R, F>
where
    R: StepReturn,
    F: Future<Output = R::Value>,
{
    PipelineFuture {
        shell: StepFuture {
            init: Init::Pipeline(meta, hooks),
            core: ManuallyDrop::new(None),
            body: OnceFut(Some(body)),
            fut: None,
            out: None,
            expose: Hidden,
        },
    }
}
