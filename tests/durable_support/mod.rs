//! What the durable-pipeline tests share: the hook log that parent and
//! child processes append to, the hooks that write it, and its parsing.
//! Each test crate names its own environment variables (`CHILD_ENV`,
//! `LOG_ENV`) at its root.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hookflow::HookContext;

use super::{CHILD_ENV, LOG_ENV};

/// The tests share the process's hooks and spawn children: one at a time.
pub static SERIAL: Mutex<()> = Mutex::new(());
/// Where this process's hooks write (the parent's side).
pub static LOG: Mutex<Option<PathBuf>> = Mutex::new(None);

pub fn log_path() -> PathBuf {
    if let Some(p) = LOG.lock().unwrap_or_else(|p| p.into_inner()).clone() {
        return p;
    }
    PathBuf::from(std::env::var_os(LOG_ENV).expect("a log file"))
}

pub fn append(line: &str) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path())
        .unwrap();
    // One write per line: lines of several processes never interleave.
    f.write_all(format!("{line}\n").as_bytes()).unwrap();
}

pub fn scenario() -> String {
    std::env::var(CHILD_ENV).unwrap_or_default()
}

pub fn mark(what: &str) {
    append(&format!("mark={what}"));
}

pub fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

pub fn note(ctx: &HookContext, hook: &str) {
    let failed: Vec<String> = ctx
        .failed_steps()
        .iter()
        .map(|f| format!("{}:{}", f.name(), f.kind()))
        .collect();
    append(&format!(
        "who={};hook={hook};step={};status={};kind={};recovered={};redelivered={};key={};failed={}",
        if scenario().is_empty() {
            "parent"
        } else {
            "child"
        },
        ctx.step_name().unwrap_or("-"),
        ctx.status().as_str(),
        ctx.error().map_or("-".to_owned(), |e| e.kind().to_string()),
        ctx.recovered(),
        ctx.redelivered(),
        ctx.delivery_key().unwrap_or_default(),
        failed.join(","),
    ));
}

pub fn s_success(ctx: &HookContext) {
    note(ctx, "s_success");
}
pub fn s_crash(ctx: &HookContext) {
    note(ctx, "s_crash");
}
pub fn s_failure(ctx: &HookContext) {
    note(ctx, "s_failure");
}
pub fn s_finish(ctx: &HookContext) {
    note(ctx, "s_finish");
}
pub fn p_crash(ctx: &HookContext) {
    note(ctx, "p_crash");
}
pub fn p_failure(ctx: &HookContext) {
    note(ctx, "p_failure");
}
pub fn p_finish(ctx: &HookContext) {
    note(ctx, "p_finish");
}
pub fn p_success(ctx: &HookContext) {
    note(ctx, "p_success");
}
/// Hangs in the child of `kill_in_hook` the first time (the child is
pub fn kill(mut child: Child) {
    // `Child::kill` sends SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();
}

#[derive(Debug, Clone)]
pub struct Call {
    pub fields: HashMap<String, String>,
}

impl Call {
    pub fn parse(line: &str) -> Call {
        let fields = line
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Call { fields }
    }
    pub fn get(&self, k: &str) -> &str {
        self.fields.get(k).map_or("", String::as_str)
    }
    pub fn id(&self) -> String {
        format!("{}@{}", self.get("hook"), self.get("step"))
    }
}

pub fn ids(calls: &[Call]) -> Vec<String> {
    calls.iter().map(Call::id).collect()
}

/// A child process re-running this test binary's `child_entry` for
/// `scenario`, its hooks writing to `log` (the caller adds its journal's
/// location and spawns it).
pub fn child(scenario: &str, log: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_entry",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, scenario)
    .env(LOG_ENV, log)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

/// The lines of the hook log.
pub fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits (30 s at most) until a process marked `what` in the log.
pub fn wait_for(log: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let needle = format!("mark={what}");
    while !lines(log).contains(&needle) {
        assert!(
            Instant::now() < deadline,
            "the child never reached `{what}`"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The hook calls logged since line `from`.
pub fn calls(log: &Path, from: usize) -> Vec<Call> {
    lines(log)[from..]
        .iter()
        .filter(|l| l.starts_with("who="))
        .map(|l| Call::parse(l))
        .collect()
}

/// What recovering a run whose async step `stream_in` was killed mid-body
/// fires, on either store: the step's failure plan (its async alert first),
/// then the run's, each hook once, as aborted and recovered.
pub fn assert_async_step_recovered_aborted(calls: &[Call], report: &hookflow::RecoveryReport) {
    assert_eq!(
        ids(calls),
        [
            "async_alert@stream_in",
            "s_failure@stream_in",
            "s_finish@stream_in",
            "p_failure@-",
            "p_finish@-"
        ],
        "{calls:?}"
    );
    assert!(calls
        .iter()
        .all(|c| c.get("kind") == "aborted" && c.get("recovered") == "true"));
    assert_eq!(calls[3].get("failed"), "stream_in:aborted");
    assert_eq!(report.runs[0].aborted_steps, ["stream_in"]);
}
