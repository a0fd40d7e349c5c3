//! What a hook can see: [`HookContext`] and the context builder.
//!
//! A context reads the data that stays the same for a whole call (names,
//! run, resources, span) through [`View`]: the runtime lends its running
//! frame (no copy); a context built by hand or detached owns its data.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tracing::Span;
use uuid::Uuid;

use crate::clock::Stamp;
use crate::error::{FailedStep, StepError};
use crate::resources::Resources;
use crate::status::Status;

/// A pointer to a step's output, lent to its hooks.
#[derive(Clone, Copy)]
#[doc(hidden)]
pub struct OutputPtr(pub(crate) NonNull<dyn Any + Send + Sync>);

impl OutputPtr {
    #[doc(hidden)]
    pub fn new(value: &(dyn Any + Send + Sync)) -> Self {
        OutputPtr(NonNull::from(value))
    }
}

// SAFETY: it points at a `Send + Sync` value; holding or sending the
// pointer is as safe as holding or sending a `&` to it. The runtime keeps
// the value alive for as long as the pointer is used (see `HookContext::output`).
unsafe impl Send for OutputPtr {}
// SAFETY: see `Send` above.
unsafe impl Sync for OutputPtr {}

/// What a hook can see about the step or pipeline run it fires for.
///
/// Hooks receive it as `&HookContext`; [`current()`](crate::current) gives one
/// for the step or pipeline running on this thread or task, and
/// [`HookContext::builder`] builds one by hand to unit-test a hook.
///
/// | accessor | step hooks | pipeline hooks |
/// |---|---|---|
/// | [`step_name`](Self::step_name) | the step | `None` |
/// | [`pipeline_name`](Self::pipeline_name), [`run_id`](Self::run_id) | the enclosing run, if any | the run |
/// | [`status`](Self::status), [`is_success`](Self::is_success) | the step's state | the run's state |
/// | [`error`](Self::error) | the error of this failure or failed attempt | the run's error |
/// | [`attempt`](Self::attempt), [`max_attempts`](Self::max_attempts) | 1-based attempt, `retries + 1` | `1`, `1` |
/// | [`started_at`](Self::started_at), [`finished_at`](Self::finished_at), [`duration`](Self::duration) | the step call | the run |
/// | [`output`](Self::output) | the value (`on_success`) | `None` |
/// | [`failed_steps`](Self::failed_steps) | empty | every step that failed in the run |
/// | [`resource`](Self::resource) | the run's resources | the run's resources |
/// | [`span`](Self::span) | the step's span | the run's span |
pub struct HookContext {
    /// Where the step's or run's own data comes from.
    pub(crate) src: Src,
    pub(crate) status: Status,
    pub(crate) error: Option<StepError>,
    pub(crate) attempt: u32,
    pub(crate) finished: Option<Stamp>,
    /// Points at the step's output (if shown) while the runtime lends the
    /// context to hooks; the output outlives every borrow of the context
    /// (see [`output`](Self::output)).
    pub(crate) output: Option<OutputPtr>,
    /// An output set by hand (`HookContextBuilder::output`).
    pub(crate) owned_output: Option<Box<dyn Any + Send + Sync>>,
    pub(crate) failed_steps: Option<Arc<[FailedStep]>>,
    /// A delivery set by hand (`HookContextBuilder::delivery`); the
    /// runtime's deliveries are in a thread-local (see [`Delivery`]).
    #[cfg(feature = "journal")]
    pub(crate) delivery: Option<Box<Delivery>>,
}

/// One hook call of a durable run, as its hook sees it: set on the thread
/// that calls (or polls) the hook for the length of the call (or poll), as
/// the current frame is.
pub(crate) struct Delivery {
    /// Formatted only when a hook asks for it.
    pub(crate) key: Arc<dyn fmt::Display + Send + Sync>,
    pub(crate) redelivered: bool,
    pub(crate) recovered: bool,
}

impl Clone for Delivery {
    fn clone(&self) -> Self {
        Delivery {
            key: self.key.clone(),
            redelivered: self.redelivered,
            recovered: self.recovered,
        }
    }
}

