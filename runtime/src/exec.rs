//! The execution core: what every generated step and pipeline wrapper calls.
//!
//! The generic entry points ([`run_sync`], [`run_async`], [`pipeline_sync`],
//! [`pipeline_async`]) only call the body, catch its panics and hand the
//! outcome to [`Unit`], which is not generic and owns the lifecycle: attempts,
//! retries, terminal state, hook order, isolation and records.

use std::any::Any;
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context::{HookContext, Output, OutputPtr, Stamp, Status};
use crate::dispatch::{
    call_async, call_sync, detach_plan, is_async, report_interrupted, run_plan_sync, try_sleep,
    ErasedHook, HookSet, Scoped,
};
use crate::error::{panic_message, FailedStep, PipelineError, StepError};
use crate::frame::{enter, in_hook, with_current, with_current_in_hook, Frame, Scope};
use crate::lookup::{Level, Lookup};
use crate::meta::{Event, PipelineMeta, StepMeta};
use crate::run::{start_run, RunShared};
use crate::settings::{self, StepSettings};
use crate::signature::StepErrorType;

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
    /// The outcome as a `Result`.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
}

impl<T, E: StepErrorType> StepReturn for Result<T, E> {
    type Ok = T;
    type Err = E;
    #[inline]
    fn into_result(self) -> Result<T, E> {
        self
    }
}

/// A plain (non-`Result`) return value.
pub struct Plain<T>(pub T);

impl<T> StepReturn for Plain<T> {
    type Ok = T;
    type Err = Infallible;
    #[inline]
    fn into_result(self) -> Result<T, Infallible> {
        Ok(self.0)
    }
}

/// A step body, called once per attempt.
pub trait Body {
    /// What one attempt returns (a value, or a future for async steps).
    type Out;
    /// Runs one attempt.
    fn attempt(&mut self) -> Self::Out;
}

pin_project_lite::pin_project! {
    /// An async body with a plain (non-`Result`) return value.
    pub struct PlainFut<F> {
        #[pin]
        fut: F,
    }
}

impl<F> PlainFut<F> {
    /// Wraps the body's future.
    #[inline]
    pub fn new(fut: F) -> Self {
        PlainFut { fut }
    }
}

impl<F: Future> Future for PlainFut<F> {
    type Output = Plain<F::Output>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().fut.poll(cx).map(Plain)
    }
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
            None => panic!("hookflow: a step without `retries` was attempted twice"),
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

/// Gives hooks a view of the output (see `HookContext::output`).
pub type Expose<T> = fn(&T) -> Option<OutputPtr>;

/// The output is not shown to hooks.
pub fn no_output<T>(_: &T) -> Option<OutputPtr> {
    None
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
    fn expose(&self) -> Expose<T>;
}

impl<T: Any + Send + Sync> ExposeOutput<T> for Probe<T> {
    #[inline]
    fn expose(&self) -> Expose<T> {
        |v| Some(OutputPtr::new(v))
    }
}

#[doc(hidden)]
pub trait HideOutput<T> {
    fn expose(&self) -> Expose<T>;
}

