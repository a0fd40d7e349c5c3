//! Secrets never leave hookflow: a template and a server both try to echo
//! one, and it appears in no log line (from any thread), no hook outcome
//! record, no error and no `Debug` output.
#![cfg(feature = "alerts")]

mod alerts_support;

use std::time::Duration;

use alerts_support::{capture_logs, closed_port, log_text, Receiver, Reply};
use hookflow::alert::{Alert, Alerter, DefaultAlerter, HttpOptions, WebhookAlerter};
use hookflow::secret::Secret;
use hookflow::template::Template;
use hookflow::{hooks, pipeline, step, HookContext, HookStatus, Run, StepError};

const URL_TOKEN: &str = "url-token-7f3a9c1e5b";
const MESSAGE_TOKEN: &str = "message-token-2d8e4f6a0c";
const HEADER_TOKEN: &str = "header-token-9b1c3e5a7d";

fn set_secrets() {
    std::env::set_var("HOOKFLOW_LEAK_URL_TOKEN", URL_TOKEN);
    std::env::set_var("HOOKFLOW_LEAK_MESSAGE_TOKEN", MESSAGE_TOKEN);
    std::env::set_var("HOOKFLOW_LEAK_HEADER_TOKEN", HEADER_TOKEN);
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [URL_TOKEN, MESSAGE_TOKEN, HEADER_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks `{secret}`:\n{text}");
    }
}

fn fast() -> HttpOptions {
    HttpOptions::default()
        .retries(2)
        .backoff(Duration::from_millis(5), Duration::from_millis(10))
}

/// Answers 500 twice, then 400, each time echoing the path, the headers and
/// the body it got.
fn echoing_server() -> Receiver {
    Receiver::start(|n, r| {
        let echo = format!(
            "path={} auth={:?} body={}",
            r.path,
            r.headers.get("authorization"),
            r.body
        );
        Reply::status(if n < 2 { 500 } else { 400 }).body(echo)
    })
}

fn leak_alerter(server: &Receiver) -> WebhookAlerter {
    // Reading the token makes it a known secret; the URL holding it is one too.
    let _token = Secret::from_env("HOOKFLOW_LEAK_URL_TOKEN").unwrap();
    let url = Secret::new(
        "HOOKFLOW_LEAK_URL",
        server.url(&format!("/hooks/{URL_TOKEN}")),
    );
    WebhookAlerter::builder(url)
        .header(
            "Authorization",
            Secret::from_env("HOOKFLOW_LEAK_HEADER_TOKEN").unwrap(),
        )
        .options(fast())
        .build()
        .unwrap()
}

fn leaky_template() -> Template {
    set_secrets();
    Template::compile("{{ hook.step_name }} failed; echo {{ secret.HOOKFLOW_LEAK_MESSAGE_TOKEN }}")
        .unwrap()
}

#[step(on_failure = [hooks::alert_on_failure().template(leaky_template()), hooks::log()])]
async fn leak_step() -> anyhow::Result<()> {
    anyhow::bail!("upstream refused")
}

#[pipeline]
async fn leak_pipeline() -> Result<(), StepError> {
    leak_step().await
}

#[tokio::test]
async fn a_secret_echoed_by_a_template_and_a_server_reaches_no_log_record_or_error() {
    capture_logs();
    set_secrets();
    let server = echoing_server();
    let alerter = leak_alerter(&server);
    let report = Run::new()
        .resource(DefaultAlerter::new(alerter.clone()))
        .execute_async(leak_pipeline())
        .await;

    // The secrets did go where they belong: in the request.
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "two retried 500s, then a final 400");
    assert_eq!(requests[0].path, format!("/hooks/{URL_TOKEN}"));
    assert_eq!(requests[0].headers["authorization"], HEADER_TOKEN);
    assert!(requests[0].body.contains(MESSAGE_TOKEN));

    // … and nowhere else.
    let failures = report.hook_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let HookStatus::Failed(text) = failures[0].status() else {
        panic!("{:?}", failures[0].status());
    };
    assert!(
        text.starts_with("webhook: HTTP 400 Bad Request: path=[secret HOOKFLOW_LEAK_URL]"),
        "{text}"
    );
    assert!(
        text.contains("[secret HOOKFLOW_LEAK_MESSAGE_TOKEN]"),
        "{text}"
    );
    assert!(
        text.contains("[secret HOOKFLOW_LEAK_HEADER_TOKEN]"),
        "{text}"
    );
    assert_no_secret("the hook outcome", &format!("{:?}", report.hook_outcomes()));
    assert_no_secret("the run's output", &format!("{:?}", report.output()));
    assert_no_secret("the alerter's Debug", &format!("{alerter:?}"));
    assert_no_secret("the template's Debug", &format!("{:?}", leaky_template()));
    assert_no_secret(
        "a secret's Debug",
        &format!("{:?}", Secret::from_env("HOOKFLOW_LEAK_URL_TOKEN").unwrap()),
    );
    // Logs of every thread: the retries on the delivery thread, the hook
    // failure on the step's thread.
    let logs = log_text();
    assert!(logs.contains("alert delivery failed; retrying"), "{logs}");
    assert!(logs.contains("hook failed"), "{logs}");
    assert_no_secret("the logs", &logs);
}

