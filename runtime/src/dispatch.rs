//! Type-erased hooks, hook sets, and calling hooks in isolation.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::context::HookContext;
use crate::error::panic_message;
use crate::frame::{enter, enter_hook, Frame};
use crate::meta::Event;
use crate::run::RunShared;

pub(crate) type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// What calling an erased hook gave.
pub enum HookCall<'a> {
    /// A sync hook ran.
    Ready(Result<(), String>),
    /// An async hook's future, still to be awaited.
    Pending(HookFuture<'a>),
    /// The hook's argument does not exist for this firing.
    Skipped(&'static str),
}

type DynHookFn = dyn for<'a> Fn(&'a HookContext) -> HookCall<'a> + Send + Sync;

/// A hook of any accepted signature, behind one calling convention.
pub struct ErasedHook {
    name: &'static str,
    is_async: bool,
    f: Box<DynHookFn>,
}

impl ErasedHook {
    pub(crate) fn new<F>(name: &'static str, is_async: bool, f: F) -> Self
    where
        F: for<'a> Fn(&'a HookContext) -> HookCall<'a> + Send + Sync + 'static,
    {
        ErasedHook {
            name,
            is_async,
            f: Box::new(f),
        }
    }

    /// The hook as written in the attribute.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for ErasedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErasedHook")
            .field("name", &self.name)
            .field("is_async", &self.is_async)
            .finish_non_exhaustive()
    }
}

/// The hooks of one step or pipeline, per event.
#[derive(Debug)]
pub struct HookSet {
    lists: [Box<[ErasedHook]>; 7],
    named: u8,
    /// Events with at least one hook.
    filled: u8,
}

impl HookSet {
    pub(crate) fn get(&self, event: Event) -> &[ErasedHook] {
        &self.lists[event.index()]
    }

    /// `true` when the attribute names `event` (even with an empty list).
    pub(crate) fn names(&self, event: Event) -> bool {
        self.named & (1 << event.index()) != 0
    }

    /// The events with hooks, as a bit set (`1 << event.index()`).
    #[inline]
    pub(crate) fn filled(&self) -> u8 {
        self.filled
    }

    /// A new empty set.
    #[doc(hidden)]
    pub fn empty_set() -> HookSet {
        HookSetBuilder::new().build()
    }

    /// The set with no hooks.
    #[doc(hidden)]
    pub fn none() -> &'static HookSet {
        static EMPTY: OnceLock<HookSet> = OnceLock::new();
        EMPTY.get_or_init(|| HookSetBuilder::new().build())
    }
}

/// Collects the hooks of an attribute, in the order written.
#[derive(Debug, Default)]
pub struct HookSetBuilder {
    lists: [Vec<ErasedHook>; 7],
    named: u8,
}

impl HookSetBuilder {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `event` as named by the attribute (its list replaces a pipeline
    /// default, even when empty).
    pub fn name_event(&mut self, event: Event) {
        self.named |= 1 << event.index();
    }

    #[doc(hidden)]
    pub fn __push(&mut self, event: Event, hook: ErasedHook) {
        self.name_event(event);
        self.lists[event.index()].push(hook);
    }

    /// The finished set.
    pub fn build(self) -> HookSet {
        let filled = self.lists.iter().enumerate().fold(0u8, |bits, (i, l)| {
            if l.is_empty() {
                bits
            } else {
                bits | 1 << i
            }
        });
        HookSet {
            lists: self.lists.map(Vec::into_boxed_slice),
            named: self.named,
            filled,
        }
    }
}

/// A lazily built, program-lifetime value (the hook sets of a step or
/// pipeline, built on first call).
#[derive(Debug)]
pub struct HookCell<T>(OnceLock<T>);

impl<T> HookCell<T> {
    /// An empty cell.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        HookCell(OnceLock::new())
    }

    /// The value, built by `build` on first use. If building panics (a call
    /// that builds a hook panicked), `fallback` is used instead and the
    /// panic is reported once: the step runs, without those hooks.
    #[inline]
    pub fn get_or_build(
        &'static self,
        name: &'static str,
        build: fn() -> T,
        fallback: fn() -> T,
    ) -> &'static T {
        self.0.get_or_init(|| match catch_unwind(build) {
            Ok(value) => value,
            Err(payload) => {
                tracing::error!(
                    name,
                    panic = %panic_message(&*payload),
                    "building the hooks of this step or pipeline panicked; it runs without them"
                );
                fallback()
            }
        })
    }
}