impl<T> HideOutput<T> for &Probe<T> {
    #[inline]
    fn expose(&self) -> Expose<T> {
        no_output::<T>
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Step(&'static StepMeta),
    Pipeline(&'static PipelineMeta),
}

/// One step call or pipeline run in progress.
pub(crate) struct Unit {
    kind: Kind,
    hooks: Lookup,
    /// What an installed configuration sets for this step.
    cfg: Option<&'static StepSettings>,
    /// Called from inside a hook: no hooks, and no record in the run.
    suppressed: bool,
    pub(crate) frame: Frame,
}

/// What ended an attempt.
enum AttemptEnd<O> {
    Done(O),
    Panicked(String),
    TimedOut(Duration),
    Cancelled,
    NoRuntime,
}

fn terminal_events(status: Status) -> &'static [Event] {
    match status {
        Status::Completed => &[Event::Success, Event::Finish],
        Status::Failed => &[Event::Failure, Event::Finish],
        Status::Crashed => &[Event::Crash, Event::Failure, Event::Finish],
        Status::Cancelled | Status::Running => &[Event::Cancel, Event::Finish],
    }
}

impl Unit {
    fn step(meta: &'static StepMeta, own: &'static HookSet) -> Unit {
        let (suppressed, run, span) = with_current_in_hook(|parent, in_hook| match parent {
            // Under the enclosing step's or run's span, even when an async
            // parent is not entered on this thread right now.
            Some(parent) => (
                in_hook,
                parent.run.clone(),
                tracing::info_span!(
                    parent: &parent.span,
                    "hookflow.step",
                    step = meta.name(),
                    run_id = tracing::field::Empty,
                    status = tracing::field::Empty,
                ),
            ),
            None => (
                in_hook,
                None,
                tracing::info_span!(
                    "hookflow.step",
                    step = meta.name(),
                    run_id = tracing::field::Empty,
                    status = tracing::field::Empty,
                ),
            ),
        });
        if let Some(run) = &run {
            span.record("run_id", tracing::field::display(run.run_id));
        }
        let cfg = settings::active().and_then(|o| o.step(meta));
        let hooks = if suppressed {
            Lookup::none()
        } else {
            let own = Level {
                attr: own,
                cfg: cfg.map(|c| &c.hooks),
            };
            Lookup::new(own, run.as_ref().map(|r| r.defaults))
        };
        let max_attempts = match cfg.and_then(|c| c.retries) {
            Some(retries) if meta.is_retryable() => retries.saturating_add(1),
            _ => meta.max_attempts(),
        };
        let frame = Frame::new(Scope::Step(meta), run, max_attempts, span);
        Unit {
            kind: Kind::Step(meta),
            hooks,
            cfg,
            suppressed,
            frame,
        }
    }

    fn pipeline(
        meta: &'static PipelineMeta,
        own: &'static HookSet,
        step_defaults: &'static HookSet,
    ) -> Unit {
        let suppressed = in_hook();
        let cfg = settings::active().and_then(|o| o.pipeline(meta));
        let step_defaults = Level {
            attr: step_defaults,
            cfg: cfg.map(|c| &c.steps),
        };
        let run = with_current(|parent| start_run(meta, step_defaults, parent));
        let span = tracing::info_span!(
            "hookflow.pipeline",
            pipeline = meta.name(),
            run_id = %run.run_id,
            status = tracing::field::Empty,
        );
        let hooks = if suppressed {
            Lookup::none()
        } else {
            let own = Level {
                attr: own,
                cfg: cfg.map(|c| &c.hooks),
            };
            Lookup::new(own, None)
        };
        let frame = Frame::new(Scope::Pipeline, Some(run), 1, span);
        Unit {
            kind: Kind::Pipeline(meta),
            hooks,
            cfg: None,
            suppressed,
            frame,
        }
    }

    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Step(m) => m.name(),
            Kind::Pipeline(m) => m.name(),
        }
    }

    fn run(&self) -> Option<&RunShared> {
        self.frame.run.as_deref()
    }

