//! Built-in hooks: [`log()`], [`alert_on_failure()`], [`alert_on_success()`],
//! and with the `alerts` feature `suggest_fix()`.
//!
//! Each is a call that builds a hook, usable wherever a hook is:
//!
//! ```
//! use hookflow::{hooks, step};
//!
//! #[step(on_failure = hooks::log(), on_success = hooks::log())]
//! fn load() -> anyhow::Result<u32> {
//!     Ok(7)
//! }
//!
//! assert_eq!(load().unwrap(), 7);
//! ```
//!
//! They are also registered by name for configuration files:
//! `"hookflow::log"`, `"hookflow::alert_on_failure"`,
//! `"hookflow::alert_on_success"`.
//!
//! # Alert hooks on sync and async steps
//!
//! An alert is delivered asynchronously. On an `async fn` step or pipeline
//! the hook is awaited before the step returns (within the run's hook time
//! bound). On a sync step it follows the rule of async hooks that sync code
//! cannot await: from the alert hook on, the rest of the event's hooks run,
//! in order, on hookflow's hook thread, and the step returns without
//! waiting; call [`wait_for_detached_hooks`](crate::wait_for_detached_hooks)
//! before the process exits so that the alert is not lost.

use std::sync::Arc;

use crate::alert::{default_message, Alert, Alerter, DefaultAlerter};
use crate::context::HookContext;
use crate::hook::{ErasedHook, HookCall};
use crate::named::{HookShape, NamedHook, HOOKS};
use crate::secret::redacted;
use crate::signature::{ErrorHook, Hook, StepErrorHook, StepSuccessHook, SyncFn};
use crate::status::Status;

/// A hook that emits one `tracing` event (target `hookflow`) for the state
/// it fires in, with the fields `step`, `pipeline`, `run_id`, `attempt`,
/// `max_attempts`, `status`, `kind`, `error` and `duration_secs` (texts
/// redacted): ERROR for a panic (`Crashed`), WARN for a failure or a
/// cancellation and for a failed attempt that will be retried, INFO for a
/// success and for a start.
///
/// Attach it to `on_finish` for one event per terminal state.
pub fn log() -> fn(&HookContext) {
    log_event
}

fn log_event(ctx: &HookContext) {
    let step = ctx.step_name().map(redacted);
    let pipeline = ctx.pipeline_name().map(redacted);
    let run_id = ctx.run_id().map(|id| id.to_string());
    let error = ctx.error().map(|e| redacted(e.message()));
    let kind = ctx.error().map(|e| e.kind().as_str());
    let status = ctx.status().as_str();
    let attempt = ctx.attempt();
    let max_attempts = ctx.max_attempts();
    let duration_secs = ctx.duration().as_secs_f64();
    let what = if step.is_some() { "step" } else { "pipeline" };
    macro_rules! event {
        ($level:ident, $msg:expr) => {
            tracing::$level!(
                target: "hookflow",
                step = step.as_deref(),
                pipeline = pipeline.as_deref(),
                run_id = run_id.as_deref(),
                attempt,
                max_attempts,
                status,
                kind,
                error = error.as_deref(),
                duration_secs,
                "{what} {}",
                $msg
            )
        };
    }
    match ctx.status() {
        Status::Crashed => event!(error, "crashed"),
        Status::Failed => event!(warn, "failed"),
        Status::Cancelled => event!(warn, "was cancelled"),
        Status::Completed => event!(info, "completed"),
        _ if ctx.error().is_some() => event!(warn, "attempt failed; retrying"),
        _ => event!(info, "started"),
    }
}

/// When an alert hook posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// The context has an error: a failure, a crash, a failed attempt, a
    /// cancellation.
    Failure,
    /// The step or run completed.
    Success,
    /// Whenever it fires (hooks made from configuration entries).
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    Always,
}

impl When {
    fn applies(self, ctx: &HookContext) -> bool {
        match self {
            When::Failure => ctx.error().is_some() && !ctx.is_success(),
            When::Success => ctx.is_success(),
            When::Always => true,
        }
    }

