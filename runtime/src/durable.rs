//! The journal of a durable run as the runtime writes it (feature
//! `journal`): the process's one writer, each run's sink, and each step
//! call's log with the records it holds back until they must be stored.
//!
//! # When a record is stored
//!
//! A record is stored before the thing it guards happens, and no later
//! than the next thing anyone outside could see. So some records wait in
//! the log and go out in the same write as the next one:
//!
//! - `StepStarted`: at once (the body runs next).
//! - `StepEnded`, `RunEnded`: with the first hook's intent, or with the
//!   close (nothing outside sees an outcome before its hooks run or the
//!   call returns).
//! - `HookStarted`: at once (the hook runs next).
//! - `HookEnded` of a terminal hook: with the next hook's intent or the
//!   close; of an `on_start` / `on_retry` hook, at once (the body or the
//!   retry delay comes next).
//! - `StepClosed`, `RunClosed`: at once, before the call returns.
//!
//! One step with one hook is thus three writes: `[StepStarted]`,
//! `[StepEnded, HookStarted]`, `[HookEnded, StepClosed]`.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use uuid::Uuid;

use crate::context::Delivery;
use crate::error::{ErrorKind, FailedStep, StepError};
use crate::event::Event;
use crate::journal::{
    Claim, Deliveries, DeliveryKey, DeliveryState, ErrorInfo, FailedStepInfo, HookEnded,
    HookResult, HookStarted, Journal, JournalError, JournalWriter, Record, RunClosed, RunEnded,
    RunStarted, StepCall, StepClosed, StepEnded, StepStarted,
};
use crate::meta::{PipelineMeta, StepMeta};
use crate::outcome::HookStatus;
use crate::status::Status;

/// What a durable run does when its journal cannot be opened or written
/// when the run starts (see [`when_unavailable`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WhenUnavailable {
    /// The run fails before its body runs, with an error that says why
    /// (its `on_failure` / `on_finish` hooks fire as for any failure).
    #[default]
    FailRun,
    /// The run goes on without a journal (a warning is logged): nothing of
    /// it can be recovered if the process dies.
    RunWithoutJournal,
}

static POLICY: AtomicBool = AtomicBool::new(false);

/// Chooses what durable runs do when the journal is unavailable as they
/// start; the default is [`WhenUnavailable::FailRun`].
pub fn when_unavailable(policy: WhenUnavailable) {
    POLICY.store(
        policy == WhenUnavailable::RunWithoutJournal,
        Ordering::Relaxed,
    );
}

fn run_without_journal() -> bool {
    POLICY.load(Ordering::Relaxed)
}

struct Process {
    journal: Option<Arc<dyn Journal>>,
    writer: Option<Arc<dyn JournalWriter>>,
}

static PROCESS: Mutex<Process> = Mutex::new(Process {
    journal: None,
    writer: None,
});

/// Makes `journal` the one this process's durable runs write to and
/// `hookflow::recover()` reads, instead of the one
/// `HOOKFLOW_JOURNAL` names. Runs already started keep the journal they
/// started with.
pub fn use_journal(journal: impl Journal + 'static) {
    let mut p = PROCESS.lock().unwrap_or_else(PoisonError::into_inner);
    p.journal = Some(Arc::new(journal));
    p.writer = None;
}

/// The process's journal: the one given to [`use_journal`], else the one
/// `HOOKFLOW_JOURNAL` names (opened once).
pub(crate) fn journal() -> Result<Arc<dyn Journal>, JournalError> {
    let mut p = PROCESS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(j) = &p.journal {
        return Ok(j.clone());
    }
    let j: Arc<dyn Journal> = Arc::from(crate::journal::open_default()?);
    p.journal = Some(j.clone());
    Ok(j)
}

/// The process's writer, opened on the first durable run.
fn writer() -> Result<Arc<dyn JournalWriter>, JournalError> {
    let journal = journal()?;
    let mut p = PROCESS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(w) = &p.writer {
        return Ok(w.clone());
    }
    let w: Arc<dyn JournalWriter> = Arc::from(journal.open_writer()?);
    p.writer = Some(w.clone());
    Ok(w)
}

