//! [`WebhookAlerter`]: any HTTP endpoint that takes JSON.

use super::http::{HttpOptions, Poster};
use super::{Alert, AlertError, AlertErrorKind, AlertFuture, Alerter};
use crate::context::HookContext;
use crate::secret::Secret;
use crate::vars::HookVars;

/// Posts a JSON object with every `hook.*` template variable (`step_name`,
/// `pipeline`, `run_id`, `status`, `is_success`, `error_message`,
/// `error_kind`, `attempt`, `max_attempts`, `started_at`, `completed_at`,
/// `duration_secs`, `failed_steps`) and `message`, with optional headers
/// (an `Authorization` token, say; header values are [`Secret`]s).
///
/// ```no_run
/// use hookflow::alert::{HttpOptions, WebhookAlerter};
/// use hookflow::secret::Secret;
///
/// let hook = WebhookAlerter::builder("https://alerts.example.com/hookflow")
///     .header("Authorization", Secret::from_env("ALERTS_TOKEN")?)
///     .options(HttpOptions::default().retries(5))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WebhookAlerter {
    poster: Poster,
}

/// Builds a [`WebhookAlerter`]; see [`WebhookAlerter::builder`].
#[derive(Debug)]
pub struct WebhookBuilder {
    url: Secret,
    headers: Vec<(String, Secret)>,
    options: HttpOptions,
}

impl WebhookBuilder {
    /// Adds a header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Timeouts and retries.
    pub fn options(mut self, options: HttpOptions) -> Self {
        self.options = options;
        self
    }

    /// The alerter; an error for a URL that is not http(s) or an invalid
    /// header.
    pub fn build(self) -> Result<WebhookAlerter, AlertError> {
        Ok(WebhookAlerter {
            poster: Poster::new("webhook", self.url, self.headers, self.options)?,
        })
    }
}

impl WebhookAlerter {
    /// An alerter for `url` with no headers and the default [`HttpOptions`].
    pub fn new(url: impl Into<Secret>) -> Result<Self, AlertError> {
        Self::builder(url).build()
    }

    /// A builder, to add headers and options.
    pub fn builder(url: impl Into<Secret>) -> WebhookBuilder {
        WebhookBuilder {
            url: url.into(),
            headers: Vec::new(),
            options: HttpOptions::default(),
        }
    }

    /// The JSON body posted for `message` about `ctx`.
    pub fn body(message: &str, ctx: &HookContext) -> serde_json::Value {
        let mut body = serde_json::to_value(HookVars::of(ctx)).unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            map.insert("message".into(), message.into());
        }
        body
    }
}

impl Alerter for WebhookAlerter {
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(&Self::body(alert.message(), alert.context()))
                .map_err(|e| AlertError::new(AlertErrorKind::Message, e.to_string()))?;
            self.poster.post(body, alert.context().delivery_key()).await
        })
    }
}

impl std::fmt::Debug for WebhookAlerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookAlerter { url: [redacted] }")
    }
}