#[tokio::test]
async fn an_unreachable_url_holding_a_secret_is_not_shown() {
    capture_logs();
    set_secrets();
    let url = format!("http://{}/hooks/{URL_TOKEN}", closed_port());
    let alerter = WebhookAlerter::builder(url.as_str())
        .options(fast())
        .build()
        .unwrap();
    let ctx = HookContext::builder().step("leak_unreachable").build();
    let err = alerter.deliver(&Alert::new("m", &ctx)).await.unwrap_err();
    assert!(
        err.to_string().starts_with("webhook: could not connect"),
        "{err}"
    );
    assert_no_secret("the error", &err.to_string());
    assert_no_secret("the error's Debug", &format!("{err:?}"));
    assert!(!err.to_string().contains(&url));
    assert_no_secret("the logs", &log_text());
}

#[test]
fn template_errors_show_placeholders_not_values() {
    set_secrets();
    let err = Template::compile("{{ secret.HOOKFLOW_LEAK_MESSAGE_TOKEN | int + hook.attempt }}")
        .map(|_| ())
        .unwrap_err();
    assert_no_secret("the template error", &err.to_string());
    assert_no_secret("the template error's Debug", &format!("{err:?}"));
}

#[test]
fn redact_covers_errors_from_anywhere() {
    set_secrets();
    let _ = Secret::from_env("HOOKFLOW_LEAK_HEADER_TOKEN").unwrap();
    let text = format!("401 for Bearer {HEADER_TOKEN}");
    assert_eq!(
        hookflow::secret::redact(&text),
        "401 for Bearer [secret HOOKFLOW_LEAK_HEADER_TOKEN]"
    );
}

/// Delivers one alert through `alerter` and returns its error's text and
/// `Debug`.
async fn failure_text(alerter: &dyn Alerter) -> String {
    let ctx = HookContext::builder().step("leak_echo").build();
    let err = alerter.deliver(&Alert::new("m", &ctx)).await.unwrap_err();
    format!("{err}\n{err:?}")
}

#[tokio::test]
async fn a_secret_the_excerpt_cut_would_split_is_redacted_whole() {
    set_secrets();
    // The echoed header value starts a few bytes before the excerpt's end.
    let server = Receiver::start(|_, r| {
        let auth = r.headers.get("authorization").cloned().unwrap_or_default();
        Reply::status(400).body(format!("{}{auth} and more", "x".repeat(500)))
    });
    let text = failure_text(&leak_alerter(&server)).await;
    assert!(text.contains(&"x".repeat(500)), "{text}");
    // Not even the secret's first bytes.
    assert!(!text.contains("header-tok"), "{text}");
}

#[tokio::test]
async fn a_server_echoing_only_the_urls_path_does_not_show_it() {
    set_secrets();
    // As Express's default 404 page does.
    let server = Receiver::start(|_, r| Reply::status(404).body(format!("Cannot POST {}", r.path)));
    let url = Secret::new(
        "HOOKFLOW_LEAK_PATH_URL",
        server.url("/services/T0AAA/B0BBB/path-only-token-5e1d"),
    );
    let alerter = WebhookAlerter::builder(url)
        .options(fast())
        .build()
        .unwrap();
    let text = failure_text(&alerter).await;
    assert!(
        text.contains("Cannot POST [secret HOOKFLOW_LEAK_PATH_URL]"),
        "{text}"
    );
    assert!(!text.contains("path-only-token"), "{text}");
}

#[tokio::test]
async fn a_secret_echoed_with_markup_escapes_is_redacted() {
    // A message holding `&` and `<` is escaped by Slack's alerter; a server
    // echoing the body shows the escaped form.
    std::env::set_var("HOOKFLOW_LEAK_MARKUP", "p4ss&w0rd<leak>");
    let _known = Secret::from_env("HOOKFLOW_LEAK_MARKUP").unwrap();
    let server = Receiver::start(|_, r| Reply::status(400).body(r.body.clone()));
    let alerter =
        hookflow::alert::SlackAlerter::with_options(server.url("/slack"), fast()).unwrap();
    let template = Template::compile("pw {{ secret.HOOKFLOW_LEAK_MARKUP }}").unwrap();
    let ctx = HookContext::builder().step("leak_markup").build();
    let message = template.render(&ctx).unwrap();
    let err = alerter
        .deliver(&Alert::new(message, &ctx))
        .await
        .unwrap_err();
    let text = format!("{err}\n{err:?}");
    assert!(text.contains("[secret HOOKFLOW_LEAK_MARKUP]"), "{text}");
    assert!(!text.contains("w0rd"), "{text}");
}
