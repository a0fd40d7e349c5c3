//! The HTTP alerters against real servers on 127.0.0.1: exact bodies,
//! limits, retries, timeouts, and which failures are final.
#![cfg(feature = "alerts")]

mod alerts_support;

use std::time::{Duration, Instant};

use alerts_support::{closed_port, Receiver, Reply};
use hookflow::alert::{
    Alert, AlertErrorKind, Alerter, DiscordAlerter, HttpOptions, SlackAlerter, WebhookAlerter,
};
use hookflow::{ErrorKind, FailedStep, HookContext, Status, StepError};

fn failed_ctx() -> HookContext {
    HookContext::builder()
        .step("load")
        .pipeline("nightly")
        .status(Status::Failed)
        .error(StepError::manual("load", ErrorKind::Error, "disk full"))
        .attempt(2)
        .max_attempts(3)
        .build()
}

/// Fast retries, so that tests do not wait for the default backoff.
fn fast() -> HttpOptions {
    HttpOptions::default()
        .retries(3)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn slack_posts_text_with_control_characters_escaped() {
    let server = Receiver::always(Reply::ok().body("ok"));
    let slack = SlackAlerter::with_options(server.url("/services/T/B/X"), fast()).unwrap();
    let ctx = failed_ctx();
    slack
        .deliver(&Alert::new("load <failed> & retried > twice", &ctx))
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/services/T/B/X");
    assert_eq!(requests[0].headers["content-type"], "application/json");
    assert_eq!(
        requests[0].json(),
        serde_json::json!({ "text": "load &lt;failed&gt; &amp; retried &gt; twice" })
    );
}

#[tokio::test]
async fn slack_cuts_long_text_in_the_middle_instead_of_failing() {
    let server = Receiver::always(Reply::ok());
    let slack = SlackAlerter::with_options(server.url("/hook"), fast()).unwrap();
    let ctx = failed_ctx();
    let long = format!("HEAD{}TAIL", "<".repeat(10_000));
    slack.deliver(&Alert::new(long, &ctx)).await.unwrap();
    let text = server.requests()[0].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.chars().count() <= SlackAlerter::TEXT_LIMIT);
    assert!(text.starts_with("HEAD&lt;"), "{}", &text[..20]);
    assert!(text.ends_with("&lt;TAIL"));
    assert!(text.contains("characters cut"));
}

#[tokio::test]
async fn discord_posts_content_without_mentions_within_its_limit() {
    let server = Receiver::always(Reply::status(204));
    let discord = DiscordAlerter::with_options(server.url("/api/webhooks/1/t"), fast()).unwrap();
    let ctx = failed_ctx();
    discord
        .deliver(&Alert::new("@everyone load failed", &ctx))
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].json(),
        serde_json::json!({ "content": "@everyone load failed", "allowed_mentions": { "parse": [] } })
    );

    let long = format!("START{}END", "x".repeat(5_000));
    discord.deliver(&Alert::new(long, &ctx)).await.unwrap();
    let content = server.requests()[1].json()["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(content.chars().count() <= DiscordAlerter::CONTENT_LIMIT);
    assert!(content.starts_with("STARTx") && content.ends_with("xEND"));
}

#[tokio::test]
async fn webhook_posts_every_hook_variable_and_the_message_with_headers() {
    let server = Receiver::always(Reply::ok());
    let hook = WebhookAlerter::builder(server.url("/alerts"))
        .header("Authorization", "Bearer webhook-test-token-1")
        .header("X-Team", "data")
        .options(fast())
        .build()
        .unwrap();
    let ctx = HookContext::builder()
        .pipeline("nightly")
        .status(Status::Failed)
        .error(StepError::manual("nightly", ErrorKind::Panic, "boom"))
        .failed_step(FailedStep::new("load", "disk full", ErrorKind::Error))
        .build();
    hook.deliver(&Alert::new("nightly failed", &ctx))
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.headers["authorization"], "Bearer webhook-test-token-1");
    assert_eq!(r.headers["x-team"], "data");
    let body = r.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "step_name",
        "pipeline",
        "run_id",
        "status",
        "is_success",
        "error_message",
        "error_kind",
        "attempt",
        "max_attempts",
        "started_at",
        "completed_at",
        "duration_secs",
        "failed_steps",
        "message",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(body["message"], "nightly failed");
    assert_eq!(body["step_name"], serde_json::Value::Null);
    assert_eq!(body["pipeline"], "nightly");
    assert_eq!(body["run_id"], ctx.run_id().unwrap().to_string());
    assert_eq!(body["status"], "failed");
    assert_eq!(body["is_success"], false);
    assert_eq!(body["error_kind"], "panic");
    assert_eq!(body["error_message"], "boom");
    assert_eq!(body["attempt"], 1);
    assert_eq!(
        body["failed_steps"],
        serde_json::json!([{ "step_name": "load", "error_message": "disk full", "error_kind": "error" }])
    );
}

