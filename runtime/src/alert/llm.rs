//! [`LlmSettings`]: asking a model on any OpenAI-compatible
//! chat-completions server (OpenAI, vLLM, llama.cpp's server, Ollama, LM
//! Studio) for a fix of a failure.
//!
//! One request per failure: `POST {base}/chat/completions` with the model,
//! a system message and a user message, and no sampling parameter unless
//! one is set. The user message names the step and pipeline, the error's
//! kind, its message with every cause, and the attempt; it is redacted (every
//! known secret, the API key among them) and capped at
//! [`LlmSettings::PROMPT_LIMIT`] bytes, so a huge error cannot make a huge
//! request. 429 and 5xx answers are retried with backoff; a request that
//! runs past its time bound is not (a slow model is slow again, and each
//! try is paid for).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::http::{Exchange, HttpOptions, Poster, Target};
use super::limits::{fit, plain};
use super::{AlertError, AlertErrorKind};
use crate::context::HookContext;
use crate::secret::{redacted, Secret};

/// The server used when `OPENAI_BASE_URL` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The variables [`LlmSettings::from_env`] reads.
const BASE_URL_VAR: &str = "OPENAI_BASE_URL";
const API_KEY_VAR: &str = "OPENAI_API_KEY";
const MODEL_VARS: [&str; 2] = ["HOOKFLOW_LLM_MODEL", "OPENAI_MODEL"];

/// The most bytes of a model's answer read.
const ANSWER_LIMIT: usize = 256 * 1024;

/// The most characters of an answer kept in an error.
const EXCERPT_CHARS: usize = 300;

const SYSTEM_PROMPT: &str = "You are a senior Rust engineer. A step of a Rust program \
built with the hookflow library failed. Suggest how to fix it: answer with a short list \
(at most five items) of concrete fixes to the Rust code, its configuration or its \
environment, most likely first, each one or two sentences, with a short code snippet \
where it helps. Do not repeat the error.";

/// Where and how to ask a model for a fix: the server's base URL, the
/// model, an optional API key, time bounds and retries, and optional
/// sampling parameters. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use hookflow::alert::LlmSettings;
///
/// // A llama.cpp or vLLM server on this machine: no key needed.
/// let local = LlmSettings::new("http://127.0.0.1:8080/v1", "qwen2.5-coder-7b-instruct")
///     .timeout(Duration::from_secs(120))
///     .temperature(0.2);
/// assert_eq!(local.endpoint(), "http://127.0.0.1:8080/v1/chat/completions");
/// assert_eq!(local.model(), "qwen2.5-coder-7b-instruct");
/// ```
#[derive(Clone)]
pub struct LlmSettings {
    inner: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    base_url: String,
    model: String,
    api_key: Option<Secret>,
    options: HttpOptions,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    /// Built on first use.
    poster: OnceLock<Result<Poster, AlertError>>,
}

/// Why [`LlmSettings::from_env`] found no settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LlmEnvError {
    /// Neither `HOOKFLOW_LLM_MODEL` nor `OPENAI_MODEL` is set.
    #[error(
        "no model to ask: set HOOKFLOW_LLM_MODEL (or OPENAI_MODEL) to the name of the model \
         the server at OPENAI_BASE_URL serves"
    )]
    NoModel,
    /// A variable is set but not valid Unicode.
    #[error("the environment variable `{0}` is not valid Unicode")]
    NotUnicode(&'static str),
}

/// A variable's value; `None` when unset or empty.
fn var(name: &'static str) -> Result<Option<String>, LlmEnvError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(LlmEnvError::NotUnicode(name)),
    }
}

impl LlmSettings {
    /// The longest user message sent, in bytes.
    pub const PROMPT_LIMIT: usize = 8 * 1024;

