//! Durable pipelines (feature `journal`): a child process runs a durable
//! pipeline and is killed with SIGKILL at a chosen point; `recover()` then
//! fires exactly the hooks the child never fired, once, with
//! `ErrorKind::Aborted`, `recovered()`, `redelivered()` and `failed_steps`.
//!
//! The children re-run this test binary with `HOOKFLOW_DURABLE_CHILD` set;
//! their entry point is the ignored test `child_entry`. Every hook, in the
//! child and in this process, appends one line to a shared log file (small
//! `O_APPEND` writes), so calls are counted across processes.
//!
//! ```text
//! cargo test --features journal --test durable
//! ```

#![cfg(feature = "journal")]

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use hookflow::journal::FileJournal;
use hookflow::{pipeline, recover_from, step, HookContext, Status};

mod durable_support;
use durable_support::*;

const CHILD_ENV: &str = "HOOKFLOW_DURABLE_CHILD";
const LOG_ENV: &str = "HOOKFLOW_DURABLE_LOG";

/// killed there); returns when called again.
fn slow_alert(ctx: &HookContext) {
    note(ctx, "slow_alert");
    if matches!(scenario().as_str(), "kill_in_hook" | "kill_in_success") && !ctx.recovered() {
        mark("hook hanging");
        hang();
    }
}
/// Typed: needs the step's output, which dies with the process.
fn typed_success(rows: &u32) {
    append(&format!("who=any;hook=typed_success;rows={rows}"));
}

#[step(on_success = [s_success, typed_success], on_crash = s_crash, on_failure = s_failure, on_finish = s_finish)]
fn extract() -> anyhow::Result<u32> {
    mark("extract body");
    Ok(7)
}

#[step(on_crash = s_crash, on_failure = s_failure, on_finish = s_finish)]
fn load(rows: u32) -> anyhow::Result<()> {
    mark("load body");
    if scenario() == "kill_in_step" {
        hang();
    }
    anyhow::ensure!(rows > 0, "no rows");
    Ok(())
}

#[pipeline(durable, on_success = p_success, on_crash = p_crash, on_failure = p_failure, on_finish = p_finish)]
fn nightly() -> anyhow::Result<()> {
    let rows = extract()?;
    if scenario() == "kill_between" {
        mark("between steps");
        hang();
    }
    load(rows)?;
    Ok(())
}

#[step(on_failure = [s_failure, slow_alert, s_crash], on_finish = s_finish)]
fn publish() -> anyhow::Result<()> {
    mark("publish body");
    anyhow::bail!("the bucket is gone")
}

#[pipeline(durable, on_failure = p_failure, on_finish = p_finish)]
fn release() -> anyhow::Result<()> {
    publish()?;
    Ok(())
}

#[step(on_success = [slow_alert, typed_success, s_success], on_finish = s_finish)]
fn count() -> anyhow::Result<u32> {
    Ok(42)
}

#[pipeline(durable, on_success = p_success, on_finish = p_finish)]
fn tally() -> anyhow::Result<()> {
    count()?;
    Ok(())
}

#[step(on_success = s_success, on_finish = s_finish)]
fn tick(i: u32) -> anyhow::Result<u32> {
    mark(&format!("tick {i}"));
    std::thread::sleep(Duration::from_millis(3));
    Ok(i)
}

#[pipeline(durable, on_success = p_success, on_failure = p_failure, on_finish = p_finish)]
fn many() -> anyhow::Result<()> {
    mark("many started");
    for i in 0..40 {
        tick(i)?;
    }
    Ok(())
}

#[step(on_failure = s_failure)]
fn fetch() -> anyhow::Result<()> {
    mark("fetch body");
    hang()
}

/// Durable only by configuration.
#[pipeline(on_failure = p_failure)]
fn adhoc() -> anyhow::Result<()> {
    fetch()?;
    Ok(())
}

