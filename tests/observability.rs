//! Every step call and pipeline run is a `tracing` span; state transitions
//! and hook outcomes are events with structured fields.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hookflow::{pipeline, step};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

type Fields = BTreeMap<String, String>;

#[derive(Default)]
struct Collect(Fields);

impl Visit for Collect {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Capture {
    /// (name, fields, name of the parent span)
    spans: Arc<Mutex<Vec<(String, Fields, String)>>>,
    /// (message, fields, name of the enclosing span)
    events: Arc<Mutex<Vec<(String, Fields, String)>>>,
}

struct SpanIndex(usize);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut c = Collect::default();
        attrs.record(&mut c);
        let parent = ctx
            .span(id)
            .unwrap()
            .parent()
            .map(|p| p.name().to_owned())
            .unwrap_or_default();
        let mut spans = self.spans.lock().unwrap();
        spans.push((attrs.metadata().name().to_owned(), c.0, parent));
        ctx.span(id)
            .unwrap()
            .extensions_mut()
            .insert(SpanIndex(spans.len() - 1));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut c = Collect::default();
        values.record(&mut c);
        let index = ctx
            .span(id)
            .unwrap()
            .extensions()
            .get::<SpanIndex>()
            .unwrap()
            .0;
        self.spans.lock().unwrap()[index].1.extend(c.0);
    }
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut c = Collect::default();
        event.record(&mut c);
        let message = c.0.remove("message").unwrap_or_default();
        let parent = ctx
            .event_span(event)
            .map(|s| s.name().to_owned())
            .unwrap_or_default();
        self.events.lock().unwrap().push((message, c.0, parent));
    }
}

fn failing_hook() -> Result<(), String> {
    Err("nope".into())
}

fn panicking_hook() {
    panic!("hook bug");
}

// One test only in this file: a thread-scoped subscriber races tracing's
// callsite cache when other threads hit the same callsites at once.
#[step(retries = 1, on_failure = [failing_hook, panicking_hook])]
fn traced(fail: bool) -> anyhow::Result<u32> {
    anyhow::ensure!(!fail, "bad input");
    Ok(1)
}

#[pipeline]
fn traced_run(fail: bool) -> anyhow::Result<u32> {
    Ok(traced(fail)?)
}

fn current_span_name() -> String {
    tracing::Span::current()
        .metadata()
        .map_or("none", |m| m.name())
        .to_owned()
}

#[step]
async fn async_traced() -> (String, String) {
    let before = current_span_name();
    tokio::task::yield_now().await;
    (before, current_span_name())
}

#[pipeline]
async fn async_traced_run() -> anyhow::Result<(String, (String, String))> {
    let own = current_span_name();
    Ok((own, async_traced().await?))
}

#[test]
fn steps_and_runs_are_spans_and_transitions_are_events() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let err = tracing::subscriber::with_default(subscriber, || traced_run(true).unwrap_err());
    let run_id = err.run_id().to_string();

    let spans = capture.spans.lock().unwrap().clone();
    let pipeline_span = spans
        .iter()
        .find(|(n, _, _)| n == "hookflow.pipeline")
        .unwrap();
    assert_eq!(pipeline_span.1["pipeline"], "traced_run");
    assert_eq!(pipeline_span.1["run_id"], run_id);
    assert_eq!(pipeline_span.1["status"], "failed");
    let step_span = spans.iter().find(|(n, _, _)| n == "hookflow.step").unwrap();
    assert_eq!(step_span.2, "hookflow.pipeline");
    assert_eq!(step_span.1["step"], "traced");
    assert_eq!(step_span.1["run_id"], run_id);
    assert_eq!(step_span.1["status"], "failed");

    let events = capture.events.lock().unwrap().clone();
    let find = |msg: &str| {
        events
            .iter()
            .filter(|(m, _, _)| m == msg)
            .cloned()
            .collect::<Vec<_>>()
    };
    let started = find("attempt started");
    assert_eq!(started.len(), 2);
    assert_eq!(started[1].1["attempt"], "2");
    assert_eq!(started[1].1["run_id"], run_id);
    assert_eq!(started[1].2, "hookflow.step");

    let retrying = find("attempt failed, retrying");
    assert_eq!(retrying.len(), 1);
    assert_eq!(retrying[0].1["kind"], "error");
    assert_eq!(retrying[0].1["step"], "traced");

    let finished = find("step finished");
    assert_eq!(finished.len(), 1);
    let f = &finished[0].1;
    assert_eq!(
        (f["step"].as_str(), f["status"].as_str(), f["kind"].as_str()),
        ("traced", "failed", "error")
    );
    assert_eq!(f["attempt"], "2");
    assert_eq!(f["run_id"], run_id);

    let hook_failed = find("hook failed");
    assert_eq!(hook_failed.len(), 1);
    assert_eq!(hook_failed[0].1["hook"], "failing_hook");
    assert_eq!(hook_failed[0].1["event"], "on_failure");
    assert_eq!(hook_failed[0].1["error"], "nope");
    assert_eq!(hook_failed[0].1["step"], "traced");

    let hook_panicked = find("hook panicked");
    assert_eq!(hook_panicked.len(), 1);
    assert_eq!(hook_panicked[0].1["hook"], "panicking_hook");
    assert_eq!(hook_panicked[0].1["step"], "traced");
    assert_eq!(hook_panicked[0].1["panic"], "hook bug");

    // Async bodies run inside their spans, across awaits; step spans are
    // children of the run's span.
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (own, (before, after)) =
        tracing::subscriber::with_default(subscriber, || rt.block_on(async_traced_run()).unwrap());
    assert_eq!(own, "hookflow.pipeline");
    assert_eq!(
        (before.as_str(), after.as_str()),
        ("hookflow.step", "hookflow.step")
    );
    let spans = capture.spans.lock().unwrap().clone();
    let step = spans.iter().find(|(n, _, _)| n == "hookflow.step").unwrap();
    assert_eq!(step.2, "hookflow.pipeline");

    let run_finished = find("pipeline finished");
    assert_eq!(run_finished[0].1["status"], "failed");
    assert_eq!(run_finished[0].1["pipeline"], "traced_run");
}
