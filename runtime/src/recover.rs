//! [`recover()`]: finishes the durable runs of processes that died, firing
//! the hooks they never fired, exactly once.
//!
//! For each dead segment of the journal (a process whose lock the kernel
//! released, see [`journal`](crate::journal)): claim it, compute what is
//! left from its records ([`plan`](crate::journal::plan)), and for each
//! unfinished run, in the order the steps started:
//!
//! 1. hook calls that were in flight when the process died are made again,
//!    once, with [`HookContext::redelivered`](crate::HookContext::redelivered);
//! 2. a recorded outcome whose hooks had not all run fires the rest of them
//!    (a typed hook whose value died with the process is recorded as
//!    skipped);
//! 3. a step that never reached its terminal state ends `Crashed` with
//!    [`ErrorKind::Aborted`](crate::ErrorKind::Aborted), and its `on_crash`,
//!    `on_failure`, `on_finish` hooks fire;
//! 4. the run ends `Crashed` (aborted) unless its terminal state was
//!    recorded, and the pipeline's own hooks fire with `failed_steps`.
//!
//! Every call is journaled into the claimed segment as the live run would
//! journal it, so a recoverer that dies in turn is itself recovered, and no
//! call that returned is ever made again. The hooks are those this binary
//! declares for the recorded step and pipeline (attribute, configuration,
//! the pipeline's step defaults), found by their paths in the registry.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use crate::call;
use crate::clock::Stamp;
use crate::context::HookContext;
use crate::durable::{self, error_of, DurableRun, Sink, StepLog};
use crate::error::{FailedStep, StepError};
use crate::event::Event;
use crate::frame::{Frame, RunRef, Scope};
use crate::hook::{HookSet, PipelineHooks};
use crate::journal::{plan, DeadSegment, Journal, JournalError, RunPlan, StepPlan};
use crate::lookup::{Level, Lookup};
use crate::meta::{registry, PipelineMeta, StepMeta};
use crate::outcome::HookOutcome;
use crate::plan::Plan;
use crate::record;
use crate::run_state::RunShared;
use crate::settings;
use crate::status::Status;

/// What [`recover()`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// The runs it finished, in the order it finished them.
    pub runs: Vec<RecoveredRun>,
    /// Runs left in the journal because this binary declares no pipeline
    /// by their recorded name (a binary that does will recover them), with
    /// the reason.
    pub left: Vec<(Uuid, String)>,
    /// Runs closed without firing hooks: damage took the record of their
    /// start, and with it which pipeline they belong to.
    pub closed_unknown: Vec<Uuid>,
    /// Journal files skipped or damaged (the healthy ones were recovered),
    /// and segments that could not be written to: each with its reason.
    pub problems: Vec<JournalError>,
}

impl RecoveryReport {
    /// Every hook call made, over all runs, in order.
    pub fn hook_outcomes(&self) -> impl Iterator<Item = &HookOutcome> {
        self.runs.iter().flat_map(|r| r.hooks.iter())
    }
}

/// One run [`recover()`] finished.
#[derive(Debug)]
#[non_exhaustive]
pub struct RecoveredRun {
    /// The run's id (the one its hooks saw while it ran).
    pub run_id: Uuid,
    /// The pipeline's display name.
    pub pipeline: String,
    /// The run's terminal state: `Crashed` unless it was recorded before
    /// the process died.
    pub status: Status,
    /// The steps that ended `Crashed` with [`ErrorKind::Aborted`](crate::ErrorKind::Aborted).
    pub aborted_steps: Vec<String>,
    /// The hook calls made (skipped ones included), in order.
    pub hooks: Vec<HookOutcome>,
}

/// Finishes the durable runs of every process that died, in the journal
/// that `HOOKFLOW_JOURNAL` names (or the one given to
/// [`use_journal`](crate::use_journal)): see [`recover_from`].
///
/// ```no_run
/// fn main() -> Result<(), hookflow::journal::JournalError> {
///     let report = hookflow::recover()?;
///     for run in &report.runs {
///         eprintln!("recovered run {} of {}: {:?}", run.run_id, run.pipeline, run.aborted_steps);
///     }
///     // ... the program's own work
///     Ok(())
/// }
/// ```
pub fn recover() -> Result<RecoveryReport, JournalError> {
    let journal = durable::journal()?;
    recover_from(&*journal)
}