    /// Settings for the server at `base_url` (its OpenAI-compatible root,
    /// such as `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`)
    /// and `model`, with no API key, a 60 s time bound per request and 3
    /// retries on 429 and 5xx.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmSettings {
            inner: Arc::new(Settings {
                base_url: base_url.into().trim().trim_end_matches('/').to_owned(),
                model: model.into(),
                api_key: None,
                options: HttpOptions::default()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(60)),
                temperature: None,
                max_tokens: None,
                poster: OnceLock::new(),
            }),
        }
    }

    /// Settings from the environment: `OPENAI_BASE_URL` (default
    /// [`DEFAULT_BASE_URL`]), `OPENAI_API_KEY` (optional: without it no
    /// `Authorization` header is sent; read as a [`Secret`], so it is
    /// redacted from then on) and `HOOKFLOW_LLM_MODEL`, falling back to
    /// `OPENAI_MODEL`.
    pub fn from_env() -> Result<Self, LlmEnvError> {
        let key = var(API_KEY_VAR)?.map(|k| Secret::new(API_KEY_VAR, k));
        let base = var(BASE_URL_VAR)?.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let mut model = None;
        for name in MODEL_VARS {
            if let Some(m) = var(name)? {
                model = Some(m);
                break;
            }
        }
        let model = model.ok_or(LlmEnvError::NoModel)?;
        let settings = LlmSettings::new(base, model);
        Ok(match key {
            Some(key) => settings.api_key(key),
            None => settings,
        })
    }

    fn edit(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        let s = Arc::make_mut(&mut self.inner);
        f(s);
        s.poster = OnceLock::new();
        self
    }

    /// Sends `Authorization: Bearer KEY` (a `&str` or `String` becomes an
    /// unnamed [`Secret`], redacted from then on).
    pub fn api_key(self, key: impl Into<Secret>) -> Self {
        let key = key.into();
        self.edit(|s| s.api_key = Some(key))
    }

    /// The time bound of one request, from connecting to the end of the
    /// answer (default 60 s).
    pub fn timeout(self, bound: Duration) -> Self {
        self.edit(|s| s.options = s.options.clone().timeout(bound))
    }

    /// Connect and request time bounds, retries and backoff, all at once.
    pub fn options(self, options: HttpOptions) -> Self {
        self.edit(|s| s.options = options)
    }

    /// Sends `temperature` (none is sent unless set).
    pub fn temperature(self, temperature: f64) -> Self {
        self.edit(|s| s.temperature = Some(temperature))
    }

    /// Sends `max_tokens` (none is sent unless set).
    pub fn max_tokens(self, max_tokens: u32) -> Self {
        self.edit(|s| s.max_tokens = Some(max_tokens))
    }

    /// The URL requests go to: `{base}/chat/completions`.
    pub fn endpoint(&self) -> String {
        format!("{}/chat/completions", self.inner.base_url)
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        &self.inner.model
    }

    /// The time bound of one request.
    pub fn request_timeout(&self) -> Duration {
        self.inner.options.request_timeout()
    }

    /// The JSON body sent about the failure in `ctx`: the model, a system
    /// message and the user message of [`prompt`](Self::prompt).
    pub fn request_body(&self, ctx: &HookContext) -> serde_json::Value {
        let s = &self.inner;
        let mut body = serde_json::json!({
            "model": s.model,
            "messages": [
                { "role": "system", "content": SYSTEM_PROMPT },
                { "role": "user", "content": prompt(ctx) },
            ],
        });
        if let Some(map) = body.as_object_mut() {
            if let Some(t) = s.temperature {
                map.insert("temperature".into(), t.into());
            }
            if let Some(m) = s.max_tokens {
                map.insert("max_tokens".into(), m.into());
            }
        }
        body
    }

    fn poster(&self) -> Result<&Poster, AlertError> {
        let s = &self.inner;
        s.poster
            .get_or_init(|| {
                let headers = match &s.api_key {
                    Some(key) => vec![(
                        "authorization".to_owned(),
                        Secret::unnamed(format!("Bearer {}", key.expose())),
                    )],
                    None => Vec::new(),
                };
                Poster::with_exchange(
                    "llm",
                    Target::Plain(self.endpoint()),
                    headers,
                    s.options.clone(),
                    Exchange {
                        answer_limit: ANSWER_LIMIT,
                        no_timeout_retry: true,
                    },
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Asks the model for a fix of the failure in `ctx` and gives its
    /// answer, redacted. An error for an unreachable server, an HTTP error
    /// (after retries on 429 and 5xx), a time bound passed, an answer that
    /// is not JSON, an error object, or no content.
    pub async fn suggest(&self, ctx: &HookContext) -> Result<String, AlertError> {
        self.suggest_within(ctx, None).await
    }

    /// [`suggest`](Self::suggest), the whole exchange (retries included)
    /// bounded by `within`.
    pub(crate) async fn suggest_within(
        &self,
        ctx: &HookContext,
        within: Option<Duration>,
    ) -> Result<String, AlertError> {
        let poster = self.poster()?.clone();
        let body = serde_json::to_vec(&self.request_body(ctx))
            .map_err(|e| AlertError::new(AlertErrorKind::Message, e.to_string()))?;
        let answer = poster.exchange(body, within).await?;
        read_answer(&answer)
    }

    /// The user message sent about the failure in `ctx`: step, pipeline,
    /// error kind, attempt, the error's message and each of its causes;
    /// redacted, and at most [`PROMPT_LIMIT`](Self::PROMPT_LIMIT) bytes
    /// (the error's middle is cut).
    ///
    /// ```
    /// use hookflow::alert::LlmSettings;
    /// use hookflow::{ErrorKind, HookContext, Status, StepError};
    ///
    /// let ctx = HookContext::builder()
    ///     .step("load")
    ///     .pipeline("nightly")
    ///     .status(Status::Failed)
    ///     .error(StepError::manual("load", ErrorKind::Error, "disk full"))
    ///     .build();
    /// let prompt = LlmSettings::prompt(&ctx);
    /// assert!(prompt.contains("step: load\npipeline: nightly\nerror kind: error\n"));
    /// assert!(prompt.contains("error: disk full"));
    /// ```
    pub fn prompt(ctx: &HookContext) -> String {
        prompt(ctx)
    }
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.inner;
        f.debug_struct("LlmSettings")
            .field("base_url", &s.base_url)
            .field("model", &s.model)
            .field("api_key", &s.api_key)
            .field("options", &s.options)
            .field("temperature", &s.temperature)
            .field("max_tokens", &s.max_tokens)
            .finish()
    }
}

/// The model's text from a chat-completions answer.
fn read_answer(bytes: &[u8]) -> Result<String, AlertError> {
    let bad = |m: String| AlertError::new(AlertErrorKind::Other, format!("llm: {m}"));
    let text = String::from_utf8_lossy(bytes);
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) if text.trim().is_empty() => return Err(bad("the server's answer is empty".into())),
        Err(_) => {
            return Err(bad(format!(
                "the server's answer is not JSON: {}",
                excerpt(&text)
            )))
        }
    };
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        let message = error
            .get("message")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(bad(format!(
            "the server answered with an error: {}",
            excerpt(&message)
        )));
    }
    let choice = value.get("choices").and_then(|c| c.get(0));
    let Some(choice) = choice else {
        return Err(bad(format!(
            "the server's answer has no `choices`: {}",
            excerpt(&text)
        )));
    };
    match choice.pointer("/message/content") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(redacted(s.trim())),
        _ => {
            let reason = choice
                .get("finish_reason")
                .and_then(serde_json::Value::as_str)
                .map(|r| format!(" (finish_reason `{}`)", excerpt(r)))
                .unwrap_or_default();
            Err(bad(format!("the model gave no text{reason}")))
        }
    }
}

