//! `suggest_fix()` against a chat-completions server started on 127.0.0.1
//! by each test: the exact request, the suggestion posted to a local
//! Slack-format receiver, retries on 429 and 5xx, a server that never
//! answers, answers without text, redaction and the prompt's cap.
//! Settings are given explicitly (as a run resource or to
//! `suggest_fix_with`): nothing here reads the environment.
#![cfg(feature = "alerts")]

mod alerts_support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use alerts_support::{capture_logs, log_text, Receiver, Reply};
use hookflow::alert::{DefaultAlerter, HttpOptions, LlmSettings, RecordingAlerter, SlackAlerter};
use hookflow::{
    hooks, pipeline, step, ErrorKind, HookOutcome, HookStatus, PipelineError, Run, RunReport,
};

#[derive(Debug, thiserror::Error)]
#[error("connection refused")]
struct Refused;

#[step(on_failure = hooks::suggest_fix())]
async fn load() -> anyhow::Result<u32> {
    Err(anyhow::Error::new(Refused)
        .context("reading the manifest")
        .context("loading s3://bucket/manifest.json"))
}

#[pipeline]
async fn nightly() -> anyhow::Result<()> {
    let _ = load().await;
    Ok(())
}

/// A chat-completions answer whose message content is `content`.
fn chat(content: serde_json::Value) -> Reply {
    Reply::ok().header("content-type", "application/json").body(
        serde_json::json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "test-model",
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": content },
                "finish_reason": "stop"
            }]
        })
        .to_string(),
    )
}

const ANSWER: &str =
    "1. Start the object store before the pipeline.\n2. Retry `load` with `retries = 3`.";

/// Fast retries, so that tests do not wait for the default backoff.
fn fast() -> HttpOptions {
    HttpOptions::default()
        .retries(2)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .timeout(Duration::from_secs(5))
}

fn settings(server: &Receiver) -> LlmSettings {
    LlmSettings::new(server.url("/v1"), "test-model").options(fast())
}

async fn run(llm: LlmSettings, alerter: RecordingAlerter) -> RunReport<Result<(), PipelineError>> {
    Run::new()
        .resource(DefaultAlerter::new(alerter))
        .resource(llm)
        .execute_async(nightly())
        .await
}

fn outcome_of(report: &RunReport<Result<(), PipelineError>>) -> HookOutcome {
    let mine: Vec<_> = report
        .hook_outcomes()
        .into_iter()
        .filter(|o| o.step() == Some("load"))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    mine.into_iter().next().unwrap()
}

fn failed_with(outcome: &HookOutcome) -> String {
    match outcome.status() {
        HookStatus::Failed(m) => m.clone(),
        other => panic!("expected a failed hook, got {other:?}"),
    }
}

#[tokio::test]
async fn the_request_names_the_step_and_the_error_and_sends_the_key() {
    let llm = Receiver::always(chat(ANSWER.into()));
    let recorder = RecordingAlerter::new();
    let report = run(
        settings(&llm).api_key("sk-suggest-test-key-0001"),
        recorder.clone(),
    )
    .await;
    assert_eq!(outcome_of(&report).status(), &HookStatus::Ok);

    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.headers["authorization"],
        "Bearer sk-suggest-test-key-0001"
    );
    let body = r.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["messages", "model"],
        "no sampling parameter unless set"
    );
    assert_eq!(body["model"], "test-model");
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert!(messages[0]["content"]
        .as_str()
        .unwrap()
        .contains("concrete fixes"));
    assert_eq!(messages[1]["role"], "user");
    let user = messages[1]["content"].as_str().unwrap();
    assert!(
        user.contains(
            "step: load\npipeline: nightly\nerror kind: error\nattempt: 1 of 1\n\
             error: loading s3://bucket/manifest.json\ncaused by:\n\
             - reading the manifest\n- connection refused"
        ),
        "{user}"
    );

    // The suggestion is what the alerter got, about the failed step.
    let alerts = recorder.alerts();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].step(), Some("load"));
    assert_eq!(alerts[0].error_kind(), Some(ErrorKind::Error));
    let message = alerts[0].message();
    assert_eq!(
        message,
        format!(
            "Suggested fix for step `load` (pipeline `nightly`), which failed (error): \
             loading s3://bucket/manifest.json: reading the manifest: connection refused\n\n{ANSWER}"
        )
    );
}

