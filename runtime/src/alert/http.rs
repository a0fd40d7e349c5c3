//! Delivery over HTTP: one POST of a JSON body, with connect and request
//! timeouts, and retries with exponential backoff and jitter on connection
//! errors, timeouts, 429 (honouring `Retry-After`, and Discord's
//! `retry_after`) and 5xx. Other 4xx answers are final.
//!
//! Requests run on hookflow's own delivery thread (a Tokio runtime with I/O
//! and timers, started on first use), so an alert is delivered the same way
//! from an async step on any executor and from the hook thread of a sync
//! step.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

use super::{AlertError, AlertErrorKind};
use crate::secret::{redacted, Secret};

/// How much of a server's answer an error keeps.
const EXCERPT_BYTES: usize = 512;

/// Timeouts and retries of an HTTP alerter.
///
/// ```
/// use std::time::Duration;
/// use hookflow::alert::HttpOptions;
///
/// let options = HttpOptions::default()
///     .connect_timeout(Duration::from_secs(1))
///     .timeout(Duration::from_secs(3))
///     .retries(5)
///     .backoff(Duration::from_millis(100), Duration::from_secs(2));
/// assert_eq!(options.max_retries(), 5);
/// ```
///
/// The defaults (connect 3 s, request 5 s, 3 retries, backoff from 250 ms
/// to 4 s with jitter, `Retry-After` honoured up to 30 s) keep a delivery
/// that fails for good within the default 10 s time bound of async hooks
/// in the common cases; a run's hook time bound
/// ([`Run::hook_timeout`](crate::Run::hook_timeout)) always caps the whole
/// delivery.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    connect_timeout: Duration,
    timeout: Duration,
    retries: usize,
    min_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(5),
            retries: 3,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl HttpOptions {
    /// Time bound of opening a connection.
    pub fn connect_timeout(mut self, bound: Duration) -> Self {
        self.connect_timeout = bound;
        self
    }

    /// Time bound of one request, from connecting to the end of the answer.
    pub fn timeout(mut self, bound: Duration) -> Self {
        self.timeout = bound;
        self
    }

    /// Further attempts after the first (0: no retry).
    pub fn retries(mut self, retries: usize) -> Self {
        self.retries = retries;
        self
    }

    /// The first and the largest delay between attempts (doubling, with
    /// jitter).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub fn max_retry_after(mut self, bound: Duration) -> Self {
        self.max_retry_after = bound;
        self
    }

    /// Further attempts after the first.
    pub fn max_retries(&self) -> usize {
        self.retries
    }

    /// The time bound of one request.
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }
}

/// One failed attempt.
struct Failure {
    error: AlertError,
    retryable: bool,
    retry_after: Option<Duration>,
}

/// Where a poster sends: a URL that is a credential (a webhook), or one
/// that is not (a model server's endpoint).
pub(crate) enum Target {
    /// Never shown.
    Secret(Secret),
    /// May be shown.
    Plain(String),
}

impl Target {
    fn as_str(&self) -> &str {
        match self {
            Target::Secret(s) => s.expose(),
            Target::Plain(u) => u,
        }
    }
}

/// What a poster keeps of a successful answer, and which failures it
/// retries beyond 429 and 5xx.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Exchange {
    /// The most bytes of a successful answer's body kept (0: none read).
    pub(crate) answer_limit: usize,
    /// `false`: a request that ran past its time bound is final (a model
    /// that is slow once is slow again, and each try costs).
    pub(crate) no_timeout_retry: bool,
}

struct Inner {
    platform: &'static str,
    client: reqwest::Client,
    url: Target,
    headers: Vec<(HeaderName, HeaderValue)>,
    options: HttpOptions,
    exchange: Exchange,
}

/// Posts JSON bodies to one URL.
#[derive(Clone)]
pub(crate) struct Poster {
    inner: Arc<Inner>,
}

impl Poster {
    /// A poster for `url` (http or https); `platform` names it in errors.
    pub(crate) fn new(
        platform: &'static str,
        url: Secret,
        headers: Vec<(String, Secret)>,
        options: HttpOptions,
    ) -> Result<Poster, AlertError> {
        Self::with_exchange(
            platform,
            Target::Secret(url),
            headers,
            options,
            Exchange::default(),
        )
    }

    /// A poster for `url` that keeps what [`Exchange`] says of the answers.
    pub(crate) fn with_exchange(
        platform: &'static str,
        url: Target,
        headers: Vec<(String, Secret)>,
        options: HttpOptions,
        exchange: Exchange,
    ) -> Result<Poster, AlertError> {
        let config =
            |m: String| AlertError::new(AlertErrorKind::Config, format!("{platform}: {m}"));
        match reqwest::Url::parse(url.as_str()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            Ok(u) => {
                return Err(config(format!(
                    "the URL must be http:// or https:// with a host, not `{}:`",
                    u.scheme()
                )))
            }
            Err(e) => return Err(config(format!("the URL is not valid: {e}"))),
        }
        let mut parsed = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config(format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::from_str(value.expose())
                .map_err(|_| config(format!("the value of header `{name}` is not valid")))?;
            value.set_sensitive(true);
            parsed.push((name, value));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| config(format!("no HTTP client: {}", describe(&e.without_url()))))?;
        Ok(Poster {
            inner: Arc::new(Inner {
                platform,
                client,
                url,
                headers: parsed,
                options,
                exchange,
            }),
        })
    }

