//! The async lifecycle: a state machine that is not generic, driven by the
//! thin generic shell in `entry` (which only builds, polls and drops the
//! body's futures, as tokio's task harness drives a task through its raw
//! vtable).
//!
//! The core owns the step's frame, fires and awaits hooks (their futures are
//! already type-erased), runs timeouts, cancellation and retry delays, and
//! walks the terminal plan with a cursor, so that a future dropped at any
//! point fires exactly the hooks that are left — from `Drop`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::future::Future;

use crate::call::{self, Awaiting, Started};
use crate::context::{HookContext, OutputPtr};
use crate::decide::{self, AttemptEnd, Next};
use crate::error::{PipelineError, StepError};
use crate::event::Event;
use crate::frame::{current_in_hook, enter};
use crate::hook::{HookSet, PipelineHooks};
use crate::meta::{PipelineMeta, StepMeta};
use crate::plan::Plan;
use crate::record;
use crate::status::Status;
use crate::timer::{self, Timer};
use crate::unit::Unit;

/// What the shell must do next.
pub(crate) enum Action {
    /// Nothing now: the core registered for a wake-up.
    Pending,
    /// Build the next attempt's future, then call [`Core::attempt_built`]
    /// (or [`Core::attempt_ended`] if building panicked).
    Attempt,
    /// Poll the attempt's future ([`Core::poll_cancelled`] first,
    /// [`Core::poll_timeout`] when it is pending).
    PollBody,
    /// The call ended: take [`Core::result`].
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Retry,
    Terminal,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not polled yet: nothing has happened.
    Init,
    /// Firing a plan of hooks.
    Firing(Phase),
    /// The shell builds the attempt's future.
    Build,
    /// The attempt runs.
    Body,
    /// Waiting out the retry delay.
    Delay,
    Done,
}

#[derive(Clone, Copy)]
enum Init {
    Step(&'static StepMeta, &'static HookSet),
    Pipeline(&'static PipelineMeta, &'static PipelineHooks),
}

/// A plan with at least one async hook, being fired (kept out of line: most
/// calls fire sync hooks only, in place, and never build one).
struct Firing {
    // Field order is drop order: `awaiting` borrows `ctx`.
    /// The async hook being awaited.
    awaiting: Option<Awaiting>,
    /// The context lent to the plan's hooks; lends the unit's frame.
    ctx: HookContext,
    plan: Plan,
}

/// The non-generic state of one async step call or pipeline run.
pub(crate) struct Core {
    firing: Option<Box<Firing>>,
    /// The attempt's timeout, or the retry delay.
    timer: Option<Timer>,
    /// Wakes the attempt when the run is cancelled.
    cancel: Option<Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>>,
    /// The terminal error, once reached.
    error: Option<StepError>,
    attempt: u32,
    state: State,
    init: Init,
    unit: Option<Unit>,
}

impl Core {
    pub(crate) fn step(meta: &'static StepMeta, hooks: &'static HookSet) -> Core {
        Core::new(Init::Step(meta, hooks))
    }

    pub(crate) fn pipeline(meta: &'static PipelineMeta, hooks: &'static PipelineHooks) -> Core {
        Core::new(Init::Pipeline(meta, hooks))
    }

    fn new(init: Init) -> Core {
        Core {
            firing: None,
            timer: None,
            cancel: None,
            error: None,
            attempt: 1,
            state: State::Init,
            init,
            unit: None,
        }
    }

    #[inline]
    fn unit(&self) -> &Unit {
        self.unit.as_ref().expect("the unit exists once polled")
    }

    /// The frame to enter while the shell builds or polls the body.
    #[inline]
    pub(crate) fn frame(&self) -> &crate::frame::Frame {
        &self.unit().frame
    }

    /// Advances until the shell has something to do.
    #[inline]
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Action {
        // The states that only hand work to the shell, answered in the
        // shell's own code.
        match self.state {
            State::Build => Action::Attempt,
            State::Body => Action::PollBody,
            State::Done => Action::Done,
            State::Init | State::Firing(_) | State::Delay => self.advance(cx),
        }
    }

