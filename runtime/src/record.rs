//! The records seam: every state transition and every hook outcome of a
//! step call or run passes through here, once. Today it feeds `tracing`
//! (spans and events with structured fields) and the run's lists (failed
//! steps, hook outcomes); a durable run's journal plugs in at the same
//! functions.
//!
//! With no `tracing` subscriber and no run, each function costs the
//! disabled-callsite checks of its events and one branch.

use std::borrow::Cow;
use std::time::Duration;

use crate::context::{enter_delivery, Delivery, DeliveryGuard, HookContext};
use crate::error::{FailedStep, StepError};
use crate::event::Event;
use crate::frame::Frame;
use crate::hook::ErasedHook;
use crate::outcome::{HookOutcome, HookStatus};
use crate::status::Status;

/// `false` when no `tracing` subscriber (nor tracing's `log` bridge) can
/// see anything: then a step's span is never built (it stays
/// [`Span::none()`](tracing::Span::none)) and its frame is not
/// [`traced`](Frame::traced): the events of its hot path are skipped with
/// one test. One load of tracing's global level filter.
#[inline(always)]
pub(crate) fn tracing_on() -> bool {
    use tracing::level_filters::LevelFilter;
    // `if_log_enabled!` is the test tracing's own event macros make for its
    // `log` bridge (true only when that feature is on and no subscriber
    // was ever set).
    LevelFilter::current() != LevelFilter::OFF
        || tracing::if_log_enabled! { tracing::Level::ERROR, { true } else { false } }
}

fn run_id(frame: &Frame) -> Option<tracing::field::DisplayValue<uuid::Uuid>> {
    frame.run().map(|r| tracing::field::display(r.run_id))
}

/// An attempt of a step starts (or a run's body).
#[inline(always)]
pub(crate) fn attempt_started(frame: &Frame, attempt: u32) {
    frame.set_attempt(attempt);
    #[cfg(feature = "journal")]
    if let (Some(log), Some(meta)) = (&frame.log, frame.step_meta()) {
        log.attempt_started(meta, attempt, frame.max_attempts);
    }
    if let (true, Some(meta)) = (frame.traced, frame.step_meta()) {
        tracing::debug!(
            parent: &*frame.span,
            step = meta.name(),
            run_id = run_id(frame),
            attempt,
            "attempt started"
        );
    }
}

/// An attempt failed and another follows.
pub(crate) fn attempt_failed(frame: &Frame, err: &StepError) {
    #[cfg(feature = "journal")]
    if let Some(log) = &frame.log {
        log.step_ended(err.attempt(), Status::Failed, Some(err), true);
    }
    tracing::warn!(
        parent: &*frame.span,
        step = err.step_name(),
        run_id = run_id(frame),
        attempt = err.attempt(),
        max_attempts = frame.max_attempts,
        kind = err.kind().as_str(),
        error = err.message(),
        "attempt failed, retrying"
    );
}

/// A step call or run reached its terminal state. `in_run` is `false` for
/// a step called from inside a hook, which is no step of the run.
#[inline(always)]
pub(crate) fn terminal(frame: &Frame, status: Status, error: Option<&StepError>, in_run: bool) {
    frame.set_status(status);
    #[cfg(feature = "journal")]
    if frame.log.is_some() {
        journal_terminal(frame, status, error);
    }
    if frame.traced {
        trace_terminal(frame, status, error);
    }
    match (frame.step_meta(), error, frame.run()) {
        (Some(_), Some(err), Some(run)) if in_run => run.push_failed(FailedStep::from_error(err)),
        (None, _, Some(run)) => run.set_status(status),
        _ => {}
    }
}

/// The terminal state's span field and event.
#[inline(never)]
fn trace_terminal(frame: &Frame, status: Status, error: Option<&StepError>) {
    let span: &tracing::Span = &frame.span;
    if !span.is_disabled() {
        span.record("status", status.as_str());
    }
    let attempt = frame.attempt();
    match (frame.step_meta(), error) {
        (Some(m), None) => tracing::info!(
            parent: span,
            step = m.name(),
            run_id = run_id(frame),
            attempt,
            status = status.as_str(),
            "step finished"
        ),
        (Some(m), Some(err)) => tracing::warn!(
            parent: span,
            step = m.name(),
            run_id = run_id(frame),
            attempt,
            status = status.as_str(),
            kind = err.kind().as_str(),
            error = err.message(),
            "step finished"
        ),
        (None, None) => tracing::info!(
            parent: span,
            pipeline = frame.run().map(|r| r.meta.name()),
            run_id = run_id(frame),
            status = status.as_str(),
            "pipeline finished"
        ),
        (None, Some(err)) => tracing::warn!(
            parent: span,
            pipeline = frame.run().map(|r| r.meta.name()),
            run_id = run_id(frame),
            status = status.as_str(),
            kind = err.kind().as_str(),
            error = err.message(),
            "pipeline finished"
        ),
    }
}

#[cfg(feature = "journal")]
#[cold]
fn journal_terminal(frame: &Frame, status: Status, error: Option<&StepError>) {
    let Some(log) = &frame.log else { return };
    // A step's terminal state comes after its own failure was recorded on
    // the run (below), so the run's list is read only for the run's.
    match (frame.step_meta(), frame.run()) {
        (Some(meta), _) => {
            log.ended_unstarted(meta, frame.attempt(), frame.max_attempts);
            log.step_ended(frame.attempt(), status, error, false)
        }
        (None, Some(run)) => log.run_ended(status, error, &run.failed_snapshot()),
        (None, None) => {}
    }
}

