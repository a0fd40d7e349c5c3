//! The async lifecycle: a state machine that is not generic. The thin
//! generic shell in `entry` lends it only what must know the body's types —
//! building, polling and dropping the attempts' futures, behind
//! `dyn Attempts` — as tokio's task harness drives a task through its raw
//! vtable.
//!
//! A step call's first poll takes a lean path on the poller's stack: the
//! unit is built there, sync `on_start` hooks fire, the first attempt is
//! built and polled at once and, when it is ready and the terminal hooks
//! are sync, the call ends in the same pass, as a sync call does, having
//! written nothing into the future. Whatever waits (a pending body, a
//! timeout, a retry, an async hook, a cancelled run) moves the unit into a
//! [`Core`] in the future, whose state machine takes over; a pipeline run
//! starts there.
//!
//! The core owns the step's frame, fires and awaits hooks (their futures are
//! already type-erased), runs timeouts, cancellation and retry delays, and
//! walks the terminal plan with a cursor, so that a future dropped at any
//! point fires exactly the hooks that are left — from `Drop`.

use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use std::future::Future;

use crate::call::{self, Awaiting, Started};
use crate::clock::Stamp;
use crate::context::{HookContext, OutputPtr};
use crate::decide::{self, AttemptEnd, Next};
use crate::error::{PipelineError, StepError};
use crate::event::Event;
use crate::frame::{current_in_hook, enter, Frame};
use crate::hook::{HookSet, PipelineHooks};
use crate::meta::{PipelineMeta, StepMeta};
use crate::plan::Plan;
use crate::record;
use crate::status::Status;
use crate::timer::{self, Timer};
use crate::unit::Unit;

/// What the generic shell lends the core for one poll: all that must know
/// the body's types.
pub(crate) trait Attempts {
    /// Does `op` to the current attempt under `frame` (see [`Op`]). The one
    /// generic method of the shell: the helpers below name its uses.
    fn run(
        &mut self,
        op: Op,
        cx: &mut Context<'_>,
        frame: &Frame,
    ) -> Poll<Result<Option<OutputPtr>, AttemptEnd>>;
}

/// What the core asks of the shell's attempt: build the next attempt's
/// future, poll it, or both in one frame entry and one `catch_unwind`; or
/// neither, which drops it (a panic in its `Drop` goes no further). Bits,
/// so that the shell tests each part with one instruction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Op(u8);

impl Op {
    pub(crate) const DROP: Op = Op(0);
    pub(crate) const BUILD: Op = Op(1);
    pub(crate) const POLL: Op = Op(2);
    pub(crate) const BUILD_AND_POLL: Op = Op(3);

    /// Builds the next attempt's future.
    #[inline(always)]
    pub(crate) fn builds(self) -> bool {
        self.0 & Op::BUILD.0 != 0
    }

    /// Polls the attempt's future.
    #[inline(always)]
    pub(crate) fn polls(self) -> bool {
        self.0 & Op::POLL.0 != 0
    }
}

impl dyn Attempts + '_ {
    /// Builds the next attempt's future, under `frame`; `Err` when building
    /// panicked.
    fn build(&mut self, cx: &mut Context<'_>, frame: &Frame) -> Result<(), AttemptEnd> {
        match self.run(Op::BUILD, cx, frame) {
            Poll::Ready(Err(end)) => Err(end),
            _ => Ok(()),
        }
    }

    /// Polls the attempt's future under `frame` and its span, building it
    /// first (in the same frame entry and `catch_unwind`) when `build`.
    /// Once it is over, drops it and says how it ended: `Ok` with the
    /// pointer the hooks see (the shell keeps the value).
    #[inline]
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        frame: &Frame,
        build: bool,
    ) -> Poll<Result<Option<OutputPtr>, AttemptEnd>> {
        let op = if build { Op::BUILD_AND_POLL } else { Op::POLL };
        self.run(op, cx, frame)
    }

    /// Drops the attempt's future.
    fn drop_attempt(&mut self, cx: &mut Context<'_>, frame: &Frame) {
        let _ = self.run(Op::DROP, cx, frame);
    }
}