    fn step_meta(&self) -> Option<&'static StepMeta> {
        match self.kind {
            Kind::Step(m) => Some(m),
            Kind::Pipeline(_) => None,
        }
    }

    fn max_attempts(&self) -> u32 {
        self.frame.max_attempts
    }

    fn is_cancelled(&self) -> bool {
        self.run().is_some_and(|r| r.token.is_cancelled())
    }

    fn hooks(&self, event: Event) -> &'static [ErasedHook] {
        self.hooks.get(event)
    }

    /// `true` when some hook fires for one of `events`.
    #[inline]
    fn any_hooks(&self, events: &[Event]) -> bool {
        self.hooks.any(events)
    }

    /// `true` when some hook fires for `event`.
    #[inline]
    fn has_hooks(&self, event: Event) -> bool {
        self.hooks.has(event)
    }

    /// The step's per-attempt time bound: configured, else the attribute's.
    fn timeout(&self) -> Option<Duration> {
        let meta = self.step_meta()?;
        self.cfg.and_then(|c| c.timeout).or(meta.timeout())
    }

    fn context(&self, status: Status, error: Option<&StepError>) -> HookContext {
        HookContext::of_frame(&self.frame, status, error.cloned())
    }

    fn name_cow(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name())
    }

    /// Records the terminal state: span field, tracing event, the run's list
    /// of failed steps.
    fn record_terminal(&self, status: Status, error: Option<&StepError>) {
        self.frame.set_status(status);
        let span = &self.frame.span;
        span.record("status", status.as_str());
        let attempt = self.frame.attempt();
        let status = status.as_str();
        match (self.kind, error) {
            (Kind::Step(m), None) => tracing::info!(
                parent: span,
                step = m.name(),
                run_id = self.run().map(|r| tracing::field::display(r.run_id)),
                attempt,
                status,
                "step finished"
            ),
            (Kind::Step(m), Some(err)) => tracing::warn!(
                parent: span,
                step = m.name(),
                run_id = self.run().map(|r| tracing::field::display(r.run_id)),
                attempt,
                status,
                kind = err.kind().as_str(),
                error = err.message(),
                "step finished"
            ),
            (Kind::Pipeline(m), None) => tracing::info!(
                parent: span,
                pipeline = m.name(),
                run_id = self.run().map(|r| tracing::field::display(r.run_id)),
                status,
                "pipeline finished"
            ),
            (Kind::Pipeline(m), Some(err)) => tracing::warn!(
                parent: span,
                pipeline = m.name(),
                run_id = self.run().map(|r| tracing::field::display(r.run_id)),
                status,
                kind = err.kind().as_str(),
                error = err.message(),
                "pipeline finished"
            ),
        }
        if let (Kind::Step(_), false, Some(run), Some(err)) =
            (self.kind, self.suppressed, self.run(), error)
        {
            run.failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(FailedStep::from_error(err));
        }
    }

    /// The context for the terminal hooks.
    fn terminal_context(
        &self,
        status: Status,
        error: Option<&StepError>,
        finished: Stamp,
        output: Option<OutputPtr>,
    ) -> HookContext {
        let mut ctx = self.context(status, error);
        ctx.finished = Some(finished);
        if let Some(ptr) = output {
            ctx.output = Output::Borrowed(ptr);
        }
        if let (Kind::Pipeline(_), Some(run)) = (self.kind, self.run()) {
            ctx.failed_steps = Some(run.failed_snapshot());
        }
        ctx
    }

    fn attempt_started(&self, attempt: u32) {
        self.frame.set_attempt(attempt);
        if let Kind::Step(m) = self.kind {
            tracing::debug!(
                parent: &self.frame.span,
                step = m.name(),
                run_id = self.run().map(|r| tracing::field::display(r.run_id)),
                attempt,
                "attempt started"
            );
        }
    }

    fn attempt_failed(&self, err: &StepError) {
        let run_id = self.run().map(|r| tracing::field::display(r.run_id));
        tracing::warn!(
            parent: &self.frame.span,
            step = self.name(),
            run_id,
            attempt = err.attempt(),
            max_attempts = self.max_attempts(),
            kind = err.kind().as_str(),
            error = err.message(),
            "attempt failed, retrying"
        );
    }

    fn retry_delay(&self) -> Duration {
        let configured = self.cfg.and_then(|c| c.retry_delay);
        configured.unwrap_or_else(|| self.step_meta().map_or(Duration::ZERO, |m| m.retry_delay()))
    }

    /// The terminal state, its hooks fired in order, from sync code.
    /// `skip` hooks of the plan were already handled.
    fn finish_sync(
        &self,
        status: Status,
        error: Option<&StepError>,
        finished: Stamp,
        output: Option<OutputPtr>,
        skip: usize,
    ) {
        let events = terminal_events(status);
        if !self.any_hooks(events) {
            return;
        }
        let ctx = self.terminal_context(status, error, finished, output);
        let mut index = 0;
        for &event in events {
            let hooks = self.hooks(event);
            if index + hooks.len() <= skip {
                index += hooks.len();
                continue;
            }
            for hook in hooks {
                if index >= skip {
                    if is_async(hook) {
                        // Sync code cannot await it: the rest of the plan, in
                        // order, goes to the hook runner.
                        self.detach_rest(events, index, &ctx);
                        return;
                    }
                    call_sync(hook, event, &ctx, &self.frame);
                }
                index += 1;
            }
        }
    }

    #[cold]
    fn detach_rest(&self, events: &[Event], from: usize, ctx: &HookContext) {
        let rest = events
            .iter()
            .flat_map(|&ev| self.hooks(ev).iter().map(move |h| (ev, h)))
            .skip(from)
            .collect();
        detach_plan(rest, ctx, &self.frame);
    }

    // ----- sync steps ------------------------------------------------------

    #[inline]
    fn fire_sync(&self, event: Event, error: Option<&StepError>) {
        if !self.has_hooks(event) {
            return;
        }
        self.fire_sync_slow(event, error);
    }

    fn fire_sync_slow(&self, event: Event, error: Option<&StepError>) {
        let hooks = self.hooks(event);
        let ctx = self.context(Status::Running, error);
        run_plan_sync(hooks.iter().map(|h| (event, h)), &ctx, &self.frame);
    }

    /// Ends the call: records it and fires its terminal hooks.
    fn end_sync(&self, status: Status, error: Option<&StepError>, output: Option<OutputPtr>) {
        let finished = Stamp::now();
        self.record_terminal(status, error);
        self.finish_sync(status, error, finished, output, 0);
    }

    // ----- async steps -----------------------------------------------------

    async fn fire_async(&self, guard: &DropGuard<'_>, event: Event, error: Option<&StepError>) {
        if !self.has_hooks(event) {
            return;
        }
        let hooks = self.hooks(event);
        let ctx = self.context(Status::Running, error);
        for hook in hooks {
            guard.running(Some((event, hook)));
            call_async(hook, event, &ctx, &self.frame).await;
            guard.running(None);
        }
    }

    /// `true` when no hook of `status`'s plan is async.
    fn plan_is_sync(&self, status: Status) -> bool {
        terminal_events(status)
            .iter()
            .all(|&ev| self.hooks(ev).iter().all(|h| !is_async(h)))
    }

    /// [`end_async`](Self::end_async) for a plan of sync hooks only: nothing
    /// to await, so no future to build.
    fn end_now(
        &self,
        guard: &DropGuard<'_>,
        status: Status,
        error: Option<&StepError>,
        output: Option<OutputPtr>,
    ) {
        let finished = Stamp::now();
        self.record_terminal(status, error);
        let _entered = enter(&self.frame);
        self.finish_sync(status, error, finished, output, 0);
        guard.done();
    }

    async fn end_async(
        &self,
        guard: &DropGuard<'_>,
        status: Status,
        error: Option<&StepError>,
        output: Option<OutputPtr>,
    ) {
        let finished = Stamp::now();
        self.record_terminal(status, error);
        guard.reached(status, error.cloned(), finished);
        let ctx = self.terminal_context(status, error, finished, output);
        let mut index = 0;
        for &event in terminal_events(status) {
            for hook in self.hooks(event) {
                guard.begin_hook(index);
                call_async(hook, event, &ctx, &self.frame).await;
                guard.end_hook();
                index += 1;
            }
        }
        guard.done();
    }

    /// One attempt of `fut`, bounded by the step's timeout and the run's
    /// cancellation; `None` when a timeout cannot be kept (no timers).
    fn attempt<F: Future>(&self, fut: F, timeout: Option<Duration>) -> Option<Attempt<'_, F>> {
        let limits = Limits::new(timeout, self.run().map(|r| r.token.cancelled()))?;
        Some(Attempt {
            fut: Scoped::new(&self.frame, false, fut),
            limits,
        })
    }
}

