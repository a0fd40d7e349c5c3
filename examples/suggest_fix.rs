//! A failing step asks a model for a fix and posts it to a Slack-format
//! receiver: `cargo run --example suggest_fix --features alerts`.
//!
//! No network needed: the example starts two servers on 127.0.0.1, a
//! stand-in for an OpenAI-compatible chat-completions server (what
//! llama.cpp's `llama-server`, vLLM, Ollama or LM Studio serve at `/v1`) and
//! a stand-in for a Slack incoming webhook, and prints what each received.
//!
//! Against a real local model, drop the stand-in and set the environment
//! instead of the `LlmSettings` resource:
//!
//! ```text
//! OPENAI_BASE_URL=http://127.0.0.1:8080/v1 HOOKFLOW_LLM_MODEL=qwen2.5-coder-7b-instruct
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use hookflow::alert::{DefaultAlerter, LlmSettings, SlackAlerter};
use hookflow::prelude::*;
use hookflow::{hooks, HookStatus};

/// Starts a server on 127.0.0.1 with `app` and returns its address.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A chat-completions stand-in: prints the prompt, answers with a fix.
fn model() -> Router {
    Router::new().route(
        "/v1/chat/completions",
        post(|Json(request): Json<serde_json::Value>| async move {
            println!(
                "model `{}` was asked:\n{}\n",
                request["model"].as_str().unwrap_or("?"),
                request["messages"][1]["content"].as_str().unwrap_or("?")
            );
            Json(serde_json::json!({
                "object": "chat.completion",
                "choices": [{
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "1. Create the directory before the run: `std::fs::create_dir_all(\"out\")?`.\n\
                                    2. Make the output path configurable and check it at start-up."
                    },
                    "finish_reason": "stop"
                }]
            }))
        }),
    )
}

/// A Slack incoming-webhook stand-in: prints the text it gets.
fn slack() -> Router {
    Router::new().route(
        "/services/T000/B000/XXXX",
        post(|Json(body): Json<serde_json::Value>| async move {
            println!(
                "slack got:\n{}\n",
                body["text"].as_str().unwrap_or_default()
            );
            "ok"
        }),
    )
}

#[step(on_failure = hooks::suggest_fix())]
async fn export() -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::write("/nonexistent-dir/report.csv", "id,total\n")
        .context("writing the report to /nonexistent-dir/report.csv")?;
    Ok(())
}

#[pipeline]
async fn nightly() -> anyhow::Result<()> {
    export().await?;
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_target(false).init();

    let model_addr = serve(model()).await;
    let slack_addr = serve(slack()).await;

    // In production: LlmSettings::from_env() (or nothing at all: the hook
    // reads the environment itself) and SlackAlerter::new(Secret::from_env(..)?).
    let llm = LlmSettings::new(
        format!("http://{model_addr}/v1"),
        "qwen2.5-coder-7b-instruct",
    )
    .timeout(Duration::from_secs(30));
    let slack = SlackAlerter::new(format!("http://{slack_addr}/services/T000/B000/XXXX"))
        .expect("a valid webhook URL");

    let report = Run::new()
        .resource(DefaultAlerter::new(slack))
        .resource(llm)
        // A real model may need more than the default 10 s.
        .hook_timeout(Duration::from_secs(45))
        .execute_async(nightly())
        .await;

    if let Err(e) = report.output() {
        println!("pipeline failed: {e}");
    }
    for outcome in report.hook_outcomes() {
        let status = match outcome.status() {
            HookStatus::Ok => "ok".to_owned(),
            other => other.to_string(),
        };
        println!(
            "hook {} on {}: {status}",
            outcome.hook(),
            outcome.step().unwrap_or("the pipeline")
        );
    }
}