async fn async_alert(ctx: &HookContext) {
    note(ctx, "async_alert");
    if matches!(
        scenario().as_str(),
        "async_kill_in_hook" | "kill_in_detached"
    ) && !ctx.recovered()
    {
        mark("async hook hanging");
        std::future::pending::<()>().await;
    }
    // Awaits a timer: the recovery's runtime drives it.
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[step(on_failure = [async_alert, s_failure], on_finish = s_finish)]
async fn stream_in(n: u32) -> anyhow::Result<()> {
    mark("stream body");
    if scenario() == "async_kill_in_step" {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(Duration::from_millis(1)).await;
    anyhow::bail!("stream {n} broke")
}

#[pipeline(durable, on_failure = p_failure, on_finish = p_finish)]
async fn streaming() -> anyhow::Result<()> {
    let (a, b) = tokio::join!(stream_in(1), async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok::<_, hookflow::StepError>(())
    });
    a?;
    b?;
    Ok(())
}

/// A sync step given an async hook by its run's defaults: the hook runs on
/// the hook thread, after the step returned.
#[step]
fn check() -> anyhow::Result<()> {
    anyhow::bail!("check failed")
}

#[pipeline(
    durable,
    steps(on_failure = [s_failure, async_alert], on_finish = s_finish),
    on_failure = p_failure,
    on_finish = p_finish
)]
async fn audit() -> anyhow::Result<()> {
    check()?;
    Ok(())
}

#[step(on_failure = [s_failure, s_failure])]
fn twice() -> anyhow::Result<()> {
    anyhow::bail!("twice")
}

#[pipeline(durable)]
fn doubled() -> anyhow::Result<()> {
    let _ = twice();
    Ok(())
}

/// The entry point of the child processes (ignored in a normal run).
#[test]
#[ignore = "entry point of the child processes of the other tests"]
fn child_entry() {
    match scenario().as_str() {
        "" => {}
        "kill_in_step" | "kill_between" => {
            let _ = nightly();
            mark("child done");
        }
        "kill_in_success" => {
            let _ = tally();
            mark("child done");
        }
        "kill_in_hook" => {
            let _ = release();
            mark("child done");
        }
        "many" => {
            let _ = many();
            mark("child done");
            hang();
        }
        #[cfg(feature = "config")]
        "durable_by_config" => {
            let dir = PathBuf::from(std::env::var_os("HOOKFLOW_JOURNAL").unwrap());
            let file = dir.with_file_name("hookflow.toml");
            fs::write(&file, "[pipelines.adhoc]\ndurable = true\n").unwrap();
            hookflow::config::load(&file).unwrap().install();
            let _ = adhoc();
        }
        "async_kill_in_step" | "async_kill_in_hook" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let _ = rt.block_on(streaming());
            mark("child done");
        }
        "kill_in_detached" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _ = rt.block_on(audit());
            mark("pipeline returned");
            hang();
        }
        "plain" => {
            let _ = adhoc();
        }
        "recover" => {
            let dir = PathBuf::from(std::env::var_os("HOOKFLOW_JOURNAL").unwrap());
            while !dir.join("go").exists() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let report = hookflow::recover().unwrap();
            mark(&format!("recovered {}", report.runs.len()));
        }
        other => panic!("unknown scenario {other}"),
    }
}

