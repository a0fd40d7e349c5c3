//! The shared state of one pipeline run: identity, resources, cancellation,
//! the step defaults, and its records (failed steps, hook outcomes).
//!
//! Also the seed a [`Run`](crate::Run) hands to the first pipeline started
//! under it, in a thread-local of its own.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::calls::Calls;
use crate::error::FailedStep;
use crate::event::Event;
use crate::hook::ErasedHook;
use crate::lookup::Level;
use crate::meta::{PipelineMeta, StepMeta};
use crate::outcome::HookOutcome;
use crate::resources::Resources;
use crate::status::Status;

/// Cancellation of a run: a flag read on hot paths (one relaxed load, no
/// lock), and a token to await for async steps. A nested run's state links
/// to its parent's, so cancelling the outer run cancels the inner one.
pub(crate) struct Cancel {
    flag: AtomicBool,
    pub(crate) token: CancellationToken,
    parent: Option<Arc<Cancel>>,
}

impl Cancel {
    pub(crate) fn new() -> Arc<Cancel> {
        Arc::new(Cancel {
            flag: AtomicBool::new(false),
            token: CancellationToken::new(),
            parent: None,
        })
    }

    /// A state cancelled with this one (for a nested run).
    pub(crate) fn child(self: &Arc<Cancel>) -> Arc<Cancel> {
        Arc::new(Cancel {
            flag: AtomicBool::new(false),
            token: self.token.child_token(),
            parent: Some(self.clone()),
        })
    }

    pub(crate) fn cancel(&self) {
        self.flag.store(true, Ordering::Release);
        self.token.cancel();
    }

    #[inline]
    pub(crate) fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Acquire) || self.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }
}

/// What every step of one pipeline run shares.
pub(crate) struct RunShared {
    pub(crate) run_id: Uuid,
    pub(crate) meta: &'static PipelineMeta,
    /// The `steps(..)` defaults of the run (attribute and configuration).
    pub(crate) defaults: Level,
    pub(crate) resources: Arc<Resources>,
    pub(crate) cancel: Arc<Cancel>,
    pub(crate) hook_timeout: Duration,
    failed: Mutex<Vec<FailedStep>>,
    calls: Calls,
    status: AtomicU8,
    /// The journal of a durable run (`None` for the others).
    #[cfg(feature = "journal")]
    pub(crate) durable: Option<Arc<crate::durable::DurableRun>>,
    /// Why a durable run could not start its journal: the run fails before
    /// its body runs.
    #[cfg(feature = "journal")]
    pub(crate) journal_error: Option<String>,
}

impl RunShared {
    pub(crate) fn new(
        meta: &'static PipelineMeta,
        defaults: Level,
        resources: Arc<Resources>,
        cancel: Arc<Cancel>,
        hook_timeout: Duration,
    ) -> Arc<RunShared> {
        Arc::new(RunShared {
            run_id: Uuid::now_v7(),
            meta,
            defaults,
            resources,
            cancel,
            hook_timeout,
            failed: Mutex::new(Vec::new()),
            calls: Calls::default(),
            status: AtomicU8::new(Status::Running.to_u8()),
            #[cfg(feature = "journal")]
            durable: None,
            #[cfg(feature = "journal")]
            journal_error: None,
        })
    }

    /// The run of a dead process that a recovery finishes: its own id, its
    /// journal writing to the recovery's claim.
    #[cfg(feature = "journal")]
    pub(crate) fn recovered(
        meta: &'static PipelineMeta,
        defaults: Level,
        durable: Arc<crate::durable::DurableRun>,
    ) -> Arc<RunShared> {
        let mut run = RunShared::new(
            meta,
            defaults,
            Arc::new(Resources::new()),
            Cancel::new(),
            crate::settings::default_hook_timeout(),
        );
        let r = Arc::get_mut(&mut run).expect("a new run is not shared");
        r.run_id = durable.run_id;
        r.durable = Some(durable);
        run
    }

    /// `Some` reason when this run must fail before its body runs.
    #[cfg(feature = "journal")]
    pub(crate) fn start_error(&self) -> Option<&str> {
        self.journal_error.as_deref()
    }

    #[inline]
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// `true` when the run gives its steps nothing of their own: no step
    /// defaults (attribute or configuration) and no journal.
    #[inline]
    pub(crate) fn plain_steps(&self) -> bool {
        #[cfg(feature = "journal")]
        if self.durable.is_some() {
            return false;
        }
        self.defaults.cfg.is_none() && self.defaults.attr.filled() == 0
    }