/// How one hook call went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookStatus {
    /// It returned `()` or `Ok(())`.
    Ok,
    /// It returned `Err`; the message is the error's `Display`.
    Failed(String),
    /// It panicked; the panic message.
    Panicked(String),
    /// An async hook ran past its time bound and was stopped.
    TimedOut(Duration),
    /// It was not called because its argument does not exist for this
    /// firing (a typed `fn(&E)` hook after a panic, say).
    Skipped(Cow<'static, str>),
    /// The step's future was dropped while this async hook ran.
    Interrupted,
}

impl HookStatus {
    /// `true` for [`HookStatus::Ok`] and [`HookStatus::Skipped`].
    pub fn is_ok(&self) -> bool {
        matches!(self, HookStatus::Ok | HookStatus::Skipped(_))
    }
}

impl fmt::Display for HookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookStatus::Ok => f.write_str("ok"),
            HookStatus::Failed(m) => write!(f, "failed: {m}"),
            HookStatus::Panicked(m) => write!(f, "panicked: {m}"),
            HookStatus::TimedOut(d) => {
                write!(f, "timed out after {}", humantime::format_duration(*d))
            }
            HookStatus::Skipped(why) => f.write_str(why),
            HookStatus::Interrupted => f.write_str("interrupted: the step's future was dropped"),
        }
    }
}

/// The record of one hook call in a pipeline run, readable after the run
/// from [`RunReport::hook_outcomes`](crate::RunReport::hook_outcomes).
#[derive(Debug, Clone)]
pub struct HookOutcome {
    hook: &'static str,
    event: Event,
    step: Option<Cow<'static, str>>,
    status: HookStatus,
    duration: Duration,
}

impl HookOutcome {
    /// The hook, as written in the attribute.
    pub fn hook(&self) -> &'static str {
        self.hook
    }

    /// The event it fired for.
    pub fn event(&self) -> Event {
        self.event
    }

    /// The step it fired for; `None` for the pipeline's own hooks.
    pub fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    /// How it went.
    pub fn status(&self) -> &HookStatus {
        &self.status
    }

    /// How long the call took.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

static HOOK_TIMEOUT_NANOS: AtomicU64 = AtomicU64::new(10_000_000_000);

/// The default time bound of async hooks (10 s unless changed); a run can
/// set its own with [`Run::hook_timeout`](crate::Run::hook_timeout).
pub fn default_hook_timeout() -> Duration {
    Duration::from_nanos(HOOK_TIMEOUT_NANOS.load(Ordering::Relaxed))
}

/// Changes the default time bound of async hooks for the whole process.
pub fn set_default_hook_timeout(bound: Duration) {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    HOOK_TIMEOUT_NANOS.store(nanos, Ordering::Relaxed);
}

pub(crate) fn hook_bound(run: Option<&RunShared>) -> Duration {
    run.map_or_else(default_hook_timeout, |r| r.hook_timeout)
}

fn report(
    hook: &ErasedHook,
    event: Event,
    ctx: &HookContext,
    status: HookStatus,
    started: Option<Instant>,
    run: Option<&RunShared>,
) {
    let name = hook.name;
    let ev = event.key();
    match &status {
        HookStatus::Ok => {
            tracing::debug!(
                hook = name,
                event = ev,
                step = ctx.step_name(),
                pipeline = ctx.pipeline_name(),
                "hook ran"
            )
        }
        HookStatus::Skipped(why) => {
            tracing::debug!(hook = name, event = ev, step = ctx.step_name(), pipeline = ctx.pipeline_name(), reason = %why, "hook skipped")
        }
        HookStatus::Failed(msg) => {
            tracing::warn!(hook = name, event = ev, step = ctx.step_name(), pipeline = ctx.pipeline_name(), error = %msg, "hook failed")
        }
        HookStatus::Panicked(msg) => {
            tracing::error!(hook = name, event = ev, step = ctx.step_name(), pipeline = ctx.pipeline_name(), panic = %msg, "hook panicked")
        }
        HookStatus::TimedOut(bound) => {
            tracing::warn!(hook = name, event = ev, step = ctx.step_name(), pipeline = ctx.pipeline_name(), bound = ?bound, "hook timed out")
        }
        HookStatus::Interrupted => {
            tracing::warn!(
                hook = name,
                event = ev,
                step = ctx.step_name(),
                pipeline = ctx.pipeline_name(),
                "hook interrupted: the step's future was dropped"
            )
        }
    }
    if let Some(run) = run {
        let outcome = HookOutcome {
            hook: hook.name,
            event,
            step: ctx.step_cow(),
            status,
            duration: started.map(|t| t.elapsed()).unwrap_or_default(),
        };
        run.outcomes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(outcome);
    }
}

