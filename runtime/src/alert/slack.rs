//! [`SlackAlerter`]: a Slack incoming webhook.

use super::http::{HttpOptions, Poster};
use super::limits::{escape_slack, fit};
use super::{Alert, AlertError, AlertErrorKind, AlertFuture, Alerter};
use crate::secret::Secret;

/// Posts to a Slack incoming webhook: `{"text": …}`.
///
/// The text has Slack's control characters escaped (`&`, `<`, `>`, so an
/// error message cannot forge a link or a mention) and is kept within
/// [`SlackAlerter::TEXT_LIMIT`] characters by cutting the middle of a long
/// message, never by failing. The webhook URL is the credential: it is kept
/// as a [`Secret`] and never shown in errors or logs.
///
/// ```no_run
/// use hookflow::alert::{DefaultAlerter, SlackAlerter};
/// use hookflow::secret::Secret;
/// use hookflow::Run;
///
/// let slack = SlackAlerter::new(Secret::from_env("SLACK_WEBHOOK_URL")?)?;
/// let run = Run::new().resource(DefaultAlerter::new(slack));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SlackAlerter {
    poster: Poster,
}

impl SlackAlerter {
    /// The longest `text` posted, in characters (Slack advises at most
    /// 4 000 and cuts at 40 000).
    pub const TEXT_LIMIT: usize = 4_000;

    /// An alerter for the webhook `url` (a `String` or `&str` becomes an
    /// unnamed [`Secret`]), with the default [`HttpOptions`].
    pub fn new(url: impl Into<Secret>) -> Result<Self, AlertError> {
        Self::with_options(url, HttpOptions::default())
    }

    /// An alerter for `url` with these timeouts and retries.
    pub fn with_options(url: impl Into<Secret>, options: HttpOptions) -> Result<Self, AlertError> {
        Ok(SlackAlerter {
            poster: Poster::new("slack", url.into(), Vec::new(), options)?,
        })
    }

    /// The JSON body posted for `message`.
    pub fn body(message: &str) -> serde_json::Value {
        serde_json::json!({ "text": fit(message, Self::TEXT_LIMIT, escape_slack) })
    }
}

impl Alerter for SlackAlerter {
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(&Self::body(alert.message()))
                .map_err(|e| AlertError::new(AlertErrorKind::Message, e.to_string()))?;
            self.poster.post(body, alert.context().delivery_key()).await
        })
    }
}

impl std::fmt::Debug for SlackAlerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackAlerter { url: [redacted] }")
    }
}