thread_local! {
    static DELIVERY: std::cell::Cell<*const Delivery> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Makes `delivery` the one hooks on this thread see until the guard drops.
pub(crate) struct DeliveryGuard {
    prev: *const Delivery,
}

/// # Safety
///
/// `delivery` must outlive the returned guard.
pub(crate) unsafe fn enter_delivery(delivery: &Delivery) -> DeliveryGuard {
    DeliveryGuard {
        prev: DELIVERY.with(|d| d.replace(delivery)),
    }
}

impl Drop for DeliveryGuard {
    fn drop(&mut self) {
        DELIVERY.with(|d| d.set(self.prev));
    }
}

fn with_delivery<T>(ctx: &HookContext, f: impl FnOnce(&Delivery) -> T) -> Option<T> {
    #[cfg(feature = "journal")]
    if let Some(d) = &ctx.delivery {
        return Some(f(d));
    }
    let _ = ctx;
    let ptr = DELIVERY.with(|d| d.get());
    // SAFETY: set by `enter_delivery`, whose guard does not outlive it.
    unsafe { ptr.as_ref() }.map(f)
}

/// The data that stays the same for a whole step call or run, as a context
/// reads it.
pub(crate) trait View: Sync {
    fn step_name(&self) -> Option<&str>;
    fn pipeline_name(&self) -> Option<&str>;
    fn run_id(&self) -> Option<Uuid>;
    fn max_attempts(&self) -> u32;
    fn started(&self) -> Option<Stamp>;
    fn resources(&self) -> Option<&Resources>;
    fn span(&self) -> &Span;
    /// The same data, owned.
    fn owned(&self) -> Owned;
}

/// The data that stays the same for a whole step call or run, owned.
#[derive(Clone)]
pub(crate) struct Owned {
    pub(crate) step: Option<Cow<'static, str>>,
    pub(crate) pipeline: Option<Cow<'static, str>>,
    pub(crate) run_id: Option<Uuid>,
    pub(crate) max_attempts: u32,
    pub(crate) started: Option<Stamp>,
    pub(crate) resources: Option<Arc<Resources>>,
    pub(crate) span: Span,
}

impl View for Owned {
    fn step_name(&self) -> Option<&str> {
        self.step.as_deref()
    }
    fn pipeline_name(&self) -> Option<&str> {
        self.pipeline.as_deref()
    }
    fn run_id(&self) -> Option<Uuid> {
        self.run_id
    }
    fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    fn started(&self) -> Option<Stamp> {
        self.started
    }
    fn resources(&self) -> Option<&Resources> {
        self.resources.as_deref()
    }
    fn span(&self) -> &Span {
        &self.span
    }
    fn owned(&self) -> Owned {
        self.clone()
    }
}

pub(crate) enum Src {
    /// The running step's or run's frame, lent to its hooks: the runtime
    /// builds such contexts next to the frame and lends them by `&` only
    /// while the frame lives (as for the output pointer).
    Lent(NonNull<dyn View>),
    /// A context that stands on its own (built by hand, a snapshot, or
    /// detached for a hook that outlives the step's stack).
    Owned(Box<Owned>),
}

// SAFETY: a lent view is `Sync` (the trait requires it), so sending or
// sharing a pointer to it is as safe as sending or sharing a `&` to it; its
// lifetime is kept by the runtime (see `Src::Lent`).
unsafe impl Send for Src {}
// SAFETY: see `Send` above.
unsafe impl Sync for Src {}

impl HookContext {
    /// A context of a running frame, lent to its hooks.
    ///
    /// The caller keeps `view` alive, and in place, for as long as the
    /// context (or any `&` to it) is used.
    #[inline]
    pub(crate) fn lent(
        view: &(dyn View + 'static),
        attempt: u32,
        status: Status,
        error: Option<StepError>,
    ) -> Self {
        HookContext {
            src: Src::Lent(NonNull::from(view)),
            status,
            error,
            attempt,
            finished: None,
            output: None,
            owned_output: None,
            failed_steps: None,
            #[cfg(feature = "journal")]
            delivery: None,
        }
    }

    pub(crate) fn empty() -> Self {
        HookContext {
            src: Src::Owned(Box::new(Owned {
                step: None,
                pipeline: None,
                run_id: None,
                max_attempts: 1,
                started: None,
                resources: None,
                span: Span::none(),
            })),
            status: Status::Running,
            error: None,
            attempt: 1,
            finished: None,
            output: None,
            owned_output: None,
            failed_steps: None,
            #[cfg(feature = "journal")]
            delivery: None,
        }
    }

    #[inline]
    fn view(&self) -> &dyn View {
        match &self.src {
            Src::Owned(o) => &**o,
            // SAFETY: contexts lending a view are built by the runtime next
            // to it and only lent by `&` while it lives (see `Src::Lent`).
            Src::Lent(v) => unsafe { v.as_ref() },
        }
    }

    /// The data of this context, owned.
    pub(crate) fn owned(&self) -> Owned {
        self.view().owned()
    }
    /// A builder for a context made by hand, to unit-test a hook without
    /// running a step:
    ///
    /// ```
    /// use hookflow::{ErrorKind, HookContext, Status, StepError};
    ///
    /// fn page_oncall(ctx: &HookContext, err: &StepError) -> Result<(), String> {
    ///     if ctx.attempt() < ctx.max_attempts() {
    ///         return Err("paged too early".into());
    ///     }
    ///     assert_eq!(err.kind(), ErrorKind::Timeout);
    ///     Ok(())
    /// }
    ///
    /// let err = StepError::manual("load", ErrorKind::Timeout, "timed out after 2s");
    /// let ctx = HookContext::builder()
    ///     .step("load")
    ///     .pipeline("nightly")
    ///     .status(Status::Failed)
    ///     .error(err.clone())
    ///     .attempt(3)
    ///     .max_attempts(3)
    ///     .build();
    /// assert_eq!(ctx.step_name(), Some("load"));
    /// assert!(page_oncall(&ctx, &err).is_ok());
    /// ```
    pub fn builder() -> HookContextBuilder {
        HookContextBuilder {
            ctx: HookContext::empty(),
        }
    }

    /// The step's display name; `None` in a pipeline's own hooks.
    pub fn step_name(&self) -> Option<&str> {
        self.view().step_name()
    }

    /// The pipeline's display name, when running inside a pipeline run.
    pub fn pipeline_name(&self) -> Option<&str> {
        self.view().pipeline_name()
    }

    /// The pipeline run's id (UUID v7, time-ordered), when inside a run.
    pub fn run_id(&self) -> Option<Uuid> {
        self.view().run_id()
    }

    /// The state this hook fires for (`Running` for `on_start` and
    /// `on_retry`); in [`current()`](crate::current), the state at the time
    /// of the call.
    pub fn status(&self) -> Status {
        self.status
    }

    /// `true` when the status is [`Status::Completed`].
    pub fn is_success(&self) -> bool {
        self.status == Status::Completed
    }

    /// The error: of the failed attempt (`on_retry`), of the final failure
    /// (`on_crash`, `on_failure`, `on_finish` after a failure), or of the
    /// cancellation. `None` on success.
    pub fn error(&self) -> Option<&StepError> {
        self.error.as_ref()
    }

    /// The attempt, 1-based.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Attempts allowed in all: `retries + 1`.
    pub fn max_attempts(&self) -> u32 {
        self.view().max_attempts()
    }

    /// When the step call (or run) started.
    pub fn started_at(&self) -> Option<SystemTime> {
        self.started().map(Stamp::wall)
    }

    fn started(&self) -> Option<Stamp> {
        self.view().started()
    }

    /// When it reached its terminal state; `None` while running.
    pub fn finished_at(&self) -> Option<SystemTime> {
        self.finished.map(Stamp::wall)
    }

    /// From start to finish, or to now while running.
    pub fn duration(&self) -> Duration {
        match self.started() {
            None => Duration::ZERO,
            Some(start) => self.finished.unwrap_or_else(Stamp::now).since(start),
        }
    }

    /// [`started_at`](Self::started_at) in RFC 3339 (UTC), as the templates
    /// show it.
    pub fn started_at_rfc3339(&self) -> Option<String> {
        self.started_at()
            .map(|t| humantime::format_rfc3339_millis(t).to_string())
    }

    /// [`finished_at`](Self::finished_at) in RFC 3339 (UTC).
    pub fn finished_at_rfc3339(&self) -> Option<String> {
        self.finished_at()
            .map(|t| humantime::format_rfc3339_millis(t).to_string())
    }

    /// The step's output, when it completed and its type is `T`
    /// (`on_success`, and `on_finish` after a success).
    ///
    /// Outputs whose type borrows (`&str`, types with lifetimes), is generic,
    /// or is not `Send + Sync` are not exposed: this returns `None` for them.
    pub fn output<T: Any>(&self) -> Option<&T> {
        match self.output {
            // SAFETY: a borrowed output is only installed by the runtime in a
            // context that lives on its stack (or its future's state) next to
            // the output, lent to hooks by `&` while the output is alive, and
            // never cloned or moved out with the pointer.
            Some(ptr) => unsafe { ptr.0.as_ref() }.downcast_ref::<T>(),
            None => self.owned_output.as_deref()?.downcast_ref::<T>(),
        }
    }

    /// The steps that failed in the run (pipeline hooks; empty elsewhere).
    pub fn failed_steps(&self) -> &[FailedStep] {
        self.failed_steps.as_deref().unwrap_or(&[])
    }

    /// A resource of the run, by type (see [`Resources`]).
    pub fn resource<R: Any + Send + Sync>(&self) -> Option<&R> {
        self.resources()?.get::<R>()
    }

    /// The run's resources, if any were given.
    pub fn resources(&self) -> Option<&Resources> {
        self.view().resources()
    }

    /// The `tracing` span of the step call or run: [`Span::none()`] for a
    /// step call that started when no subscriber (nor tracing's `log`
    /// bridge) could see it.
    pub fn span(&self) -> &Span {
        self.view().span()
    }

    /// `true` in a hook that `hookflow::recover()` fires for a run
    /// whose process died (durable pipelines, feature `journal`).
    pub fn recovered(&self) -> bool {
        with_delivery(self, |d| d.recovered).unwrap_or(false)
    }

    /// `true` when this hook call was started before and its process died
    /// before it returned: the call is made again, once. A receiver that
    /// must not act twice drops it by its [`delivery_key`](Self::delivery_key).
    pub fn redelivered(&self) -> bool {
        with_delivery(self, |d| d.redelivered).unwrap_or(false)
    }

    /// The stable key of this hook call in a durable run:
    /// `<run id>/<step call>:<step>/<attempt>/<event>/<hook>` (the step
    /// part is `-` in a pipeline's own hooks), the same when a call is
    /// redelivered after a crash, different for every other call. `None`
    /// outside durable runs.
    ///
    /// Read it while the hook runs, on the thread that calls it (for an
    /// async hook, in the hook's future): it belongs to the call, not to
    /// the context, which the hooks of one event share.
    pub fn delivery_key(&self) -> Option<String> {
        with_delivery(self, |d| d.key.to_string())
    }

    /// A copy that owns everything but the output (which is dropped): for
    /// hooks that must outlive the step's stack frame.
    pub(crate) fn detach(&self) -> HookContext {
        HookContext {
            src: Src::Owned(Box::new(self.owned())),
            status: self.status,
            error: self.error.clone(),
            attempt: self.attempt,
            finished: self.finished,
            output: None,
            owned_output: None,
            failed_steps: self.failed_steps.clone(),
            #[cfg(feature = "journal")]
            delivery: self.delivery.clone(),
        }
    }
}

impl fmt::Debug for HookContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookContext")
            .field("step", &self.step_name())
            .field("pipeline", &self.pipeline_name())
            .field("run_id", &self.run_id())
            .field("status", &self.status)
            .field("error", &self.error)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts())
            .field("duration", &self.duration())
            .field("failed_steps", &self.failed_steps())
            .finish_non_exhaustive()
    }
}