#[tokio::test]
async fn without_a_key_no_authorization_header_is_sent() {
    let llm = Receiver::always(chat(ANSWER.into()));
    let report = run(settings(&llm), RecordingAlerter::new()).await;
    assert_eq!(outcome_of(&report).status(), &HookStatus::Ok);
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    assert!(
        !requests[0].headers.contains_key("authorization"),
        "{:?}",
        requests[0].headers
    );
}

#[tokio::test]
async fn sampling_parameters_are_sent_only_when_set() {
    let llm = Receiver::always(chat(ANSWER.into()));
    let report = run(
        settings(&llm).temperature(0.25).max_tokens(400),
        RecordingAlerter::new(),
    )
    .await;
    assert_eq!(outcome_of(&report).status(), &HookStatus::Ok);
    let body = llm.requests()[0].json();
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(body["max_tokens"], 400);
}

#[tokio::test]
async fn the_suggestion_arrives_at_a_slack_receiver_within_its_limit() {
    let long_answer = format!(
        "1. {}",
        "Check the bucket policy <and> the region. ".repeat(300)
    );
    let llm = Receiver::always(chat(long_answer.clone().into()));
    let slack_server = Receiver::always(Reply::ok().body("ok"));
    let slack = SlackAlerter::with_options(slack_server.url("/services/T/B/X"), fast()).unwrap();
    let report = Run::new()
        .resource(DefaultAlerter::new(slack))
        .resource(settings(&llm))
        .execute_async(nightly())
        .await;
    assert_eq!(outcome_of(&report).status(), &HookStatus::Ok);
    let posts = slack_server.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/services/T/B/X");
    let text = posts[0].json()["text"].as_str().unwrap().to_owned();
    assert!(
        text.starts_with(
            "Suggested fix for step `load` (pipeline `nightly`), which failed (error): loading"
        ),
        "{text}"
    );
    assert!(text.contains("1. Check the bucket policy &lt;and&gt; the region."));
    assert!(text.contains("characters cut"));
    assert!(text.chars().count() <= SlackAlerter::TEXT_LIMIT);
}

#[tokio::test]
async fn a_429_is_retried_and_then_the_suggestion_posts() {
    let llm = Receiver::start(|n, _| {
        if n == 0 {
            Reply::status(429)
                .header("retry-after", "0")
                .body(r#"{"error":{"message":"rate limited"}}"#)
        } else {
            chat(ANSWER.into())
        }
    });
    let recorder = RecordingAlerter::new();
    let report = run(settings(&llm), recorder.clone()).await;
    assert_eq!(outcome_of(&report).status(), &HookStatus::Ok);
    assert_eq!(llm.count(), 2);
    let messages = recorder.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].ends_with(ANSWER), "{}", messages[0]);
}