#[cfg(feature = "journal")]
#[tokio::test]
async fn a_durable_delivery_sends_its_key_as_idempotency_key_on_every_try() {
    let server = Receiver::start(|n, _| {
        if n < 1 {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    });
    let webhook = WebhookAlerter::builder(server.url("/hook"))
        .options(fast())
        .build()
        .unwrap();
    let key = "01a2/load#0/1/on_failure/alert:ops";
    let ctx = HookContext::builder()
        .step("load")
        .status(Status::Failed)
        .delivery(key, true, true)
        .build();
    webhook.deliver(&Alert::new("m", &ctx)).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "a retry after the 500");
    for r in &requests {
        assert_eq!(r.headers["idempotency-key"], key);
    }
    // Outside a durable run: no key, no header.
    let plain = failed_ctx();
    webhook.deliver(&Alert::new("m", &plain)).await.unwrap();
    assert!(!server.requests()[2].headers.contains_key("idempotency-key"));
}

#[tokio::test]
async fn retries_500_then_delivers() {
    let server = Receiver::start(|n, _| {
        if n < 2 {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    });
    let slack = SlackAlerter::with_options(server.url("/hook"), fast()).unwrap();
    let ctx = failed_ctx();
    slack.deliver(&Alert::new("m", &ctx)).await.unwrap();
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn retries_429_after_the_time_retry_after_asks_for() {
    let server = Receiver::start(|n, _| {
        if n == 0 {
            Reply::status(429).header("retry-after", "1")
        } else {
            Reply::ok()
        }
    });
    let slack = SlackAlerter::with_options(server.url("/hook"), fast()).unwrap();
    let ctx = failed_ctx();
    let started = Instant::now();
    slack.deliver(&Alert::new("m", &ctx)).await.unwrap();
    assert_eq!(server.count(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn discord_429_retry_after_in_the_body_is_honoured() {
    let server = Receiver::start(|n, _| {
        if n == 0 {
            Reply::status(429).body(
                r#"{"message":"You are being rate limited.","retry_after":0.4,"global":false}"#,
            )
        } else {
            Reply::status(204)
        }
    });
    let discord = DiscordAlerter::with_options(server.url("/hook"), fast()).unwrap();
    let ctx = failed_ctx();
    let started = Instant::now();
    discord.deliver(&Alert::new("m", &ctx)).await.unwrap();
    assert_eq!(server.count(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_404_is_final_and_reported_with_an_excerpt_of_the_answer() {
    let server = Receiver::always(Reply::status(404).body("no_such_hook"));
    let slack = SlackAlerter::with_options(server.url("/hook"), fast()).unwrap();
    let ctx = failed_ctx();
    let err = slack.deliver(&Alert::new("m", &ctx)).await.unwrap_err();
    assert_eq!(server.count(), 1);
    assert_eq!(err.kind(), AlertErrorKind::Status(404));
    assert_eq!(
        err.to_string(),
        "slack: HTTP 404 Not Found: no_such_hook after 1 attempt"
    );
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_retries() {
    let server = Receiver::always(Reply::status(503));
    let options = fast().retries(2);
    let hook = WebhookAlerter::builder(server.url("/x"))
        .options(options)
        .build()
        .unwrap();
    let ctx = failed_ctx();
    let err = hook.deliver(&Alert::new("m", &ctx)).await.unwrap_err();
    assert_eq!(server.count(), 3);
    assert_eq!(err.kind(), AlertErrorKind::Status(503));
    assert!(err.to_string().ends_with("after 3 attempts"), "{err}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = Receiver::always(Reply::ok().delay(Duration::from_secs(30)));
    let options = fast().retries(1).timeout(Duration::from_millis(200));
    let slack = SlackAlerter::with_options(server.url("/slow"), options).unwrap();
    let ctx = failed_ctx();
    let started = Instant::now();
    let err = slack.deliver(&Alert::new("m", &ctx)).await.unwrap_err();
    assert_eq!(err.kind(), AlertErrorKind::Timeout);
    assert_eq!(server.count(), 2, "a timeout is retried");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!err.to_string().contains(&server.addr.to_string()), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error_after_retries() {
    let addr = closed_port();
    let discord =
        DiscordAlerter::with_options(format!("http://{addr}/hook"), fast().retries(1)).unwrap();
    let ctx = failed_ctx();
    let err = discord.deliver(&Alert::new("m", &ctx)).await.unwrap_err();
    assert_eq!(err.kind(), AlertErrorKind::Connect);
    assert!(
        err.to_string().starts_with("discord: could not connect"),
        "{err}"
    );
    assert!(err.to_string().ends_with("after 2 attempts"), "{err}");
    assert!(!err.to_string().contains(&addr.port().to_string()), "{err}");
}

#[test]
fn a_url_that_is_not_http_is_a_config_error() {
    let err = SlackAlerter::new("ftp://example.invalid/x").unwrap_err();
    assert_eq!(err.kind(), AlertErrorKind::Config);
    assert!(err.to_string().contains("http:// or https://"), "{err}");
    let err = WebhookAlerter::builder("http://127.0.0.1:9/x")
        .header("bad header", "v")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), AlertErrorKind::Config);
    assert!(
        err.to_string()
            .contains("`bad header` is not a valid header name"),
        "{err}"
    );
}

mod in_steps {
    use super::*;
    use hookflow::alert::DefaultAlerter;
    use hookflow::{hooks, pipeline, step, HookStatus, Run};

    #[step(on_failure = hooks::alert_on_failure())]
    async fn http_async_load() -> anyhow::Result<()> {
        anyhow::bail!("disk <full>")
    }

    #[pipeline]
    async fn http_async_pipeline() -> Result<(), StepError> {
        http_async_load().await
    }

    #[tokio::test]
    async fn an_async_step_awaits_its_slack_alert_before_returning() {
        let server = Receiver::always(Reply::ok());
        let slack = SlackAlerter::with_options(server.url("/hook"), fast()).unwrap();
        let report = Run::new()
            .resource(DefaultAlerter::new(slack))
            .execute_async(http_async_pipeline())
            .await;
        assert!(report.output().is_err());
        // Delivered already: no waiting for detached hooks.
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let text = requests[0].json()["text"].as_str().unwrap().to_owned();
        assert!(
            text.starts_with("step `http_async_load` failed (error): disk &lt;full&gt;\nattempt 1/1 · pipeline `http_async_pipeline`"),
            "{text}"
        );
        assert!(report
            .hook_outcomes()
            .iter()
            .all(|o| o.status() == &HookStatus::Ok));
    }

    #[step(on_failure = hooks::alert_on_failure())]
    fn http_sync_load() -> anyhow::Result<u32> {
        anyhow::bail!("sync failure")
    }

    #[pipeline]
    fn http_sync_pipeline() -> Result<u32, StepError> {
        http_sync_load()
    }

    #[test]
    fn a_sync_step_delivers_from_the_hook_thread_and_a_404_is_recorded() {
        let server = Receiver::always(Reply::status(404).body("no_service"));
        let discord = DiscordAlerter::with_options(server.url("/hook"), fast()).unwrap();
        let report = Run::new()
            .resource(DefaultAlerter::new(discord))
            .execute(http_sync_pipeline);
        let err = report.output().as_ref().unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Error,
            "the outcome is the step's own"
        );
        assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(10)));
        assert_eq!(server.count(), 1, "a 404 is not retried");
        let failures = report.hook_failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].status(),
            &HookStatus::Failed("discord: HTTP 404 Not Found: no_service after 1 attempt".into())
        );
    }

    #[step(on_failure = hooks::alert_on_failure())]
    async fn http_slow_receiver() -> anyhow::Result<()> {
        anyhow::bail!("nobody home")
    }

    #[pipeline]
    async fn http_slow_pipeline() -> Result<(), StepError> {
        http_slow_receiver().await
    }

    #[tokio::test]
    async fn the_run_hook_time_bound_caps_a_delivery_that_hangs() {
        let server = Receiver::always(Reply::ok().delay(Duration::from_secs(30)));
        let slack = SlackAlerter::new(server.url("/hook")).unwrap();
        let started = Instant::now();
        let report = Run::new()
            .hook_timeout(Duration::from_millis(300))
            .resource(DefaultAlerter::new(slack))
            .execute_async(http_slow_pipeline())
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            report.output().as_ref().unwrap_err().kind(),
            ErrorKind::Error
        );
        let failures = report.hook_failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].status(),
            &HookStatus::TimedOut(Duration::from_millis(300))
        );
    }
}

#[tokio::test]
async fn a_wait_too_long_for_a_duration_waits_max_retry_after() {
    // A header and a body asking for more seconds than a `Duration` holds.
    let server = Receiver::start(|n, _| match n {
        0 => Reply::status(429).header("retry-after", "1e20"),
        1 => Reply::status(429).body(r#"{"retry_after": 1e300}"#),
        _ => Reply::status(204),
    });
    let options = fast().max_retry_after(Duration::from_millis(200));
    let discord = DiscordAlerter::with_options(server.url("/hook"), options).unwrap();
    let ctx = failed_ctx();
    let started = Instant::now();
    discord.deliver(&Alert::new("m", &ctx)).await.unwrap();
    assert_eq!(server.count(), 3);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(380), "{waited:?}");
}
