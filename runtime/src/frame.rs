//! The step or pipeline running on this thread (set per poll for async
//! code), behind [`current()`].

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;

use tracing::Span;

use std::borrow::Cow;

use crate::context::{HookContext, Owned, Src, Stamp, Status};
use crate::meta::StepMeta;
use crate::run::RunShared;

#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Step(&'static StepMeta),
    Pipeline,
    /// A task spawned through [`spawn`](crate::spawn): belongs to a run but to
    /// no step.
    Task,
}

pub(crate) struct Frame {
    pub(crate) scope: Scope,
    pub(crate) run: Option<Arc<RunShared>>,
    pub(crate) attempt: AtomicU32,
    pub(crate) max_attempts: u32,
    status: AtomicU8,
    pub(crate) started: Stamp,
    pub(crate) span: Span,
}

impl Frame {
    pub(crate) fn new(
        scope: Scope,
        run: Option<Arc<RunShared>>,
        max_attempts: u32,
        span: Span,
    ) -> Frame {
        Frame {
            scope,
            run,
            attempt: AtomicU32::new(1),
            max_attempts,
            status: AtomicU8::new(Status::Running.to_u8()),
            started: Stamp::now(),
            span,
        }
    }

    pub(crate) fn attempt(&self) -> u32 {
        self.attempt.load(Ordering::Relaxed)
    }

    pub(crate) fn set_attempt(&self, attempt: u32) {
        self.attempt.store(attempt, Ordering::Relaxed);
    }

    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Relaxed))
    }

    pub(crate) fn set_status(&self, status: Status) {
        self.status.store(status.to_u8(), Ordering::Relaxed);
    }

    /// The step's display name (`None` for a run or a task of a run).
    pub(crate) fn step_name(&self) -> Option<&'static str> {
        match self.scope {
            Scope::Step(meta) => Some(meta.name()),
            Scope::Pipeline | Scope::Task => None,
        }
    }

    /// This frame's data, owned.
    pub(crate) fn owned(&self) -> Owned {
        Owned {
            step: self.step_name().map(Cow::Borrowed),
            pipeline: self.run.as_ref().map(|r| Cow::Borrowed(r.meta.name())),
            run_id: self.run.as_ref().map(|r| r.run_id),
            max_attempts: self.max_attempts,
            started: Some(self.started),
            resources: self.run.as_ref().map(|r| r.resources.clone()),
            span: self.span.clone(),
        }
    }

    /// A snapshot context of this frame, standing on its own.
    pub(crate) fn snapshot(&self) -> HookContext {
        let mut ctx = HookContext::of_frame(self, self.status(), None);
        ctx.src = Src::Owned(Box::new(self.owned()));
        ctx
    }

    /// A copy that belongs to the same run (for spawned tasks).
    pub(crate) fn task_of(&self) -> Frame {
        let mut frame = Frame::new(Scope::Task, self.run.clone(), 1, self.span.clone());
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

struct Tls {
    current: Cell<*const Frame>,
    in_hook: Cell<u32>,
    seed: Cell<*const crate::run::RunSeed>,
}

thread_local! {
    static TLS: Tls = const {
        Tls {
            current: Cell::new(ptr::null()),
            in_hook: Cell::new(0),
            seed: Cell::new(ptr::null()),
        }
    };
}

/// Makes `frame` the current one until the guard drops.
pub(crate) struct Entered {
    prev: *const Frame,
}

pub(crate) fn enter(frame: &Frame) -> Entered {
    let prev = TLS.with(|t| t.current.replace(frame));
    Entered { prev }
}

impl Drop for Entered {
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
pub(crate) fn with_current_in_hook<T>(f: impl FnOnce(Option<&Frame>, bool) -> T) -> T {
    let (ptr, in_hook) = TLS.with(|t| (t.current.get(), t.in_hook.get() > 0));
    // SAFETY: as for `with_current`.
    f(unsafe { ptr.as_ref() }, in_hook)
}

/// `true` while a hook runs on this thread: steps called then fire no hooks.
pub(crate) fn in_hook() -> bool {
    TLS.with(|t| t.in_hook.get() > 0)
}

pub(crate) struct InHook(());

pub(crate) fn enter_hook() -> InHook {
    TLS.with(|t| t.in_hook.set(t.in_hook.get() + 1));
    InHook(())
}

impl Drop for InHook {
    fn drop(&mut self) {
        TLS.with(|t| t.in_hook.set(t.in_hook.get() - 1));
    }
}

/// Installs a run configuration for the next pipeline started on this thread.
pub(crate) struct SeedGuard {
    prev: *const crate::run::RunSeed,
}

pub(crate) fn install_seed(seed: &crate::run::RunSeed) -> SeedGuard {
    let prev = TLS.with(|t| t.seed.replace(seed));
    SeedGuard { prev }
}

impl Drop for SeedGuard {
    fn drop(&mut self) {
        TLS.with(|t| t.seed.set(self.prev));
    }
}

pub(crate) fn with_seed<T>(f: impl FnOnce(Option<&crate::run::RunSeed>) -> T) -> T {
    let ptr = TLS.with(|t| t.seed.get());
    // SAFETY: as for `with_current`: the guard that installed it lives no
    // longer than the seed.
    f(unsafe { ptr.as_ref() })
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