/// The start of a text for an error message.
fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    out.push('…');
    out
}

/// See [`LlmSettings::prompt`].
fn prompt(ctx: &HookContext) -> String {
    let mut head = String::from("A hookflow step failed.\n");
    match ctx.step_name() {
        Some(step) => head.push_str(&format!("step: {step}\n")),
        None => head = String::from("A hookflow pipeline run failed.\n"),
    }
    if let Some(p) = ctx.pipeline_name() {
        head.push_str(&format!("pipeline: {p}\n"));
    }
    let mut error = String::new();
    if let Some(e) = ctx.error() {
        head.push_str(&format!("error kind: {}\n", e.kind()));
        let mut causes: Vec<String> = match e.original() {
            Some(original) => original.chain().map(|c| c.to_string()).collect(),
            None => vec![e.message().to_owned()],
        };
        causes.dedup();
        let mut causes = causes.into_iter();
        if let Some(first) = causes.next() {
            error.push_str(&format!("error: {first}\n"));
        }
        let rest: Vec<String> = causes.collect();
        if !rest.is_empty() {
            error.push_str("caused by:\n");
            for c in rest {
                error.push_str(&format!("- {c}\n"));
            }
        }
    }
    head.push_str(&format!(
        "attempt: {} of {}\n",
        ctx.attempt(),
        ctx.max_attempts()
    ));
    let failed = ctx.failed_steps();
    if !failed.is_empty() {
        error.push_str("failed steps:\n");
        for s in failed {
            error.push_str(&format!("- {} ({}): {}\n", s.name(), s.kind(), s.message()));
        }
    }
    let tail = "\n\nHow do I fix it?";
    let head = cap_bytes(&redacted(head), LlmSettings::PROMPT_LIMIT / 4);
    let room = LlmSettings::PROMPT_LIMIT - head.len() - tail.len();
    let error = cap_bytes(&redacted(error.trim_end()), room);
    format!("{head}{error}{tail}")
}