struct Scene {
    dir: PathBuf,
    log: PathBuf,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Drop for Scene {
    fn drop(&mut self) {
        if let Some(root) = self.log.parent() {
            let _ = fs::remove_dir_all(root);
        }
    }
}

impl Scene {
    fn new(name: &str) -> Scene {
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let root =
            std::env::temp_dir().join(format!("hookflow-durable-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let log = root.join("hooks.log");
        fs::write(&log, "").unwrap();
        *LOG.lock().unwrap_or_else(|p| p.into_inner()) = Some(log.clone());
        Scene {
            dir: root.join("journal"),
            log,
            _serial: serial,
        }
    }

    fn spawn(&self, scenario: &str) -> Child {
        child(scenario, &self.log)
            .env("HOOKFLOW_JOURNAL", &self.dir)
            .spawn()
            .unwrap()
    }

    fn lines(&self) -> Vec<String> {
        lines(&self.log)
    }

    fn wait_for(&self, what: &str) {
        wait_for(&self.log, what)
    }

    fn recover(&self) -> hookflow::RecoveryReport {
        recover_from(&FileJournal::new(&self.dir)).unwrap()
    }

    /// The hook calls logged since line `from`.
    fn calls(&self, from: usize) -> Vec<Call> {
        calls(&self.log, from)
    }

    /// Runs `scenario` in a child, kills it with SIGKILL once it logged
    /// `mark`, recovers, and returns the report and the hook calls the
    /// recovery made.
    fn kill_and_recover(
        &self,
        scenario: &str,
        mark: &str,
    ) -> (hookflow::RecoveryReport, Vec<Call>) {
        let child = self.spawn(scenario);
        self.wait_for(mark);
        kill(child);
        let from = self.lines().len();
        let report = self.recover();
        (report, self.calls(from))
    }
}

#[test]
fn a_step_killed_mid_body_ends_aborted_and_every_hook_fires_once() {
    let scene = Scene::new("in-step");
    let child = scene.spawn("kill_in_step");
    scene.wait_for("load body");

    // The child is alive: its run is not touched.
    let before = scene.lines().len();
    let report = scene.recover();
    assert!(report.runs.is_empty(), "{report:?}");
    assert!(scene.calls(before).is_empty());

    // What the child fired itself: `extract`'s hooks.
    let live = scene.calls(0);
    assert_eq!(
        ids(&live),
        ["s_success@extract", "typed_success@", "s_finish@extract"],
        "{live:?}"
    );

    kill(child);
    let from = scene.lines().len();
    let report = scene.recover();
    let calls = scene.calls(from);
    assert_eq!(
        ids(&calls),
        [
            "s_crash@load",
            "s_failure@load",
            "s_finish@load",
            "p_crash@-",
            "p_failure@-",
            "p_finish@-"
        ],
        "{calls:?}"
    );
    for c in &calls {
        assert_eq!(c.get("who"), "parent");
        assert_eq!(c.get("status"), "crashed", "{c:?}");
        assert_eq!(c.get("kind"), "aborted", "{c:?}");
        assert_eq!(c.get("recovered"), "true", "{c:?}");
        assert_eq!(c.get("redelivered"), "false", "{c:?}");
        assert!(!c.get("key").is_empty(), "{c:?}");
    }
    // The pipeline's hooks name the aborted step.
    assert_eq!(calls[3].get("failed"), "load:aborted");
    assert_eq!(calls[0].get("failed"), "");

    assert_eq!(report.runs.len(), 1);
    let run = &report.runs[0];
    assert_eq!(run.pipeline, "nightly");
    assert_eq!(run.status, Status::Crashed);
    assert_eq!(run.aborted_steps, ["load"]);
    // Every call has its own key, all under the run's id.
    let run_id = run.run_id.to_string();
    let mut keys: Vec<&str> = calls.iter().map(|c| c.get("key")).collect();
    assert!(keys.iter().all(|k| k.starts_with(&run_id)), "{keys:?}");
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), calls.len());

    // A second recovery fires nothing, and the journal holds nothing more.
    let again = scene.lines().len();
    assert!(scene.recover().runs.is_empty());
    assert!(scene.calls(again).is_empty());
    assert!(FileJournal::new(&scene.dir).list_dead_runs().is_empty());
}

trait DeadRuns {
    fn list_dead_runs(&self) -> Vec<uuid::Uuid>;
}

impl DeadRuns for FileJournal {
    fn list_dead_runs(&self) -> Vec<uuid::Uuid> {
        use hookflow::journal::Journal;
        self.list_dead()
            .unwrap()
            .segments
            .iter()
            .flat_map(|s| s.runs.iter().map(|r| r.run_id))
            .collect()
    }
}

#[cfg(feature = "config")]
#[test]
fn a_pipeline_made_durable_by_a_configuration_file_is_recovered() {
    let scene = Scene::new("by-config");
    let child = scene.spawn("durable_by_config");
    scene.wait_for("fetch body");
    kill(child);
    let from = scene.lines().len();
    let report = scene.recover();
    assert_eq!(report.runs.len(), 1, "{report:?}");
    assert_eq!(report.runs[0].pipeline, "adhoc");
    let calls = scene.calls(from);
    assert_eq!(ids(&calls), ["s_failure@fetch", "p_failure@-"], "{calls:?}");
    assert!(calls.iter().all(|c| c.get("kind") == "aborted"));
}

#[test]
fn a_plain_pipeline_leaves_nothing_to_recover() {
    // `adhoc` without the configuration: killed mid-step, nothing recorded.
    let scene = Scene::new("plain");
    let child = scene.spawn("plain");
    scene.wait_for("fetch body");
    kill(child);
    assert!(!scene.dir.exists() || FileJournal::new(&scene.dir).list_dead_runs().is_empty());
    assert!(scene.recover().runs.is_empty());
}

#[test]
fn a_damaged_file_next_to_a_dead_run_is_reported_and_the_run_recovered() {
    let scene = Scene::new("damaged");
    let child = scene.spawn("kill_between");
    scene.wait_for("between steps");
    kill(child);
    // Garbage, and a journal file from a newer version, beside the dead run.
    fs::write(scene.dir.join("garbage.hfj"), b"not a journal at all").unwrap();
    let mut newer = fs::read(
        fs::read_dir(&scene.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "hfj") && !p.ends_with("garbage.hfj"))
            .unwrap(),
    )
    .unwrap();
    newer.truncate(20);
    newer[16..20].copy_from_slice(&999u32.to_le_bytes());
    fs::write(scene.dir.join("newer.hfj"), newer).unwrap();