#[tokio::test]
async fn a_server_error_is_retried_until_giving_up_and_the_plain_alert_goes_out() {
    let llm = Receiver::always(Reply::status(500).body("model crashed"));
    let recorder = RecordingAlerter::new();
    let report = run(settings(&llm), recorder.clone()).await;
    // The first try and 2 retries.
    assert_eq!(llm.count(), 3);
    let why = failed_with(&outcome_of(&report));
    assert_eq!(
        why,
        "no suggested fix: llm: HTTP 500 Internal Server Error: model crashed after 3 attempts; \
         the plain failure alert was posted"
    );
    let messages = recorder.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].starts_with(
            "step `load` failed (error): loading s3://bucket/manifest.json: reading the manifest: connection refused\n"
        ),
        "{}",
        messages[0]
    );
    assert!(messages[0].ends_with(
        "\n(no suggested fix: llm: HTTP 500 Internal Server Error: model crashed after 3 attempts)"
    ));
    // The step's outcome is its own.
    assert!(report.output().is_ok());
    assert_eq!(report.failed_steps().len(), 1);
    assert_eq!(report.failed_steps()[0].kind(), ErrorKind::Error);
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let llm = Receiver::always(Reply::status(404).body(r#"{"error":{"message":"no such model"}}"#));
    let recorder = RecordingAlerter::new();
    let report = run(settings(&llm), recorder.clone()).await;
    assert_eq!(llm.count(), 1);
    let why = failed_with(&outcome_of(&report));
    assert!(
        why.starts_with("no suggested fix: llm: HTTP 404 Not Found"),
        "{why}"
    );
    assert_eq!(recorder.len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_recorded_failure_and_the_plain_alert_goes_out() {
    let llm = Receiver::always(chat(ANSWER.into()).delay(Duration::from_secs(30)));
    let recorder = RecordingAlerter::new();
    let started = Instant::now();
    let report = run(
        settings(&llm).timeout(Duration::from_millis(300)),
        recorder.clone(),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A slow model is asked once: a timeout is not retried.
    assert_eq!(llm.count(), 1);
    let why = failed_with(&outcome_of(&report));
    assert!(why.starts_with("no suggested fix: llm: timed out"), "{why}");
    assert!(why.ends_with("the plain failure alert was posted"), "{why}");
    let messages = recorder.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].starts_with("step `load` failed (error)"));
}

#[tokio::test]
async fn the_model_gets_the_hook_bound_less_the_time_kept_for_the_alert() {
    let llm = Receiver::always(chat(ANSWER.into()).delay(Duration::from_secs(30)));
    let recorder = RecordingAlerter::new();
    let started = Instant::now();
    let report = Run::new()
        .hook_timeout(Duration::from_secs(4))
        .resource(DefaultAlerter::new(recorder.clone()))
        .resource(settings(&llm).timeout(Duration::from_secs(60)))
        .execute_async(nightly())
        .await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(4),
        "{took:?}"
    );
    let why = failed_with(&outcome_of(&report));
    assert_eq!(
        why,
        "no suggested fix: llm: no answer within 3s; the plain failure alert was posted"
    );
    assert_eq!(recorder.len(), 1);
}

#[tokio::test]
async fn answers_without_text_are_recorded_failures_and_the_plain_alert_goes_out() {
    let cases = [
        (
            chat(serde_json::Value::Null),
            "no suggested fix: llm: the model gave no text (finish_reason `stop`)",
        ),
        (
            Reply::ok().body(r#"{"error":{"message":"model not loaded","code":503}}"#),
            "no suggested fix: llm: the server answered with an error: model not loaded",
        ),
        (
            Reply::ok().body("<html>proxy says hi</html>"),
            "no suggested fix: llm: the server's answer is not JSON: <html>proxy says hi</html>",
        ),
        (
            Reply::ok(),
            "no suggested fix: llm: the server's answer is empty",
        ),
    ];
    for (reply, expected) in cases {
        let llm = Receiver::always(reply);
        let recorder = RecordingAlerter::new();
        let report = run(settings(&llm), recorder.clone()).await;
        let why = failed_with(&outcome_of(&report));
        assert_eq!(
            why,
            format!("{expected}; the plain failure alert was posted")
        );
        assert_eq!(llm.count(), 1);
        let messages = recorder.messages();
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("step `load` failed (error)"));
        assert!(messages[0].ends_with(&format!("\n({})", expected)));
        assert!(report.output().is_ok());
    }
}

#[tokio::test]
async fn a_failed_delivery_of_the_plain_alert_is_in_the_record_too() {
    let llm = Receiver::always(Reply::status(400).body("bad request"));
    let recorder = RecordingAlerter::failing("chat is down");
    let report = run(settings(&llm), recorder.clone()).await;
    let why = failed_with(&outcome_of(&report));
    assert_eq!(
        why,
        "no suggested fix: llm: HTTP 400 Bad Request: bad request after 1 attempt; \
         the plain failure alert was not posted either: chat is down"
    );
    assert_eq!(recorder.len(), 1);
}

#[step(on_failure = hooks::suggest_fix())]
async fn leaky() -> anyhow::Result<()> {
    anyhow::bail!("auth failed for postgres://etl:pw-suggest-leak-1234@db/prod")
}

#[pipeline]
async fn leaky_run() -> anyhow::Result<()> {
    let _ = leaky().await;
    Ok(())
}

#[tokio::test]
async fn the_key_and_known_secrets_are_in_no_request_log_line_or_record() {
    capture_logs();
    hookflow::secret::register_named("DB_PASSWORD", "pw-suggest-leak-1234");
    let key = "sk-suggest-test-key-echoed-0002";
    // The server echoes the key and the password back in its error.
    let llm = Receiver::always(Reply::status(401).body(format!(
        r#"{{"error":{{"message":"invalid key {key} for pw-suggest-leak-1234"}}}}"#
    )));
    let recorder = RecordingAlerter::new();
    let report = Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .resource(settings(&llm).api_key(key))
        .execute_async(leaky_run())
        .await;
    let request = &llm.requests()[0];
    assert!(
        !request.body.contains("pw-suggest-leak-1234"),
        "{}",
        request.body
    );
    assert!(
        request.body.contains("[secret DB_PASSWORD]"),
        "{}",
        request.body
    );
    let outcome = report
        .hook_outcomes()
        .into_iter()
        .find(|o| o.step() == Some("leaky"))
        .unwrap();
    let why = failed_with(&outcome);
    assert!(why.starts_with("no suggested fix: llm: HTTP 401"), "{why}");
    assert!(
        why.contains("invalid key [redacted] for [secret DB_PASSWORD]"),
        "{why}"
    );
    for message in recorder.messages() {
        assert!(!message.contains(key) && !message.contains("pw-suggest-leak-1234"));
    }
    let logs = log_text();
    assert!(
        logs.contains("invalid key [redacted]"),
        "the failure is logged"
    );
    assert!(!logs.contains(key), "{logs}");
    assert!(!logs.contains("pw-suggest-leak-1234"));
    assert!(!format!("{:?}", settings(&llm).api_key(key)).contains(key));
}

#[step(on_failure = hooks::suggest_fix())]
async fn huge() -> anyhow::Result<()> {
    anyhow::bail!("HEAD {} TAIL", "x".repeat(200_000))
}

#[pipeline]
async fn huge_run() -> anyhow::Result<()> {
    let _ = huge().await;
    Ok(())
}

#[tokio::test]
async fn a_huge_error_makes_a_capped_request() {
    let llm = Receiver::always(chat(ANSWER.into()));
    let recorder = RecordingAlerter::new();
    Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .resource(settings(&llm))
        .execute_async(huge_run())
        .await;
    let body = llm.requests()[0].json();
    let user = body["messages"][1]["content"].as_str().unwrap().to_owned();
    assert!(user.len() <= LlmSettings::PROMPT_LIMIT, "{}", user.len());
    assert!(user.contains("error: HEAD xxx"));
    assert!(user.contains("xxx TAIL"));
    assert!(llm.requests()[0].body.len() < 2 * LlmSettings::PROMPT_LIMIT);
    // The alert repeats a short excerpt of the error, then the answer.
    let message = &recorder.messages()[0];
    assert!(message.len() < 1_000 + ANSWER.len(), "{}", message.len());
    assert!(message.ends_with(ANSWER));
}

#[tokio::test]
async fn without_an_alerter_it_asks_nothing_and_is_skipped() {
    let llm = Receiver::always(chat(ANSWER.into()));
    let report = Run::new()
        .resource(settings(&llm))
        .execute_async(nightly())
        .await;
    let outcome = outcome_of(&report);
    assert!(
        matches!(outcome.status(), HookStatus::Skipped(why) if why.contains("no alerter")),
        "{:?}",
        outcome.status()
    );
    assert_eq!(llm.count(), 0);
}

// ----- the explicit constructor on a sync step ------------------------------

static EXPLICIT: OnceLock<(Receiver, RecordingAlerter)> = OnceLock::new();

fn explicit() -> &'static (Receiver, RecordingAlerter) {
    EXPLICIT.get_or_init(|| {
        (
            Receiver::always(chat(ANSWER.into())),
            RecordingAlerter::new(),
        )
    })
}

