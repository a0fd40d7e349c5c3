//! What a recovery must do for a dead segment, computed from its records
//! alone: plain data, no hook is called here.

use std::collections::HashMap;

use uuid::Uuid;

use super::record::{
    DeliveryKey, FailedStepInfo, HookStarted, Record, RunEnded, RunStarted, StepEnded, StepStarted,
};
use crate::status::Status;

/// Where one hook call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Never called: call it (not a redelivery).
    NotStarted,
    /// Called, and the process died before it returned: call it again,
    /// once, as a redelivery.
    InFlight,
    /// Called and returned: never call it again.
    Done,
}

/// The hook calls recorded for one step call (all its attempts) or for a
/// run's own hooks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries {
    done: Vec<DeliveryKey<'static>>,
    in_flight: Vec<HookStarted<'static>>,
}

impl Deliveries {
    /// Where the call `key` stands.
    pub fn state(&self, key: &DeliveryKey<'_>) -> DeliveryState {
        if self.done.iter().any(|k| k == key) {
            DeliveryState::Done
        } else if self.in_flight.iter().any(|h| &h.key == key) {
            DeliveryState::InFlight
        } else {
            DeliveryState::NotStarted
        }
    }

    /// The calls that started and never returned, in the order they
    /// started.
    pub fn in_flight(&self) -> &[HookStarted<'static>] {
        &self.in_flight
    }

    /// The calls that returned.
    pub fn done(&self) -> &[DeliveryKey<'static>] {
        &self.done
    }
}

/// A step call whose hooks are not all done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPlan {
    /// The start of the call's last attempt (names, path, attempt numbers,
    /// start time).
    pub started: StepStarted<'static>,
    /// The last attempt's recorded outcome, when its hooks had not all run:
    /// finish them (a `retrying` outcome's hooks are its `on_retry` hooks).
    pub unfinished_outcome: Option<StepEnded<'static>>,
    /// The step never reached its terminal state (its last attempt never
    /// ended, or it was to be retried and the next attempt never started):
    /// it ends `Crashed` with the "aborted" kind, and its terminal hooks
    /// fire, after those of `unfinished_outcome`.
    pub interrupted: bool,
    /// Hook calls recorded for this step call, over all its attempts.
    pub deliveries: Deliveries,
}

/// A run that is not closed, and what is left of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlan {
    /// The run.
    pub run_id: Uuid,
    /// Its start (pipeline name and path, start time); `None` when the
    /// record was lost to damage.
    pub started: Option<RunStarted<'static>>,
    /// Step calls whose hooks are not all done, in the order they started.
    pub steps: Vec<StepPlan>,
    /// The steps that reached a failed terminal state before the death, as
    /// the run's `failed_steps` lists them (the interrupted steps come on
    /// top of these).
    pub failed_steps: Vec<FailedStepInfo<'static>>,
    /// The run's terminal state, if it was recorded: only the pipeline's
    /// hooks are left. `None`: the run ends `Crashed`.
    pub ended: Option<RunEnded<'static>>,
    /// Hook calls recorded for the pipeline's own hooks.
    pub run_deliveries: Deliveries,
}

impl RunPlan {
    /// The steps that never reached their terminal state.
    pub fn interrupted_steps(&self) -> impl Iterator<Item = &StepPlan> {
        self.steps.iter().filter(|s| s.interrupted)
    }
}

#[derive(Default)]
struct StepAcc {
    started: Option<StepStarted<'static>>,
    ended: Option<StepEnded<'static>>,
    closed_attempt: Option<u32>,
}

