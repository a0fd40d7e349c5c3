//! The public face of pipeline runs: the [`Run`] builder that configures
//! and reports on one, cancellation, and [`spawn`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use uuid::Uuid;

use crate::error::FailedStep;
use crate::frame::{enter, with_current, Frame};
use crate::outcome::HookOutcome;
use crate::resources::Resources;
use crate::run_state::{install_seed, Cancel, RunSeed, RunShared};
use crate::status::Status;

/// Cancels a pipeline run from anywhere (another task, a signal handler).
///
/// Running async steps end [`Cancelled`](crate::Status::Cancelled) at their
/// next await point (an async step waiting out its retry delay, at once);
/// steps not yet started end cancelled without running. The run itself
/// ends `Cancelled` and its own `on_cancel` hooks fire when it ends, even
/// if its body returns `Ok`: the caller asked for the cancellation, so it
/// gets a [`PipelineError`](crate::PipelineError) of kind
/// [`Cancelled`](crate::ErrorKind::Cancelled) instead of the value (a body
/// that panics still ends `Crashed`).
///
/// A run that crashes, or whose future is dropped, cancels itself the same
/// way (the handle then reports it cancelled), so that the steps of tasks it
/// [`spawn`]ed and left running end `Cancelled` too. Steps called from hooks
/// are none of the run's: its cancellation does not reach them.
#[derive(Clone, Debug)]
pub struct CancelHandle {
    cancel: Arc<Cancel>,
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelHandle {
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// `true` once cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes once cancellation is requested (to select on in a pipeline
    /// body that awaits other things than steps).
    pub async fn cancelled(&self) {
        self.cancel.token.cancelled().await
    }
}

/// Configures one pipeline run and reports on it.
///
/// ```
/// use hookflow::{pipeline, step, HookContext, Run};
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct Recorder(Mutex<Vec<String>>);
///
/// fn record(ctx: &HookContext) {
///     let rec = ctx.resource::<Recorder>().expect("given to the run");
///     rec.0.lock().unwrap().push(ctx.step_name().unwrap().to_owned());
/// }
///
/// #[step(on_success = record)]
/// fn extract() -> u32 { 7 }
///
/// #[pipeline]
/// fn nightly() -> anyhow::Result<u32> {
///     Ok(extract()?)
/// }
///
/// let report = Run::new().resource(Recorder::default()).execute(nightly);
/// assert_eq!(*report.output().as_ref().unwrap(), 7);
/// assert!(report.run_id().is_some());
/// assert_eq!(report.hook_outcomes().len(), 1);
/// ```
pub struct Run {
    seed: RunSeed,
}

impl Default for Run {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("resources", &self.seed.resources)
            .field("hook_timeout", &self.seed.hook_timeout)
            .finish_non_exhaustive()
    }
}

impl Run {
    /// A run with no resources and the default hook time bound.
    pub fn new() -> Self {
        Run {
            seed: RunSeed {
                resources: Arc::new(Resources::new()),
                cancel: Cancel::new(),
                hook_timeout: None,
                taken: AtomicBool::new(false),
                run: Mutex::new(None),
            },
        }
    }

    /// Adds a resource (one per type) that hooks and steps of the run read.
    pub fn resource<R: std::any::Any + Send + Sync>(mut self, value: R) -> Self {
        Arc::make_mut(&mut self.seed.resources).insert(value);
        self
    }

    /// Gives the run these resources.
    pub fn resources(mut self, resources: Resources) -> Self {
        self.seed.resources = Arc::new(resources);
        self
    }

    /// The time bound of the run's async hooks (default:
    /// [`default_hook_timeout`](crate::default_hook_timeout())).
    pub fn hook_timeout(mut self, bound: Duration) -> Self {
        self.seed.hook_timeout = Some(bound);
        self
    }

