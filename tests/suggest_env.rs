//! `suggest_fix()` configured by the environment (`OPENAI_BASE_URL`,
//! `OPENAI_API_KEY`, `HOOKFLOW_LLM_MODEL` / `OPENAI_MODEL`), and
//! `{ suggest_fix = "NAME" }` entries of a configuration file. The
//! environment and the installed configuration are process-wide: every test
//! here holds one lock.
#![cfg(feature = "alerts")]
// The lock that serialises the environment is held across awaits on purpose:
// each test has its own runtime, and no other test may run meanwhile.
#![allow(clippy::await_holding_lock)]

mod alerts_support;
mod config_common;

use std::time::Duration;

use alerts_support::{capture_logs, closed_port, events_where, log_text, Receiver, Reply};
use config_common::exclusive;
use hookflow::alert::{DefaultAlerter, LlmEnvError, LlmSettings, RecordingAlerter};
use hookflow::config::Config;
use hookflow::{hooks, pipeline, step, HookStatus, PipelineError, Run, RunReport};

const VARS: [&str; 4] = [
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "HOOKFLOW_LLM_MODEL",
    "OPENAI_MODEL",
];

/// Sets exactly the given variables of [`VARS`], removing the others.
fn env(set: &[(&str, &str)]) {
    for name in VARS {
        match set.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
}

fn chat(content: &str) -> Reply {
    Reply::ok().body(
        serde_json::json!({
            "choices": [{ "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }]
        })
        .to_string(),
    )
}

#[step(on_failure = hooks::suggest_fix())]
async fn extract() -> anyhow::Result<()> {
    anyhow::bail!("table `events` does not exist")
}

#[pipeline]
async fn daily() -> anyhow::Result<()> {
    let _ = extract().await;
    Ok(())
}

async fn run(recorder: &RecordingAlerter) -> RunReport<Result<(), PipelineError>> {
    Run::new()
        .resource(DefaultAlerter::new(recorder.clone()))
        .execute_async(daily())
        .await
}

fn status_of(report: &RunReport<Result<(), PipelineError>>) -> HookStatus {
    report
        .hook_outcomes()
        .into_iter()
        .find(|o| o.step() == Some("extract"))
        .expect("the hook ran")
        .status()
        .clone()
}

#[tokio::test]
async fn without_a_model_it_asks_nothing_and_warns_which_variable_to_set() {
    let _g = exclusive();
    capture_logs();
    let llm = Receiver::always(chat("never asked"));
    env(&[("OPENAI_BASE_URL", &llm.url("/v1"))]);
    let recorder = RecordingAlerter::new();
    let report = run(&recorder).await;
    match status_of(&report) {
        HookStatus::Skipped(why) => assert_eq!(
            why,
            "skipped: no model to ask; set HOOKFLOW_LLM_MODEL (or OPENAI_MODEL)"
        ),
        other => panic!("expected a skipped hook, got {other:?}"),
    }
    assert_eq!(llm.count(), 0);
    assert!(recorder.is_empty());
    let warnings: Vec<_> = events_where("hook", "hooks::suggest_fix()")
        .into_iter()
        .filter(|e| e.level == tracing::Level::WARN)
        .filter(|e| {
            e.field("message")
                .is_some_and(|m| m.contains("set HOOKFLOW_LLM_MODEL"))
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].field("step"), Some("extract"));
    assert_eq!(LlmSettings::from_env().unwrap_err(), LlmEnvError::NoModel);
}

#[tokio::test]
async fn the_environment_names_the_server_the_model_and_the_key() {
    let _g = exclusive();
    capture_logs();
    let llm = Receiver::always(chat("1. Run the migrations first."));
    let key = "sk-env-suggest-key-3141592";
    env(&[
        ("OPENAI_BASE_URL", &llm.url("/v1/")),
        ("OPENAI_API_KEY", key),
        ("HOOKFLOW_LLM_MODEL", "qwen2.5-coder"),
        ("OPENAI_MODEL", "gpt-not-this-one"),
    ]);
    let recorder = RecordingAlerter::new();
    let report = run(&recorder).await;
    assert_eq!(status_of(&report), HookStatus::Ok);
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].json()["model"], "qwen2.5-coder");
    assert_eq!(
        requests[0].headers["authorization"],
        format!("Bearer {key}")
    );
    assert!(recorder.messages()[0].ends_with("1. Run the migrations first."));
    // The key is a secret from the moment it was read.
    assert_eq!(
        hookflow::secret::redact(&format!("key={key}")),
        "key=[secret OPENAI_API_KEY]"
    );
    assert!(!log_text().contains(key));
}

#[tokio::test]
async fn openai_model_is_the_fallback_and_without_a_key_there_is_no_header() {
    let _g = exclusive();
    let llm = Receiver::always(chat("1. Create the table."));
    env(&[
        ("OPENAI_BASE_URL", &llm.url("/v1")),
        ("OPENAI_MODEL", "llama-3.1-8b"),
    ]);
    let recorder = RecordingAlerter::new();
    let report = run(&recorder).await;
    assert_eq!(status_of(&report), HookStatus::Ok);
    let requests = llm.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["model"], "llama-3.1-8b");
    assert!(!requests[0].headers.contains_key("authorization"));
}

