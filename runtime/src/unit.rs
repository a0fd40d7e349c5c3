//! The lifecycle of one step call or pipeline run, written once and not
//! generic: every sync step, async step (through the async driver),
//! pipeline run, retry, timeout, cancellation and `Drop` goes through it.
//!
//! # The rules, stated once
//!
//! - One call reaches exactly one terminal [`Status`]: `Completed`,
//!   `Failed` (error or timeout, after all retries), `Crashed` (panic, not
//!   retried) or `Cancelled` (future dropped, run cancelled).
//! - Per attempt, `on_start` fires first; after a failed attempt that will
//!   be retried, `on_retry`, then the retry delay.
//! - For the terminal state: `on_crash` (after a panic), then `on_success` /
//!   `on_failure` / `on_cancel`, then `on_finish`; within one event, in the
//!   order written; each hook at most once (the plan's cursor), none
//!   skipped — from `Drop` if the future goes away mid-plan.
//! - The terminal state is recorded before the first terminal hook runs.
//! - A hook's failure, panic or overrun is recorded and changes nothing
//!   else. Steps called from inside a hook fire no hooks and are no steps
//!   of the run (its cancellation does not reach them).
//! - A run cancelled through its handle ends `Cancelled`, whatever its body
//!   returns (a panic still ends `Crashed`). A run that ends `Crashed` or
//!   `Cancelled` (its future dropped) cancels the steps it leaves running,
//!   in the tasks it spawned.
//!
//! The decisions themselves are in `decide`; which hooks fire in `lookup`;
//! the ordered list and its cursor in `plan`; what gets recorded in
//! `record`.

use std::borrow::Cow;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::time::Duration;

use tracing::Span;