/// Where a run's records go: the process's writer, or (in a recovery) the
/// claim on the dead process's segment.
pub(crate) enum Sink {
    Writer(Arc<dyn JournalWriter>),
    Claim(Mutex<Box<dyn Claim>>),
}

impl Sink {
    fn append(&self, records: &[Record<'_>]) -> Result<(), JournalError> {
        match self {
            Sink::Writer(w) => w.append(records),
            Sink::Claim(c) => c
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .append(records),
        }
    }
}

/// The journal side of one durable run.
pub(crate) struct DurableRun {
    pub(crate) run_id: Uuid,
    sink: Arc<Sink>,
    next_seq: AtomicU32,
    /// An append failed: the run goes on without its journal.
    broken: AtomicBool,
    /// Another owner took the run's segment over (its lease expired): this
    /// process fires none of the run's hooks any more, the new owner does.
    fenced: AtomicBool,
    /// Fired by a recovery.
    recovered: bool,
    /// Detached plans of this run's steps still running, and the run's own
    /// close, held back until they end.
    handoffs: Mutex<(u32, Option<Vec<Record<'static>>>)>,
}

/// Runs whose journal broke and whose close could not be stored yet: it is
/// stored with the next append that works, so that a run that ended is not
/// recovered (and its hooks fired again) after the process exits.
static UNCLOSED: Mutex<Vec<Uuid>> = Mutex::new(Vec::new());
static ANY_UNCLOSED: AtomicBool = AtomicBool::new(false);

impl DurableRun {
    /// Starts the journal of a new run: `RunStarted` is stored when this
    /// returns. `Err` (the reason, for the run's error) when the run must
    /// fail; `Ok(None)` when it goes on without a journal.
    pub(crate) fn start(
        meta: &'static PipelineMeta,
        run_id: Uuid,
    ) -> Result<Option<Arc<DurableRun>>, String> {
        let started = writer().and_then(|w| {
            w.append(&[Record::RunStarted(RunStarted {
                run_id,
                pipeline: Cow::Borrowed(meta.name()),
                pipeline_path: Cow::Owned(format!("{}::{}", meta.module_path(), meta.fn_name())),
                at: SystemTime::now(),
            })])?;
            Ok(w)
        });
        match started {
            Ok(w) => Ok(Some(Arc::new(DurableRun {
                run_id,
                sink: Arc::new(Sink::Writer(w)),
                next_seq: AtomicU32::new(0),
                broken: AtomicBool::new(false),
                fenced: AtomicBool::new(false),
                recovered: false,
                handoffs: Mutex::new((0, None)),
            }))),
            Err(e) if run_without_journal() => {
                tracing::warn!(
                    pipeline = meta.name(),
                    %run_id,
                    error = %e,
                    "the journal is unavailable: this durable run goes on without it"
                );
                Ok(None)
            }
            Err(e) => Err(format!(
                "the journal of this durable run is unavailable: {e}"
            )),
        }
    }

    /// The journal side of a run a recovery finishes, writing to its claim.
    pub(crate) fn recovering(run_id: Uuid, sink: Arc<Sink>) -> Arc<DurableRun> {
        Arc::new(DurableRun {
            run_id,
            sink,
            next_seq: AtomicU32::new(0),
            broken: AtomicBool::new(false),
            fenced: AtomicBool::new(false),
            recovered: true,
            handoffs: Mutex::new((0, None)),
        })
    }

