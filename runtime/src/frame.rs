//! The step or pipeline running on this thread (set per poll for async
//! code), behind [`current()`]; and the in-hook flag that keeps steps called
//! from hooks from firing hooks.
//!
//! A frame is the data of one step call or run that hooks see through
//! their context (it implements the context's view). It lives on the
//! caller's stack (sync) or in the pinned future (async), and is entered
//! into a thread-local pointer with a guard that restores the previous one,
//! as tokio's scoped thread-local does.

use std::borrow::Cow;
use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;

use tracing::Span;
use uuid::Uuid;

use crate::clock::Stamp;
use crate::context::{HookContext, Owned, Src, View};
use crate::meta::StepMeta;
use crate::resources::Resources;
use crate::run_state::RunShared;
use crate::status::Status;

#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Step(&'static StepMeta),
    Pipeline,
    /// A task spawned through [`spawn`](crate::spawn): belongs to a run but to
    /// no step.
    Task,
}

/// The run a frame belongs to: none, the enclosing frame's run borrowed
/// (only for a sync call, which returns before the enclosing frame can go
/// away), or a share of it. One pointer (null for none) to a `RunShared`
/// that lives in an `Arc`, its low bit set when this holds a strong count
/// of that `Arc`.
pub(crate) struct RunRef(*const RunShared);

/// The low bit of a `RunRef` that marks a share.
const OWNED: usize = 1;
const _: () = assert!(std::mem::align_of::<RunShared>() > OWNED);

// SAFETY: a `RunRef` is used as a `&RunShared` (lent) or an
// `Arc<RunShared>` (owned), both `Send + Sync` because `RunShared` is
// (checked below).
unsafe impl Send for RunRef {}
// SAFETY: see `Send` above.
unsafe impl Sync for RunRef {}
const _: () = {
    const fn shared_across_threads<T: Send + Sync>() {}
    shared_across_threads::<RunShared>();
};

impl RunRef {
    /// No run.
    pub(crate) const NONE: RunRef = RunRef(ptr::null());

    /// A share of `run`.
    pub(crate) fn owned(run: Arc<RunShared>) -> RunRef {
        RunRef(Arc::into_raw(run).map_addr(|a| a | OWNED))
    }

    /// The same run, borrowed: the caller makes sure the frame holding the
    /// result ends before this one does (a sync call under its enclosing
    /// frame).
    #[inline]
    pub(crate) fn lend(&self) -> RunRef {
        RunRef(self.ptr())
    }

    /// `true` when this holds a share of its run.
    #[inline(always)]
    pub(crate) fn is_owned(&self) -> bool {
        self.0.addr() & OWNED != 0
    }

    #[inline]
    fn ptr(&self) -> *const RunShared {
        self.0.map_addr(|a| a & !OWNED)
    }

    #[inline]
    pub(crate) fn get(&self) -> Option<&RunShared> {
        // SAFETY: a non-null pointer is alive: owned, or lent by a frame
        // that outlives this one (see `lend`).
        unsafe { self.ptr().as_ref() }
    }

    /// An owning reference, for frames that may outlive this one.
    pub(crate) fn to_arc(&self) -> Option<Arc<RunShared>> {
        let ptr = self.ptr();
        if ptr.is_null() {
            return None;
        }
        // SAFETY: the pointer came from `Arc::into_raw` (`owned`, or the
        // owned reference it was lent from) and the run is alive (see
        // `get`): taking one more strong count of it is sound.
        unsafe {
            Arc::increment_strong_count(ptr);
            Some(Arc::from_raw(ptr))
        }
    }
}

impl Drop for RunRef {
    #[inline(always)]
    fn drop(&mut self) {
        if self.is_owned() {
            release(self.ptr());
        }
    }
}

/// Gives back a share of a run (out of line: a frame's drop stays a few
/// tests).
#[cold]
#[inline(never)]
fn release(run: *const RunShared) {
    // SAFETY: made by `RunRef::owned` from `Arc::into_raw`; its `RunRef` is
    // being dropped, so this share is given back once.
    drop(unsafe { Arc::from_raw(run) });
}

/// A frame's span: dropped in line when it is none (a step's span when
/// `tracing` can see nothing, the common case), so that a frame's drop
/// stays a few tests; a real span's drop is out of line.
pub(crate) struct FrameSpan(ManuallyDrop<Span>);

impl FrameSpan {
    #[inline(always)]
    pub(crate) fn new(span: Span) -> FrameSpan {
        FrameSpan(ManuallyDrop::new(span))
    }
}