/// What can end an attempt before its body does.
enum Limit {
    Cancelled,
    TimedOut(Duration),
}

pin_project_lite::pin_project! {
    /// The run's cancellation and the step's timeout, around an attempt.
    /// Not generic, so that it is compiled once, not per step.
    struct Limits<'a> {
        #[pin]
        cancel: Option<tokio_util::sync::WaitForCancellationFuture<'a>>,
        #[pin]
        sleep: Option<tokio::time::Sleep>,
        bound: Duration,
    }
}

impl<'a> Limits<'a> {
    fn new(
        timeout: Option<Duration>,
        cancel: Option<tokio_util::sync::WaitForCancellationFuture<'a>>,
    ) -> Option<Self> {
        let (sleep, bound) = match timeout {
            None => (None, Duration::ZERO),
            Some(bound) => (Some(try_sleep(bound)?), bound),
        };
        Some(Limits {
            cancel,
            sleep,
            bound,
        })
    }

    /// Checked before the body is polled.
    fn poll_cancel(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Option<Limit> {
        let cancel = self.project().cancel.as_pin_mut()?;
        cancel.poll(cx).is_ready().then_some(Limit::Cancelled)
    }

    /// Checked after the body is polled.
    fn poll_timeout(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Option<Limit> {
        let this = self.project();
        let sleep = this.sleep.as_pin_mut()?;
        sleep
            .poll(cx)
            .is_ready()
            .then_some(Limit::TimedOut(*this.bound))
    }
}

pin_project_lite::pin_project! {
    /// One attempt: the body, with panics caught and the current frame set
    /// per poll, within its limits.
    struct Attempt<'a, F> {
        #[pin]
        fut: Scoped<'a, F>,
        #[pin]
        limits: Limits<'a>,
    }
}

impl<F: Future> Future for Attempt<'_, F> {
    type Output = AttemptEnd<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(Limit::Cancelled) = this.limits.as_mut().poll_cancel(cx) {
            return Poll::Ready(AttemptEnd::Cancelled);
        }
        if let Poll::Ready(r) = this.fut.poll(cx) {
            return Poll::Ready(match r {
                Ok(v) => AttemptEnd::Done(v),
                Err(panic) => AttemptEnd::Panicked(panic),
            });
        }
        match this.limits.poll_timeout(cx) {
            Some(Limit::TimedOut(bound)) => Poll::Ready(AttemptEnd::TimedOut(bound)),
            _ => Poll::Pending,
        }
    }
}

