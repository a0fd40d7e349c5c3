//! Calling hooks in isolation: a hook that returns an error, panics or
//! (async) overruns its time bound is recorded and logged, and changes
//! nothing else. Also the hook thread that runs what cannot be awaited
//! where it fires, and the process default of the async hooks' time bound.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::context::{enter_delivery, Delivery, HookContext};
use crate::error::panic_message;
use crate::event::Event;
use crate::frame::{enter, enter_hook, Frame, RunRef, Scope};
use crate::hook::{ErasedHook, HookCall, HookFuture};
use crate::named::NamedHook;
use crate::outcome::HookStatus;
use crate::record::{self, Starting};
use crate::run_state::RunShared;
use crate::settings;
use crate::timer::{self, Timer};

/// The time bound of an async hook of `run` (or outside a run).
pub(crate) fn hook_bound(run: Option<&RunShared>) -> Duration {
    run.map_or_else(settings::default_hook_timeout, |r| r.hook_timeout)
}

/// Drops a panic payload without letting a panic of its own `Drop` unwind
/// into hookflow's frames (std documents that dropping a payload can
/// panic): such a second payload is leaked.
pub(crate) fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
}

/// Drops `value` (a retried attempt's error, a context holding one) without
/// letting a panic of its `Drop` unwind into hookflow's frames, as a body
/// future's is: the panic is caught (the process's panic hook has printed
/// it) and its payload dropped safely; nothing else changes.
pub(crate) fn drop_guarded<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        drop_payload(payload);
    }
}

/// The message of a panic payload, the payload dropped safely.
pub(crate) fn take_panic(payload: Box<dyn Any + Send>) -> String {
    let msg = panic_message(&*payload);
    drop_payload(payload);
    msg
}

/// How a hook call went, or the future of an async hook still to await.
fn status_of(call: std::thread::Result<HookCall<'_>>) -> Result<HookStatus, HookFuture<'_>> {
    match call {
        Ok(HookCall::Ready(Ok(()))) => Ok(HookStatus::Ok),
        Ok(HookCall::Ready(Err(msg))) => Ok(HookStatus::Failed(msg)),
        Ok(HookCall::Skipped(why)) => Ok(HookStatus::Skipped(Cow::Borrowed(why))),
        Ok(HookCall::Pending(fut)) => Err(fut),
        Err(payload) => Ok(HookStatus::Panicked(take_panic(payload))),
    }
}

/// Calls `hook` with the in-hook flag set, catching its panic.
#[inline(always)]
fn invoke<'a>(hook: &ErasedHook, ctx: &'a HookContext) -> std::thread::Result<HookCall<'a>> {
    let _hook = enter_hook();
    catch_unwind(AssertUnwindSafe(|| hook.call(ctx)))
}

/// Calls a sync hook from sync code. An async hook here (which the caller
/// should have detached) is reported, not called.
#[inline(always)]
pub(crate) fn call_sync(hook: &'static ErasedHook, event: Event, ctx: &HookContext, frame: &Frame) {
    let starting = record::hook_starting(frame, hook, event);
    if let Starting::Skip = starting {
        return;
    }
    let delivery = starting.enter();
    let call = invoke(hook, ctx);
    drop(delivery);
    if let Ok(HookCall::Ready(Ok(()))) = call {
        // Nothing in it to drop.
        std::mem::forget(call);
        record::hook_ok(frame, hook, event);
        return;
    }
    report_call(hook, event, ctx, frame, call);
}

#[cold]
#[inline(never)]
fn report_call(
    hook: &'static ErasedHook,
    event: Event,
    ctx: &HookContext,
    frame: &Frame,
    call: std::thread::Result<HookCall<'_>>,
) {
    let status = status_of(call).unwrap_or_else(|fut| {
        drop(fut);
        HookStatus::Failed("an async hook cannot be awaited here".to_owned())
    });
    record::hook_outcome(frame, hook, event, ctx, status, Duration::ZERO);
}

/// An async hook being awaited: its future within its time bound.
pub(crate) struct Awaiting {
    pub(crate) event: Event,
    pub(crate) hook: &'static ErasedHook,
    /// Borrows the context it was called with; the owner keeps that context
    /// alive and in place until this is dropped.
    fut: HookFuture<'static>,
    bound: Duration,
    timer: Option<Timer>,
    started: Instant,
    /// The call's delivery in a durable run, set for each poll.
    delivery: Option<Box<Delivery>>,
}

/// What starting a hook from async code gave.
pub(crate) enum Started {
    /// It finished (a sync hook, or an async one that failed to start).
    Done,
    /// An async hook to poll with [`poll_awaiting`].
    Pending(Awaiting),
}