/// Records a hook whose call was cut short by the step's future being dropped.
pub(crate) fn report_interrupted(
    hook: &ErasedHook,
    event: Event,
    ctx: &HookContext,
    run: Option<&RunShared>,
) {
    report(hook, event, ctx, HookStatus::Interrupted, None, run);
}

fn status_of(call: std::thread::Result<HookCall<'_>>) -> Result<HookStatus, HookFuture<'_>> {
    match call {
        Ok(HookCall::Ready(Ok(()))) => Ok(HookStatus::Ok),
        Ok(HookCall::Ready(Err(msg))) => Ok(HookStatus::Failed(msg)),
        Ok(HookCall::Skipped(why)) => Ok(HookStatus::Skipped(Cow::Borrowed(why))),
        Ok(HookCall::Pending(fut)) => Err(fut),
        Err(payload) => Ok(HookStatus::Panicked(panic_message(&*payload))),
    }
}

fn status_of_finished(r: Result<Result<(), String>, String>) -> HookStatus {
    match r {
        Ok(Ok(())) => HookStatus::Ok,
        Ok(Err(msg)) => HookStatus::Failed(msg),
        Err(panic) => HookStatus::Panicked(panic),
    }
}

/// The common case kept cheap: a hook that returned `Ok` outside a run has
/// nothing to record and nothing to drop (`None`); any other call is given
/// back to be reported.
#[inline]
fn unless_ran_ok<'a>(
    call: std::thread::Result<HookCall<'a>>,
    hook: &ErasedHook,
    event: Event,
    ctx: &HookContext,
    run: Option<&RunShared>,
) -> Option<std::thread::Result<HookCall<'a>>> {
    if run.is_none() && matches!(call, Ok(HookCall::Ready(Ok(())))) {
        std::mem::forget(call);
        tracing::debug!(
            hook = hook.name,
            event = event.key(),
            step = ctx.step_name(),
            "hook ran"
        );
        return None;
    }
    Some(call)
}

/// Calls a sync hook from sync code.
pub(crate) fn call_sync(hook: &'static ErasedHook, event: Event, ctx: &HookContext, frame: &Frame) {
    let run = frame.run.as_deref();
    let started = run.map(|_| Instant::now());
    let call = {
        let _hook = enter_hook();
        catch_unwind(AssertUnwindSafe(|| (hook.f)(ctx)))
    };
    let Some(call) = unless_ran_ok(call, hook, event, ctx, run) else {
        return;
    };
    let status = status_of(call).unwrap_or_else(|_| {
        HookStatus::Failed("internal: a sync hook returned a future".to_owned())
    });
    report(hook, event, ctx, status, started, run);
}