/// Fires what is left of a step's or run's hooks when its future is dropped
/// before they all ran: `on_cancel` and `on_finish` if it had not ended, or
/// the rest of its terminal hooks if it was dropped while firing them.
struct DropGuard<'u> {
    unit: &'u Unit,
    /// The terminal status reached (`Status::to_u8`), 0 while running.
    terminal: AtomicU8,
    /// The terminal error and time, once reached.
    reached: Mutex<Option<(Option<StepError>, Stamp)>>,
    cursor: AtomicU32,
    in_flight: AtomicBool,
    done: AtomicBool,
    /// An `on_start` / `on_retry` hook being awaited.
    running: Mutex<Option<(Event, &'static ErasedHook)>>,
}

impl<'u> DropGuard<'u> {
    fn new(unit: &'u Unit) -> Self {
        DropGuard {
            unit,
            terminal: AtomicU8::new(0),
            reached: Mutex::new(None),
            cursor: AtomicU32::new(0),
            in_flight: AtomicBool::new(false),
            done: AtomicBool::new(false),
            running: Mutex::new(None),
        }
    }

    fn reached(&self, status: Status, error: Option<StepError>, finished: Stamp) {
        *self.reached.lock().unwrap_or_else(|p| p.into_inner()) = Some((error, finished));
        self.terminal.store(status.to_u8(), Ordering::Release);
    }

    /// The terminal state, if reached.
    fn terminal(&self) -> Option<(Status, Option<StepError>, Stamp)> {
        let status = match self.terminal.load(Ordering::Acquire) {
            0 => return None,
            s => Status::from_u8(s),
        };
        let (error, finished) = self
            .reached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        Some((status, error, finished))
    }

