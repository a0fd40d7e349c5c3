//! The error types a step or pipeline call returns.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

/// What went wrong in a failed step or pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ErrorKind {
    /// The body returned an `Err`.
    Error,
    /// The body panicked. The panic was caught; the process goes on.
    Panic,
    /// An attempt ran longer than the step's `timeout`.
    Timeout,
    /// The step's future was dropped before it finished, or its pipeline run
    /// was cancelled.
    Cancelled,
    /// The process running the step died (killed, out of memory, power cut)
    /// before the step finished; `hookflow::recover()` gave it this
    /// end afterwards (feature `journal`).
    Aborted,
}

impl ErrorKind {
    /// The lower-case name used in logs and templates: `error`, `panic`,
    /// `timeout`, `cancelled`, `aborted`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Error => "error",
            ErrorKind::Panic => "panic",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Aborted => "aborted",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

struct Inner {
    kind: ErrorKind,
    name: Cow<'static, str>,
    attempt: u32,
    message: String,
    source: Option<anyhow::Error>,
}

/// The error of a step call: the step failed (returned error or timeout, after
/// all retries), panicked, or was cancelled.
///
/// It keeps the original error reachable: [`source()`](std::error::Error::source)
/// returns it and [`downcast_ref`](StepError::downcast_ref) gives it back typed.
/// It is cheap to clone (the data is shared), `Send + Sync + 'static`, so `?`
/// works into `anyhow::Error` and `Box<dyn Error + Send + Sync>`.
///
/// ```
/// use hookflow::{step, ErrorKind};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("disk full")]
/// struct DiskFull;
///
/// #[step]
/// fn save() -> Result<(), DiskFull> {
///     Err(DiskFull)
/// }
///
/// let err = save().unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Error);
/// assert_eq!(err.message(), "disk full");
/// assert!(err.downcast_ref::<DiskFull>().is_some());
/// ```
#[derive(Clone)]
pub struct StepError {
    inner: Arc<Inner>,
}

impl StepError {
    pub(crate) fn new(
        kind: ErrorKind,
        name: Cow<'static, str>,
        attempt: u32,
        message: String,
        source: Option<anyhow::Error>,
    ) -> Self {
        // Every message leaves hookflow redacted: a known secret value that
        // an error echoes (a URL, a token) never reaches a log or a hook.
        let message = match crate::secret::redact(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(clean) => clean,
        };
        StepError {
            inner: Arc::new(Inner {
                kind,
                name,
                attempt,
                message,
                source,
            }),
        }
    }

    pub(crate) fn from_error(name: Cow<'static, str>, attempt: u32, err: anyhow::Error) -> Self {
        Self::with_kind(ErrorKind::Error, name, attempt, err)
    }

    /// An error of `kind` caused by `err`.
    pub(crate) fn with_kind(
        kind: ErrorKind,
        name: Cow<'static, str>,
        attempt: u32,
        err: anyhow::Error,
    ) -> Self {
        // `{:#}` keeps anyhow's context chain on one line.
        let message = format!("{err:#}");
        Self::new(kind, name, attempt, message, Some(err))
    }

    pub(crate) fn timeout(name: Cow<'static, str>, attempt: u32, after: Duration) -> Self {
        let message = format!("timed out after {}", humantime::format_duration(after));
        Self::new(ErrorKind::Timeout, name, attempt, message, None)
    }

    /// A step or run whose process died before it finished.
    #[cfg_attr(not(feature = "journal"), allow(dead_code))]
    pub(crate) fn aborted(name: Cow<'static, str>, attempt: u32) -> Self {
        Self::new(
            ErrorKind::Aborted,
            name,
            attempt,
            "the process running it died before it finished".to_owned(),
            None,
        )
    }

    pub(crate) fn cancelled(name: Cow<'static, str>, attempt: u32) -> Self {
        Self::new(
            ErrorKind::Cancelled,
            name,
            attempt,
            "cancelled".to_owned(),
            None,
        )
    }

    /// Builds an error by hand, to unit-test a failure hook (see
    /// [`HookContext::builder`](crate::HookContext::builder)).
    ///
    /// ```
    /// use hookflow::{ErrorKind, StepError};
    /// let err = StepError::manual("load", ErrorKind::Timeout, "timed out after 2s");
    /// assert_eq!(err.step_name(), "load");
    /// assert_eq!(err.to_string(), "step `load` timed out: timed out after 2s");
    /// ```
    pub fn manual(
        step: impl Into<Cow<'static, str>>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self::new(kind, step.into(), 1, message.into(), None)
    }

