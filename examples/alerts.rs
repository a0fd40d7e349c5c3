//! A pipeline posting a failure alert to a local receiver it starts itself:
//! `cargo run --example alerts --features alerts`. No network needed.
//!
//! The receiver stands in for a Slack incoming webhook: it answers the first
//! post with 503 (the alerter retries) and prints what it got.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use hookflow::alert::{DefaultAlerter, HttpOptions, SlackAlerter};
use hookflow::prelude::*;
use hookflow::template::Template;
use hookflow::{hooks, HookStatus};

/// Starts a webhook receiver on 127.0.0.1 and returns its address.
async fn start_receiver() -> SocketAddr {
    let posts = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/services/T000/B000/XXXX",
        post(move |body: String| {
            let n = posts.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    println!("receiver: busy, answering 503");
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                println!("receiver got: {body}");
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[step(retries = 1, retry_delay = "10ms", on_failure = hooks::log())]
async fn extract() -> anyhow::Result<Vec<u32>> {
    anyhow::bail!("source database unreachable")
}

#[step(on_finish = hooks::log())]
async fn report(rows: &[u32]) -> usize {
    rows.len()
}

fn deploy_message() -> Template {
    Template::compile(
        "Nightly run {{ hook.run_id }} FAILED after {{ hook.duration_secs | round(2) }}s:\
         {% for s in hook.failed_steps %}\n- {{ s.step_name }} ({{ s.error_kind }}): {{ s.error_message }}{% endfor %}",
    )
    .expect("the template is valid")
}

#[pipeline(on_failure = hooks::alert_on_failure().template(deploy_message()))]
async fn nightly() -> anyhow::Result<usize> {
    let rows = extract().await?;
    Ok(report(&rows).await?)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_target(false).init();

    let addr = start_receiver().await;
    // In production: SlackAlerter::new(Secret::from_env("SLACK_WEBHOOK_URL")?)
    let slack = SlackAlerter::with_options(
        format!("http://{addr}/services/T000/B000/XXXX"),
        HttpOptions::default().backoff(Duration::from_millis(50), Duration::from_millis(200)),
    )
    .expect("a valid webhook URL");

    let report = Run::new()
        .resource(DefaultAlerter::new(slack))
        .execute_async(nightly())
        .await;

    match report.output() {
        Ok(n) => println!("pipeline completed: {n} rows"),
        Err(e) => println!("pipeline failed: {e}"),
    }
    for outcome in report.hook_outcomes() {
        let ok = matches!(outcome.status(), HookStatus::Ok);
        println!(
            "hook {} on {} ({}): {}",
            outcome.hook(),
            outcome.step().unwrap_or("the pipeline"),
            outcome.event(),
            if ok {
                "ok".to_owned()
            } else {
                outcome.status().to_string()
            }
        );
    }
}