use crate::call::{self, take_panic};
use crate::clock::Stamp;
use crate::context::{HookContext, OutputPtr, Src, View};
use crate::decide::{self, AttemptEnd, Next};
use crate::error::{PipelineError, StepError};
use crate::event::Event;
use crate::frame::{current_in_hook, enter, with_current_in_hook, Frame, RunRef, Scope};
use crate::hook::{ErasedHook, HookSet, PipelineHooks, Planned};
use crate::lookup::{Level, Lookup};
use crate::meta::{PipelineMeta, StepMeta};
use crate::plan::Plan;
use crate::record;
use crate::run_state::{start_run, RunShared};
use crate::settings::{self, StepSettings};
use crate::status::Status;

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Step(&'static StepMeta),
    Pipeline(&'static PipelineMeta),
}

/// One step call or pipeline run in progress.
pub(crate) struct Unit {
    pub(crate) kind: Kind,
    pub(crate) hooks: Lookup,
    /// What an installed configuration sets for this step.
    cfg: Option<&'static StepSettings>,
    /// `false` for a call from inside a hook: no hooks, and no record in
    /// the run.
    pub(crate) in_run: bool,
    pub(crate) frame: Frame,
    /// The last plan this call detached (its next one starts after it).
    detached: call::Chain,
}

impl Unit {
    /// A step call, as if alone: a struct literal of the step's own values,
    /// so that it is built where it will stay; [`place`](Self::place) then
    /// puts it under the current frame, if any.
    #[inline(always)]
    pub(crate) fn step(meta: &'static StepMeta, own: &'static HookSet) -> Unit {
        Unit {
            kind: Kind::Step(meta),
            hooks: Lookup::own(own),
            cfg: None,
            in_run: true,
            frame: Frame::unspanned(Scope::Step(meta), meta.max_attempts()),
            detached: call::Chain::new(0),
        }
    }

    /// Puts a step call built by [`step`](Self::step) under `parent` (the
    /// current frame, if any). `lend` borrows the enclosing run instead of
    /// sharing it: only for sync calls, which end before the enclosing
    /// frame does.
    ///
    /// The common call (no configuration installed, nothing `tracing` can
    /// show, not from a hook, alone or in a run without step defaults or a
    /// journal) needs one test and, in a run, its run; everything else is
    /// [`configure`](Self::configure)'s, out of line.
    #[inline(always)]
    pub(crate) fn place(
        &mut self,
        meta: &'static StepMeta,
        own: &'static HookSet,
        parent: Option<&Frame>,
        in_hook: bool,
        lend: bool,
    ) {
        let plain = !in_hook && settings::active().is_none() && !record::tracing_on();
        match parent {
            None if plain => {}
            Some(p) if plain && p.run().is_none_or(RunShared::plain_steps) => {
                self.frame.run = if lend {
                    p.run.lend()
                } else {
                    p.run.to_arc().map_or(RunRef::NONE, RunRef::owned)
                };
            }
            _ => self.configure(meta, own, parent, in_hook, lend),
        }
    }

    /// Gives a step call what the common call does without: its configured
    /// settings, its span, the run's step defaults and journal, no hooks
    /// from inside a hook.
    #[cold]
    #[inline(never)]
    fn configure(
        &mut self,
        meta: &'static StepMeta,
        own: &'static HookSet,
        parent: Option<&Frame>,
        in_hook: bool,
        lend: bool,
    ) {
        let cfg = settings::active().and_then(|o| o.step(meta));
        if let Some(retries) = cfg.and_then(|c| c.retries) {
            if meta.is_retryable() {
                self.frame.max_attempts = retries.saturating_add(1);
            }
        }
        self.cfg = cfg;
        self.in_run = !in_hook;
        self.frame.traced = record::tracing_on();
        if cfg.is_some() {
            self.hooks = Lookup::new(
                Level {
                    attr: own,
                    cfg: cfg.map(|c| &c.hooks),
                },
                None,
            );
        }
        match parent {
            None => root_step_span(&mut self.frame.span, meta),
            Some(parent) => step_parent(self, meta, own, parent, lend),
        }
        if !self.in_run {
            // Called from inside a hook: no hooks.
            self.hooks = Lookup::none();
        }
    }

    /// Drops a unit kept in a `ManuallyDrop`: in line when its frame holds
    /// nothing to drop (no share of a run, no span, no journal), which is
    /// the common step call's case.
    #[inline(always)]
    pub(crate) fn release(unit: &mut ManuallyDrop<Unit>) {
        if unit.frame.holds_something() {
            // SAFETY: the caller drops its unit once, here, and does not
            // use it after.
            unsafe { ManuallyDrop::drop(unit) }
        }
    }

    /// A pipeline run.
    pub(crate) fn pipeline(meta: &'static PipelineMeta, hooks: &'static PipelineHooks) -> Unit {
        let cfg = settings::active().and_then(|o| o.pipeline(meta));
        let step_defaults = Level {
            attr: &hooks.steps,
            cfg: cfg.map(|c| &c.steps),
        };
        let (in_hook, run) = with_current_in_hook(|parent, in_hook| {
            let parent_run = parent.and_then(Frame::run);
            let bound = call::hook_bound(None);
            let durable = cfg.and_then(|c| c.durable).unwrap_or(meta.durable);
            (
                in_hook,
                start_run(meta, step_defaults, parent_run, in_hook, bound, durable),
            )
        });
        let span = tracing::info_span!(
            "hookflow.pipeline",
            pipeline = meta.name(),
            run_id = %run.run_id,
            status = tracing::field::Empty,
        );
        let lookup = if in_hook {
            Lookup::none()
        } else {
            let own = Level {
                attr: &hooks.own,
                cfg: cfg.map(|c| &c.hooks),
            };
            Lookup::new(own, None)
        };
        #[allow(unused_mut)]
        let mut frame = Frame::new(Scope::Pipeline, RunRef::owned(run), 1, span);
        #[cfg(feature = "journal")]
        if let Some(durable) = frame.run().and_then(|r| r.durable.as_ref()) {
            frame.log = Some(crate::durable::StepLog::run(durable));
        }
        Unit {
            kind: Kind::Pipeline(meta),
            hooks: lookup,
            cfg: None,
            in_run: !in_hook,
            frame,
            detached: call::Chain::new(0),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.kind {
            Kind::Step(m) => m.name(),
            Kind::Pipeline(m) => m.name(),
        }
    }

    pub(crate) fn name_cow(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.name())
    }

    /// `true` when the call's run was cancelled (or ended crashed or
    /// dropped, see [`end_run`](Self::end_run)). A step or run called from
    /// a hook is none of the run's: its cancellation does not reach it (a
    /// crashed run's `on_crash` hook may call a clean-up step).
    #[inline]
    pub(crate) fn is_cancelled(&self) -> bool {
        // `in_run` is read only once the run is cancelled.
        self.frame
            .run()
            .is_some_and(|r| r.is_cancelled() && self.in_run)
    }

    /// A pipeline run reached `status`: if it ended crashed or cancelled,
    /// cancels what it leaves running (steps in the tasks it spawned), as
    /// its handle would.
    pub(crate) fn end_run(&self, status: Status) {
        if decide::run_end_cancels_steps(status) {
            self.cancel_left_steps();
        }
    }

    /// Cancels the run this unit is (nothing for a step: a step's end
    /// leaves its run alone; a nested run's cancellation does not reach
    /// its parent's).
    #[cold]
    fn cancel_left_steps(&self) {
        if let (Kind::Pipeline(_), Some(run)) = (self.kind, self.frame.run()) {
            run.cancel.cancel();
        }
    }

    pub(crate) fn is_pipeline(&self) -> bool {
        matches!(self.kind, Kind::Pipeline(_))
    }

    /// The step's per-attempt time bound: configured, else the attribute's.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        let Kind::Step(meta) = self.kind else {
            return None;
        };
        self.cfg.and_then(|c| c.timeout).or(meta.timeout())
    }

    /// The delay before the next attempt: configured, else the attribute's.
    pub(crate) fn retry_delay(&self) -> Duration {
        let Kind::Step(meta) = self.kind else {
            return Duration::ZERO;
        };
        self.cfg
            .and_then(|c| c.retry_delay)
            .unwrap_or(meta.retry_delay())
    }

    /// What follows attempt `attempt`, which ended with `end`.
    pub(crate) fn after_attempt(&self, end: AttemptEnd, attempt: u32) -> Next {
        let max = self.frame.max_attempts;
        decide::after_attempt(end, self.name_cow(), attempt, max, self.is_cancelled())
    }

    /// `Some` terminal decision when the run was cancelled before `attempt`.
    pub(crate) fn before_attempt(&self, attempt: u32) -> Option<Next> {
        decide::before_attempt(self.name(), attempt, self.is_cancelled())
    }

    /// The context for `on_start` / `on_retry` hooks.
    pub(crate) fn context(&self, error: Option<&StepError>) -> HookContext {
        self.frame.context(Status::Running, error.cloned())
    }

    /// The context for the terminal hooks, built in place.
    #[inline(always)]
    pub(crate) fn terminal_context(
        &self,
        status: Status,
        error: Option<&StepError>,
        finished: Stamp,
        output: Option<OutputPtr>,
    ) -> HookContext {
        let view: &(dyn View + 'static) = &self.frame;
        HookContext {
            src: Src::Lent(NonNull::from(view)),
            status,
            error: error.cloned(),
            attempt: self.frame.attempt(),
            finished: Some(finished),
            output,
            owned_output: None,
            failed_steps: match (self.kind, self.frame.run()) {
                (Kind::Pipeline(_), Some(run)) => Some(run.failed_snapshot()),
                _ => None,
            },
            #[cfg(feature = "journal")]
            delivery: None,
        }
    }

    /// Records the terminal state: from here on, only its hooks remain.
    #[inline(always)]
    pub(crate) fn reach(&self, status: Status, error: Option<&StepError>) -> Stamp {
        let finished = Stamp::now();
        record::terminal(&self.frame, status, error, self.in_run);
        finished
    }

    /// Fires one event's hooks from sync code.
    #[inline]
    pub(crate) fn fire_sync(&self, event: Event, error: Option<&StepError>) {
        if self.hooks.has(event) {
            self.fire_sync_slow(event, error);
        }
    }

    #[inline(never)]
    fn fire_sync_slow(&self, event: Event, error: Option<&StepError>) {
        let ctx = self.context(error);
        let hooks = self.hooks.get(event).iter().map(|hook| (event, hook));
        self.walk_sync(hooks, &ctx, || Plan::event(self.hooks, event));
    }

    /// Fires `hooks` in order from sync code (the lean path); at the first
    /// async hook, which sync code cannot await, the rest of `plan` (the
    /// same hooks, as a plan) goes to the hook thread.
    #[inline(always)]
    fn walk_sync(
        &self,
        hooks: impl Iterator<Item = (Event, &'static ErasedHook)>,
        ctx: &HookContext,
        plan: impl FnOnce() -> Plan,
    ) {
        for (called, (event, hook)) in hooks.enumerate() {
            if hook.is_async() {
                let mut rest = plan();
                rest.pass(called);
                call::detach_after(rest.drain(), ctx, &self.frame, Some(&self.detached));
                return;
            }
            call::call_sync(hook, event, ctx, &self.frame);
        }
    }

    /// Ends the call from sync code: records the terminal state and fires
    /// its plan.
    #[inline]
    pub(crate) fn end_sync(
        &self,
        status: Status,
        error: Option<&StepError>,
        output: Option<OutputPtr>,
    ) {
        let finished = self.reach(status, error);
        if self.hooks.any_terminal(status) {
            self.fire_terminal_sync(status, error, finished, output);
        }
    }

    /// Ends a successful call from sync code: the lean path of
    /// [`end_sync`](Self::end_sync).
    #[inline(always)]
    pub(crate) fn complete_sync(&self, output: Option<OutputPtr>) {
        let finished = self.reach(Status::Completed, None);
        if self.hooks.any_terminal(Status::Completed) {
            let status = Status::Completed;
            self.fire_terminal_here(status, None, finished, output);
        }
    }

    /// Fires the terminal hooks (all sync, or the rest detached) with a
    /// context built in the caller's own stack frame.
    #[inline(always)]
    pub(crate) fn fire_terminal_here(
        &self,
        status: Status,
        error: Option<&StepError>,
        finished: Stamp,
        output: Option<OutputPtr>,
    ) {
        // Known before the context is built: whether it will hold anything
        // to drop (an error, a pipeline's failed steps).
        let borrowed_only = error.is_none() && !self.is_pipeline();
        let ctx = self.terminal_context(status, error, finished, output);
        let plan = || Plan::terminal(self.hooks, status);
        match self.hooks.terminal(status) {
            Some(flat) => self.walk_sync(flat.iter().map(Planned::get), &ctx, plan),
            None => self.walk_sync(plan(), &ctx, plan),
        }
        if borrowed_only {
            // A terminal context lends the frame and at most borrows the
            // output, and hooks only ever see it by `&` (it has no interior
            // mutability): with no error and no failed steps it still holds
            // nothing to drop.
            std::mem::forget(ctx);
        }
    }

    #[inline(never)]
    pub(crate) fn fire_terminal_sync(
        &self,
        status: Status,
        error: Option<&StepError>,
        finished: Stamp,
        output: Option<OutputPtr>,
    ) {
        self.fire_terminal_here(status, error, finished, output);
    }

    /// Fires what is left of `plan` from sync code.
    pub(crate) fn finish_sync(
        &self,
        mut plan: Plan,
        status: Status,
        error: Option<&StepError>,
        finished: Stamp,
        output: Option<OutputPtr>,
    ) {
        if plan.is_done() {
            return;
        }
        let ctx = self.terminal_context(status, error, finished, output);
        call::fire_sync(&mut plan, &ctx, &self.frame);
    }

    /// `Some` when the run must fail before its body runs (a durable run
    /// whose journal is unavailable).
    #[inline]
    pub(crate) fn start_error(&self) -> Option<AttemptEnd> {
        #[cfg(feature = "journal")]
        if self.is_pipeline() {
            return self.journal_start_error();
        }
        None
    }

    #[cfg(feature = "journal")]
    #[cold]
    fn journal_start_error(&self) -> Option<AttemptEnd> {
        let why = self.frame.run()?.start_error()?;
        Some(AttemptEnd::Error(anyhow::anyhow!("{why}")))
    }

    /// The pipeline's error for the caller.
    pub(crate) fn pipeline_error(&self, err: StepError) -> PipelineError {
        match self.frame.run() {
            Some(run) => PipelineError::new(err, run.run_id, run.failed_snapshot()),
            None => PipelineError::new(err, uuid::Uuid::nil(), Vec::new().into()),
        }
    }
}

/// Gives a step called outside any step or run its span.
#[inline]
fn root_step_span(slot: &mut Span, meta: &'static StepMeta) {
    // Built only when someone can see it: a span built and moved in place
    // costs more than the rest of the call's set-up.
    if !record::tracing_on() {
        return;
    }
    *slot = tracing::info_span!(
        "hookflow.step",
        step = meta.name(),
        run_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
}

/// Gives a step called inside another step or a run its span, its run and
/// the run's step defaults (kept out of line: the step alone is the lean
/// path).
#[inline]
fn step_parent(
    unit: &mut Unit,
    meta: &'static StepMeta,
    own: &'static HookSet,
    parent: &Frame,
    lend: bool,
) {
    let frame = &mut unit.frame;
    frame.run = if lend {
        parent.run.lend()
    } else {
        parent.run.to_arc().map_or(RunRef::NONE, RunRef::owned)
    };
    if record::tracing_on() {
        // Under the enclosing step's or run's span, even when an async
        // parent is not entered on this thread right now.
        *frame.span = tracing::info_span!(
            parent: &*parent.span,
            "hookflow.step",
            step = meta.name(),
            run_id = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        if let Some(r) = frame.run.get() {
            frame
                .span
                .record("run_id", tracing::field::display(r.run_id));
        }
    }
    #[cfg(feature = "journal")]
    if let (true, Some(durable)) = (unit.in_run, frame.run().and_then(|r| r.durable.as_ref())) {
        frame.log = Some(crate::durable::StepLog::step(durable, meta));
    }
    if let Some(run) = parent.run() {
        let defaults = run.defaults;
        // Run defaults without hooks or configured lists change nothing for
        // the step (a step's own list for an event it does not name is
        // empty: `HookSetBuilder::__push` names the event of every hook), so
        // the step keeps the lookup of its own level and its one-test masks.
        let no_defaults = defaults.cfg.is_none() && defaults.attr.filled() == 0;
        if !no_defaults {
            let own = Level {
                attr: own,
                cfg: unit.cfg.map(|c| &c.hooks),
            };
            unit.hooks = Lookup::new(own, Some(defaults));
        }
    }
}

/// A sync step's body, seen by the lifecycle: one call of
/// [`attempt`](Self::attempt) runs one attempt.
pub(crate) trait SyncBody {
    /// Runs the body once, keeps its value, and returns the pointer hooks
    /// see (`None` when the output is not shown to them).
    fn attempt(&mut self) -> Result<Option<OutputPtr>, anyhow::Error>;
}

/// Runs `body` once, catching its panic.
#[inline]
fn attempt_sync(body: &mut dyn SyncBody) -> Result<Option<OutputPtr>, AttemptEnd> {
    match catch_unwind(AssertUnwindSafe(|| body.attempt())) {
        Ok(Ok(ptr)) => Ok(ptr),
        Ok(Err(e)) => Err(AttemptEnd::Error(e)),
        Err(payload) => Err(AttemptEnd::Panicked(take_panic(payload))),
    }
}

/// The lifecycle of a sync step: `body` runs one attempt, keeps its value
/// and returns the pointer hooks see.
#[inline(never)]
pub(crate) fn drive_sync(
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    body: &mut dyn SyncBody,
) -> Result<(), StepError> {
    let (parent, in_hook) = current_in_hook();
    let mut unit = Unit::step(meta, hooks);
    unit.place(meta, hooks, parent, in_hook, true);
    let _entered = enter(&unit.frame);
    let _span = unit.frame.span.enter();
    unit.frame.started = Stamp::now();
    let mut attempt = 1;
    let next = loop {
        if let Some(next) = unit.before_attempt(attempt) {
            break next;
        }
        record::attempt_started(&unit.frame, attempt);
        unit.fire_sync(Event::Start, None);
        let end = match attempt_sync(body) {
            Ok(ptr) => {
                // The common path: no decision to make.
                unit.complete_sync(ptr);
                record::closed(&unit.frame, false);
                return Ok(());
            }
            Err(end) => end,
        };
        match unit.after_attempt(end, attempt) {
            Next::Retry(err) => {
                record::attempt_failed(&unit.frame, &err);
                unit.fire_sync(Event::Retry, Some(&err));
                record::retry_fired(&unit.frame);
                // The user's error may panic in its `Drop`: that changes
                // nothing (the step goes on to its next attempt).
                call::drop_guarded(err);
                let delay = unit.retry_delay();
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                attempt += 1;
            }
            terminal => break terminal,
        }
    };
    let Next::Terminal(status, error) = next else {
        unreachable!("the loop ends on a terminal decision")
    };
    unit.end_sync(status, error.as_ref(), None);
    record::closed(&unit.frame, false);
    match error {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// The lifecycle of a sync pipeline run.
#[inline(never)]
pub(crate) fn drive_pipeline_sync(
    meta: &'static PipelineMeta,
    hooks: &'static PipelineHooks,
    body: &mut dyn FnMut() -> Result<(), anyhow::Error>,
) -> Result<(), PipelineError> {
    let unit = Unit::pipeline(meta, hooks);
    let _entered = enter(&unit.frame);
    let _span = unit.frame.span.enter();
    record::attempt_started(&unit.frame, 1);
    unit.fire_sync(Event::Start, None);
    let end = match unit.start_error() {
        Some(end) => end,
        None => match catch_unwind(AssertUnwindSafe(body)) {
            Ok(Ok(())) => AttemptEnd::Done,
            Ok(Err(e)) => AttemptEnd::Error(e),
            Err(payload) => AttemptEnd::Panicked(take_panic(payload)),
        },
    };
    let (status, error) = decide::pipeline_end(end, unit.name_cow(), unit.is_cancelled());
    unit.end_run(status);
    unit.end_sync(status, error.as_ref(), None);
    record::closed(&unit.frame, false);
    match error {
        Some(err) => Err(unit.pipeline_error(err)),
        None => Ok(()),
    }
}