    /// A handle that cancels the run.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            cancel: self.seed.cancel.clone(),
        }
    }

    /// Runs `f`, which calls a sync pipeline; the first pipeline it starts
    /// is configured by this run.
    pub fn execute<T>(self, f: impl FnOnce() -> T) -> RunReport<T> {
        let output = {
            let _seed = install_seed(&self.seed);
            f()
        };
        self.report(output)
    }

    /// Awaits `fut`, which calls an async pipeline; the first pipeline it
    /// starts is configured by this run.
    pub async fn execute_async<F: Future>(self, fut: F) -> RunReport<F::Output> {
        let output = Seeded {
            seed: &self.seed,
            fut,
        }
        .await;
        self.report(output)
    }

    fn report<T>(self, output: T) -> RunReport<T> {
        let run = self
            .seed
            .run
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        RunReport { output, run }
    }
}

pin_project_lite::pin_project! {
    struct Seeded<'s, F> {
        seed: &'s RunSeed,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Seeded<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _seed = (!this.seed.taken.load(Ordering::Acquire)).then(|| install_seed(this.seed));
        this.fut.poll(cx)
    }
}

/// What a [`Run`] gives back: the pipeline's result and the run's records.
///
/// Async hooks that had to be detached (fired from `Drop`, or attached to a
/// sync step) may finish after the run; their outcomes appear here when they
/// do.
pub struct RunReport<T> {
    output: T,
    run: Option<Arc<RunShared>>,
}

impl<T> RunReport<T> {
    /// What the closure or future returned (the pipeline's `Result`).
    pub fn output(&self) -> &T {
        &self.output
    }

    /// Takes the output.
    pub fn into_output(self) -> T {
        self.output
    }

    /// The run's id; `None` when no pipeline ran.
    pub fn run_id(&self) -> Option<Uuid> {
        self.run.as_ref().map(|r| r.run_id)
    }

    /// The run's terminal state; `None` when no pipeline ran.
    pub fn status(&self) -> Option<Status> {
        self.run.as_ref().map(|r| r.status())
    }

    /// Every hook call of the run (its steps' and its own), in the order
    /// they finished.
    pub fn hook_outcomes(&self) -> Vec<HookOutcome> {
        self.run.as_ref().map_or_else(Vec::new, |r| r.outcomes())
    }

    /// The hook calls that failed, panicked, timed out or were interrupted.
    pub fn hook_failures(&self) -> Vec<HookOutcome> {
        let mut all = self.hook_outcomes();
        all.retain(|o| !o.status().is_ok());
        all
    }

    /// The steps that failed in the run.
    pub fn failed_steps(&self) -> Vec<FailedStep> {
        self.run
            .as_ref()
            .map_or_else(Vec::new, |r| r.failed_snapshot().to_vec())
    }
}

impl<T: fmt::Debug> fmt::Debug for RunReport<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunReport")
            .field("output", &self.output)
            .field("run_id", &self.run_id())
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A future that belongs to the run (and step) it was spawned from.
    pub struct InRun<F> {
        frame: Option<Frame>,
        in_hook: bool,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for InRun<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.frame.as_ref().map(enter);
        let _span = this.frame.as_ref().map(|f| f.span.enter());
        let _hook = this.in_hook.then(crate::frame::enter_hook);
        this.fut.poll(cx)
    }
}

/// Binds `fut` to the step or pipeline run that is current here, so that
/// steps it runs record into that run, fire its `steps(..)` defaults, and
/// see it through [`current()`](crate::current), whatever thread polls it.
pub fn in_current_run<F: Future>(fut: F) -> InRun<F> {
    InRun {
        frame: with_current(|f| f.map(Frame::task_of)),
        // Work spawned from inside a hook stays "inside a hook".
        in_hook: crate::frame::in_hook(),
        fut,
    }
}

/// `tokio::spawn` for work that belongs to the current pipeline run: steps
/// run by the task attribute their results to the run and fire their hooks
/// exactly once (see [`in_current_run`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use hookflow::{pipeline, step, current};
///
/// #[step]
/// async fn work(i: u32) -> u32 {
///     assert!(current().unwrap().run_id().is_some());
///     i * 2
/// }
///
/// #[pipeline]
/// async fn fan_out() -> anyhow::Result<u32> {
///     let tasks: Vec<_> = (0..4).map(|i| hookflow::spawn(work(i))).collect();
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await??;
///     }
///     Ok(sum)
/// }
///
/// assert_eq!(fan_out().await.unwrap(), 12);
/// # }
/// ```
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(in_current_run(fut))
}