/// Fires `plan` in order from sync code (sync steps, `Drop`). Sync hooks
/// run right here; at the first async hook, which cannot be awaited here,
/// the rest of the plan (sync hooks included, to keep the order) is handed
/// to the hook runner.
pub(crate) fn run_plan_sync(
    plan: impl Iterator<Item = (Event, &'static ErasedHook)>,
    ctx: &HookContext,
    frame: &Frame,
) {
    let mut plan = plan.peekable();
    while let Some(&(event, hook)) = plan.peek() {
        if hook.is_async {
            detach_plan(plan.collect(), ctx, frame);
            return;
        }
        plan.next();
        call_sync(hook, event, ctx, frame);
    }
}

/// Hands the rest of a plan, starting with an async hook, to the hook runner.
pub(crate) fn detach_plan(
    plan: Vec<(Event, &'static ErasedHook)>,
    ctx: &HookContext,
    frame: &Frame,
) {
    detach(plan, ctx.detach(), frame.task_of());
}

/// `true` for an async hook (which sync code cannot await).
pub(crate) fn is_async(hook: &ErasedHook) -> bool {
    hook.is_async
}

/// Calls a hook from async code, awaiting an async hook within its bound.
pub(crate) async fn call_async(
    hook: &'static ErasedHook,
    event: Event,
    ctx: &HookContext,
    frame: &Frame,
) {
    let run = frame.run.as_deref();
    let started = run.map(|_| Instant::now());
    let call = {
        let _entered = enter(frame);
        let _hook = enter_hook();
        catch_unwind(AssertUnwindSafe(|| (hook.f)(ctx)))
    };
    let Some(call) = unless_ran_ok(call, hook, event, ctx, run) else {
        return;
    };
    let status = match status_of(call) {
        Ok(status) => status,
        Err(fut) => await_bounded(fut, frame, hook_bound(run)).await,
    };
    report(hook, event, ctx, status, started, run);
}

/// A Tokio timer, when this thread is in a Tokio runtime whose time driver
/// is enabled (creating one elsewhere panics, which this catches).
pub(crate) fn try_sleep(duration: Duration) -> Option<tokio::time::Sleep> {
    tokio::runtime::Handle::try_current().ok()?;
    catch_unwind(|| tokio::time::sleep(duration)).ok()
}

async fn await_bounded(fut: HookFuture<'_>, frame: &Frame, bound: Duration) -> HookStatus {
    let scoped = Scoped::new(frame, true, fut);
    match try_sleep(bound) {
        Some(sleep) => {
            tokio::select! {
                biased;
                r = scoped => status_of_finished(r),
                () = sleep => HookStatus::TimedOut(bound),
            }
        }
        // Not on a Tokio runtime with timers: no bound can be kept.
        None => status_of_finished(scoped.await),
    }
}

/// The rest of a plan of hooks, run away from the step's own stack.
struct Job {
    plan: Vec<(Event, &'static ErasedHook)>,
    ctx: HookContext,
    frame: Frame,
}

impl Job {
    async fn run(self) {
        let _done = InFlight;
        for &(event, hook) in &self.plan {
            call_async(hook, event, &self.ctx, &self.frame).await;
        }
    }
}

/// Counts detached plans not yet finished (see [`wait_for_detached_hooks`]).
static IN_FLIGHT: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

struct InFlight;

impl InFlight {
    fn start() {
        *IN_FLIGHT.0.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut n = IN_FLIGHT.0.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        IN_FLIGHT.1.notify_all();
    }
}

/// The hook runner: a thread with its own Tokio runtime (timers enabled),
/// started on first use, so that detached hooks neither depend on the
/// caller's runtime staying alive nor block it.
fn runner() -> Option<&'static tokio::sync::mpsc::UnboundedSender<Job>> {
    static RUNNER: OnceLock<Option<tokio::sync::mpsc::UnboundedSender<Job>>> = OnceLock::new();
    RUNNER
        .get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .ok()?;
            std::thread::Builder::new()
                .name("hookflow-hooks".into())
                .spawn(move || {
                    rt.block_on(async move {
                        while let Some(job) = rx.recv().await {
                            tokio::spawn(job.run());
                        }
                    })
                })
                .ok()?;
            Some(tx)
        })
        .as_ref()
}

/// Hands the rest of a plan to the hook runner.
fn detach(plan: Vec<(Event, &'static ErasedHook)>, ctx: HookContext, frame: Frame) {
    InFlight::start();
    let job = Job { plan, ctx, frame };
    let job = match runner() {
        Some(tx) => match tx.send(job) {
            Ok(()) => return,
            Err(e) => e.0,
        },
        None => job,
    };
    // No runner thread could be started: run the plan here, to completion.
    match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt.block_on(job.run()),
        Err(e) => {
            for &(event, hook) in &job.plan {
                let status =
                    HookStatus::Failed(format!("no runtime to run this async hook on: {e}"));
                report(
                    hook,
                    event,
                    &job.ctx,
                    status,
                    None,
                    job.frame.run.as_deref(),
                );
            }
            drop(job);
        }
    }
}

/// Waits until every detached hook has finished, or `timeout` passes;
/// `true` when none is left.
///
/// Async hooks that cannot be awaited where they fire (from `Drop` when a
/// step's future is dropped, or on a sync step) run on hookflow's own hook
/// thread. Call this before the process exits (at the end of `main`) to let
/// them finish.
pub fn wait_for_detached_hooks(timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut n = IN_FLIGHT.0.lock().unwrap_or_else(|p| p.into_inner());
    while *n > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        n = IN_FLIGHT
            .1
            .wait_timeout(n, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    true
}

pin_project_lite::pin_project! {
    /// Polls `fut` with `frame` current (and, for hooks, the in-hook flag
    /// set), catching panics.
    pub(crate) struct Scoped<'f, F> {
        frame: &'f Frame,
        hook: bool,
        done: bool,
        #[pin]
        fut: F,
    }
}

impl<'f, F> Scoped<'f, F> {
    pub(crate) fn new(frame: &'f Frame, hook: bool, fut: F) -> Self {
        Scoped {
            frame,
            hook,
            done: false,
            fut,
        }
    }
}

impl<F: Future> Future for Scoped<'_, F> {
    /// `Err(panic message)` when the future panicked.
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.done {
            return Poll::Pending;
        }
        let _entered = enter(this.frame);
        let _span = this.frame.span.enter();
        let _hook = this.hook.then(enter_hook);
        let fut = this.fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => {
                *this.done = true;
                Poll::Ready(Ok(v))
            }
            Err(payload) => {
                *this.done = true;
                Poll::Ready(Err(panic_message(&*payload)))
            }
        }
    }
}