/// Starts `hook` from async code: a sync hook runs to the end here; an
/// async hook's future is returned to be polled.
///
/// # Safety
///
/// `ctx` must stay alive, and in place, until the returned [`Awaiting`]
/// (which borrows it) is dropped.
pub(crate) unsafe fn start_async(
    hook: &'static ErasedHook,
    event: Event,
    ctx: &HookContext,
    frame: &Frame,
) -> Started {
    let starting = record::hook_starting(frame, hook, event);
    if let Starting::Skip = starting {
        return Started::Done;
    }
    let call = {
        let _entered = enter(frame);
        let _delivery = starting.enter();
        invoke(hook, ctx)
    };
    if let Ok(HookCall::Ready(Ok(()))) = call {
        record::hook_ok(frame, hook, event);
        return Started::Done;
    }
    match status_of(call) {
        Ok(status) => {
            record::hook_outcome(frame, hook, event, ctx, status, Duration::ZERO);
            Started::Done
        }
        Err(fut) => {
            // SAFETY: the caller keeps `ctx` alive and in place for as long
            // as the future lives (see above).
            let fut: HookFuture<'static> = unsafe { std::mem::transmute(fut) };
            Started::Pending(Awaiting {
                event,
                hook,
                fut,
                bound: hook_bound(frame.run()),
                timer: None,
                started: Instant::now(),
                delivery: starting.into_delivery(),
            })
        }
    }
}

/// Polls an async hook with `frame` current and the in-hook flag set;
/// `Ready` once it finished, failed, panicked or ran out of time (all
/// recorded).
pub(crate) fn poll_awaiting(
    a: &mut Awaiting,
    ctx: &HookContext,
    frame: &Frame,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let polled = {
        let _entered = enter(frame);
        let _span = frame.span.enter();
        let _hook = enter_hook();
        // SAFETY: the delivery lives in `a`, which outlives the guard.
        let _delivery = a.delivery.as_deref().map(|d| unsafe { enter_delivery(d) });
        let fut = &mut a.fut;
        catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)))
    };
    let status = match polled {
        Ok(Poll::Pending) => {
            let bound = a.bound;
            let timer = a.timer.get_or_insert_with(|| timer::sleep(bound));
            if Pin::new(timer).poll(cx).is_pending() {
                return Poll::Pending;
            }
            HookStatus::TimedOut(bound)
        }
        Ok(Poll::Ready(Ok(()))) => {
            record::hook_ok(frame, a.hook, a.event);
            return Poll::Ready(());
        }
        Ok(Poll::Ready(Err(msg))) => HookStatus::Failed(msg),
        Err(payload) => HookStatus::Panicked(take_panic(payload)),
    };
    let elapsed = a.started.elapsed();
    record::hook_outcome(frame, a.hook, a.event, ctx, status, elapsed);
    Poll::Ready(())
}

/// Records that an async hook was cut short by its step's future being
/// dropped.
pub(crate) fn interrupted(a: Awaiting, ctx: &HookContext, frame: &Frame) {
    let Awaiting {
        event,
        hook,
        fut,
        started,
        ..
    } = a;
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(fut))) {
        drop_payload(payload);
    }
    let elapsed = started.elapsed();
    record::hook_outcome(frame, hook, event, ctx, HookStatus::Interrupted, elapsed);
}

/// Calls a hook from async code, awaiting an async hook within its bound
/// (the hook thread's way of walking a detached plan).
pub(crate) async fn call_async(
    hook: &'static ErasedHook,
    event: Event,
    ctx: &HookContext,
    frame: &Frame,
) {
    // SAFETY: `ctx` outlives the `Awaiting`, which is dropped in this
    // function.
    if let Started::Pending(mut a) = unsafe { start_async(hook, event, ctx, frame) } {
        std::future::poll_fn(|cx| poll_awaiting(&mut a, ctx, frame, cx)).await;
    }
}

/// The rest of a plan of hooks, run away from the step's own stack.
struct Job {
    plan: Vec<(Event, &'static ErasedHook)>,
    ctx: HookContext,
    frame: Frame,
    /// Ends when the plan detached before this one from the same call has
    /// finished (its sender dropped).
    after: Option<tokio::sync::oneshot::Receiver<()>>,
    /// This plan's place in its call's chain (see [`Chain`]).
    _link: Option<Link>,
}

/// Which chain a step call's detached plans form: `0` until its first
/// plan is detached, then a number of its own. One call's detached plans
/// run one after another, in the order they fired (its `on_retry` before
/// its `on_failure`); other calls' plans run alongside. A plain number, so
/// that a call that detaches nothing pays nothing to drop it.
pub(crate) type Chain = std::cell::Cell<u64>;

/// Numbers for chains and for the plans in them.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// For each chain with a plan not yet finished: the last such plan and the
/// receiver that ends when it does.
#[allow(clippy::type_complexity)]
static CHAINS: Mutex<Option<HashMap<u64, (u64, tokio::sync::oneshot::Receiver<()>)>>> =
    Mutex::new(None);

/// A detached plan's place in its chain; dropped when the plan finished,
/// which lets the next plan of the chain start.
struct Link {
    chain: u64,
    plan: u64,
    _then: tokio::sync::oneshot::Sender<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        let mut chains = CHAINS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(map) = chains.as_mut() {
            // Still the chain's last plan: nothing waits for it.
            if map
                .get(&self.chain)
                .is_some_and(|(plan, _)| *plan == self.plan)
            {
                map.remove(&self.chain);
            }
        }
    }
}

