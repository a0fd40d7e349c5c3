//! A recorder for hook calls, keyed by step or pipeline name so that tests
//! running in parallel read only their own entries.
#![allow(dead_code)]

use std::sync::Mutex;

use hookflow::{HookContext, StepError};

static EVENTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Records `entry` under `key`.
pub fn record(key: &str, entry: impl Into<String>) {
    EVENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((key.to_owned(), entry.into()));
}

/// The entries recorded under `key`, in order (and forgets them).
pub fn take(key: &str) -> Vec<String> {
    let mut all = EVENTS.lock().unwrap_or_else(|p| p.into_inner());
    let mut mine = Vec::new();
    all.retain(|(k, e)| {
        if k == key {
            mine.push(e.clone());
            false
        } else {
            true
        }
    });
    mine
}

/// The key of a context: the step's name, else the pipeline's.
pub fn key(ctx: &HookContext) -> String {
    ctx.step_name()
        .or(ctx.pipeline_name())
        .unwrap_or("?")
        .to_owned()
}

pub fn on_start(ctx: &HookContext) {
    record(&key(ctx), format!("start#{}", ctx.attempt()));
}
pub fn on_success(ctx: &HookContext) {
    record(&key(ctx), "success");
}
pub fn on_failure(ctx: &HookContext) {
    let e = ctx.error().expect("failure hooks see the error");
    record(&key(ctx), format!("failure:{}:{}", e.kind(), e.message()));
}
pub fn on_retry(ctx: &HookContext, e: &StepError) {
    record(&key(ctx), format!("retry#{}:{}", ctx.attempt(), e.kind()));
}
pub fn on_crash(e: &StepError) {
    record(e.step_name(), format!("crash:{}", e.message()));
}
pub fn on_cancel(ctx: &HookContext) {
    record(&key(ctx), "cancel");
}
pub fn on_finish(ctx: &HookContext) {
    record(&key(ctx), format!("finish:{}", ctx.status()));
}