impl std::ops::Deref for FrameSpan {
    type Target = Span;
    #[inline(always)]
    fn deref(&self) -> &Span {
        &self.0
    }
}

impl std::ops::DerefMut for FrameSpan {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Span {
        &mut self.0
    }
}

impl Drop for FrameSpan {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.0.is_none() {
            drop_span(&mut self.0);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_span(span: &mut ManuallyDrop<Span>) {
    // SAFETY: called once, from `FrameSpan::drop`; the span is not used
    // after it.
    unsafe { ManuallyDrop::drop(span) }
}

pub(crate) struct Frame {
    pub(crate) scope: Scope,
    pub(crate) run: RunRef,
    attempt: AtomicU32,
    pub(crate) max_attempts: u32,
    status: AtomicU8,
    pub(crate) started: Stamp,
    pub(crate) span: FrameSpan,
    /// `false` when nothing `tracing` can show was listening as the call
    /// started (see `record::tracing_on`): the records seam then skips its
    /// hot events with this one test.
    pub(crate) traced: bool,
    /// The journal of this step call or run, in a durable run.
    #[cfg(feature = "journal")]
    pub(crate) log: Option<Arc<crate::durable::StepLog>>,
}

impl Frame {
    #[inline]
    pub(crate) fn new(scope: Scope, run: RunRef, max_attempts: u32, span: Span) -> Frame {
        Frame {
            scope,
            run,
            attempt: AtomicU32::new(1),
            max_attempts,
            status: AtomicU8::new(Status::Running.to_u8()),
            started: Stamp::now(),
            span: FrameSpan::new(span),
            traced: true,
            #[cfg(feature = "journal")]
            log: None,
        }
    }

    /// A frame with no span yet (the caller writes one in place).
    #[inline(always)]
    pub(crate) fn unspanned(scope: Scope, max_attempts: u32) -> Frame {
        Frame {
            scope,
            run: RunRef::NONE,
            attempt: AtomicU32::new(1),
            max_attempts,
            status: AtomicU8::new(Status::Running.to_u8()),
            started: Stamp::UNSET,
            span: FrameSpan::new(Span::none()),
            traced: false,
            #[cfg(feature = "journal")]
            log: None,
        }
    }

    #[inline]
    pub(crate) fn run(&self) -> Option<&RunShared> {
        self.run.get()
    }

    /// `true` when dropping this frame has work to do: a share of its run,
    /// a span, or a journal to give back.
    #[inline(always)]
    pub(crate) fn holds_something(&self) -> bool {
        #[cfg(feature = "journal")]
        if self.log.is_some() {
            return true;
        }
        self.run.is_owned() || !self.span.is_none()
    }

    #[inline]
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn set_attempt(&self, attempt: u32) {
        self.attempt.store(attempt, Ordering::Relaxed);
    }

    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Relaxed))
    }

    #[inline]
    pub(crate) fn set_status(&self, status: Status) {
        self.status.store(status.to_u8(), Ordering::Relaxed);
    }

    /// The step of this frame (`None` for a run or a task of a run).
    #[inline]
    pub(crate) fn step_meta(&self) -> Option<&'static StepMeta> {
        match self.scope {
            Scope::Step(meta) => Some(meta),
            Scope::Pipeline | Scope::Task => None,
        }
    }

    /// A context of this frame, lent to its hooks.
    #[inline]
    pub(crate) fn context(&self, status: Status, error: Option<crate::StepError>) -> HookContext {
        HookContext::lent(self, self.attempt(), status, error)
    }

    /// A snapshot context of this frame, standing on its own.
    pub(crate) fn snapshot(&self) -> HookContext {
        let mut ctx = self.context(self.status(), None);
        ctx.src = Src::Owned(Box::new(self.owned()));
        ctx
    }

    /// A copy that belongs to the same run (for spawned tasks and hooks that
    /// outlive this frame).
    pub(crate) fn task_of(&self) -> Frame {
        let run = self.run.to_arc().map_or(RunRef::NONE, RunRef::owned);
        let mut frame = Frame::new(Scope::Task, run, 1, Span::clone(&self.span));
        frame.started = self.started;
        frame.set_status(self.status());
        if let Scope::Step(meta) = self.scope {
            frame.scope = Scope::Step(meta);
            frame.max_attempts = self.max_attempts;
            frame.set_attempt(self.attempt());
        }
        frame
    }
}