fn explicit_hook() -> hooks::SuggestFixHook {
    let (llm, recorder) = explicit();
    hooks::suggest_fix_with(settings(llm)).via(recorder.clone())
}

#[step(retries = 1, on_retry = explicit_hook(), on_failure = explicit_hook())]
fn parse(input: &str) -> anyhow::Result<u32> {
    Ok(input.parse::<u32>()?)
}

#[test]
fn suggest_fix_with_asks_its_own_model_after_each_failure_of_a_sync_step() {
    let (llm, recorder) = explicit();
    let err = parse("forty-two").unwrap_err();
    assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(10)));
    assert_eq!(err.kind(), ErrorKind::Error);
    // on_retry after attempt 1, on_failure after attempt 2.
    assert_eq!(llm.count(), 2);
    let prompts: Vec<String> = llm
        .requests()
        .iter()
        .map(|r| {
            r.json()["messages"][1]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(prompts[0].contains("attempt: 1 of 2"), "{}", prompts[0]);
    assert!(prompts[1].contains("attempt: 2 of 2"), "{}", prompts[1]);
    assert!(prompts[1].contains("error: invalid digit found in string"));
    let messages = recorder.messages();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].starts_with(
        "Suggested fix for step `parse`, whose attempt 1 of 2 failed (error): invalid digit"
    ));
    assert!(messages[1].starts_with(
        "Suggested fix for step `parse`, which failed (error): invalid digit found in string"
    ));
    // A success asks nothing more.
    assert_eq!(parse("42").unwrap(), 42);
    assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(10)));
    assert_eq!(llm.count(), 2);
}