    /// Stores `records`; `false` when the store refused them because what
    /// they announce must not happen (a delivery already recorded, a run
    /// another owner took over).
    fn append(&self, records: &[Record<'_>]) -> bool {
        if self.fenced.load(Ordering::Relaxed) {
            return false;
        }
        let closes = records.iter().any(|r| matches!(r, Record::RunClosed(_)));
        if self.broken.load(Ordering::Relaxed) {
            // Only its close still matters: it keeps a run that ended from
            // being recovered.
            if closes {
                self.store_close_of_broken();
            }
            return true;
        }
        match self.sink.append(records) {
            Ok(()) => {
                if ANY_UNCLOSED.load(Ordering::Relaxed) {
                    self.close_unclosed();
                }
                true
            }
            Err(e @ JournalError::DuplicateDelivery { .. }) => {
                tracing::warn!(run_id = %self.run_id, error = %e, "hook delivery already recorded: not made again");
                false
            }
            Err(e @ JournalError::Fenced { .. }) => {
                self.fenced.store(true, Ordering::Relaxed);
                tracing::error!(
                    run_id = %self.run_id,
                    error = %e,
                    "another process took this durable run over: this process fires none of its hooks any more"
                );
                false
            }
            Err(e) => {
                self.broken.store(true, Ordering::Relaxed);
                tracing::error!(
                    run_id = %self.run_id,
                    error = %e,
                    "the journal could not be written: this run goes on without it"
                );
                if closes {
                    self.store_close_of_broken();
                }
                true
            }
        }
    }

    #[cold]
    fn store_close_of_broken(&self) {
        let close = [Record::RunClosed(RunClosed {
            run_id: self.run_id,
        })];
        if self.sink.append(&close).is_err() {
            UNCLOSED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(self.run_id);
            ANY_UNCLOSED.store(true, Ordering::Relaxed);
        }
    }

    #[cold]
    fn close_unclosed(&self) {
        let mut unclosed = UNCLOSED.lock().unwrap_or_else(PoisonError::into_inner);
        let closes: Vec<Record<'_>> = unclosed
            .iter()
            .map(|&run_id| Record::RunClosed(RunClosed { run_id }))
            .collect();
        if self.sink.append(&closes).is_ok() {
            unclosed.clear();
            ANY_UNCLOSED.store(false, Ordering::Relaxed);
        }
    }

    /// A step's detached plan starts: the run's close waits for it.
    fn handoff_started(&self) {
        self.handoffs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0 += 1;
    }

    /// A step's detached plan ended: the last one stores the run's close if
    /// it was held back.
    fn handoff_ended(&self) {
        let deferred = {
            let mut h = self.handoffs.lock().unwrap_or_else(PoisonError::into_inner);
            h.0 = h.0.saturating_sub(1);
            if h.0 == 0 {
                h.1.take()
            } else {
                None
            }
        };
        if let Some(records) = deferred {
            let _ = self.append(&records);
        }
    }

    /// Holds back the run's close while detached plans run; `false` when
    /// none does (the caller stores it).
    fn defer_close(&self, close: Record<'static>) -> bool {
        let mut h = self.handoffs.lock().unwrap_or_else(PoisonError::into_inner);
        if h.0 == 0 {
            return false;
        }
        h.1 = Some(vec![close]);
        true
    }
}

/// The records of one step call (or of the run's own terminal state and
/// hooks, with no step) that wait for the next write.
pub(crate) struct StepLog {
    run: Arc<DurableRun>,
    step: Option<StepCall<'static>>,
    pending: Mutex<Vec<Record<'static>>>,
    /// In a recovery: the calls the dead process recorded, and those made
    /// since.
    deliveries: Option<Deliveries>,
    delivered: Mutex<Vec<DeliveryKey<'static>>>,
    /// The log's close moved to a detached plan (see [`hand_off`](Self::hand_off)).
    handed_off: AtomicBool,
    closed: AtomicBool,
    /// An attempt's start was stored.
    started: AtomicBool,
}

/// What to do about a hook call.
pub(crate) enum Go {
    /// Call it; set this delivery for its length.
    Call(Box<Delivery>),
    /// It returned before (a recovery): never call it again.
    Skip,
}

impl StepLog {
    /// The log of a new step call of `run`.
    pub(crate) fn step(run: &Arc<DurableRun>, meta: &'static StepMeta) -> Arc<StepLog> {
        let seq = run.next_seq.fetch_add(1, Ordering::Relaxed);
        StepLog::new(
            run.clone(),
            Some(StepCall {
                seq,
                name: Cow::Borrowed(meta.name()),
            }),
            None,
        )
    }

    /// The log of the run's own terminal state and hooks.
    pub(crate) fn run(run: &Arc<DurableRun>) -> Arc<StepLog> {
        StepLog::new(run.clone(), None, None)
    }