impl View for Frame {
    fn step_name(&self) -> Option<&str> {
        self.step_meta().map(StepMeta::name)
    }
    fn pipeline_name(&self) -> Option<&str> {
        self.run().map(|r| r.meta.name())
    }
    fn run_id(&self) -> Option<Uuid> {
        self.run().map(|r| r.run_id)
    }
    fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    fn started(&self) -> Option<Stamp> {
        Some(self.started)
    }
    fn resources(&self) -> Option<&Resources> {
        self.run().map(|r| &*r.resources)
    }
    fn span(&self) -> &Span {
        &self.span
    }
    fn owned(&self) -> Owned {
        Owned {
            step: self.step_meta().map(|m| Cow::Borrowed(m.name())),
            pipeline: self.run().map(|r| Cow::Borrowed(r.meta.name())),
            run_id: self.run().map(|r| r.run_id),
            max_attempts: self.max_attempts,
            started: Some(self.started),
            resources: self.run().map(|r| r.resources.clone()),
            span: Span::clone(&self.span),
        }
    }
}

struct Tls {
    current: Cell<*const Frame>,
    in_hook: Cell<u32>,
}

thread_local! {
    static TLS: Tls = const {
        Tls {
            current: Cell::new(ptr::null()),
            in_hook: Cell::new(0),
        }
    };
}

/// Makes `frame` the current one until the guard drops.
pub(crate) struct Entered {
    prev: *const Frame,
}

#[inline]
pub(crate) fn enter(frame: &Frame) -> Entered {
    let prev = TLS.with(|t| t.current.replace(frame));
    Entered { prev }
}

impl Drop for Entered {
    #[inline]
    fn drop(&mut self) {
        TLS.with(|t| t.current.set(self.prev));
    }
}

/// Runs `f` with the current frame, if any.
#[inline(always)]
pub(crate) fn with_current<T>(f: impl FnOnce(Option<&Frame>) -> T) -> T {
    let ptr = TLS.with(|t| t.current.get());
    // SAFETY: the pointer is set by `enter` for as long as its guard lives,
    // and the guard never outlives the frame it points at (both live in the
    // same stack frame or pinned future, the guard dropped first).
    f(unsafe { ptr.as_ref() })
}

/// Runs `f` with the current frame, if any, and whether a hook is running.
#[inline(always)]
pub(crate) fn with_current_in_hook<T>(f: impl FnOnce(Option<&Frame>, bool) -> T) -> T {
    let (ptr, in_hook) = TLS.with(|t| (t.current.get(), t.in_hook.get() > 0));
    // SAFETY: as for `with_current`.
    f(unsafe { ptr.as_ref() }, in_hook)
}

/// The current frame, if any, and whether a hook is running: one read of
/// the thread-local. The frame reference is valid for as long as the
/// caller's own frame is entered below it (see `with_current`).
#[inline(always)]
pub(crate) fn current_in_hook<'a>() -> (Option<&'a Frame>, bool) {
    let (ptr, in_hook) = TLS.with(|t| (t.current.get(), t.in_hook.get() > 0));
    // SAFETY: as for `with_current`; the caller uses the reference only
    // while it builds a frame nested in the current one, before returning.
    (unsafe { ptr.as_ref() }, in_hook)
}

/// `true` while a hook runs on this thread: steps called then fire no hooks.
#[inline]
pub(crate) fn in_hook() -> bool {
    TLS.with(|t| t.in_hook.get() > 0)
}

pub(crate) struct InHook(());

#[inline]
pub(crate) fn enter_hook() -> InHook {
    TLS.with(|t| t.in_hook.set(t.in_hook.get() + 1));
    InHook(())
}

impl Drop for InHook {
    #[inline]
    fn drop(&mut self) {
        TLS.with(|t| t.in_hook.set(t.in_hook.get() - 1));
    }
}

/// The context of the step or pipeline running on this thread or task.
///
/// Inside a step body it describes the step (name, attempt, run id, …);
/// inside a pipeline body, the run; inside a hook, the step or run the hook
/// fires for. It follows async steps across `.await`, whatever thread polls
/// them, and tasks spawned with [`spawn`](crate::spawn). Outside all of these
/// it is `None`.
///
/// The context is a snapshot: it has no output and no error, and its status
/// is the state at the time of the call.
///
/// ```
/// use hookflow::{current, step};
///
/// #[step(retries = 2)]
/// fn flaky() -> anyhow::Result<u32> {
///     let ctx = current().expect("inside a step");
///     assert_eq!(ctx.step_name(), Some("flaky"));
///     anyhow::ensure!(ctx.attempt() == 3, "not yet");
///     Ok(ctx.attempt())
/// }
///
/// assert_eq!(flaky().unwrap(), 3);
/// assert!(current().is_none());
/// ```
pub fn current() -> Option<HookContext> {
    with_current(|frame| frame.map(Frame::snapshot))
}