/// Finishes the durable runs of every process that died in `journal`:
/// fires the hooks they never fired (see the module documentation of
/// [`journal`](crate::journal)), and returns once those hooks have run.
///
/// The runs of live processes are never touched, a second or concurrent
/// recovery (another thread or process) fires nothing twice, and a damaged
/// file is reported in [`RecoveryReport::problems`] without stopping the
/// others. Async hooks run on a runtime of its own, on a thread of its own:
/// call it from sync code (at the start of `main`), or from async code
/// through `spawn_blocking`.
pub fn recover_from(journal: &dyn Journal) -> Result<RecoveryReport, JournalError> {
    std::thread::scope(|s| {
        s.spawn(|| recover_here(journal))
            .join()
            .unwrap_or_else(|payload| Err(JournalError::Recovery(call::take_panic(payload))))
    })
}

fn recover_here(journal: &dyn Journal) -> Result<RecoveryReport, JournalError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            JournalError::Recovery(format!("cannot start a runtime for its hooks: {e}"))
        })?;
    let listing = journal.list_dead()?;
    let mut report = RecoveryReport {
        problems: listing.skipped,
        ..RecoveryReport::default()
    };
    for segment in listing.segments {
        if let Err(e) = rt.block_on(recover_segment(journal, segment, &mut report)) {
            report.problems.push(e);
        }
    }
    match journal.compact() {
        Ok(c) => {
            // The files the listing skipped are skipped again: once is enough.
            let seen: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
            let new = c
                .skipped
                .into_iter()
                .filter(|e| !seen.contains(&e.to_string()));
            report.problems.extend(new.collect::<Vec<_>>());
        }
        Err(e) => report.problems.push(e),
    }
    Ok(report)
}

async fn recover_segment(
    journal: &dyn Journal,
    segment: DeadSegment,
    report: &mut RecoveryReport,
) -> Result<(), JournalError> {
    if let Some(damage) = segment.damage {
        report.problems.push(damage);
    }
    let Some(claim) = journal.claim(&segment.id)? else {
        // Finished meanwhile, or held by another recoverer.
        return Ok(());
    };
    let plans = plan(claim.records());
    let mut runs = Vec::with_capacity(plans.len());
    let mut lost = Vec::new();
    for rp in plans {
        if rp.started.is_none() {
            // Its start was lost to damage: which hooks it has is unknown.
            lost.push(rp.run_id);
            continue;
        }
        match find_pipeline(&rp) {
            Ok(meta) => runs.push((rp, meta)),
            Err(why) => {
                // Not this binary's: leave the whole segment to one that
                // declares it (the claim is released untouched).
                tracing::warn!(run_id = %rp.run_id, reason = %why, "durable run left for another binary");
                report.left.push((rp.run_id, why));
                return Ok(());
            }
        }
    }
    let mut claim = claim;
    for run_id in lost {
        tracing::warn!(%run_id, "a durable run whose start record was lost is closed without hooks");
        claim.append(&[crate::journal::Record::RunClosed(
            crate::journal::RunClosed { run_id },
        )])?;
        report.closed_unknown.push(run_id);
    }
    let sink = Arc::new(Sink::Claim(Mutex::new(claim)));
    for (rp, meta) in runs {
        let run = recover_run(rp, meta, &sink).await;
        report.runs.push(run);
    }
    let Ok(Sink::Claim(claim)) = Arc::try_unwrap(sink) else {
        return Err(JournalError::Recovery(
            "the claim on a segment was still shared after its recovery".to_owned(),
        ));
    };
    claim
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .finish()
}

fn find_pipeline(rp: &RunPlan) -> Result<&'static PipelineMeta, String> {
    let Some(started) = &rp.started else {
        return Err("its start record was lost".to_owned());
    };
    registry::pipeline(&started.pipeline_path)
        .or_else(|| registry::pipeline(&started.pipeline))
        .ok_or_else(|| {
            format!(
                "this program declares no pipeline `{}` ({})",
                started.pipeline, started.pipeline_path
            )
        })
}