    /// The log of a step call (`Some`) or run a recovery finishes.
    pub(crate) fn recovering(
        run: &Arc<DurableRun>,
        step: Option<StepCall<'static>>,
        deliveries: Deliveries,
    ) -> Arc<StepLog> {
        StepLog::new(run.clone(), step, Some(deliveries))
    }

    fn new(
        run: Arc<DurableRun>,
        step: Option<StepCall<'static>>,
        deliveries: Option<Deliveries>,
    ) -> Arc<StepLog> {
        let recovering = deliveries.is_some();
        Arc::new(StepLog {
            run,
            step,
            pending: Mutex::new(Vec::new()),
            deliveries,
            delivered: Mutex::new(Vec::new()),
            handed_off: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            started: AtomicBool::new(recovering),
        })
    }

    fn hold(&self, record: Record<'static>) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
    }

    /// Stores what waits, then `record`, in one write; `false` when the
    /// store refused it (see [`DurableRun::append`]).
    fn write(&self, record: Record<'static>) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.push(record);
        let stored = self.run.append(&pending);
        pending.clear();
        stored
    }

    fn step_call(&self) -> StepCall<'static> {
        self.step.clone().unwrap_or(StepCall {
            seq: u32::MAX,
            name: Cow::Borrowed(""),
        })
    }

    /// An attempt's body is about to run.
    pub(crate) fn attempt_started(&self, meta: &'static StepMeta, attempt: u32, max: u32) {
        self.started.store(true, Ordering::Relaxed);
        self.write(self.start_record(meta, attempt, max));
    }