    fn running(&self, hook: Option<(Event, &'static ErasedHook)>) {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = hook;
    }

    fn begin_hook(&self, index: usize) {
        self.cursor.store(index as u32 + 1, Ordering::Relaxed);
        self.in_flight.store(true, Ordering::Relaxed);
    }

    fn end_hook(&self) {
        self.in_flight.store(false, Ordering::Relaxed);
    }

    fn done(&self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

impl Drop for DropGuard<'_> {
    fn drop(&mut self) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        let unit = self.unit;
        let _entered = enter(&unit.frame);
        match self.terminal() {
            None => {
                // Dropped while running: the call ends cancelled.
                let interrupted = self
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                if let Some((event, hook)) = interrupted {
                    let ctx = unit.context(Status::Running, None);
                    report_interrupted(hook, event, &ctx, unit.run());
                }
                let err = StepError::cancelled(unit.name_cow(), unit.frame.attempt());
                let finished = Stamp::now();
                unit.record_terminal(Status::Cancelled, Some(&err));
                if let Kind::Pipeline(_) = unit.kind {
                    if let Some(run) = unit.run() {
                        run.set_status(Status::Cancelled);
                    }
                }
                unit.finish_sync(Status::Cancelled, Some(&err), finished, None, 0);
            }
            Some((status, error, finished)) => {
                let (status, error, finished) = (&status, &error, &finished);
                // Dropped while firing terminal hooks: finish them (without
                // the output, which is gone).
                let cursor = self.cursor.load(Ordering::Relaxed) as usize;
                if self.in_flight.load(Ordering::Relaxed) && cursor > 0 {
                    let plan = terminal_events(*status)
                        .iter()
                        .flat_map(|&ev| unit.hooks(ev).iter().map(move |h| (ev, h)));
                    if let Some((event, hook)) = plan.clone().nth(cursor - 1) {
                        let ctx = unit.terminal_context(*status, error.as_ref(), *finished, None);
                        report_interrupted(hook, event, &ctx, unit.run());
                    }
                }
                unit.finish_sync(*status, error.as_ref(), *finished, None, cursor);
            }
        }
    }
}

// ----- entry points ----------------------------------------------------------

/// Runs a sync step: the generated wrapper of `#[step] fn` calls this.
pub fn run_sync<R, B>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: Expose<R::Ok>,
    mut body: B,
) -> Result<R::Ok, StepError>
where
    R: StepReturn,
    B: Body<Out = R>,
{
    let mut out: Option<R::Ok> = None;
    let r = {
        let mut attempt = || -> Result<Option<OutputPtr>, anyhow::Error> {
            match body.attempt().into_result() {
                Ok(v) => Ok(expose(out.insert(v))),
                Err(e) => Err(e.into_anyhow()),
            }
        };
        drive_sync(meta, hooks, &mut attempt)
    };
    match r {
        Ok(()) => Ok(out
            .take()
            .expect("hookflow: a completed step has an output")),
        Err(e) => Err(e),
    }
}

/// The non-generic lifecycle of a sync step: `attempt` runs the body once,
/// keeps its value and returns the pointer hooks see.
#[inline(never)]
fn drive_sync(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    body: &mut dyn FnMut() -> Result<Option<OutputPtr>, anyhow::Error>,
) -> Result<(), StepError> {
    let unit = Unit::step(meta, hooks);
    let _entered = enter(&unit.frame);
    let _span = unit.frame.span.enter();
    if unit.is_cancelled() {
        let err = StepError::cancelled(unit.name_cow(), 1);
        unit.end_sync(Status::Cancelled, Some(&err), None);
        return Err(err);
    }
    let max = unit.max_attempts();
    let mut attempt = 1;
    loop {
        unit.attempt_started(attempt);
        unit.fire_sync(Event::Start, None);
        let err = match catch_unwind(AssertUnwindSafe(&mut *body)) {
            Ok(Ok(ptr)) => {
                unit.end_sync(Status::Completed, None, ptr);
                return Ok(());
            }
            Ok(Err(e)) => StepError::from_error(unit.name_cow(), attempt, e),
            Err(payload) => {
                let err = StepError::from_panic(unit.name_cow(), attempt, &*payload);
                unit.end_sync(Status::Crashed, Some(&err), None);
                return Err(err);
            }
        };
        if attempt >= max {
            unit.end_sync(Status::Failed, Some(&err), None);
            return Err(err);
        }
        if unit.is_cancelled() {
            // Retries were left, but the run is cancelled: no next attempt.
            let err = StepError::cancelled(unit.name_cow(), attempt);
            unit.end_sync(Status::Cancelled, Some(&err), None);
            return Err(err);
        }
        unit.attempt_failed(&err);
        unit.fire_sync(Event::Retry, Some(&err));
        let delay = unit.retry_delay();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if unit.is_cancelled() {
            let err = StepError::cancelled(unit.name_cow(), attempt);
            unit.end_sync(Status::Cancelled, Some(&err), None);
            return Err(err);
        }
        attempt += 1;
    }
}