fn find_step(sp: &StepPlan) -> &'static StepMeta {
    registry::step(&sp.started.step_path)
        .or_else(|| registry::step(&sp.started.step.name))
        .unwrap_or_else(|| {
            // A step this binary no longer declares: it still ends, with no
            // hooks of its own (the run's step defaults still fire).
            let name: &'static str = Box::leak(sp.started.step.name.to_string().into_boxed_str());
            Box::leak(Box::new(StepMeta {
                name,
                fn_name: name,
                ..StepMeta::DEFAULT
            }))
        })
}

fn hooks_of<T: 'static>(f: Option<crate::meta::HooksOf>) -> Option<&'static T> {
    f.and_then(|f| f().downcast_ref::<T>())
}

async fn recover_run(rp: RunPlan, meta: &'static PipelineMeta, sink: &Arc<Sink>) -> RecoveredRun {
    static NO_HOOKS: std::sync::OnceLock<PipelineHooks> = std::sync::OnceLock::new();
    let hooks = hooks_of::<PipelineHooks>(meta.hooks_of)
        .unwrap_or_else(|| NO_HOOKS.get_or_init(PipelineHooks::none));
    let cfg = settings::active().and_then(|o| o.pipeline(meta));
    let defaults = Level {
        attr: &hooks.steps,
        cfg: cfg.map(|c| &c.steps),
    };
    let durable = DurableRun::recovering(rp.run_id, sink.clone());
    let run = RunShared::recovered(meta, defaults, durable.clone());
    for f in &rp.failed_steps {
        run.push_failed(FailedStep::new(
            f.name.to_string(),
            f.error.message.to_string(),
            f.error.kind,
        ));
    }
    let span = tracing::info_span!("hookflow.recover", pipeline = meta.name(), run_id = %rp.run_id);
    let mut aborted_steps = Vec::new();
    for sp in rp.steps {
        if sp.interrupted {
            aborted_steps.push(sp.started.step.name.to_string());
        }
        recover_step(sp, &run, &durable, defaults, &span).await;
    }

    let lookup = Lookup::new(
        Level {
            attr: &hooks.own,
            cfg: cfg.map(|c| &c.hooks),
        },
        None,
    );
    let mut frame = Frame::new(Scope::Pipeline, RunRef::owned(run.clone()), 1, span);
    frame.log = Some(StepLog::recovering(
        &durable,
        None,
        rp.run_deliveries.clone(),
    ));
    let (status, error) = match &rp.ended {
        Some(e) => {
            frame.set_status(e.status);
            let err = e.error.as_ref().map(|i| error_of(meta.name(), 1, i));
            (e.status, err)
        }
        None => {
            let err = StepError::aborted(Cow::Borrowed(meta.name()), 1);
            record::terminal(&frame, Status::Crashed, Some(&err), true);
            (Status::Crashed, Some(err))
        }
    };
    let mut ctx = frame.context(status, error);
    ctx.finished = Some(Stamp::now());
    ctx.failed_steps = Some(match &rp.ended {
        // As the dead process recorded them with the run's end.
        Some(e) => e
            .failed_steps
            .iter()
            .map(|f| {
                FailedStep::new(
                    f.name.to_string(),
                    f.error.message.to_string(),
                    f.error.kind,
                )
            })
            .collect::<Vec<_>>()
            .into(),
        None => run.failed_snapshot(),
    });
    let running = frame.context(Status::Running, None);
    redeliver(&rp.run_deliveries, lookup, &running, None, &ctx, &frame).await;
    fire(Plan::terminal(lookup, status), &ctx, &frame).await;
    record::closed(&frame, false);
    drop(ctx);
    drop(frame);
    RecoveredRun {
        run_id: rp.run_id,
        pipeline: meta.name().to_owned(),
        status,
        aborted_steps,
        hooks: run.outcomes(),
    }
}