    pub(crate) fn push_failed(&self, step: FailedStep) {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(step);
    }

    pub(crate) fn failed_snapshot(&self) -> Arc<[FailedStep]> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_slice()
            .into()
    }

    /// Records a hook call that returned `Ok`.
    #[inline]
    pub(crate) fn record_ok(
        &self,
        hook: &'static ErasedHook,
        event: Event,
        step: Option<&'static StepMeta>,
    ) {
        self.calls.push_ok(hook, event, step);
    }

    /// Records any other hook call, in full.
    pub(crate) fn record_full(&self, outcome: HookOutcome, step: Option<&'static StepMeta>) {
        self.calls.push_full(outcome, step);
    }

    /// Every hook call of the run, in the order they finished.
    pub(crate) fn outcomes(&self) -> Vec<HookOutcome> {
        self.calls.to_vec()
    }

    pub(crate) fn set_status(&self, status: Status) {
        self.status.store(status.to_u8(), Ordering::Relaxed);
    }

    pub(crate) fn status(&self) -> Status {
        Status::from_u8(self.status.load(Ordering::Relaxed))
    }
}

/// The configuration a [`Run`](crate::Run) hands to the first pipeline
/// started under it.
pub(crate) struct RunSeed {
    pub(crate) resources: Arc<Resources>,
    pub(crate) cancel: Arc<Cancel>,
    pub(crate) hook_timeout: Option<Duration>,
    pub(crate) taken: AtomicBool,
    pub(crate) run: Mutex<Option<Arc<RunShared>>>,
}

thread_local! {
    static SEED: Cell<*const RunSeed> = const { Cell::new(ptr::null()) };
}

/// Installs a run configuration for the next pipeline started on this thread.
pub(crate) struct SeedGuard {
    prev: *const RunSeed,
}

pub(crate) fn install_seed(seed: &RunSeed) -> SeedGuard {
    let prev = SEED.with(|s| s.replace(seed));
    SeedGuard { prev }
}

impl Drop for SeedGuard {
    fn drop(&mut self) {
        SEED.with(|s| s.set(self.prev));
    }
}

/// Starts a pipeline run: configured by an installed [`Run`](crate::Run) if
/// there is one (never from inside a hook: a pipeline a hook starts must not
/// take the configuration meant for the pipeline the `Run` was given), else
/// inheriting from the enclosing run (nested pipelines share its resources
/// and are cancelled with it), else with defaults.
pub(crate) fn start_run(
    meta: &'static PipelineMeta,
    defaults: Level,
    parent: Option<&RunShared>,
    in_hook: bool,
    default_hook_timeout: Duration,
    durable: bool,
) -> Arc<RunShared> {
    let seed_ptr = if in_hook {
        ptr::null()
    } else {
        SEED.with(|s| s.get())
    };
    // SAFETY: the guard that installed the pointer lives no longer than the
    // seed it points at (`Run::execute` and the `Seeded` future hold both).
    let seed = unsafe { seed_ptr.as_ref() }.filter(|s| !s.taken.swap(true, Ordering::AcqRel));
    let run = match (seed, parent) {
        (Some(s), _) => RunShared::new(
            meta,
            defaults,
            s.resources.clone(),
            s.cancel.clone(),
            s.hook_timeout.unwrap_or(default_hook_timeout),
        ),
        (None, Some(p)) => RunShared::new(
            meta,
            defaults,
            p.resources.clone(),
            p.cancel.child(),
            p.hook_timeout,
        ),
        (None, None) => RunShared::new(
            meta,
            defaults,
            Arc::new(Resources::new()),
            Cancel::new(),
            default_hook_timeout,
        ),
    };
    let mut run = run;
    if durable && !in_hook {
        start_journal(&mut run);
    }
    if let Some(seed) = seed {
        *seed.run.lock().unwrap_or_else(|p| p.into_inner()) = Some(run.clone());
    }
    run
}

/// Starts the journal of a durable run (nothing without the `journal`
/// feature: the run is not durable).
#[cold]
fn start_journal(run: &mut Arc<RunShared>) {
    #[cfg(feature = "journal")]
    if let Some(r) = Arc::get_mut(run) {
        match crate::durable::DurableRun::start(r.meta, r.run_id) {
            Ok(durable) => r.durable = durable,
            Err(why) => r.journal_error = Some(why),
        }
    }
    #[cfg(not(feature = "journal"))]
    {
        let _ = run;
        tracing::warn!(
            "a durable pipeline needs hookflow's `journal` feature; it runs without a journal"
        );
    }
}