    /// Posts `body`, with retries; runs on the delivery thread. `key` (a
    /// durable run's delivery key) is sent as the `Idempotency-Key` header,
    /// the same on every retry and on a redelivery after a crash, so that
    /// the receiver can drop duplicates.
    pub(crate) async fn post(&self, body: Vec<u8>, key: Option<String>) -> Result<(), AlertError> {
        self.send(body, None, key).await.map(drop)
    }

    /// Posts `body`, with retries, and gives the successful answer's body
    /// (at most [`Exchange::answer_limit`] bytes); runs on the delivery
    /// thread. `within` bounds the whole exchange, retries included.
    pub(crate) async fn exchange(
        &self,
        body: Vec<u8>,
        within: Option<Duration>,
    ) -> Result<Vec<u8>, AlertError> {
        self.send(body, within, None).await
    }

    async fn send(
        &self,
        body: Vec<u8>,
        within: Option<Duration>,
        key: Option<String>,
    ) -> Result<Vec<u8>, AlertError> {
        let inner = self.inner.clone();
        let Some(handle) = delivery_runtime() else {
            return Err(AlertError::new(
                AlertErrorKind::Other,
                format!("{}: no thread to deliver on", inner.platform),
            ));
        };
        let task = AbortOnDrop(handle.spawn(async move {
            let key = key.as_deref();
            let Some(bound) = within else {
                return inner.post_with_retries(body, key).await;
            };
            match tokio::time::timeout(bound, inner.post_with_retries(body, key)).await {
                Ok(result) => result,
                Err(_) => Err(AlertError::new(
                    AlertErrorKind::Timeout,
                    format!(
                        "{}: no answer within {}",
                        inner.platform,
                        humantime::format_duration(bound)
                    ),
                )),
            }
        }));
        task.await
    }
}

impl Inner {
    async fn post_with_retries(
        &self,
        body: Vec<u8>,
        key: Option<&str>,
    ) -> Result<Vec<u8>, AlertError> {
        let body: Arc<[u8]> = body.into();
        let attempts = AtomicU32::new(0);
        let o = &self.options;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(o.min_delay)
            .with_max_delay(o.max_delay)
            .with_max_times(o.retries)
            .with_jitter();
        let result = (|| {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(reqwest::Body::from(body.to_vec()), key)
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|f: &Failure| f.retryable)
        .adjust(|f: &Failure, next: Option<Duration>| {
            next.map(|d| f.retry_after.map_or(d, |ra| ra.min(o.max_retry_after)))
        })
        .notify(|f: &Failure, delay: Duration| {
            tracing::debug!(alerter = self.platform, error = %f.error, ?delay, "alert delivery failed; retrying");
        })
        .await;
        result.map_err(|f| {
            let n = attempts.load(Ordering::Relaxed);
            let tries = if n == 1 {
                "1 attempt".to_owned()
            } else {
                format!("{n} attempts")
            };
            AlertError::new(f.error.kind(), format!("{} after {tries}", f.error))
        })
    }

    async fn attempt(&self, body: reqwest::Body, key: Option<&str>) -> Result<Vec<u8>, Failure> {
        let mut request = self
            .client
            .post(self.url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("hookflow/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
            request = request.header("idempotency-key", key);
        }
        for (name, value) in &self.headers {
            request = request.header(name.clone(), value.clone());
        }
        let response = match request.body(body).send().await {
            Ok(r) => r,
            Err(e) => return Err(self.transport_failure(e)),
        };
        let status = response.status();
        if status.is_success() {
            return self.answer(response).await;
        }
        let header_wait = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_seconds);
        let excerpt = excerpt(response).await;
        let body_wait = if status.as_u16() == 429 {
            serde_json::from_str::<serde_json::Value>(&excerpt)
                .ok()
                .and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_f64))
                .and_then(seconds)
        } else {
            None
        };
        let mut message = format!("{}: HTTP {status}", self.platform);
        if !excerpt.trim().is_empty() {
            message.push_str(&format!(": {}", excerpt.trim()));
        }
        Err(Failure {
            error: AlertError::new(AlertErrorKind::Status(status.as_u16()), message),
            retryable: status.as_u16() == 429 || status.is_server_error(),
            retry_after: body_wait.or(header_wait),
        })
    }

    /// The body of a successful answer, up to the exchange's limit.
    async fn answer(&self, mut response: reqwest::Response) -> Result<Vec<u8>, Failure> {
        let limit = self.exchange.answer_limit;
        let mut buf = Vec::new();
        while buf.len() < limit {
            match response.chunk().await {
                Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(self.transport_failure(e)),
            }
        }
        buf.truncate(limit);
        Ok(buf)
    }

    fn transport_failure(&self, e: reqwest::Error) -> Failure {
        let e = e.without_url();
        let kind = if e.is_timeout() {
            AlertErrorKind::Timeout
        } else if e.is_connect() {
            AlertErrorKind::Connect
        } else {
            AlertErrorKind::Other
        };
        let what = match kind {
            AlertErrorKind::Timeout => "timed out",
            AlertErrorKind::Connect => "could not connect",
            _ => "request failed",
        };
        Failure {
            error: AlertError::new(kind, format!("{}: {what}: {}", self.platform, describe(&e))),
            retryable: if e.is_timeout() {
                !self.exchange.no_timeout_retry
            } else {
                e.is_connect() || e.is_request()
            },
            retry_after: None,
        }
    }
}