    let from = scene.lines().len();
    let report = scene.recover();
    assert_eq!(report.runs.len(), 1, "{report:?}");
    assert_eq!(
        ids(&scene.calls(from)),
        ["p_crash@-", "p_failure@-", "p_finish@-"]
    );
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("garbage.hfj") && p.contains("not a hookflow journal")),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn an_async_step_killed_mid_body_ends_aborted() {
    let scene = Scene::new("async-in-step");
    let (report, calls) = scene.kill_and_recover("async_kill_in_step", "stream body");
    assert_async_step_recovered_aborted(&calls, &report);
}

#[test]
fn an_async_hook_killed_mid_await_is_redelivered_once() {
    let scene = Scene::new("async-in-hook");
    let child = scene.spawn("async_kill_in_hook");
    scene.wait_for("async hook hanging");
    kill(child);
    let live = scene.calls(0);
    assert_eq!(ids(&live), ["async_alert@stream_in"]);
    assert!(
        live[0]
            .get("key")
            .contains("/stream_in#0/1/on_failure/async_alert"),
        "{live:?}"
    );
    let from = scene.lines().len();
    scene.recover();
    let calls = scene.calls(from);
    assert_eq!(
        ids(&calls),
        [
            "async_alert@stream_in",
            "s_failure@stream_in",
            "s_finish@stream_in",
            "p_failure@-",
            "p_finish@-"
        ],
        "{calls:?}"
    );
    assert_eq!(calls[0].get("redelivered"), "true");
    assert_eq!(calls[0].get("key"), live[0].get("key"));
    // The step's own failure was recorded before its hooks: it stands.
    assert_eq!(calls[1].get("kind"), "error");
    assert_eq!(calls[1].get("status"), "failed");
    assert_eq!(calls[3].get("failed"), "stream_in:error");
}

#[test]
fn a_detached_hook_killed_mid_call_is_redelivered_after_the_run_ended() {
    let scene = Scene::new("detached");
    let child = scene.spawn("kill_in_detached");
    scene.wait_for("async hook hanging");
    scene.wait_for("pipeline returned");
    kill(child);
    let live = scene.calls(0);
    // The pipeline's hooks ran while the step's async hook still hung.
    let mut live_ids = ids(&live);
    live_ids.sort();
    assert_eq!(
        live_ids,
        [
            "async_alert@check",
            "p_failure@-",
            "p_finish@-",
            "s_failure@check"
        ],
        "{live:?}"
    );
    let from = scene.lines().len();
    let report = scene.recover();
    let calls = scene.calls(from);
    // The run had ended, but not its step's hooks: the call in flight
    // again, then the rest; nothing of the run again.
    assert_eq!(
        ids(&calls),
        ["async_alert@check", "s_finish@check"],
        "{calls:?}"
    );
    assert_eq!(calls[0].get("redelivered"), "true");
    assert_eq!(calls[0].get("kind"), "error");
    assert_eq!(report.runs[0].status, Status::Failed);
    let again = scene.lines().len();
    scene.recover();
    assert!(scene.calls(again).is_empty());
}

#[test]
fn two_hooks_of_one_name_in_one_event_are_two_deliveries() {
    let scene = Scene::new("twice");
    hookflow::use_journal(FileJournal::new(scene.dir.join("live")));
    doubled().unwrap();
    let calls = scene.calls(0);
    assert_eq!(calls.len(), 2, "{calls:?}");
    let (a, b) = (calls[0].get("key"), calls[1].get("key"));
    assert!(a.ends_with("/on_failure/s_failure"), "{a}");
    assert!(b.ends_with("/on_failure/s_failure#2"), "{b}");
}

#[step(on_finish = s_finish)]
fn never_runs_without_journal() -> anyhow::Result<()> {
    mark("body ran");
    Ok(())
}