    /// Like [`manual`](Self::manual), keeping `source` as the original error.
    pub fn manual_from<E>(step: impl Into<Cow<'static, str>>, source: E) -> Self
    where
        E: Into<anyhow::Error>,
    {
        Self::from_error(step.into(), 1, source.into())
    }

    /// What happened: a returned error, a panic, a timeout or a cancellation.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The display name of the step (or pipeline) that failed.
    pub fn step_name(&self) -> &str {
        &self.inner.name
    }

    /// The attempt (1-based) that produced this error.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// The message of the original error (with its context chain), the panic
    /// message, or a description of the timeout or cancellation.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// `true` for [`ErrorKind::Panic`].
    pub fn is_panic(&self) -> bool {
        self.inner.kind == ErrorKind::Panic
    }

    /// The original error, as `anyhow::Error`, when the body returned one.
    pub fn original(&self) -> Option<&anyhow::Error> {
        self.inner.source.as_ref()
    }

    /// The original error, typed: `Some(&E)` when the body returned an `E`
    /// (or an error whose chain contains an `E`, including errors of steps
    /// called from this one).
    pub fn downcast_ref<E>(&self) -> Option<&E>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        let source = self.inner.source.as_ref()?;
        if let Some(e) = (source as &dyn Any).downcast_ref::<E>() {
            // `E` is `anyhow::Error` itself.
            return Some(e);
        }
        if let Some(e) = source.downcast_ref::<E>() {
            return Some(e);
        }
        for cause in source.chain() {
            if let Some(nested) = cause.downcast_ref::<StepError>() {
                if let Some(e) = nested.downcast_ref::<E>() {
                    return Some(e);
                }
            }
            if let Some(nested) = cause.downcast_ref::<PipelineError>() {
                if let Some(e) = nested.downcast_ref::<E>() {
                    return Some(e);
                }
            }
        }
        None
    }
}

/// `step `load` failed: <cause>`. The cause is the original error's own
/// text (not its chain): the rest of the chain is what `source()` gives, so
/// that `{:#}` and error reporters print every cause exactly once.
fn describe(f: &mut fmt::Formatter<'_>, what: &str, err: &StepError) -> fmt::Result {
    let name = err.step_name();
    let verb = match err.kind() {
        ErrorKind::Error => "failed",
        ErrorKind::Panic => "panicked",
        ErrorKind::Timeout => "timed out",
        ErrorKind::Aborted => "was aborted",
        ErrorKind::Cancelled => return write!(f, "{what} `{name}` was cancelled"),
    };
    match &err.inner.source {
        // The original's text, redacted as the message is.
        Some(cause) => {
            let text = cause.to_string();
            write!(
                f,
                "{what} `{name}` {verb}: {}",
                crate::secret::redact(&text)
            )
        }
        None => write!(f, "{what} `{name}` {verb}: {}", err.message()),
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "step", self)
    }
}

impl fmt::Debug for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepError")
            .field("kind", &self.inner.kind)
            .field("step", &self.inner.name)
            .field("attempt", &self.inner.attempt)
            .field("message", &self.inner.message)
            .finish()
    }
}

/// The source is the original error's own source: the original's text is
/// already part of this error's `Display` (see `describe`). The original
/// itself stays reachable through [`StepError::original`] and
/// [`StepError::downcast_ref`].
impl std::error::Error for StepError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let original: &(dyn std::error::Error + 'static) = self.inner.source.as_ref()?.as_ref();
        original.source()
    }
}

/// One failed step of a pipeline run: its name, error message and kind.
///
/// With the `serde` feature it serialises as the template variables of a
/// `hook.failed_steps` item: `step_name`, `error_message`, `error_kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FailedStep {
    #[cfg_attr(feature = "serde", serde(rename = "step_name"))]
    name: Cow<'static, str>,
    #[cfg_attr(feature = "serde", serde(rename = "error_message"))]
    message: String,
    #[cfg_attr(feature = "serde", serde(rename = "error_kind"))]
    kind: ErrorKind,
}

impl FailedStep {
    /// A failed-step record, for [`HookContext::builder`](crate::HookContext::builder).
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        kind: ErrorKind,
    ) -> Self {
        FailedStep {
            name: name.into(),
            message: message.into(),
            kind,
        }
    }

    pub(crate) fn from_error(err: &StepError) -> Self {
        FailedStep {
            name: err.inner.name.clone(),
            message: err.inner.message.clone(),
            kind: err.inner.kind,
        }
    }

    /// The step's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The step's error message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What happened to the step.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for FailedStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name, self.kind, self.message)
    }
}

/// The error of a pipeline run: the body returned an error, panicked, or the
/// run was cancelled.
///
/// Like [`StepError`] it keeps the original error reachable (`source()`,
/// [`downcast_ref`](Self::downcast_ref), which also looks through the errors
/// of the steps the body propagated with `?`), and it lists the steps that
/// failed during the run.
#[derive(Clone)]
pub struct PipelineError {
    error: StepError,
    run_id: Uuid,
    failed_steps: Arc<[FailedStep]>,
}

impl PipelineError {
    pub(crate) fn new(error: StepError, run_id: Uuid, failed_steps: Arc<[FailedStep]>) -> Self {
        PipelineError {
            error,
            run_id,
            failed_steps,
        }
    }

    /// What happened to the run.
    pub fn kind(&self) -> ErrorKind {
        self.error.kind()
    }

    /// The pipeline's display name.
    pub fn pipeline_name(&self) -> &str {
        self.error.step_name()
    }

    /// The run's id (UUID v7).
    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// The message of the error that ended the run.
    pub fn message(&self) -> &str {
        self.error.message()
    }

    /// The steps that failed during the run, in the order they ended.
    pub fn failed_steps(&self) -> &[FailedStep] {
        &self.failed_steps
    }

    /// The run's error in the shape hooks see it (`HookContext::error`).
    pub fn as_step_error(&self) -> &StepError {
        &self.error
    }

    /// The original error, typed, looking through step errors the body
    /// propagated (`step()?`).
    pub fn downcast_ref<E>(&self) -> Option<&E>
    where
        E: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.error.downcast_ref::<E>()
    }
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(f, "pipeline", &self.error)
    }
}

impl fmt::Debug for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineError")
            .field("kind", &self.kind())
            .field("pipeline", &self.pipeline_name())
            .field("run_id", &self.run_id)
            .field("message", &self.message())
            .field("failed_steps", &self.failed_steps)
            .finish()
    }
}

impl std::error::Error for PipelineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