/// What the drive loop does next.
enum Action {
    /// Nothing now: the core registered for a wake-up.
    Pending,
    /// Build the next attempt's future.
    Attempt,
    /// Poll the attempt's future (the run's cancellation first, the
    /// timeout when it is pending).
    PollBody,
    /// The call ended.
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
pub(crate) enum Init {
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

/// Wakes the attempt when the run is cancelled.
type Cancel = Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>;

/// What a call waits on besides its body, if anything: one field, so that a
/// call that never waited drops it with one test.
enum Wait {
    None,
    /// A plan with an async hook, being fired.
    Firing(Box<Firing>),
    /// The attempt's timeout and the run's cancellation.
    Body {
        timer: Option<Timer>,
        cancel: Option<Cancel>,
    },
    /// The retry delay, and the run's cancellation, which cuts it short.
    Delay {
        timer: Timer,
        cancel: Option<Cancel>,
    },
}

/// The non-generic state of one async step call or pipeline run, once it
/// needs more than one pass (a step call that ends in its first poll never
/// builds one: see [`first_poll`]).
pub(crate) struct Core {
    // First field: dropped before the unit, whose frame a firing plan's
    // context lends.
    wait: Wait,
    /// The terminal error, once reached.
    error: Option<StepError>,
    attempt: u32,
    state: State,
    unit: Unit,
}

/// A call's first poll: a pipeline run's builds its core and starts its
/// state machine; a step call's takes the lean path of [`step_first_poll`].
#[inline(never)]
pub(crate) fn first_poll(
    slot: &mut Option<Core>,
    init: &Init,
    cx: &mut Context<'_>,
    body: &mut dyn Attempts,
) -> Poll<Result<(), StepError>> {
    match *init {
        Init::Step(meta, hooks) => step_first_poll(slot, meta, hooks, cx, body),
        Init::Pipeline(meta, hooks) => Core::run(slot, meta, hooks).drive(cx, body),
    }
}

/// A step call's first poll, on the caller's stack (the lean path): builds
/// the unit, fires sync `on_start` hooks, has the shell build and poll the
/// first attempt at once and, when that is ready and the terminal hooks are
/// sync, ends the call in the same pass, as a sync call does, without
/// writing anything into the future. Whatever must wait (a pending body, a
/// timeout, a retry, an async hook, a cancelled run) moves the unit into a
/// [`Core`] in `slot`, whose state machine goes on from there. The unit
/// moves before any context lending its frame outlives the poll.
#[inline(always)]
fn step_first_poll(
    slot: &mut Option<Core>,
    meta: &'static StepMeta,
    hooks: &'static HookSet,
    cx: &mut Context<'_>,
    body: &mut dyn Attempts,
) -> Poll<Result<(), StepError>> {
    let (parent, in_hook) = current_in_hook();
    // Dropped by hand at the end of the lean path (in line when it holds
    // nothing to drop), or moved into a core.
    let mut unit = ManuallyDrop::new(Unit::step(meta, hooks));
    unit.place(meta, hooks, parent, in_hook, false);
    unit.frame.started = Stamp::now();
    if unit.timeout().is_some() || !unit.hooks.all_sync(&[Event::Start]) || unit.is_cancelled() {
        let core = Core::adopt(slot, unit, State::Init);
        core.begin_attempt();
        let action = core.poll(cx);
        return core.machine(cx, body, action);
    }
    // What `begin_attempt`, `fire_event` and `fired` do for a first
    // attempt in no cancelled run, with sync `on_start` hooks.
    record::attempt_started(&unit.frame, 1);
    if unit.hooks.has(Event::Start) {
        let _entered = enter(&unit.frame);
        unit.fire_sync(Event::Start, None);
        if unit.is_cancelled() {
            // Cancelled by an `on_start` hook: as the state machine sees
            // it, after the attempt's future is built.
            drop(_entered);
            let core = Core::adopt(slot, unit, State::Build);
            return core.machine(cx, body, Action::Attempt);
        }
    }
    match body.poll(cx, &unit.frame, true) {
        Poll::Ready(Ok(output)) if unit.hooks.all_sync(Event::terminal(Status::Completed)) => {
            // The common path: the call ends here.
            let status = Status::Completed;
            let finished = unit.reach(status, None);
            if unit.hooks.any_terminal(status) {
                let _entered = enter(&unit.frame);
                unit.fire_terminal_here(status, None, finished, output);
            }
            record::closed(&unit.frame, false);
            Unit::release(&mut unit);
            Poll::Ready(Ok(()))
        }
        Poll::Ready(Ok(output)) => {
            let core = Core::adopt(slot, unit, State::Body);
            core.complete(output);
            let action = core.poll(cx);
            core.machine(cx, body, action)
        }
        Poll::Pending => {
            let core = Core::adopt(slot, unit, State::Body);
            match core.first_pending(cx) {
                Action::Pending => Poll::Pending,
                action => core.machine(cx, body, action),
            }
        }
        Poll::Ready(Err(end)) => {
            let core = Core::adopt(slot, unit, State::Body);
            core.attempt_ended(end, None);
            let action = core.poll(cx);
            core.machine(cx, body, action)
        }
    }
}

impl Core {
    /// The core of a call that needs the state machine, its unit moved in
    /// (out of line: the lean path never builds one).
    #[inline(never)]
    fn adopt(slot: &mut Option<Core>, unit: ManuallyDrop<Unit>, state: State) -> &mut Core {
        slot.insert(Core {
            wait: Wait::None,
            error: None,
            attempt: 1,
            state,
            unit: ManuallyDrop::into_inner(unit),
        })
    }