    fn skip_reason(self) -> &'static str {
        match self {
            When::Success => "skipped: an alert_on_success hook, and the step did not complete",
            _ => "skipped: an alert_on_failure hook, and there is no failure",
        }
    }
}

const NO_ALERTER: &str =
    "skipped: no alerter; give the run a `hookflow::alert::DefaultAlerter` resource";

/// Where an alert's text comes from.
#[derive(Debug)]
enum MessageSource {
    Default,
    #[cfg(feature = "config")]
    Template(Arc<crate::template::Template>),
}

struct Spec {
    when: When,
    via: Option<Arc<dyn Alerter>>,
    message: MessageSource,
}

/// A hook that posts an alert; made by [`alert_on_failure()`] and
/// [`alert_on_success()`].
///
/// It posts through the run's [`DefaultAlerter`] resource, or through the
/// alerter given to [`via`](Self::via). Without either it does not panic: it
/// logs a warning and is recorded as skipped. A delivery that fails for good
/// is a failure of this hook (recorded on the run, logged), never a change
/// of the step's outcome; its text never holds a secret.
#[derive(Clone)]
pub struct AlertHook {
    spec: Arc<Spec>,
}

impl std::fmt::Debug for AlertHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertHook")
            .field("when", &self.spec.when)
            .field("via", &self.spec.via.as_ref().map(|_| ".."))
            .field("message", &self.spec.message)
            .finish()
    }
}

/// A hook that posts an alert when there is a failure: attach it to
/// `on_failure` (also `on_crash`, `on_retry`, `on_cancel`, or `on_finish`,
/// where it posts only after a failure). The message is
/// [`crate::alert::default_message`]: step or pipeline,
/// status, error kind and message, attempt, run id, duration, and for a
/// pipeline every failed step, in one message.
pub fn alert_on_failure() -> AlertHook {
    AlertHook::new(When::Failure)
}

/// A hook that posts an alert when the step or pipeline completed: attach
/// it to `on_success` (or `on_finish`, where it posts only after a success).
pub fn alert_on_success() -> AlertHook {
    AlertHook::new(When::Success)
}

impl AlertHook {
    fn new(when: When) -> Self {
        AlertHook {
            spec: Arc::new(Spec {
                when,
                via: None,
                message: MessageSource::Default,
            }),
        }
    }

    fn edit(self, f: impl FnOnce(&mut Spec)) -> Self {
        let mut spec = Arc::try_unwrap(self.spec).unwrap_or_else(|shared| Spec {
            when: shared.when,
            via: shared.via.clone(),
            message: match &shared.message {
                MessageSource::Default => MessageSource::Default,
                #[cfg(feature = "config")]
                MessageSource::Template(t) => MessageSource::Template(t.clone()),
            },
        });
        f(&mut spec);
        AlertHook {
            spec: Arc::new(spec),
        }
    }

    /// Posts through `alerter` instead of the run's [`DefaultAlerter`].
    pub fn via(self, alerter: impl Alerter) -> Self {
        self.edit(|s| s.via = Some(Arc::new(alerter)))
    }

    /// Renders the message from `template` instead of the default message.
    #[cfg(feature = "config")]
    pub fn template(self, template: crate::template::Template) -> Self {
        self.edit(|s| s.message = MessageSource::Template(Arc::new(template)))
    }

    fn erase(self, name: &'static str) -> ErasedHook {
        let spec = self.spec;
        ErasedHook::new(name, true, move |ctx| call(&spec, name, ctx))
    }
}