    fn start_record(&self, meta: &'static StepMeta, attempt: u32, max: u32) -> Record<'static> {
        Record::StepStarted(StepStarted {
            run_id: self.run.run_id,
            step: self.step_call(),
            step_path: Cow::Owned(format!("{}::{}", meta.module_path(), meta.fn_name())),
            attempt,
            max_attempts: max,
            at: SystemTime::now(),
        })
    }

    /// A step call that ends before any attempt started (its run was
    /// cancelled): its start is recorded first, so that a recovery finds
    /// the call and the hooks of its end.
    pub(crate) fn ended_unstarted(&self, meta: &'static StepMeta, attempt: u32, max: u32) {
        if !self.started.swap(true, Ordering::Relaxed) {
            self.hold(self.start_record(meta, attempt, max));
        }
    }

    /// An attempt reached its outcome (`retrying`: another follows).
    pub(crate) fn step_ended(
        &self,
        attempt: u32,
        status: Status,
        error: Option<&StepError>,
        retrying: bool,
    ) {
        self.hold(Record::StepEnded(StepEnded {
            run_id: self.run.run_id,
            step: self.step_call(),
            attempt,
            status,
            error: error.map(info),
            retrying,
            at: SystemTime::now(),
        }));
    }

    /// The run reached its terminal state.
    pub(crate) fn run_ended(
        &self,
        status: Status,
        error: Option<&StepError>,
        failed: &[FailedStep],
    ) {
        self.hold(Record::RunEnded(RunEnded {
            run_id: self.run.run_id,
            status,
            error: error.map(info),
            failed_steps: failed
                .iter()
                .map(|f| FailedStepInfo {
                    name: Cow::Owned(f.name().to_owned()),
                    error: ErrorInfo {
                        kind: f.kind(),
                        message: Cow::Owned(f.message().to_owned()),
                    },
                })
                .collect(),
            at: SystemTime::now(),
        }));
    }

    fn key(&self, attempt: u32, event: Event, hook: &'static str) -> DeliveryKey<'static> {
        DeliveryKey {
            run_id: self.run.run_id,
            step: self.step.clone(),
            attempt,
            event,
            hook: Cow::Borrowed(hook),
        }
    }

    /// A hook is about to be called: its intent is stored (with what
    /// waits), unless a recovery finds it returned before.
    pub(crate) fn hook_starting(&self, attempt: u32, event: Event, hook: &'static str) -> Go {
        let key = self.key(attempt, event, hook);
        let state = match &self.deliveries {
            None => DeliveryState::NotStarted,
            Some(d) => {
                let mut delivered = self
                    .delivered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if delivered.contains(&key) {
                    return Go::Skip;
                }
                delivered.push(key.clone());
                d.state(&key)
            }
        };
        if state == DeliveryState::Done {
            return Go::Skip;
        }
        let redelivered = state == DeliveryState::InFlight;
        let delivery = Box::new(Delivery {
            key: Arc::new(key.clone()),
            redelivered,
            recovered: self.run.recovered,
        });
        if self.run.fenced.load(Ordering::Relaxed) {
            return Go::Skip;
        }
        let stored = self.write(Record::HookStarted(HookStarted {
            key,
            redelivered,
            at: SystemTime::now(),
        }));
        if !stored {
            return Go::Skip;
        }
        Go::Call(delivery)
    }

    /// A hook call returned.
    pub(crate) fn hook_ended(
        &self,
        attempt: u32,
        event: Event,
        hook: &'static str,
        status: &HookStatus,
    ) {
        let result = match status {
            HookStatus::Ok => HookResult::Ok,
            HookStatus::Failed(m) => HookResult::Failed(Cow::Owned(m.clone())),
            HookStatus::Panicked(m) => HookResult::Panicked(Cow::Owned(m.clone())),
            HookStatus::TimedOut(_) => HookResult::TimedOut,
            HookStatus::Skipped(why) => HookResult::Skipped(Cow::Owned(why.to_string())),
            HookStatus::Interrupted => HookResult::Interrupted,
        };
        let record = Record::HookEnded(HookEnded {
            key: self.key(attempt, event, hook),
            result,
            at: SystemTime::now(),
        });
        if matches!(event, Event::Start | Event::Retry) {
            self.write(record);
        } else {
            self.hold(record);
        }
    }

    /// An attempt that will be retried has fired its `on_retry` hooks.
    pub(crate) fn retry_closed(&self, attempt: u32) {
        self.write(Record::StepClosed(StepClosed {
            run_id: self.run.run_id,
            step: self.step_call(),
            attempt,
        }));
    }

    /// The rest of this call's hooks go to a detached plan, which closes
    /// the log when it ends.
    pub(crate) fn hand_off(&self) {
        if self.handed_off.swap(true, Ordering::Relaxed) {
            return;
        }
        // The outcome is stored before the step returns.
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if !pending.is_empty() {
            self.run.append(&pending);
            pending.clear();
        }
        drop(pending);
        self.run.handoff_started();
    }

    /// The call's hooks are done (`detached`: called by the detached plan
    /// at its end): the log is closed, once.
    pub(crate) fn close(&self, attempt: u32, detached: bool) {
        if !detached && self.handed_off.load(Ordering::Relaxed) {
            return;
        }
        if self.closed.swap(true, Ordering::Relaxed) {
            return;
        }
        match &self.step {
            Some(step) => {
                self.write(Record::StepClosed(StepClosed {
                    run_id: self.run.run_id,
                    step: step.clone(),
                    attempt,
                }));
                if detached {
                    self.run.handoff_ended();
                }
            }
            None => {
                let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                let close = Record::RunClosed(RunClosed {
                    run_id: self.run.run_id,
                });
                // Detached plans of its steps still run: what waits is
                // stored now, and the last of them stores the run's close.
                if self.run.defer_close(close.clone()) {
                    if !pending.is_empty() {
                        self.run.append(&pending);
                    }
                } else {
                    pending.push(close);
                    self.run.append(&pending);
                }
                pending.clear();
            }
        }
    }
}

fn info(err: &StepError) -> ErrorInfo<'static> {
    ErrorInfo {
        kind: err.kind(),
        message: Cow::Owned(err.message().to_owned()),
    }
}

/// A recorded error, as hooks see it again.
pub(crate) fn error_of(name: &str, attempt: u32, info: &ErrorInfo<'_>) -> StepError {
    if info.kind == ErrorKind::Aborted {
        return StepError::aborted(Cow::Owned(name.to_owned()), attempt);
    }
    StepError::new(
        info.kind,
        Cow::Owned(name.to_owned()),
        attempt,
        info.message.to_string(),
        None,
    )
}