    /// The core of a pipeline run, at its first poll.
    #[inline(never)]
    fn run<'a>(
        slot: &'a mut Option<Core>,
        meta: &'static PipelineMeta,
        hooks: &'static PipelineHooks,
    ) -> &'a mut Core {
        slot.insert(Core {
            wait: Wait::None,
            error: None,
            attempt: 1,
            state: State::Init,
            unit: Unit::pipeline(meta, hooks),
        })
    }

    #[inline]
    fn unit(&self) -> &Unit {
        &self.unit
    }

    /// The frame to enter while the shell builds or polls the body.
    #[inline]
    fn frame(&self) -> &Frame {
        &self.unit.frame
    }

    /// Drives the call as far as it goes in this poll; `body` builds, polls
    /// and drops the attempts' futures. `Ready` once the call ended: `Ok`
    /// when the shell holds the output.
    #[inline(never)]
    pub(crate) fn drive(
        &mut self,
        cx: &mut Context<'_>,
        body: &mut dyn Attempts,
    ) -> Poll<Result<(), StepError>> {
        let action = self.poll(cx);
        self.machine(cx, body, action)
    }

    /// The state machine's loop, from `action` on.
    #[inline(never)]
    fn machine(
        &mut self,
        cx: &mut Context<'_>,
        body: &mut dyn Attempts,
        mut action: Action,
    ) -> Poll<Result<(), StepError>> {
        loop {
            match action {
                Action::Pending => return Poll::Pending,
                Action::Attempt => match body.build(cx, self.frame()) {
                    Ok(()) => self.attempt_built(),
                    Err(end) => self.attempt_ended(end, None),
                },
                Action::PollBody => {
                    if self.poll_cancelled(cx) {
                        body.drop_attempt(cx, self.frame());
                        self.attempt_ended(AttemptEnd::Cancelled, None);
                    } else {
                        match body.poll(cx, self.frame(), false) {
                            Poll::Pending => match self.poll_timeout(cx) {
                                None => return Poll::Pending,
                                Some(bound) => {
                                    body.drop_attempt(cx, self.frame());
                                    self.attempt_ended(AttemptEnd::TimedOut(bound), None);
                                }
                            },
                            Poll::Ready(Ok(output)) => self.attempt_ended(AttemptEnd::Done, output),
                            Poll::Ready(Err(end)) => self.attempt_ended(end, None),
                        }
                    }
                }
                Action::Done => return Poll::Ready(self.result()),
            }
            action = self.poll(cx);
        }
    }

    /// Advances until the shell has something to do.
    #[inline]
    fn poll(&mut self, cx: &mut Context<'_>) -> Action {
        // The states that only hand work to the shell, answered without a
        // call.
        match self.state {
            State::Build => Action::Attempt,
            State::Body => Action::PollBody,
            State::Done => Action::Done,
            State::Init | State::Firing(_) | State::Delay => self.advance(cx),
        }
    }

    /// The first attempt is pending: inside a run, it now waits for the
    /// run's cancellation too (built only now, as most calls never wait).
    fn first_pending(&mut self, cx: &mut Context<'_>) -> Action {
        if let Some(mut cancel) = self.cancel_waiter() {
            let cancelled = cancel.as_mut().poll(cx).is_ready();
            self.wait = Wait::Body {
                timer: None,
                cancel: Some(cancel),
            };
            if cancelled {
                // The shell sees it (the waiter stays ready) and drops the
                // attempt.
                return Action::PollBody;
            }
        }
        Action::Pending
    }