#[test]
fn the_default_server_is_openai_and_a_resource_wins_over_the_environment() {
    let _g = exclusive();
    env(&[("HOOKFLOW_LLM_MODEL", "gpt-4o-mini")]);
    let settings = LlmSettings::from_env().unwrap();
    assert_eq!(
        settings.endpoint(),
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(settings.model(), "gpt-4o-mini");
    assert_eq!(settings.request_timeout(), Duration::from_secs(60));

    // A run's `LlmSettings` resource is asked instead of the environment's
    // (which names a port where nothing listens).
    env(&[
        ("OPENAI_BASE_URL", &format!("http://{}/v1", closed_port())),
        ("HOOKFLOW_LLM_MODEL", "from-env"),
    ]);
    let llm = Receiver::always(chat("1. Use the resource."));
    let recorder = RecordingAlerter::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(
        Run::new()
            .resource(DefaultAlerter::new(recorder.clone()))
            .resource(LlmSettings::new(llm.url("/v1"), "from-resource"))
            .execute_async(daily()),
    );
    assert_eq!(status_of(&report), HookStatus::Ok);
    assert_eq!(llm.requests()[0].json()["model"], "from-resource");
}

// ----- configuration files --------------------------------------------------

#[step]
fn cfg_load() -> anyhow::Result<()> {
    anyhow::bail!("permission denied: /data/in.csv")
}

#[test]
fn a_suggest_fix_entry_posts_the_answer_through_the_file_alerter() {
    let _g = exclusive();
    let llm = Receiver::always(chat("1. Give the job read access to /data."));
    let slack = Receiver::always(Reply::ok().body("ok"));
    env(&[
        ("OPENAI_BASE_URL", &llm.url("/v1")),
        ("HOOKFLOW_LLM_MODEL", "local-model"),
    ]);
    std::env::set_var(
        "HOOKFLOW_SUGGEST_TEST_SLACK_URL",
        slack.url("/services/T/B/C"),
    );
    let config = Config::from_toml_str(
        "hookflow.toml",
        r#"
        [alerters.ops]
        kind = "slack"
        url = "{{ secret.HOOKFLOW_SUGGEST_TEST_SLACK_URL }}"

        [steps.cfg_load]
        on_failure = [{ suggest_fix = "ops" }]
        "#,
    )
    .unwrap();
    assert!(
        format!("{config:?}").contains("\"suggest_fix:ops\""),
        "{config:?}"
    );
    config.install();

    let err = cfg_load().unwrap_err();
    assert_eq!(err.message(), "permission denied: /data/in.csv");
    assert!(hookflow::wait_for_detached_hooks(Duration::from_secs(20)));
    let asked = llm.requests();
    assert_eq!(asked.len(), 1);
    let prompt = asked[0].json()["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(prompt.contains("step: cfg_load\n"), "{prompt}");
    assert!(prompt.contains("error: permission denied: /data/in.csv"));
    let posts = slack.requests();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].json()["text"],
        "Suggested fix for step `cfg_load`, which failed (error): permission denied: /data/in.csv\n\n\
         1. Give the job read access to /data."
    );
}

#[test]
fn a_suggest_fix_entry_names_a_declared_alerter_and_nothing_else() {
    let _g = exclusive();
    let err = Config::from_toml_str(
        "hookflow.toml",
        "[steps.cfg_load]\n\
         on_failure = [{ suggest_fix = \"opz\" }, { suggest_fix = 3 }]\n\
         on_retry = [{ suggest_fix = \"ops\", model = \"gpt\" }]\n\
         [alerters.ops]\n\
         kind = \"webhook\"\n\
         url = \"http://127.0.0.1:9/hook\"\n",
    )
    .unwrap_err();
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| {
            (
                p.line(),
                p.message().to_owned(),
                p.help().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{err}");
    assert_eq!(got[0].0, 2);
    assert_eq!(got[0].1, "unknown alerter `opz`");
    assert_eq!(got[0].2.as_deref(), Some("did you mean `ops`?"));
    assert_eq!(got[1].0, 2);
    assert_eq!(got[1].1, "`suggest_fix` must be a string, found an integer");
    assert_eq!((got[2].0, got[2].1.as_str()), (3, "unknown key `model`"));
}