    #[inline(never)]
    fn advance(&mut self, cx: &mut Context<'_>) -> Action {
        loop {
            match self.state {
                State::Init => {
                    match self.init {
                        Init::Step(meta, hooks) => {
                            // Built where it stays, then placed under its
                            // parent, if any.
                            let (parent, in_hook) = current_in_hook();
                            let unit = self.unit.insert(Unit::step_alone(meta, hooks, in_hook));
                            unit.place(meta, hooks, parent, false);
                        }
                        Init::Pipeline(meta, hooks) => {
                            self.unit = Some(Unit::pipeline(meta, hooks));
                        }
                    }
                    self.begin_attempt();
                }
                State::Firing(phase) => {
                    if self.poll_plan(cx).is_pending() {
                        return Action::Pending;
                    }
                    self.fired(phase);
                }
                State::Build => return Action::Attempt,
                State::Body => return Action::PollBody,
                State::Delay => {
                    if let Some(t) = &mut self.timer {
                        if Pin::new(t).poll(cx).is_pending() {
                            return Action::Pending;
                        }
                    }
                    self.timer = None;
                    self.attempt += 1;
                    self.begin_attempt();
                }
                State::Done => return Action::Done,
            }
        }
    }

    fn begin_attempt(&mut self) {
        let unit = self.unit();
        if !unit.is_pipeline() {
            if let Some(next) = unit.before_attempt(self.attempt) {
                return self.conclude(next);
            }
        }
        record::attempt_started(&unit.frame, self.attempt);
        self.fire_event(Phase::Start, Event::Start, None);
    }

    /// Fires `on_start` or `on_retry`: in place when its hooks are sync,
    /// else as a plan to await.
    #[inline]
    fn fire_event(&mut self, phase: Phase, event: Event, error: Option<&StepError>) {
        if !self.unit().hooks.has(event) {
            return self.fired(phase);
        }
        self.fire_event_hooks(phase, event, error);
    }

    #[inline(never)]
    fn fire_event_hooks(&mut self, phase: Phase, event: Event, error: Option<&StepError>) {
        let unit = self.unit();
        if unit.hooks.all_sync(&[event]) {
            let _entered = enter(&unit.frame);
            unit.fire_sync(event, error);
            return self.fired(phase);
        }
        let ctx = unit.context(error);
        let plan = Plan::event(unit.hooks, event);
        self.fire(phase, plan, ctx);
    }

    fn fire(&mut self, phase: Phase, plan: Plan, ctx: HookContext) {
        self.firing = Some(Box::new(Firing {
            awaiting: None,
            ctx,
            plan,
        }));
        self.state = State::Firing(phase);
    }

    /// Walks the plan: sync hooks in place, async ones awaited in turn.
    fn poll_plan(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let unit = self.unit.as_ref().expect("the unit exists once polled");
        let Some(f) = self.firing.as_deref_mut() else {
            return Poll::Ready(());
        };
        loop {
            if let Some(a) = &mut f.awaiting {
                if call::poll_awaiting(a, &f.ctx, &unit.frame, cx).is_pending() {
                    return Poll::Pending;
                }
                f.awaiting = None;
            }
            let Some((event, hook)) = f.plan.next() else {
                return Poll::Ready(());
            };
            // SAFETY: `f.ctx` lives in the boxed `Firing` (a stable address),
            // which is dropped only after `f.awaiting` (field order; `fired`
            // drops the whole box).
            if let Started::Pending(a) =
                unsafe { call::start_async(hook, event, &f.ctx, &unit.frame) }
            {
                f.awaiting = Some(a);
            }
        }
    }

    /// A plan was fired to its end.
    #[inline]
    fn fired(&mut self, phase: Phase) {
        if self.firing.is_some() {
            self.firing = None;
        }
        match phase {
            Phase::Start => match self.unit().start_error() {
                None => self.state = State::Build,
                Some(end) => self.attempt_ended(end, None),
            },
            Phase::Retry => {
                record::retry_fired(&self.unit().frame);
                self.retry_after_delay()
            }
            Phase::Terminal => self.state = State::Done,
        }
    }

    /// `on_retry` was fired: the next attempt, after the retry delay.
    #[inline(never)]
    fn retry_after_delay(&mut self) {
        let delay = self.unit().retry_delay();
        if delay.is_zero() {
            self.attempt += 1;
            self.begin_attempt();
        } else {
            self.timer = Some(timer::sleep(delay));
            self.state = State::Delay;
        }
    }

    /// The attempt's future exists: the body runs within its limits.
    pub(crate) fn attempt_built(&mut self) {
        let unit = self.unit();
        if !unit.is_pipeline() {
            if let Some(bound) = unit.timeout() {
                self.timer = Some(timer::sleep(bound));
            }
            if let Some(run) = self.unit().frame.run() {
                self.cancel = Some(Box::pin(run.cancel.token.clone().cancelled_owned()));
            }
        }
        self.state = State::Body;
    }

    /// `true` when the run was cancelled: the shell drops the attempt and
    /// reports [`AttemptEnd::Cancelled`].
    #[inline]
    pub(crate) fn poll_cancelled(&mut self, cx: &mut Context<'_>) -> bool {
        match &mut self.cancel {
            Some(c) => c.as_mut().poll(cx).is_ready(),
            None => false,
        }
    }