#[pipeline(durable, on_failure = p_failure)]
fn needs_journal() -> anyhow::Result<()> {
    never_runs_without_journal()?;
    Ok(())
}

#[test]
fn an_unavailable_journal_fails_the_run_before_its_body_or_runs_it_without_as_chosen() {
    let scene = Scene::new("unavailable");
    // A journal directory that cannot be created: under a regular file.
    let blocker = scene.log.with_file_name("not-a-dir");
    fs::write(&blocker, "").unwrap();
    hookflow::use_journal(FileJournal::new(blocker.join("journal")));

    let err = needs_journal().unwrap_err();
    assert!(
        err.to_string()
            .contains("the journal of this durable run is unavailable"),
        "{err}"
    );
    let lines = scene.lines();
    assert!(!lines.contains(&"mark=body ran".to_owned()), "{lines:?}");
    assert_eq!(ids(&scene.calls(0)), ["p_failure@-"]);

    hookflow::when_unavailable(hookflow::WhenUnavailable::RunWithoutJournal);
    let ran = needs_journal();
    hookflow::when_unavailable(hookflow::WhenUnavailable::FailRun);
    ran.unwrap();
    assert!(scene.lines().contains(&"mark=body ran".to_owned()));
    // Without a journal, no delivery key.
    let last = scene.calls(0).pop().unwrap();
    assert_eq!(last.id(), "s_finish@never_runs_without_journal");
    assert_eq!(last.get("key"), "");
}

#[test]
fn a_kill_between_two_steps_fires_only_the_pipelines_hooks() {
    let scene = Scene::new("between");
    let child = scene.spawn("kill_between");
    scene.wait_for("between steps");
    kill(child);
    let from = scene.lines().len();
    scene.recover();
    let calls = scene.calls(from);
    // `extract` had finished, hooks and all; `load` never started.
    assert_eq!(
        ids(&calls),
        ["p_crash@-", "p_failure@-", "p_finish@-"],
        "{calls:?}"
    );
    for c in &calls {
        assert_eq!(c.get("kind"), "aborted");
        assert_eq!(c.get("failed"), "", "no step failed: {c:?}");
        assert_eq!(c.get("recovered"), "true");
    }
}

#[test]
fn a_hook_killed_mid_call_is_redelivered_once_and_the_rest_follow() {
    let scene = Scene::new("in-hook");
    let child = scene.spawn("kill_in_hook");
    scene.wait_for("hook hanging");
    kill(child);
    let live = scene.calls(0);
    assert_eq!(ids(&live), ["s_failure@publish", "slow_alert@publish"]);
    let live_key = live[1].get("key").to_owned();
    assert!(!live_key.is_empty());

    let from = scene.lines().len();
    scene.recover();
    let calls = scene.calls(from);
    assert_eq!(
        ids(&calls),
        [
            "slow_alert@publish",
            "s_crash@publish",
            "s_finish@publish",
            "p_failure@-",
            "p_finish@-"
        ],
        "{calls:?}"
    );
    // The call in flight, again, once, under the same key.
    assert_eq!(calls[0].get("redelivered"), "true");
    assert_eq!(calls[0].get("key"), live_key);
    // The step's recorded outcome stands: it failed with its own error.
    for c in &calls[..3] {
        assert_eq!(c.get("status"), "failed", "{c:?}");
        assert_eq!(c.get("kind"), "error", "{c:?}");
    }
    for c in &calls[1..] {
        assert_eq!(c.get("redelivered"), "false", "{c:?}");
        assert_eq!(c.get("recovered"), "true", "{c:?}");
    }
    // The run never ended: it is aborted, and names the failed step.
    assert_eq!(calls[3].get("status"), "crashed");
    assert_eq!(calls[3].get("kind"), "aborted");
    assert_eq!(calls[3].get("failed"), "publish:error");

    let again = scene.lines().len();
    scene.recover();
    assert!(scene.calls(again).is_empty());
}

