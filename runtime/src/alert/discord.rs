//! [`DiscordAlerter`]: a Discord webhook.

use super::http::{HttpOptions, Poster};
use super::limits::{fit, plain};
use super::{Alert, AlertError, AlertErrorKind, AlertFuture, Alerter};
use crate::secret::Secret;

/// Posts to a Discord webhook: `{"content": …, "allowed_mentions": {"parse": []}}`.
///
/// `content` is kept within Discord's [`DiscordAlerter::CONTENT_LIMIT`] of
/// 2 000 characters by cutting the middle of a long message; mentions are
/// switched off, so an error message holding `@everyone` pings nobody. A
/// 429 answer's `retry_after` is honoured. The webhook URL is kept as a
/// [`Secret`].
///
/// ```no_run
/// use hookflow::alert::DiscordAlerter;
/// use hookflow::secret::Secret;
///
/// let discord = DiscordAlerter::new(Secret::from_env("DISCORD_WEBHOOK_URL")?)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct DiscordAlerter {
    poster: Poster,
}

impl DiscordAlerter {
    /// The longest `content` Discord accepts, in characters.
    pub const CONTENT_LIMIT: usize = 2_000;

    /// An alerter for the webhook `url`, with the default [`HttpOptions`].
    pub fn new(url: impl Into<Secret>) -> Result<Self, AlertError> {
        Self::with_options(url, HttpOptions::default())
    }

    /// An alerter for `url` with these timeouts and retries.
    pub fn with_options(url: impl Into<Secret>, options: HttpOptions) -> Result<Self, AlertError> {
        Ok(DiscordAlerter {
            poster: Poster::new("discord", url.into(), Vec::new(), options)?,
        })
    }

    /// The JSON body posted for `message`.
    pub fn body(message: &str) -> serde_json::Value {
        serde_json::json!({
            "content": fit(message, Self::CONTENT_LIMIT, plain),
            "allowed_mentions": { "parse": [] },
        })
    }
}

impl Alerter for DiscordAlerter {
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(&Self::body(alert.message()))
                .map_err(|e| AlertError::new(AlertErrorKind::Message, e.to_string()))?;
            self.poster.post(body, alert.context().delivery_key()).await
        })
    }
}

impl std::fmt::Debug for DiscordAlerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DiscordAlerter { url: [redacted] }")
    }
}