/// An error and its sources on one line, redacted.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    redacted(out)
}

/// `Retry-After` as delta-seconds (an HTTP date is left to the backoff).
fn parse_seconds(v: &str) -> Option<Duration> {
    seconds(v.trim().parse().ok()?)
}

/// A server's wait in seconds: none when negative or not a number; one
/// too long for a `Duration` waits the longest (`max_retry_after` bounds
/// every wait anyway).
fn seconds(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// The start of the answer's body, at most [`EXCERPT_BYTES`], redacted.
///
/// Redacted before it is cut, so that a secret the cut would split is still
/// found: `READ_BYTES` more are read for that (a longer secret starting
/// before the cut and ending past them would be missed).
async fn excerpt(mut response: reqwest::Response) -> String {
    const READ_BYTES: usize = EXCERPT_BYTES + 8 * 1024;
    let mut buf = Vec::new();
    let mut more = false;
    while buf.len() < READ_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            _ => break,
        }
    }
    if buf.len() > READ_BYTES {
        buf.truncate(READ_BYTES);
        more = true;
    }
    let text = redacted(String::from_utf8_lossy(&buf));
    cut_excerpt(&text, more)
}

/// `text` cut to at most [`EXCERPT_BYTES`] on a character boundary, with
/// `…` when anything was left out (`more`: the body went on past `text`).
fn cut_excerpt(text: &str, more: bool) -> String {
    if text.len() <= EXCERPT_BYTES && !more {
        return text.to_owned();
    }
    let mut end = EXCERPT_BYTES.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // A read that stopped inside a character decoded it as U+FFFD.
    let mut out = text[..end].trim_end_matches('\u{FFFD}').to_owned();
    out.push('…');
    out
}

/// The delivery thread's runtime, started on first use.
fn delivery_runtime() -> Option<&'static tokio::runtime::Handle> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let handle = rt.handle().clone();
            std::thread::Builder::new()
                .name("hookflow-alerts".into())
                .spawn(move || rt.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

/// A delivery task, aborted when the hook stops waiting for it (its time
/// bound passed).
struct AbortOnDrop(tokio::task::JoinHandle<Result<Vec<u8>, AlertError>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Future for AbortOnDrop {
    type Output = Result<Vec<u8>, AlertError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| {
            r.unwrap_or_else(|e| {
                Err(AlertError::new(
                    AlertErrorKind::Other,
                    if e.is_panic() {
                        "the delivery panicked"
                    } else {
                        "the delivery was cancelled"
                    },
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_wait_is_never_a_panic() {
        assert_eq!(parse_seconds(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_seconds("1e20"), Some(Duration::MAX));
        assert_eq!(seconds(1e300), Some(Duration::MAX));
        assert_eq!(seconds(f64::INFINITY), Some(Duration::MAX));
        assert_eq!(seconds(f64::NAN), None);
        assert_eq!(seconds(-1.0), None);
        assert_eq!(parse_seconds("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn an_excerpt_is_redacted_before_it_is_cut() {
        crate::secret::register_named("UNIT_CUT", "Bearer unit-cut-secret-0123456789");
        let body = format!(
            "{}Bearer unit-cut-secret-0123456789 and more",
            "x".repeat(490)
        );
        let text = crate::secret::redacted(&body);
        let cut = cut_excerpt(&text, false);
        assert!(!cut.contains("Bearer unit-cut"), "{cut}");
        assert!(cut.starts_with(&"x".repeat(490)));
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= EXCERPT_BYTES + '…'.len_utf8());
        // Cut on a character boundary.
        let wide = "é".repeat(400);
        let cut = cut_excerpt(&wide, false);
        assert!(cut.ends_with('…'));
        assert_eq!(cut.chars().filter(|c| *c == 'é').count(), EXCERPT_BYTES / 2);
        assert_eq!(cut_excerpt("short", false), "short");
        assert_eq!(cut_excerpt("short", true), "short…");
    }
}