/// Runs an async step: the generated wrapper of `#[step] async fn` awaits
/// this.
pub async fn run_async<R, B>(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    expose: Expose<R::Ok>,
    mut body: B,
) -> Result<R::Ok, StepError>
where
    R: StepReturn,
    B: Body,
    B::Out: Future<Output = R>,
{
    let unit = Unit::step(meta, hooks);
    let guard = DropGuard::new(&unit);
    // One terminal site (each `.await` adds to every step's state machine).
    let (status, result) = 'attempts: {
        if unit.is_cancelled() {
            break 'attempts (
                Status::Cancelled,
                Err(StepError::cancelled(unit.name_cow(), 1)),
            );
        }
        let max = unit.max_attempts();
        let mut attempt = 1;
        loop {
            unit.attempt_started(attempt);
            if unit.has_hooks(Event::Start) {
                unit.fire_async(&guard, Event::Start, None).await;
            }
            let fut = {
                let _entered = enter(&unit.frame);
                catch_unwind(AssertUnwindSafe(|| body.attempt()))
            };
            let end = match fut {
                Ok(fut) => match unit.attempt(fut, unit.timeout()) {
                    Some(attempt) => attempt.await,
                    None => AttemptEnd::NoRuntime,
                },
                Err(payload) => AttemptEnd::Panicked(panic_message(&*payload)),
            };
            let err = match end {
                AttemptEnd::Done(r) => match r.into_result() {
                    Ok(value) => break 'attempts (Status::Completed, Ok(value)),
                    Err(e) => StepError::from_error(unit.name_cow(), attempt, e.into_anyhow()),
                },
                AttemptEnd::Panicked(msg) => {
                    let err = StepError::new(
                        crate::ErrorKind::Panic,
                        unit.name_cow(),
                        attempt,
                        msg,
                        None,
                    );
                    break 'attempts (Status::Crashed, Err(err));
                }
                AttemptEnd::Cancelled => {
                    let err = StepError::cancelled(unit.name_cow(), attempt);
                    break 'attempts (Status::Cancelled, Err(err));
                }
                AttemptEnd::TimedOut(bound) => StepError::timeout(unit.name_cow(), attempt, bound),
                AttemptEnd::NoRuntime => {
                    // A misconfiguration, not a transient failure: not retried.
                    let err = StepError::new(
                        crate::ErrorKind::Error,
                        unit.name_cow(),
                        attempt,
                        "`timeout` needs a Tokio runtime with the time driver enabled".to_owned(),
                        None,
                    );
                    break 'attempts (Status::Failed, Err(err));
                }
            };
            if attempt >= max {
                break 'attempts (Status::Failed, Err(err));
            }
            if unit.is_cancelled() {
                let err = StepError::cancelled(unit.name_cow(), attempt);
                break 'attempts (Status::Cancelled, Err(err));
            }
            unit.attempt_failed(&err);
            if unit.has_hooks(Event::Retry) {
                unit.fire_async(&guard, Event::Retry, Some(&err)).await;
            }
            let delay = unit.retry_delay();
            if !delay.is_zero() {
                match try_sleep(delay) {
                    Some(sleep) => sleep.await,
                    // Not on a Tokio runtime with timers: there is no async way to wait.
                    None => std::thread::sleep(delay),
                }
            }
            if unit.is_cancelled() {
                let err = StepError::cancelled(unit.name_cow(), attempt);
                break 'attempts (Status::Cancelled, Err(err));
            }
            attempt += 1;
        }
    };
    let (error, output) = match &result {
        Ok(value) => (None, expose(value)),
        Err(err) => (Some(err), None),
    };
    if unit.plan_is_sync(status) {
        // Sync hooks only: nothing to await.
        unit.end_now(&guard, status, error, output);
    } else {
        unit.end_async(&guard, status, error, output).await;
    }
    result
}