/// What the call path does about a hook call.
#[cfg_attr(not(feature = "journal"), allow(dead_code))]
pub(crate) enum Starting {
    /// Not a durable run: just call it.
    Plain,
    /// A durable run's call, its intent stored: call it with this delivery
    /// set.
    Durable(Box<Delivery>),
    /// A recovery found that this call returned before: never again.
    Skip,
}

impl Starting {
    /// Sets the delivery, if any, for as long as the guard lives.
    #[inline(always)]
    pub(crate) fn enter(&self) -> Option<DeliveryGuard> {
        match self {
            // SAFETY: the guard borrows `self`, which holds the delivery.
            Starting::Durable(d) => Some(unsafe { enter_delivery(d) }),
            Starting::Plain | Starting::Skip => None,
        }
    }

    /// The delivery, for an async hook to keep across its polls.
    pub(crate) fn into_delivery(self) -> Option<Box<Delivery>> {
        match self {
            Starting::Durable(d) => Some(d),
            Starting::Plain | Starting::Skip => None,
        }
    }
}

/// A hook is about to be called: in a durable run, its intent is stored
/// first (one branch otherwise).
#[inline(always)]
pub(crate) fn hook_starting(frame: &Frame, hook: &'static ErasedHook, event: Event) -> Starting {
    #[cfg(feature = "journal")]
    if let Some(log) = &frame.log {
        return journal_hook_starting(log, frame, hook, event);
    }
    let _ = (frame, hook, event);
    Starting::Plain
}

#[cfg(feature = "journal")]
#[cold]
fn journal_hook_starting(
    log: &crate::durable::StepLog,
    frame: &Frame,
    hook: &'static ErasedHook,
    event: Event,
) -> Starting {
    match log.hook_starting(frame.attempt(), event, hook.name()) {
        crate::durable::Go::Call(d) => Starting::Durable(d),
        crate::durable::Go::Skip => {
            tracing::debug!(
                hook = hook.name(),
                event = event.key(),
                step = frame.step_meta().map(|m| m.name()),
                "hook not called: its call is already recorded (it returned before the process died), or another process owns this run now"
            );
            Starting::Skip
        }
    }
}

/// An attempt that will be retried has fired its `on_retry` hooks.
#[inline(always)]
pub(crate) fn retry_fired(frame: &Frame) {
    #[cfg(feature = "journal")]
    if let Some(log) = &frame.log {
        log.retry_closed(frame.attempt());
    }
    let _ = frame;
}

/// Every hook of the call's terminal state has run: a durable call's log
/// is closed (a detached plan closes it when it ends, `detached`).
#[inline(always)]
pub(crate) fn closed(frame: &Frame, detached: bool) {
    #[cfg(feature = "journal")]
    if let Some(log) = &frame.log {
        log.close(frame.attempt(), detached);
    }
    let _ = (frame, detached);
}

/// A hook returned `Ok`: the common case, recorded compactly and untimed.
#[inline(always)]
pub(crate) fn hook_ok(frame: &Frame, hook: &'static ErasedHook, event: Event) {
    #[cfg(feature = "journal")]
    if let Some(log) = &frame.log {
        log.hook_ended(frame.attempt(), event, hook.name(), &HookStatus::Ok);
    }
    if frame.traced {
        tracing::debug!(
            hook = hook.name(),
            event = event.key(),
            step = frame.step_meta().map(|m| m.name()),
            "hook ran"
        );
    }
    if let Some(run) = frame.run() {
        run.record_ok(hook, event, frame.step_meta());
    }
}

/// Any other hook outcome: logged at the level it deserves and recorded in
/// full on the run.
#[cold]
pub(crate) fn hook_outcome(
    frame: &Frame,
    hook: &'static ErasedHook,
    event: Event,
    ctx: &HookContext,
    status: HookStatus,
    duration: Duration,
) {
    let name = hook.name();
    let ev = event.key();
    let step = ctx.step_name();
    // What a hook reports may echo a secret (a server's answer, a URL).
    let status = match status {
        HookStatus::Failed(m) => HookStatus::Failed(crate::secret::redacted(m)),
        HookStatus::Panicked(m) => HookStatus::Panicked(crate::secret::redacted(m)),
        other => other,
    };
    let pipeline = ctx.pipeline_name();
    #[cfg(feature = "journal")]
    if let Some(log) = &frame.log {
        log.hook_ended(frame.attempt(), event, name, &status);
    }
    match &status {
        HookStatus::Ok => tracing::debug!(hook = name, event = ev, step, pipeline, "hook ran"),
        HookStatus::Skipped(why) => {
            tracing::debug!(hook = name, event = ev, step, pipeline, reason = %why, "hook skipped")
        }
        HookStatus::Failed(msg) => {
            tracing::warn!(hook = name, event = ev, step, pipeline, error = %msg, "hook failed")
        }
        HookStatus::Panicked(msg) => {
            tracing::error!(hook = name, event = ev, step, pipeline, panic = %msg, "hook panicked")
        }
        HookStatus::TimedOut(bound) => {
            tracing::warn!(hook = name, event = ev, step, pipeline, bound = ?bound, "hook timed out")
        }
        HookStatus::Interrupted => tracing::warn!(
            hook = name,
            event = ev,
            step,
            pipeline,
            "hook interrupted: the step's future was dropped"
        ),
    }
    if let Some(run) = frame.run() {
        let outcome = HookOutcome {
            hook: name,
            event,
            step: step.map(|s| Cow::Owned(s.to_owned())),
            status,
            duration,
        };
        run.record_full(outcome, frame.step_meta());
    }
}