/// `text` at most `limit` bytes, its middle cut (see [`fit`]).
fn cap_bytes(text: &str, limit: usize) -> String {
    let mut units = limit;
    loop {
        let out = fit(text, units, plain);
        if out.len() <= limit || units == 0 {
            return out;
        }
        // Shrink in proportion to the overshoot (wide characters).
        units = (units * limit / out.len()).min(units - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Status, StepError};

    fn ctx(error: StepError) -> HookContext {
        HookContext::builder()
            .step("load")
            .pipeline("nightly")
            .status(Status::Failed)
            .error(error)
            .attempt(2)
            .max_attempts(3)
            .build()
    }

    #[test]
    fn the_prompt_lists_every_cause_once() {
        let inner = anyhow::anyhow!("connection refused");
        let err = inner.context("reading the manifest").context("loading");
        let p = prompt(&ctx(StepError::manual_from("load", err)));
        assert!(
            p.contains(
                "error: loading\ncaused by:\n- reading the manifest\n- connection refused\n"
            ),
            "{p}"
        );
        assert!(p.contains("attempt: 2 of 3"));
    }

    #[test]
    fn a_huge_error_is_capped_keeping_both_ends() {
        let message = format!("BEGIN{}END", "é".repeat(50_000));
        let p = prompt(&ctx(StepError::manual("load", ErrorKind::Error, message)));
        assert!(p.len() <= LlmSettings::PROMPT_LIMIT, "{}", p.len());
        assert!(p.contains("error: BEGINé"));
        assert!(p.contains("éEND"));
        assert!(p.contains("characters cut"));
        assert!(p.starts_with("A hookflow step failed.\nstep: load\n"));
    }

    #[test]
    fn answers_without_text_are_errors_that_say_why() {
        let e = |b: &str| read_answer(b.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            e(
                r#"{"choices":[{"message":{"role":"assistant","content":null},"finish_reason":"length"}]}"#
            ),
            "llm: the model gave no text (finish_reason `length`)"
        );
        assert_eq!(
            e(r#"{"error":{"message":"model `x` not found","type":"invalid_request_error"}}"#),
            "llm: the server answered with an error: model `x` not found"
        );
        assert_eq!(
            e("<html>bad gateway</html>"),
            "llm: the server's answer is not JSON: <html>bad gateway</html>"
        );
        assert_eq!(e(""), "llm: the server's answer is empty");
        assert_eq!(
            e(r#"{"choices":[]}"#),
            r#"llm: the server's answer has no `choices`: {"choices":[]}"#
        );
        assert_eq!(
            read_answer(br#"{"choices":[{"message":{"content":"  1. Retry.\n"}}]}"#).unwrap(),
            "1. Retry."
        );
    }
}