/// Puts a new plan at the end of `chain`: the receiver of the plan before
/// it (if that one has not finished), and its own link.
fn link(chain: &Chain) -> (Option<tokio::sync::oneshot::Receiver<()>>, Link) {
    if chain.get() == 0 {
        chain.set(NEXT.fetch_add(1, Ordering::Relaxed));
    }
    let plan = NEXT.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let after = CHAINS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(chain.get(), (plan, rx))
        .map(|(_, rx)| rx);
    let link = Link {
        chain: chain.get(),
        plan,
        _then: tx,
    };
    (after, link)
}

impl Job {
    async fn run(mut self) {
        let _done = InFlight;
        if let Some(after) = &mut self.after {
            // `Err` (the sender dropped) is the signal.
            let _ = after.await;
        }
        for &(event, hook) in &self.plan {
            call_async(hook, event, &self.ctx, &self.frame).await;
        }
        record::closed(&self.frame, true);
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

/// The hook runner: a thread with its own Tokio runtime, started on first
/// use, so that detached hooks neither depend on the caller's runtime
/// staying alive nor block it.
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

/// Hands the rest of a plan, starting with an async hook that cannot be
/// awaited where it fires, to the hook runner, with a context and frame
/// that own their data.
pub(crate) fn detach(plan: Vec<(Event, &'static ErasedHook)>, ctx: &HookContext, frame: &Frame) {
    detach_after(plan, ctx, frame, None);
}

/// [`detach`], after the plan `chain` last detached (if any).
pub(crate) fn detach_after(
    plan: Vec<(Event, &'static ErasedHook)>,
    ctx: &HookContext,
    frame: &Frame,
    chain: Option<&Chain>,
) {
    if plan.is_empty() {
        return;
    }
    InFlight::start();
    let (after, link) = match chain {
        Some(chain) => {
            let (after, link) = link(chain);
            (after, Some(link))
        }
        None => (None, None),
    };
    #[allow(unused_mut)]
    let mut job = Job {
        plan,
        ctx: ctx.detach(),
        frame: frame.task_of(),
        after,
        _link: link,
    };
    // A durable call's terminal hooks take its log with them, and close it
    // (`on_start` / `on_retry` hooks detached from a sync step are not
    // journaled: the call goes on, and records its own end).
    #[cfg(feature = "journal")]
    if let (Some(log), Some((event, _))) = (&frame.log, job.plan.first()) {
        if !matches!(event, Event::Start | Event::Retry) {
            log.hand_off();
            job.frame.log = Some(log.clone());
        }
    }
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
                record::hook_outcome(&job.frame, hook, event, &job.ctx, status, Duration::ZERO);
            }
            record::closed(&job.frame, true);
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

/// Fires `plan` in order from sync code (sync steps, `Drop`): sync hooks
/// run right here; at the first async hook, which cannot be awaited here,
/// the rest of the plan (sync hooks included, to keep the order) is handed
/// to the hook runner.
pub(crate) fn fire_sync(plan: &mut crate::plan::Plan, ctx: &HookContext, frame: &Frame) {
    while let Some((event, hook)) = plan.peek() {
        if hook.is_async() {
            detach(plan.drain(), ctx, frame);
            return;
        }
        plan.next();
        call_sync(hook, event, ctx, frame);
    }
}

impl NamedHook {
    /// Builds an instance, as configuration does, and fires it for `event`
    /// with `ctx`, isolated like every hook call (an error or a panic is
    /// reported, not propagated); an `async` hook is awaited on this thread.
    /// Not public API: it lets tests call a registered hook. Each call leaks
    /// one instance.
    #[doc(hidden)]
    pub fn __fire(&self, event: Event, ctx: &HookContext) {
        let hook: &'static ErasedHook = Box::leak(Box::new(self.instantiate(self.path())));
        let frame = Frame::new(Scope::Task, RunRef::NONE, 1, tracing::Span::none());
        if self.is_async() {
            futures_executor::block_on(call_async(hook, event, ctx, &frame));
        } else {
            call_sync(hook, event, ctx, &frame);
        }
    }
}