#[derive(Default)]
struct RunAcc {
    started: Option<RunStarted<'static>>,
    steps: Vec<(u32, StepAcc)>,
    failed: Vec<FailedStepInfo<'static>>,
    ended: Option<RunEnded<'static>>,
    closed: bool,
    hooks: Vec<(HookStarted<'static>, bool)>,
    done_without_start: Vec<DeliveryKey<'static>>,
}

impl RunAcc {
    fn step(&mut self, seq: u32) -> &mut StepAcc {
        let i = match self.steps.iter().position(|(s, _)| *s == seq) {
            Some(i) => i,
            None => {
                self.steps.push((seq, StepAcc::default()));
                self.steps.len() - 1
            }
        };
        &mut self.steps[i].1
    }
}

/// What recovery must do for every run of `records` that is not closed, in
/// the order the runs first appear.
///
/// ```
/// use hookflow::journal::{plan, Record, RunStarted, StepCall, StepStarted};
/// use std::time::SystemTime;
///
/// let run_id = uuid::Uuid::now_v7();
/// let at = SystemTime::now();
/// let step = StepCall { seq: 0, name: "load".into() };
/// let records = [
///     Record::RunStarted(RunStarted { run_id, pipeline: "nightly".into(), pipeline_path: "etl::nightly".into(), at }),
///     Record::StepStarted(StepStarted { run_id, step, step_path: "etl::load".into(), attempt: 1, max_attempts: 1, at }),
///     // ... the process was killed here
/// ];
/// let plans = plan(&records);
/// assert_eq!(plans.len(), 1);
/// assert!(plans[0].ended.is_none()); // the run ends `Crashed`
/// assert_eq!(plans[0].interrupted_steps().count(), 1); // `load` ends `Crashed`, aborted
/// ```
pub fn plan(records: &[Record<'_>]) -> Vec<RunPlan> {
    let mut order: Vec<Uuid> = Vec::new();
    let mut runs: HashMap<Uuid, RunAcc> = HashMap::new();
    for record in records {
        let id = record.run_id();
        let run = runs.entry(id).or_insert_with(|| {
            order.push(id);
            RunAcc::default()
        });
        match record.clone().into_owned() {
            Record::RunStarted(r) => run.started = Some(r),
            Record::StepStarted(r) => {
                let step = run.step(r.step.seq);
                step.ended = None;
                step.started = Some(r);
            }
            Record::StepEnded(r) => {
                if !r.retrying && r.status != Status::Completed {
                    if let Some(error) = &r.error {
                        run.failed.push(FailedStepInfo {
                            name: r.step.name.clone(),
                            error: error.clone(),
                        });
                    }
                }
                let seq = r.step.seq;
                let step = run.step(seq);
                // A close recorded before this outcome (an `on_retry`
                // plan's) does not close it.
                step.closed_attempt = None;
                step.ended = Some(r);
            }
            Record::StepClosed(r) => run.step(r.step.seq).closed_attempt = Some(r.attempt),
            Record::HookStarted(r) => run.hooks.push((r, false)),
            Record::HookEnded(r) => {
                match run.hooks.iter_mut().rev().find(|(h, _)| h.key == r.key) {
                    Some((_, ended)) => *ended = true,
                    None => run.done_without_start.push(r.key),
                }
            }
            Record::RunEnded(r) => run.ended = Some(r),
            Record::RunClosed(_) => run.closed = true,
        }
    }

    order
        .into_iter()
        .filter_map(|id| {
            let run = runs.remove(&id)?;
            (!run.closed).then(|| finish(id, run))
        })
        .collect()
}

fn finish(run_id: Uuid, run: RunAcc) -> RunPlan {
    let mut by_step: HashMap<Option<u32>, Deliveries> = HashMap::new();
    for (started, ended) in run.hooks {
        let d = by_step
            .entry(started.key.step.as_ref().map(|s| s.seq))
            .or_default();
        if ended {
            d.done.push(started.key);
        } else {
            d.in_flight.push(started);
        }
    }
    for key in run.done_without_start {
        by_step
            .entry(key.step.as_ref().map(|s| s.seq))
            .or_default()
            .done
            .push(key);
    }
    for d in by_step.values_mut() {
        // A call redelivered and returned is done; of a call started twice
        // and never returned, the last start (the redelivery) stands.
        let Deliveries { done, in_flight } = d;
        in_flight.retain(|h| !done.contains(&h.key));
        let mut i = 0;
        while i < in_flight.len() {
            if in_flight[i + 1..].iter().any(|h| h.key == in_flight[i].key) {
                in_flight.remove(i);
            } else {
                i += 1;
            }
        }
    }

    let mut steps = Vec::new();
    for (seq, acc) in run.steps {
        let Some(started) = acc.started else { continue };
        let attempt = started.attempt;
        let ended = acc.ended.filter(|e| e.attempt == attempt);
        let closed = acc.closed_attempt == Some(attempt);
        let (unfinished_outcome, interrupted) = match ended {
            None => (None, true),
            Some(e) if closed => (None, e.retrying),
            Some(e) => {
                let retrying = e.retrying;
                (Some(e), retrying)
            }
        };
        if unfinished_outcome.is_none() && !interrupted {
            continue;
        }
        steps.push(StepPlan {
            started,
            unfinished_outcome,
            interrupted,
            deliveries: by_step.remove(&Some(seq)).unwrap_or_default(),
        });
    }

    RunPlan {
        run_id,
        started: run.started,
        steps,
        failed_steps: run.failed,
        ended: run.ended,
        run_deliveries: by_step.remove(&None).unwrap_or_default(),
    }
}