    #[inline(never)]
    fn advance(&mut self, cx: &mut Context<'_>) -> Action {
        loop {
            match self.state {
                // A run's first poll: its body starts.
                State::Init => self.begin_attempt(),
                State::Firing(phase) => {
                    if self.poll_plan(cx).is_pending() {
                        return Action::Pending;
                    }
                    self.fired(phase);
                }
                State::Build => return Action::Attempt,
                State::Body => return Action::PollBody,
                State::Delay => {
                    if let Wait::Delay { timer, cancel } = &mut self.wait {
                        // A cancelled run ends the wait: the next attempt
                        // then ends cancelled before it starts.
                        let cancelled = cancel
                            .as_mut()
                            .is_some_and(|c| c.as_mut().poll(cx).is_ready());
                        if !cancelled && Pin::new(timer).poll(cx).is_pending() {
                            return Action::Pending;
                        }
                    }
                    self.wait = Wait::None;
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
        self.wait = Wait::Firing(Box::new(Firing {
            awaiting: None,
            ctx,
            plan,
        }));
        self.state = State::Firing(phase);
    }

    /// Walks the plan: sync hooks in place, async ones awaited in turn.
    fn poll_plan(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let unit = &self.unit;
        let Wait::Firing(f) = &mut self.wait else {
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
        if let Wait::Firing(_) = self.wait {
            // Its context may hold the last share of a retried error, whose
            // `Drop` may panic.
            call::drop_guarded(std::mem::replace(&mut self.wait, Wait::None));
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
            self.wait = Wait::Delay {
                timer: timer::sleep(delay),
                cancel: self.cancel_waiter(),
            };
            self.state = State::Delay;
        }
    }

    /// The attempt's future exists: the body runs within its limits.
    fn attempt_built(&mut self) {
        let unit = self.unit();
        if !unit.is_pipeline() {
            let timer = unit.timeout().map(timer::sleep);
            let cancel = self.cancel_waiter();
            if timer.is_some() || cancel.is_some() {
                self.wait = Wait::Body { timer, cancel };
            }
        }
        self.state = State::Body;
    }

    /// What wakes a step waiting inside a run when the run is cancelled
    /// (`None` outside a run: nothing to build). Built only for a call that
    /// waits (a pending attempt, a retry delay).
    fn cancel_waiter(&self) -> Option<Cancel> {
        let unit = self.unit();
        // A step called from a hook is none of the run's (see
        // `Unit::is_cancelled`).
        let run = unit.frame.run().filter(|_| unit.in_run)?;
        Some(Box::pin(run.cancel.token.clone().cancelled_owned()))
    }

    /// `true` when the run was cancelled: the shell drops the attempt and
    /// reports [`AttemptEnd::Cancelled`].
    #[inline]
    fn poll_cancelled(&mut self, cx: &mut Context<'_>) -> bool {
        match &mut self.wait {
            Wait::Body {
                cancel: Some(c), ..
            } => c.as_mut().poll(cx).is_ready(),
            _ => false,
        }
    }

    /// `Some(bound)` when the attempt's timeout passed.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Option<Duration> {
        let Wait::Body {
            timer: Some(timer), ..
        } = &mut self.wait
        else {
            return None;
        };
        if Pin::new(timer).poll(cx).is_pending() {
            return None;
        }
        let unit = self.unit();
        Some(unit.timeout().unwrap_or_default())
    }

    /// The attempt ended (its future already dropped by the shell);
    /// `output` points at the value the shell keeps, for the hooks.
    fn attempt_ended(&mut self, end: AttemptEnd, output: Option<OutputPtr>) {
        if !matches!(self.wait, Wait::None) {
            self.wait = Wait::None;
        }
        let unit = self.unit();
        if let (AttemptEnd::Done, false) = (&end, unit.is_pipeline()) {
            // A step's success ends it: no decision to make (a pipeline's
            // depends on whether its run was cancelled).
            return self.complete(output);
        }
        let next = if unit.is_pipeline() {
            let (status, error) = decide::pipeline_end(end, unit.name_cow(), unit.is_cancelled());
            unit.end_run(status);
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
                // The user's error may panic in its `Drop`: that changes
                // nothing (the call goes on to its next attempt).
                call::drop_guarded(err);
            }
            Next::Terminal(status, error) => self.terminate(status, error, None),
        }
    }

    #[inline(never)]
    fn terminate(&mut self, status: Status, error: Option<StepError>, output: Option<OutputPtr>) {
        self.terminate_here(status, error, output);
    }

    /// A success: [`terminate`](Self::terminate) with its status known, so
    /// that its events and masks are constants.
    #[inline(never)]
    fn complete(&mut self, output: Option<OutputPtr>) {
        self.terminate_here(Status::Completed, None, output);
    }

    #[inline(always)]
    fn terminate_here(
        &mut self,
        status: Status,
        error: Option<StepError>,
        output: Option<OutputPtr>,
    ) {
        let unit = &self.unit;
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
            unit.fire_terminal_here(status, error.as_ref(), finished, output);
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
    fn result(&mut self) -> Result<(), StepError> {
        record::closed(&self.unit.frame, false);
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
        let unit = &self.unit;
        let firing = match std::mem::replace(&mut self.wait, Wait::None) {
            Wait::Firing(f) => Some(f),
            _ => None,
        };
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
                    call::drop_guarded(f);
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
                    // Its context may hold the last share of a retried
                    // error, whose `Drop` may panic.
                    call::drop_guarded(f);
                }
                let err = StepError::cancelled(unit.name_cow(), unit.frame.attempt());
                // A dropped run ends its spawned steps too (a dropped step
                // leaves its run alone: only a run cancels itself).
                unit.end_run(Status::Cancelled);
                let finished = unit.reach(Status::Cancelled, Some(&err));
                let plan = Plan::terminal(unit.hooks, Status::Cancelled);
                unit.finish_sync(plan, Status::Cancelled, Some(&err), finished, None);
                record::closed(&unit.frame, false);
            }
        }
    }
}