#[test]
fn two_recovering_processes_fire_each_hook_once() {
    let scene = Scene::new("two-recoverers");
    let child = scene.spawn("kill_in_step");
    scene.wait_for("load body");
    kill(child);
    let from = scene.lines().len();
    let a = scene.spawn("recover");
    let b = scene.spawn("recover");
    // And this process, at the same moment, in two threads.
    fs::write(scene.dir.join("go"), "").unwrap();
    std::thread::scope(|s| {
        s.spawn(|| scene.recover());
        s.spawn(|| scene.recover());
    });
    for mut c in [a, b] {
        assert!(c.wait().unwrap().success());
    }
    let calls = scene.calls(from);
    let mut got = ids(&calls);
    got.sort();
    let mut want = vec![
        "s_crash@load",
        "s_failure@load",
        "s_finish@load",
        "p_crash@-",
        "p_failure@-",
        "p_finish@-",
    ];
    want.sort();
    assert_eq!(got, want, "{calls:?}");
}

#[test]
fn a_completed_outcome_whose_typed_hook_lost_its_value_records_it_skipped() {
    let scene = Scene::new("typed");
    let (report, calls) = scene.kill_and_recover("kill_in_success", "hook hanging");
    // The call in flight again, then the rest of the recorded success:
    // the typed hook cannot have its value (it died with the process).
    assert_eq!(
        ids(&calls),
        [
            "slow_alert@count",
            "s_success@count",
            "s_finish@count",
            "p_finish@-"
        ],
        "{calls:?}"
    );
    assert_eq!(calls[0].get("redelivered"), "true");
    for c in &calls[..3] {
        assert_eq!(c.get("status"), "completed", "{c:?}");
        assert_eq!(c.get("kind"), "-", "{c:?}");
    }
    // The run's terminal state was never recorded: the run is aborted,
    // though no step failed.
    assert_eq!(calls[3].get("status"), "crashed");
    assert_eq!(calls[3].get("kind"), "aborted");
    assert_eq!(calls[3].get("failed"), "");
    let skipped: Vec<_> = report
        .hook_outcomes()
        .filter(|o| o.hook() == "typed_success")
        .collect();
    assert_eq!(skipped.len(), 1, "{report:?}");
    assert!(
        matches!(skipped[0].status(), hookflow::HookStatus::Skipped(_)),
        "{skipped:?}"
    );
}

fn check_exactly_once(scene: &Scene, at_ms: u64) {
    let calls = scene.calls(0);
    let mut by_key: HashMap<String, (usize, usize)> = HashMap::new();
    for c in &calls {
        let e = by_key.entry(c.get("key").to_owned()).or_default();
        if c.get("redelivered") == "true" {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    for (key, (first, again)) in &by_key {
        assert!(key.contains('/'), "every call has a key: {calls:?}");
        assert!(
            *first <= 1 && *again <= 1 && first + again >= 1,
            "kill at {at_ms} ms: {key} called {first} + {again} (redelivered) times"
        );
    }
    // Every step whose body ran reached one terminal state, with one
    // `on_finish` call.
    let lines = scene.lines();
    let ticks = lines.iter().filter(|l| l.starts_with("mark=tick ")).count();
    let finishes: std::collections::HashSet<String> = calls
        .iter()
        .filter(|c| c.get("hook") == "s_finish")
        .map(|c| c.get("key").to_owned())
        .collect();
    assert_eq!(finishes.len(), ticks, "kill at {at_ms} ms");
    if lines.iter().any(|l| l == "mark=many started") {
        let p: std::collections::HashSet<&str> = calls
            .iter()
            .filter(|c| c.get("hook") == "p_finish")
            .map(|c| c.get("key"))
            .collect();
        assert_eq!(p.len(), 1, "kill at {at_ms} ms: the run ended once");
    }
}

#[test]
fn any_kill_point_leaves_every_hook_delivered_exactly_once() {
    // Kill points spread over the run (40 steps of ~3 ms), from before the
    // run starts to after it ended.
    let mut seed = 0x9e37_79b9_u64;
    for case in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at_ms = seed % 220;
        let scene = Scene::new(&format!("kill-{case}"));
        let child = scene.spawn("many");
        // From the child's start: its run begins after the binary loads.
        std::thread::sleep(Duration::from_millis(at_ms));
        kill(child);
        scene.recover();
        check_exactly_once(&scene, at_ms);
        if std::env::var_os("HOOKFLOW_DURABLE_VERBOSE").is_some() {
            let ticks = scene
                .lines()
                .iter()
                .filter(|l| l.starts_with("mark=tick"))
                .count();
            eprintln!("kill at {at_ms} ms: {ticks} steps ran");
        }
        let before = scene.lines().len();
        scene.recover();
        assert_eq!(
            scene.lines().len(),
            before,
            "a second recovery fires nothing"
        );
        drop(scene);
    }
}