fn call<'a>(spec: &Arc<Spec>, name: &'static str, ctx: &'a HookContext) -> HookCall<'a> {
    if !spec.when.applies(ctx) {
        return HookCall::Skipped(spec.when.skip_reason());
    }
    let alerter = match &spec.via {
        Some(a) => a.clone(),
        None => match ctx.resource::<DefaultAlerter>() {
            Some(d) => d.alerter().clone(),
            None => {
                tracing::warn!(
                    target: "hookflow",
                    hook = name,
                    step = ctx.step_name(),
                    pipeline = ctx.pipeline_name(),
                    "alert not sent: no alerter; give the run a `hookflow::alert::DefaultAlerter` resource"
                );
                return HookCall::Skipped(NO_ALERTER);
            }
        },
    };
    let spec = spec.clone();
    HookCall::Pending(Box::pin(async move {
        let message = match &spec.message {
            MessageSource::Default => default_message(ctx),
            #[cfg(feature = "config")]
            MessageSource::Template(t) => t
                .render(ctx)
                .map_err(|e| redacted(format!("the alert's message did not render: {e}")))?,
        };
        let alert = Alert::new(message, ctx);
        alerter
            .deliver(&alert)
            .await
            .map_err(|e| redacted(e.to_string()))
    }))
}

/// A hook that posts through `alerter` whenever it fires, with the message
/// rendered from `template` (or the default message): what a configuration
/// entry `{ alert = "NAME", message = "…" }` becomes. `name` is what hook
/// outcome records show.
#[cfg(feature = "config")]
#[allow(dead_code)] // called by the configuration loader
pub(crate) fn alert_hook(
    name: &'static str,
    alerter: Arc<dyn Alerter>,
    template: Option<Arc<crate::template::Template>>,
) -> ErasedHook {
    let spec = Arc::new(Spec {
        when: When::Always,
        via: Some(alerter),
        message: template.map_or(MessageSource::Default, MessageSource::Template),
    });
    ErasedHook::new(name, true, move |ctx| call(&spec, name, ctx))
}

/// Shape tag of the built-in hook values (not a signature users write).
#[doc(hidden)]
pub struct Builtin;

type BuiltinShape = SyncFn<Builtin, ()>;

#[diagnostic::do_not_recommend]
impl<Ev> Hook<Ev, BuiltinShape> for AlertHook {
    fn __erase(self, name: &'static str) -> ErasedHook {
        self.erase(name)
    }
}

#[diagnostic::do_not_recommend]
impl<Ev> ErrorHook<Ev, BuiltinShape> for AlertHook {
    fn __erase(self, name: &'static str) -> ErasedHook {
        self.erase(name)
    }
}

#[diagnostic::do_not_recommend]
impl<Ev, E> StepErrorHook<Ev, E, BuiltinShape> for AlertHook {
    fn __erase(self, name: &'static str) -> ErasedHook {
        self.erase(name)
    }
}

#[diagnostic::do_not_recommend]
impl<Ev, T> StepSuccessHook<Ev, T, BuiltinShape> for AlertHook {
    fn __erase(self, name: &'static str) -> ErasedHook {
        self.erase(name)
    }
}

fn make_log(name: &'static str) -> ErasedHook {
    ErasedHook::new(name, false, |ctx| {
        log_event(ctx);
        HookCall::Ready(Ok(()))
    })
}

fn make_alert_on_failure(name: &'static str) -> ErasedHook {
    alert_on_failure().erase(name)
}

fn make_alert_on_success(name: &'static str) -> ErasedHook {
    alert_on_success().erase(name)
}

#[linkme::distributed_slice(HOOKS)]
static LOG: NamedHook = NamedHook::__new("hookflow::log", HookShape::Ctx, false, make_log);

#[linkme::distributed_slice(HOOKS)]
static ALERT_ON_FAILURE: NamedHook = NamedHook::__new(
    "hookflow::alert_on_failure",
    HookShape::Ctx,
    true,
    make_alert_on_failure,
);

#[linkme::distributed_slice(HOOKS)]
static ALERT_ON_SUCCESS: NamedHook = NamedHook::__new(
    "hookflow::alert_on_success",
    HookShape::Ctx,
    true,
    make_alert_on_success,
);

// ----- suggest_fix -----------------------------------------------------------