    /// `Some(bound)` when the attempt's timeout passed.
    pub(crate) fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Option<Duration> {
        let timer = self.timer.as_mut()?;
        if Pin::new(timer).poll(cx).is_pending() {
            return None;
        }
        let unit = self.unit();
        Some(unit.timeout().unwrap_or_default())
    }

    /// The attempt ended (its future already dropped by the shell);
    /// `output` points at the value the shell keeps, for the hooks.
    pub(crate) fn attempt_ended(&mut self, end: AttemptEnd, output: Option<OutputPtr>) {
        if self.timer.is_some() {
            self.timer = None;
        }
        if self.cancel.is_some() {
            self.cancel = None;
        }
        if let AttemptEnd::Done = end {
            // Success ends the call, step or pipeline: no decision to make.
            return self.terminate(Status::Completed, None, output);
        }
        let unit = self.unit();
        let next = if unit.is_pipeline() {
            let (status, error) = decide::pipeline_end(end, unit.name_cow(), unit.is_cancelled());
            Next::Terminal(status, error)
        } else {
            unit.after_attempt(end, self.attempt)
        };
        match next {
            Next::Terminal(status, error) => self.terminate(status, error, output),
            retry => self.conclude(retry),
        }
    }

    fn conclude(&mut self, next: Next) {
        match next {
            Next::Retry(err) => {
                record::attempt_failed(&self.unit().frame, &err);
                self.fire_event(Phase::Retry, Event::Retry, Some(&err));
            }
            Next::Terminal(status, error) => self.terminate(status, error, None),
        }
    }

    fn terminate(&mut self, status: Status, error: Option<StepError>, output: Option<OutputPtr>) {
        let unit = self.unit.as_ref().expect("the unit exists once polled");
        let finished = unit.reach(status, error.as_ref());
        let events = Event::terminal(status);
        if !unit.hooks.any_terminal(status) {
            self.error = error;
            self.state = State::Done;
            return;
        }
        if unit.hooks.all_sync(events) {
            // Sync hooks only: nothing to await, fired in place.
            let _entered = enter(&unit.frame);
            unit.fire_terminal_here(status, events, error.as_ref(), finished, output);
            self.error = error;
            self.state = State::Done;
            return;
        }
        let ctx = unit.terminal_context(status, error.as_ref(), finished, output);
        let plan = Plan::terminal(unit.hooks, status);
        self.error = error;
        self.fire(Phase::Terminal, plan, ctx);
    }

    /// The call's error, once done (`Ok` on success).
    pub(crate) fn result(&mut self) -> Result<(), StepError> {
        if let Some(unit) = &self.unit {
            record::closed(&unit.frame, false);
        }
        match self.error.take() {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// A pipeline's error for the caller.
    pub(crate) fn pipeline_error(&self, err: StepError) -> PipelineError {
        self.unit().pipeline_error(err)
    }

    /// The future is dropped (after the shell dropped the body's future):
    /// fires what is left, exactly once.
    #[inline]
    pub(crate) fn on_drop(&mut self) {
        if self.state != State::Done {
            self.on_drop_early();
        }
    }

    /// Dropped before the end: fires what is left.
    #[cold]
    #[inline(never)]
    fn on_drop_early(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Done);
        let Some(unit) = self.unit.as_ref() else {
            return;
        };
        let firing = self.firing.take();
        match state {
            State::Init | State::Done => {}
            State::Firing(Phase::Terminal) => {
                let _entered = enter(&unit.frame);
                if let Some(mut f) = firing {
                    if let Some(a) = f.awaiting.take() {
                        call::interrupted(a, &f.ctx, &unit.frame);
                    }
                    // The rest of the plan, with the same context (the output
                    // is still alive: the shell drops it after this).
                    call::fire_sync(&mut f.plan, &f.ctx, &unit.frame);
                }
                record::closed(&unit.frame, false);
            }
            State::Firing(_) | State::Build | State::Body | State::Delay => {
                // Dropped while running: the call ends cancelled.
                let _entered = enter(&unit.frame);
                if let Some(mut f) = firing {
                    if let Some(a) = f.awaiting.take() {
                        call::interrupted(a, &f.ctx, &unit.frame);
                    }
                }
                self.timer = None;
                self.cancel = None;
                let err = StepError::cancelled(unit.name_cow(), unit.frame.attempt());
                let finished = unit.reach(Status::Cancelled, Some(&err));
                let plan = Plan::terminal(unit.hooks, Status::Cancelled);
                unit.finish_sync(plan, Status::Cancelled, Some(&err), finished, None);
                record::closed(&unit.frame, false);
            }
        }
    }
}