/// Builds a [`HookContext`] by hand; see [`HookContext::builder`].
#[derive(Debug)]
pub struct HookContextBuilder {
    ctx: HookContext,
}

impl HookContextBuilder {
    fn owned(&mut self) -> &mut Owned {
        match &mut self.ctx.src {
            Src::Owned(o) => o,
            Src::Lent(_) => unreachable!("a built context owns its data"),
        }
    }

    /// The step's display name.
    pub fn step(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.owned().step = Some(name.into());
        self
    }

    /// The pipeline's display name.
    pub fn pipeline(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.owned().pipeline = Some(name.into());
        self
    }

    /// The run id; [`build`](Self::build) makes a fresh UUID v7 when a
    /// pipeline is set without one.
    pub fn run_id(mut self, id: Uuid) -> Self {
        self.owned().run_id = Some(id);
        self
    }

    /// The status (default: `Running`).
    pub fn status(mut self, status: Status) -> Self {
        self.ctx.status = status;
        self
    }

    /// The error.
    pub fn error(mut self, error: StepError) -> Self {
        self.ctx.error = Some(error);
        self
    }

    /// The output, readable with [`HookContext::output`].
    pub fn output<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.ctx.owned_output = Some(Box::new(value));
        self
    }

    /// A resource, readable with [`HookContext::resource`].
    pub fn resource<R: Any + Send + Sync>(mut self, value: R) -> Self {
        let owned = self.owned();
        let mut resources = owned
            .resources
            .take()
            .map(|r| Arc::try_unwrap(r).unwrap_or_else(|shared| (*shared).clone()))
            .unwrap_or_default();
        resources.insert(value);
        owned.resources = Some(Arc::new(resources));
        self
    }

    /// All resources at once.
    pub fn resources(mut self, resources: Resources) -> Self {
        self.owned().resources = Some(Arc::new(resources));
        self
    }

    /// The attempt, 1-based (default 1).
    pub fn attempt(mut self, attempt: u32) -> Self {
        self.ctx.attempt = attempt;
        self
    }

    /// Attempts in all (default 1).
    pub fn max_attempts(mut self, max: u32) -> Self {
        self.owned().max_attempts = max;
        self
    }

    /// When it started.
    pub fn started_at(mut self, at: SystemTime) -> Self {
        self.owned().started = Some(Stamp::Wall(at));
        self
    }

    /// When it finished.
    pub fn finished_at(mut self, at: SystemTime) -> Self {
        self.ctx.finished = Some(Stamp::Wall(at));
        self
    }

    /// One failed step of the run (call once per step).
    pub fn failed_step(mut self, step: FailedStep) -> Self {
        let mut steps: Vec<FailedStep> = self
            .ctx
            .failed_steps
            .take()
            .map(|s| s.to_vec())
            .unwrap_or_default();
        steps.push(step);
        self.ctx.failed_steps = Some(steps.into());
        self
    }

    /// The call's delivery, as a durable run gives it: its key, whether it
    /// is a redelivery, whether `hookflow::recover()` fires it
    /// (feature `journal`).
    #[cfg(feature = "journal")]
    pub fn delivery(mut self, key: impl Into<String>, redelivered: bool, recovered: bool) -> Self {
        self.ctx.delivery = Some(Box::new(Delivery {
            key: Arc::new(key.into()),
            redelivered,
            recovered,
        }));
        self
    }

    /// The context.
    pub fn build(mut self) -> HookContext {
        let owned = self.owned();
        if owned.pipeline.is_some() && owned.run_id.is_none() {
            owned.run_id = Some(Uuid::now_v7());
        }
        self.ctx
    }
}