#[cfg(feature = "alerts")]
#[allow(unused_imports)] // used by the configuration loader
pub(crate) use fix::suggest_fix_hook;
#[cfg(feature = "alerts")]
pub use fix::{suggest_fix, suggest_fix_with, SuggestFixHook};

#[cfg(feature = "alerts")]
mod fix {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{BuiltinShape, NO_ALERTER};
    use crate::alert::{default_message, Alert, Alerter, DefaultAlerter, LlmEnvError, LlmSettings};
    use crate::context::HookContext;
    use crate::hook::{ErasedHook, HookCall};
    use crate::secret::redacted;
    use crate::signature::{ErrorHook, StepErrorHook};

    const NO_FAILURE: &str = "skipped: a suggest_fix hook, and there is no failure";
    const NO_MODEL: &str = "skipped: no model to ask; set HOOKFLOW_LLM_MODEL (or OPENAI_MODEL)";

    /// The most characters of the error repeated in a suggestion's first
    /// line (the model's answer follows it).
    const HEADLINE_ERROR_CHARS: usize = 500;

    struct FixSpec {
        llm: Option<LlmSettings>,
        via: Option<Arc<dyn Alerter>>,
    }

    /// A hook that asks a model for a fix of the failure and posts the
    /// answer through an alerter; made by [`suggest_fix()`] and
    /// [`suggest_fix_with()`].
    ///
    /// When it fires after a failure (attach it to `on_failure`,
    /// `on_retry` or `on_crash`) it sends the failure to the
    /// chat-completions server of its [`LlmSettings`] (see
    /// [`LlmSettings::prompt`] for what is sent), then posts an alert that
    /// names the step and the error and carries the model's answer, through
    /// the alerter given to [`via`](Self::via) or the run's
    /// [`DefaultAlerter`]. The alerter keeps the text within its platform's
    /// limits.
    ///
    /// When the model gives no answer (an unreachable server, an HTTP
    /// error after the retries, an error object, `content: null`, an answer
    /// that is not JSON, or no answer in time) the plain failure alert of
    /// [`alert_on_failure`](super::alert_on_failure) is posted instead,
    /// with a line saying why there is no suggestion, and the hook is
    /// recorded as failed with that reason. The step's outcome never
    /// changes.
    ///
    /// Time: the whole hook runs within the run's hook time bound
    /// ([`Run::hook_timeout`](crate::Run::hook_timeout), 10 s by default).
    /// The model gets that bound less a quarter of it (at most 10 s), which
    /// is kept for posting the alert. A local model that needs a minute
    /// needs a run with `hook_timeout(Duration::from_secs(90))`.
    #[derive(Clone)]
    pub struct SuggestFixHook {
        spec: Arc<FixSpec>,
    }