/// The hooks of a pipeline: its own, and the defaults for its steps.
#[derive(Debug)]
pub struct PipelineHooks {
    own: HookSet,
    steps: HookSet,
}

impl PipelineHooks {
    /// Pairs the run's own hooks with the `steps(..)` defaults.
    pub fn new(own: HookSet, steps: HookSet) -> Self {
        PipelineHooks { own, steps }
    }

    /// No hooks.
    pub fn none() -> Self {
        PipelineHooks::new(
            crate::dispatch::HookSetBuilder::new().build(),
            crate::dispatch::HookSetBuilder::new().build(),
        )
    }
}

impl Unit {
    /// The pipeline's terminal state and error from the body's outcome.
    fn pipeline_outcome<T, E: StepErrorType>(
        &self,
        result: Result<Result<T, E>, String>,
    ) -> (Status, Result<T, StepError>) {
        match result {
            Ok(Ok(v)) => (Status::Completed, Ok(v)),
            Ok(Err(e)) => {
                let e: anyhow::Error = e.into_anyhow();
                let (status, kind) = if self.is_cancelled() {
                    (Status::Cancelled, crate::ErrorKind::Cancelled)
                } else {
                    (Status::Failed, crate::ErrorKind::Error)
                };
                let msg = format!("{e:#}");
                (
                    status,
                    Err(StepError::new(kind, self.name_cow(), 1, msg, Some(e))),
                )
            }
            Err(panic) => (
                Status::Crashed,
                Err(StepError::new(
                    crate::ErrorKind::Panic,
                    self.name_cow(),
                    1,
                    panic,
                    None,
                )),
            ),
        }
    }

    fn pipeline_error(&self, err: StepError) -> PipelineError {
        let run = self.run().expect("a pipeline always has a run");
        PipelineError::new(err, run.run_id, run.failed_snapshot())
    }
}

/// Runs a sync pipeline: the generated wrapper of `#[pipeline] fn` calls this.
pub fn pipeline_sync<R, F>(
    meta: &'static PipelineMeta,
    hooks: &'static PipelineHooks,
    body: F,
) -> Result<R::Ok, PipelineError>
where
    R: StepReturn,
    F: FnOnce() -> R,
{
    let unit = Unit::pipeline(meta, &hooks.own, &hooks.steps);
    let _entered = enter(&unit.frame);
    let _span = unit.frame.span.enter();
    unit.attempt_started(1);
    unit.fire_sync(Event::Start, None);
    let result = catch_unwind(AssertUnwindSafe(|| body().into_result()))
        .map_err(|payload| panic_message(&*payload));
    let (status, result) = unit.pipeline_outcome(result);
    if let Some(run) = unit.run() {
        run.set_status(status);
    }
    unit.end_sync(status, result.as_ref().err(), None);
    result.map_err(|e| unit.pipeline_error(e))
}

/// Runs an async pipeline: the generated wrapper of `#[pipeline] async fn`
/// awaits this.
pub async fn pipeline_async<R, Fut>(
    meta: &'static PipelineMeta,
    hooks: &'static PipelineHooks,
    body: Fut,
) -> Result<R::Ok, PipelineError>
where
    R: StepReturn,
    Fut: Future<Output = R>,
{
    let unit = Unit::pipeline(meta, &hooks.own, &hooks.steps);
    let guard = DropGuard::new(&unit);
    unit.attempt_started(1);
    if unit.has_hooks(Event::Start) {
        unit.fire_async(&guard, Event::Start, None).await;
    }
    let result = match Scoped::new(&unit.frame, false, body).await {
        Ok(r) => Ok(r.into_result()),
        Err(panic) => Err(panic),
    };
    let (status, result) = unit.pipeline_outcome(result);
    if let Some(run) = unit.run() {
        run.set_status(status);
    }
    unit.end_async(&guard, status, result.as_ref().err(), None)
        .await;
    result.map_err(|e| unit.pipeline_error(e))
}