async fn recover_step(
    sp: StepPlan,
    run: &Arc<RunShared>,
    durable: &Arc<DurableRun>,
    defaults: Level,
    parent: &tracing::Span,
) {
    let meta = find_step(&sp);
    let own = hooks_of::<HookSet>(meta.hooks_of).unwrap_or_else(HookSet::none);
    let cfg = settings::active().and_then(|o| o.step(meta));
    let lookup = Lookup::new(
        Level {
            attr: own,
            cfg: cfg.map(|c| &c.hooks),
        },
        Some(defaults),
    );
    let span = tracing::info_span!(parent: parent, "hookflow.step", step = meta.name());
    let mut frame = Frame::new(
        Scope::Step(meta),
        RunRef::owned(run.clone()),
        sp.started.max_attempts,
        span,
    );
    frame.set_attempt(sp.started.attempt);
    frame.log = Some(StepLog::recovering(
        durable,
        Some(sp.started.step.clone()),
        sp.deliveries.clone(),
    ));
    let name = meta.name();

    // What the hooks of the recorded outcome see.
    let recorded = sp.unfinished_outcome.as_ref().map(|e| {
        let err = e.error.as_ref().map(|i| error_of(name, e.attempt, i));
        (e, err)
    });

    // 1. Calls in flight when the process died, once more.
    let (status, err) = match &recorded {
        Some((e, err)) if !e.retrying => (e.status, err.clone()),
        Some((_, err)) => (Status::Running, err.clone()),
        None => (
            Status::Crashed,
            Some(StepError::aborted(Cow::Borrowed(name), sp.started.attempt)),
        ),
    };
    let ctx = terminal_context(&frame, status, err);
    // An `on_start` hook sees the attempt running; an `on_retry` hook, the
    // failed attempt's error.
    let running = frame.context(Status::Running, None);
    let retry_err = recorded
        .as_ref()
        .filter(|(e, _)| e.retrying)
        .and_then(|(_, err)| err.clone());
    let retrying = frame.context(Status::Running, retry_err);
    redeliver(
        &sp.deliveries,
        lookup,
        &running,
        Some(&retrying),
        &ctx,
        &frame,
    )
    .await;
    drop((ctx, running, retrying));

    // 2. The rest of the recorded outcome's hooks.
    if let Some((e, err)) = recorded {
        frame.set_attempt(e.attempt);
        if e.retrying {
            let ctx = frame.context(Status::Running, err);
            fire(Plan::event(lookup, Event::Retry), &ctx, &frame).await;
            record::retry_fired(&frame);
        } else {
            frame.set_status(e.status);
            let ctx = terminal_context(&frame, e.status, err);
            fire(Plan::terminal(lookup, e.status), &ctx, &frame).await;
        }
    }

    // 3. A step that never reached its terminal state ends aborted.
    if sp.interrupted {
        frame.set_attempt(sp.started.attempt);
        let err = StepError::aborted(Cow::Borrowed(name), sp.started.attempt);
        record::terminal(&frame, Status::Crashed, Some(&err), true);
        let ctx = terminal_context(&frame, Status::Crashed, Some(err));
        fire(Plan::terminal(lookup, Status::Crashed), &ctx, &frame).await;
    }
    record::closed(&frame, false);
}

fn terminal_context(frame: &Frame, status: Status, error: Option<StepError>) -> HookContext {
    let mut ctx = frame.context(status, error);
    ctx.finished = Some(Stamp::now());
    ctx
}

/// Calls again, once, the hooks whose calls never returned.
async fn redeliver(
    deliveries: &crate::journal::Deliveries,
    lookup: Lookup,
    start: &HookContext,
    retry: Option<&HookContext>,
    terminal: &HookContext,
    frame: &Frame,
) {
    let attempt = frame.attempt();
    for started in deliveries.in_flight() {
        let key = &started.key;
        let Some(hook) = lookup.get(key.event).iter().find(|h| h.name() == key.hook) else {
            tracing::warn!(
                hook = %key.hook,
                event = key.event.key(),
                "a hook call in flight when the process died is no longer declared: not redelivered"
            );
            continue;
        };
        let ctx = match key.event {
            Event::Start => start,
            Event::Retry => retry.unwrap_or(start),
            _ => terminal,
        };
        frame.set_attempt(key.attempt);
        call_isolated(hook, key.event, ctx, frame).await;
    }
    frame.set_attempt(attempt);
}

/// Fires `plan` in order, awaiting async hooks; calls that returned before
/// the process died are skipped by the journal.
async fn fire(mut plan: Plan, ctx: &HookContext, frame: &Frame) {
    while let Some((event, hook)) = plan.next() {
        call_isolated(hook, event, ctx, frame).await;
    }
}

async fn call_isolated(
    hook: &'static crate::hook::ErasedHook,
    event: Event,
    ctx: &HookContext,
    frame: &Frame,
) {
    call::call_async(hook, event, ctx, frame).await;
}