    impl std::fmt::Debug for SuggestFixHook {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SuggestFixHook")
                .field("llm", &self.spec.llm)
                .field("via", &self.spec.via.as_ref().map(|_| ".."))
                .finish()
        }
    }

    /// A hook that asks a model for a fix and posts it through the run's
    /// [`DefaultAlerter`] (see [`SuggestFixHook`]).
    ///
    /// The model is the run's [`LlmSettings`] resource, if it has one
    /// (`Run::new().resource(LlmSettings::new(..))`: a test server, a local
    /// model per environment). Otherwise the settings are read from the
    /// environment each time it fires (see [`LlmSettings::from_env`]): `OPENAI_BASE_URL` (default
    /// `https://api.openai.com/v1`), `OPENAI_API_KEY` (optional; without it
    /// no `Authorization` header is sent) and `HOOKFLOW_LLM_MODEL`, falling
    /// back to `OPENAI_MODEL`. With no model set it asks nothing: it logs a
    /// warning that names the variable to set and is recorded as skipped.
    ///
    /// ```no_run
    /// use hookflow::alert::{DefaultAlerter, SlackAlerter};
    /// use hookflow::secret::Secret;
    /// use hookflow::{hooks, pipeline, step, Run};
    ///
    /// #[step(on_failure = hooks::suggest_fix())]
    /// async fn load() -> anyhow::Result<()> {
    ///     anyhow::bail!("relation \"events\" does not exist")
    /// }
    ///
    /// #[pipeline]
    /// async fn nightly() -> anyhow::Result<()> {
    ///     load().await?;
    ///     Ok(())
    /// }
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let slack = SlackAlerter::new(Secret::from_env("SLACK_WEBHOOK_URL")?)?;
    /// Run::new()
    ///     .resource(DefaultAlerter::new(slack))
    ///     .execute_async(nightly())
    ///     .await;
    /// # Ok(()) }
    /// ```
    pub fn suggest_fix() -> SuggestFixHook {
        SuggestFixHook {
            spec: Arc::new(FixSpec {
                llm: None,
                via: None,
            }),
        }
    }

    /// [`suggest_fix()`] with its settings given here instead of read from
    /// the environment.
    ///
    /// ```
    /// use hookflow::alert::{LlmSettings, RecordingAlerter};
    /// use hookflow::{hooks, step};
    ///
    /// let llm = LlmSettings::new("http://127.0.0.1:8080/v1", "qwen2.5-coder");
    /// let hook = hooks::suggest_fix_with(llm).via(RecordingAlerter::new());
    /// # let _ = hook;
    /// ```
    pub fn suggest_fix_with(settings: LlmSettings) -> SuggestFixHook {
        SuggestFixHook {
            spec: Arc::new(FixSpec {
                llm: Some(settings),
                via: None,
            }),
        }
    }

    impl SuggestFixHook {
        /// Posts through `alerter` instead of the run's [`DefaultAlerter`].
        pub fn via(self, alerter: impl Alerter) -> Self {
            SuggestFixHook {
                spec: Arc::new(FixSpec {
                    llm: self.spec.llm.clone(),
                    via: Some(Arc::new(alerter)),
                }),
            }
        }

        /// Asks the model of `settings` instead of the one the environment
        /// names.
        pub fn settings(self, settings: LlmSettings) -> Self {
            SuggestFixHook {
                spec: Arc::new(FixSpec {
                    llm: Some(settings),
                    via: self.spec.via.clone(),
                }),
            }
        }

        fn erase(self, name: &'static str) -> ErasedHook {
            let spec = self.spec;
            ErasedHook::new(name, true, move |ctx| call(&spec, name, ctx))
        }
    }

    /// What a configuration entry `{ suggest_fix = "NAME" }` becomes: a
    /// hook posting through `alerter`, with the settings of the
    /// environment. `name` is what hook outcome records show.
    #[allow(dead_code)] // called by the configuration loader
    pub(crate) fn suggest_fix_hook(name: &'static str, alerter: Arc<dyn Alerter>) -> ErasedHook {
        let spec = Arc::new(FixSpec {
            llm: None,
            via: Some(alerter),
        });
        ErasedHook::new(name, true, move |ctx| call(&spec, name, ctx))
    }

    /// The model's share of the hook's time bound `bound`: the rest (a
    /// quarter, at most 10 s) is kept for posting the alert.
    fn model_budget(bound: Duration) -> Duration {
        bound - (bound / 4).min(Duration::from_secs(10))
    }

    fn call<'a>(spec: &Arc<FixSpec>, name: &'static str, ctx: &'a HookContext) -> HookCall<'a> {
        if ctx.error().is_none() || ctx.is_success() {
            return HookCall::Skipped(NO_FAILURE);
        }
        let alerter = match &spec.via {
            Some(a) => a.clone(),
            None => match ctx.resource::<DefaultAlerter>() {
                Some(d) => d.alerter().clone(),
                None => {
                    tracing::warn!(
                        target: "hookflow",
                        hook = name,
                        step = ctx.step_name(),
                        pipeline = ctx.pipeline_name(),
                        "no fix suggested: no alerter; give the run a `hookflow::alert::DefaultAlerter` resource"
                    );
                    return HookCall::Skipped(NO_ALERTER);
                }
            },
        };
        let llm = match spec.llm.as_ref().or_else(|| ctx.resource::<LlmSettings>()) {
            Some(s) => s.clone(),
            None => match LlmSettings::from_env() {
                Ok(s) => s,
                Err(LlmEnvError::NoModel) => {
                    tracing::warn!(
                        target: "hookflow",
                        hook = name,
                        step = ctx.step_name(),
                        pipeline = ctx.pipeline_name(),
                        "no fix suggested: no model to ask; set HOOKFLOW_LLM_MODEL (or OPENAI_MODEL) to the model's name"
                    );
                    return HookCall::Skipped(NO_MODEL);
                }
                Err(e) => return HookCall::Ready(Err(e.to_string())),
            },
        };
        // Called where the hook fires, with its step's frame current.
        let bound = crate::frame::with_current(|f| {
            crate::call::hook_bound(f.and_then(crate::frame::Frame::run))
        });
        let budget = model_budget(bound);
        HookCall::Pending(Box::pin(async move {
            match llm.suggest_within(ctx, Some(budget)).await {
                Ok(answer) => {
                    let alert = Alert::new(suggestion_message(ctx, &answer), ctx);
                    alerter
                        .deliver(&alert)
                        .await
                        .map_err(|e| redacted(format!("the suggested fix was not posted: {e}")))
                }
                Err(why) => {
                    let message = format!("{}\n(no suggested fix: {why})", default_message(ctx));
                    let alert = Alert::new(redacted(message), ctx);
                    Err(redacted(match alerter.deliver(&alert).await {
                        Ok(()) => {
                            format!("no suggested fix: {why}; the plain failure alert was posted")
                        }
                        Err(e) => format!(
                            "no suggested fix: {why}; the plain failure alert was not posted either: {e}"
                        ),
                    }))
                }
            }
        }))
    }

    /// `Suggested fix for step `load` (pipeline `nightly`), which failed
    /// (error): disk full`, then the answer; redacted.
    fn suggestion_message(ctx: &HookContext, answer: &str) -> String {
        let mut out = match ctx.step_name() {
            Some(step) => format!("Suggested fix for step `{step}`"),
            None => format!(
                "Suggested fix for pipeline `{}`",
                ctx.pipeline_name().unwrap_or("?")
            ),
        };
        if let (Some(_), Some(p)) = (ctx.step_name(), ctx.pipeline_name()) {
            out.push_str(&format!(" (pipeline `{p}`)"));
        }
        if let Some(e) = ctx.error() {
            let message = crate::alert::limits::fit(
                e.message(),
                HEADLINE_ERROR_CHARS,
                crate::alert::limits::plain,
            );
            if ctx.status().is_terminal() {
                out.push_str(&format!(
                    ", which {} ({}): {message}",
                    ctx.status(),
                    e.kind()
                ));
            } else {
                out.push_str(&format!(
                    ", whose attempt {} of {} failed ({}): {message}",
                    ctx.attempt(),
                    ctx.max_attempts(),
                    e.kind()
                ));
            }
        }
        out.push_str("\n\n");
        out.push_str(answer);
        redacted(out)
    }

    #[diagnostic::do_not_recommend]
    impl<Ev> ErrorHook<Ev, BuiltinShape> for SuggestFixHook {
        fn __erase(self, name: &'static str) -> ErasedHook {
            self.erase(name)
        }
    }

    #[diagnostic::do_not_recommend]
    impl<Ev, E> StepErrorHook<Ev, E, BuiltinShape> for SuggestFixHook {
        fn __erase(self, name: &'static str) -> ErasedHook {
            self.erase(name)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_model_leaves_time_for_the_alert() {
            assert_eq!(
                model_budget(Duration::from_secs(10)),
                Duration::from_millis(7500)
            );
            assert_eq!(
                model_budget(Duration::from_secs(120)),
                Duration::from_secs(110)
            );
        }
    }
}
