//! Alerters: anything that delivers one message about a step or a pipeline
//! run (a chat channel, a pager, a test recorder).
//!
//! [`Alerter`] is a small trait: deliver one [`Alert`] (the message and the
//! context it is about), asynchronously. [`RecordingAlerter`] keeps the
//! alerts it is given, for tests. With the `alerts` feature, three HTTP
//! alerters post to real services: [`SlackAlerter`] (incoming webhook,
//! `{"text": …}`), [`DiscordAlerter`] (webhook, `{"content": …}`) and
//! [`WebhookAlerter`] (a JSON object with every `hook.*` variable and
//! `message`), each with connect and request timeouts and retries with
//! exponential backoff and jitter (see [`HttpOptions`]).
//!
//! The hooks [`alert_on_failure`](crate::hooks::alert_on_failure) and
//! [`alert_on_success`](crate::hooks::alert_on_success) post through the
//! alerter a run holds in its [`Resources`](crate::Resources) as a
//! [`DefaultAlerter`]:
//!
//! ```
//! use hookflow::alert::{DefaultAlerter, RecordingAlerter};
//! use hookflow::{hooks, pipeline, step, Run};
//!
//! #[step(on_failure = hooks::alert_on_failure())]
//! async fn load() -> anyhow::Result<()> {
//!     anyhow::bail!("disk full")
//! }
//!
//! #[pipeline]
//! async fn nightly() -> anyhow::Result<()> {
//!     let _ = load().await;
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let recorder = RecordingAlerter::new();
//! Run::new()
//!     .resource(DefaultAlerter::new(recorder.clone()))
//!     .execute_async(nightly())
//!     .await;
//! let alerts = recorder.alerts();
//! assert_eq!(alerts.len(), 1);
//! assert!(alerts[0].message().starts_with("step `load` failed (error): disk full"));
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::context::HookContext;
use crate::secret::redacted;

#[cfg(feature = "config")]
pub(crate) mod kind;
#[cfg(feature = "alerts")]
pub(crate) mod limits;
pub(crate) mod message;
mod recording;

#[cfg(feature = "alerts")]
mod discord;
#[cfg(feature = "alerts")]
mod http;
#[cfg(feature = "alerts")]
mod llm;
#[cfg(feature = "alerts")]
mod slack;
#[cfg(feature = "alerts")]
mod webhook;

pub use message::default_message;
pub use recording::{RecordedAlert, RecordingAlerter};

#[cfg(feature = "alerts")]
pub use discord::DiscordAlerter;
#[cfg(feature = "alerts")]
pub use http::HttpOptions;
#[cfg(feature = "alerts")]
pub use llm::{LlmEnvError, LlmSettings, DEFAULT_BASE_URL};
#[cfg(feature = "alerts")]
pub use slack::SlackAlerter;
#[cfg(feature = "alerts")]
pub use webhook::WebhookAlerter;

/// One message to deliver, and the context it is about.
#[derive(Debug)]
pub struct Alert<'a> {
    message: String,
    ctx: &'a HookContext,
}

impl<'a> Alert<'a> {
    /// An alert with `message` about `ctx`.
    pub fn new(message: impl Into<String>, ctx: &'a HookContext) -> Self {
        Alert {
            message: message.into(),
            ctx,
        }
    }

    /// The message (already rendered).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The step's or run's context.
    pub fn context(&self) -> &'a HookContext {
        self.ctx
    }
}

/// The future an [`Alerter`] returns.
pub type AlertFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AlertError>> + Send + 'a>>;

/// Anything that delivers a message: implement it to send alerts where the
/// built-in alerters do not.
///
/// ```
/// use hookflow::alert::{Alert, AlertError, AlertFuture, Alerter};
///
/// struct Stderr;
///
/// impl Alerter for Stderr {
///     fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
///         Box::pin(async move {
///             eprintln!("ALERT: {}", alert.message());
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait Alerter: Send + Sync + 'static {
    /// Delivers `alert`. An `Err` becomes a failure of the hook that posted
    /// it: recorded on the run and logged, never a change of the step's
    /// outcome.
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a>;
}

impl<A: Alerter + ?Sized> Alerter for Arc<A> {
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
        (**self).deliver(alert)
    }
}

impl<A: Alerter + ?Sized> Alerter for Box<A> {
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
        (**self).deliver(alert)
    }
}

/// The alerter that [`alert_on_failure`](crate::hooks::alert_on_failure)
/// and [`alert_on_success`](crate::hooks::alert_on_success) post through,
/// as a run's resource: `Run::new().resource(DefaultAlerter::new(slack))`.
#[derive(Clone)]
pub struct DefaultAlerter(Arc<dyn Alerter>);

impl DefaultAlerter {
    /// Wraps `alerter`.
    pub fn new(alerter: impl Alerter) -> Self {
        DefaultAlerter(Arc::new(alerter))
    }

    /// Wraps an alerter that is already shared.
    pub fn shared(alerter: Arc<dyn Alerter>) -> Self {
        DefaultAlerter(alerter)
    }

    /// The alerter.
    pub fn alerter(&self) -> &Arc<dyn Alerter> {
        &self.0
    }
}

impl fmt::Debug for DefaultAlerter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DefaultAlerter(..)")
    }
}

/// What kind of delivery failure an [`AlertError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlertErrorKind {
    /// The server could not be reached (connection refused, DNS, TLS).
    Connect,
    /// The connection or the request ran past its time bound.
    Timeout,
    /// The server answered with this HTTP status (after the retries, for
    /// 429 and 5xx).
    Status(u16),
    /// The message could not be made (a template failed to render).
    Message,
    /// The alerter is misconfigured (a bad URL, a bad header).
    Config,
    /// Anything else.
    Other,
}

/// Why an alert was not delivered. Its text never holds a known secret (it
/// is passed through [`redact`](crate::secret::redact) when made), nor the
/// alerter's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertError {
    kind: AlertErrorKind,
    message: String,
}

impl AlertError {
    /// An error of `kind`; `message` is redacted.
    pub fn new(kind: AlertErrorKind, message: impl AsRef<str>) -> Self {
        AlertError {
            kind,
            message: redacted(message),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> AlertErrorKind {
        self.kind
    }

    /// Its message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for AlertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AlertError {}