#[cfg(feature = "serde")]
mod ser {
    use super::HookContext;
    use crate::error::FailedStep;
    use serde::ser::{Serialize, SerializeStruct, Serializer};

    /// Serialises to the template variables `hook.*`: `step_name`,
    /// `pipeline`, `run_id`, `status`, `is_success`, `error_message`,
    /// `error_kind`, `attempt`, `max_attempts`, `started_at`, `completed_at`
    /// (RFC 3339), `duration_secs`, `failed_steps`, `recovered`,
    /// `redelivered`, `delivery_key`.
    impl Serialize for HookContext {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("HookContext", 16)?;
            st.serialize_field("step_name", &self.step_name())?;
            st.serialize_field("pipeline", &self.pipeline_name())?;
            st.serialize_field("run_id", &self.run_id().map(|id| id.to_string()))?;
            st.serialize_field("status", &self.status())?;
            st.serialize_field("is_success", &self.is_success())?;
            st.serialize_field("error_message", &self.error().map(|e| e.message()))?;
            st.serialize_field("error_kind", &self.error().map(|e| e.kind()))?;
            st.serialize_field("attempt", &self.attempt())?;
            st.serialize_field("max_attempts", &self.max_attempts())?;
            st.serialize_field("started_at", &self.started_at_rfc3339())?;
            st.serialize_field("completed_at", &self.finished_at_rfc3339())?;
            st.serialize_field("duration_secs", &self.duration().as_secs_f64())?;
            let failed: &[FailedStep] = self.failed_steps();
            st.serialize_field("failed_steps", failed)?;
            st.serialize_field("recovered", &self.recovered())?;
            st.serialize_field("redelivered", &self.redelivered())?;
            st.serialize_field("delivery_key", &self.delivery_key())?;
            st.end()
        }
    }
}
