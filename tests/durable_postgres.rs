//! Durable pipelines on the PostgreSQL journal (feature `postgres`): a
//! child process runs a durable pipeline against a real server (started by
//! each test on 127.0.0.1 with `pgtemp`) and is killed with SIGKILL; once
//! its lease expires, `recover()` in another process fires exactly the
//! hooks the child never fired, once, and a second recovery fires nothing.
//!
//! The children re-run this test binary with `HOOKFLOW_PG_DURABLE_CHILD`
//! set; their entry point is the ignored test `child_entry`. Every hook, in
//! a child and in this process, appends one line to a shared log file.
//! Without PostgreSQL's binaries every test prints a notice and returns.
//!
//! ```text
//! cargo test --features postgres --test durable_postgres
//! ```

#![cfg(feature = "postgres")]

mod pg_support;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hookflow::journal::{Journal, PgJournal};
use hookflow::{pipeline, recover_from, step, HookContext, Status};

mod durable_support;
use durable_support::*;

const CHILD_ENV: &str = "HOOKFLOW_PG_DURABLE_CHILD";
const LOG_ENV: &str = "HOOKFLOW_PG_DURABLE_LOG";
const URL_ENV: &str = "HOOKFLOW_PG_DURABLE_URL";
const LEASE: Duration = Duration::from_secs(2);

/// Hangs in the child the first time (the child is killed there).
fn slow_alert(ctx: &HookContext) {
    note(ctx, "slow_alert");
    if scenario() == "kill_in_hook" && !ctx.recovered() {
        mark("hook hanging");
        hang();
    }
}

#[step(on_success = s_success, on_crash = s_crash, on_failure = s_failure, on_finish = s_finish)]
fn extract() -> anyhow::Result<u32> {
    mark("extract body");
    Ok(7)
}

#[step(on_crash = s_crash, on_failure = s_failure, on_finish = s_finish)]
fn load(rows: u32) -> anyhow::Result<()> {
    anyhow::ensure!(rows > 0, "no rows");
    mark("load body");
    hang()
}

#[pipeline(durable, on_crash = p_crash, on_failure = p_failure, on_finish = p_finish)]
fn nightly() -> anyhow::Result<()> {
    let rows = extract()?;
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

async fn async_alert(ctx: &HookContext) {
    note(ctx, "async_alert");
    // Awaits a timer: the recovery's runtime drives it.
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[step(on_success = s_success, on_failure = [async_alert, s_failure], on_finish = s_finish)]
async fn stream_in(n: u32) -> anyhow::Result<u32> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    if n == 2 {
        mark("stream body");
        std::future::pending::<()>().await;
    }
    Ok(n)
}

/// Async: the journal is written from the runtime's worker threads.
#[pipeline(durable, on_failure = p_failure, on_finish = p_finish)]
async fn streaming() -> anyhow::Result<()> {
    stream_in(1).await?;
    stream_in(2).await?;
    Ok(())
}

fn pg_journal(url: &str) -> PgJournal {
    PgJournal::new(url)
        .expect("url")
        .lease(LEASE)
        .renew_every(Duration::from_millis(200))
}

#[step(on_success = s_success, on_finish = s_finish)]
fn wait_step() -> anyhow::Result<()> {
    mark("waiting");
    let resume = log_path().with_file_name("resume");
    while !resume.exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

#[pipeline(durable, on_crash = p_crash, on_failure = p_failure, on_finish = p_finish)]
fn paused() -> anyhow::Result<()> {
    wait_step()?;
    Ok(())
}

#[step(on_finish = s_finish)]
fn unit_of_work(i: u32) -> anyhow::Result<u32> {
    Ok(i)
}

#[pipeline(durable, on_finish = p_finish)]
fn thousand() -> anyhow::Result<()> {
    mark("thousand started");
    for i in 0..1000 {
        unit_of_work(i)?;
    }
    Ok(())
}

static ADMIN_URL: Mutex<Option<String>> = Mutex::new(None);

/// Cuts every other connection to the database mid-body, as a restarted
/// server or a failover does.
#[step(on_success = s_success, on_finish = s_finish)]
fn cut_connections() -> anyhow::Result<()> {
    let url = ADMIN_URL.lock().unwrap().clone().unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)?;
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid <> pg_backend_pid() AND datname = current_database()",
        &[],
    )?;
    Ok(())
}

#[pipeline(durable, on_success = p_success, on_finish = p_finish)]
fn through_a_restart() -> anyhow::Result<()> {
    extract()?;
    cut_connections()?;
    extract()?;
    Ok(())
}

/// The entry point of the child processes (ignored in a normal run).
#[test]
#[ignore = "entry point of the child processes of the other tests"]
fn child_entry() {
    let scenario = scenario();
    if scenario.is_empty() {
        return;
    }
    let url = std::env::var(URL_ENV).expect("a database URL");
    hookflow::use_journal(pg_journal(&url));
    match scenario.as_str() {
        "kill_in_step" => {
            let _ = nightly();
        }
        "kill_in_hook" => {
            let _ = release();
        }
        "async_kill_in_step" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let _ = rt.block_on(streaming());
        }
        "thousand" => {
            let _ = thousand();
            mark("child done");
        }
        "pause" => {
            let _ = paused();
            mark("child done");
        }
        "recover" => {
            let go = log_path().with_file_name("go");
            while !go.exists() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let report = hookflow::recover().unwrap();
            mark(&format!("recovered {}", report.runs.len()));
        }
        other => panic!("unknown scenario {other}"),
    }
}

struct Scene {
    server: pg_support::Server,
    log: PathBuf,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Scene {
    /// `None` (after a notice) without PostgreSQL.
    fn new(name: &str) -> Option<Scene> {
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let server = pg_support::start()?;
        let root =
            std::env::temp_dir().join(format!("hookflow-durable-pg-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let log = root.join("hooks.log");
        fs::write(&log, "").unwrap();
        *LOG.lock().unwrap_or_else(|p| p.into_inner()) = Some(log.clone());
        Some(Scene {
            server,
            log,
            _serial: serial,
        })
    }

    fn spawn(&self, scenario: &str) -> Child {
        child(scenario, &self.log)
            .env(URL_ENV, self.server.url())
            .spawn()
            .unwrap()
    }

    fn lines(&self) -> Vec<String> {
        lines(&self.log)
    }

    fn wait_for(&self, what: &str) {
        wait_for(&self.log, what)
    }

    fn journal(&self) -> PgJournal {
        pg_journal(&self.server.url())
    }

    fn recover(&self) -> hookflow::RecoveryReport {
        recover_from(&self.journal()).unwrap()
    }

    /// Waits until the dead child's lease expired and its segment is listed.
    fn wait_until_dead(&self) {
        let journal = self.journal();
        let deadline = Instant::now() + LEASE * 10;
        while journal.list_dead().unwrap().segments.is_empty() {
            assert!(Instant::now() < deadline, "the lease never expired");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The hook calls logged since line `from`.
    fn calls(&self, from: usize) -> Vec<Call> {
        calls(&self.log, from)
    }

    fn records_left(&self) -> i64 {
        self.server
            .admin()
            .query_one("SELECT count(*) FROM hookflow_journal_records", &[])
            .unwrap()
            .get(0)
    }
}

const AFTER_KILL_IN_STEP: [&str; 6] = [
    "s_crash@load",
    "s_failure@load",
    "s_finish@load",
    "p_crash@-",
    "p_failure@-",
    "p_finish@-",
];

#[test]
fn a_killed_process_is_recovered_from_another_once_its_lease_expires() {
    let Some(scene) = Scene::new("in-step") else {
        return;
    };
    let child = scene.spawn("kill_in_step");
    scene.wait_for("load body");

    // The child is alive (it renews its lease): its run is not touched,
    // however long past the lease we wait.
    std::thread::sleep(LEASE * 2);
    let before = scene.lines().len();
    let report = scene.recover();
    assert!(report.runs.is_empty(), "{report:?}");
    assert!(scene.calls(before).is_empty());
    let live = scene.calls(0);
    assert_eq!(
        ids(&live),
        ["s_success@extract", "s_finish@extract"],
        "{live:?}"
    );

    kill(child);
    scene.wait_until_dead();
    let from = scene.lines().len();
    let report = scene.recover();
    let calls = scene.calls(from);
    assert_eq!(ids(&calls), AFTER_KILL_IN_STEP, "{calls:?}");
    for c in &calls {
        assert_eq!(c.get("who"), "parent");
        assert_eq!(c.get("status"), "crashed", "{c:?}");
        assert_eq!(c.get("kind"), "aborted", "{c:?}");
        assert_eq!(c.get("recovered"), "true", "{c:?}");
        assert_eq!(c.get("redelivered"), "false", "{c:?}");
    }
    assert_eq!(calls[3].get("failed"), "load:aborted");
    assert_eq!(report.runs.len(), 1);
    assert_eq!(report.runs[0].pipeline, "nightly");
    assert_eq!(report.runs[0].status, Status::Crashed);
    assert_eq!(report.runs[0].aborted_steps, ["load"]);

    // A second recovery fires nothing; the run's records are gone.
    let again = scene.lines().len();
    assert!(scene.recover().runs.is_empty());
    assert!(scene.calls(again).is_empty());
    assert_eq!(scene.records_left(), 0);
}

#[test]
fn eight_processes_of_a_thousand_durable_steps_one_killed_deliver_every_hook_once() {
    let Some(scene) = Scene::new("load") else {
        return;
    };
    let mut children: Vec<Child> = (0..8).map(|_| scene.spawn("thousand")).collect();
    // Kill one at a point that depends on the clock: somewhere in its run.
    let victim = children.remove((std::process::id() % 8) as usize);
    let started = Instant::now();
    while scene
        .lines()
        .iter()
        .filter(|l| l.starts_with("who=") && l.contains("hook=s_finish"))
        .count()
        < 800 + (started.elapsed().as_millis() % 400) as usize
    {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(victim);
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    scene.wait_until_dead();
    let report = scene.recover();
    assert_eq!(
        report.runs.len(),
        1,
        "only the killed process's run: {report:?}"
    );

    let calls = scene.calls(0);
    let mut per_key: std::collections::HashMap<&str, (usize, usize)> = Default::default();
    for c in &calls {
        let e = per_key.entry(c.get("key")).or_default();
        if c.get("redelivered") == "true" {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    for (key, (first, again)) in &per_key {
        assert!(
            *first <= 1 && *again <= 1 && first + again >= 1,
            "{key}: {first} calls + {again} redeliveries"
        );
    }
    // Seven runs of 1000 steps ran to the end; the killed one's steps each
    // ended once, live or recovered; every run ended once.
    let runs: std::collections::HashSet<&str> = calls
        .iter()
        .filter(|c| c.get("hook") == "p_finish")
        .map(|c| c.get("key"))
        .collect();
    assert_eq!(runs.len(), 8);
    let step_ends = per_key
        .keys()
        .filter(|k| k.contains("/on_finish/s_finish"))
        .count();
    let killed_steps = step_ends - 7 * 1000;
    assert!((1..=1000).contains(&killed_steps), "{killed_steps}");
    // At most the one step it was in (none when killed between two steps).
    assert!(report.runs[0].aborted_steps.len() <= 1, "{report:?}");
    // Nothing of any run is left in the database.
    assert_eq!(scene.records_left(), 0);
}

#[test]
fn a_connection_lost_mid_run_is_reconnected_and_the_run_ends_once() {
    let Some(scene) = Scene::new("reconnect") else {
        return;
    };
    *ADMIN_URL.lock().unwrap() = Some(scene.server.url());
    hookflow::use_journal(scene.journal());
    through_a_restart().unwrap();
    let calls = scene.calls(0);
    assert_eq!(
        ids(&calls),
        [
            "s_success@extract",
            "s_finish@extract",
            "s_success@cut_connections",
            "s_finish@cut_connections",
            "s_success@extract",
            "s_finish@extract",
            "p_success@-",
            "p_finish@-"
        ],
        "{calls:?}"
    );
    // Every record of the run reached the database, and its close removed
    // them: nothing is left to recover.
    assert_eq!(scene.records_left(), 0);
    assert!(scene.recover().runs.is_empty());
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_paused_owner_past_its_lease_is_fenced_and_fires_nothing_after_resuming() {
    let Some(scene) = Scene::new("paused") else {
        return;
    };
    let mut child = scene.spawn("pause");
    scene.wait_for("waiting");
    // Paused (a GC stop, a partition): it renews nothing, its lease expires.
    signal(&child, "-STOP");
    scene.wait_until_dead();
    let from = scene.lines().len();
    let report = scene.recover();
    assert_eq!(report.runs.len(), 1, "{report:?}");
    let recovered = scene.calls(from);
    assert_eq!(
        ids(&recovered),
        [
            "s_finish@wait_step",
            "p_crash@-",
            "p_failure@-",
            "p_finish@-"
        ],
        "{recovered:?}"
    );
    // Let it go on: its step completes, but the run is no longer its own.
    let after = scene.lines().len();
    fs::write(scene.log.with_file_name("resume"), "").unwrap();
    signal(&child, "-CONT");
    scene.wait_for("child done");
    assert!(child.wait().unwrap().success());
    let late = scene.calls(after);
    assert!(late.is_empty(), "the fenced owner fired {late:?}");
    // And nothing is left to recover.
    assert!(scene.recover().runs.is_empty());
}

#[test]
fn a_hook_killed_mid_call_is_redelivered_once_by_another_process() {
    let Some(scene) = Scene::new("in-hook") else {
        return;
    };
    let child = scene.spawn("kill_in_hook");
    scene.wait_for("hook hanging");
    kill(child);
    let live = scene.calls(0);
    assert_eq!(ids(&live), ["s_failure@publish", "slow_alert@publish"]);
    let live_key = live[1].get("key").to_owned();

    scene.wait_until_dead();
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
    assert_eq!(calls[0].get("redelivered"), "true");
    assert_eq!(calls[0].get("key"), live_key);
    for c in &calls[1..] {
        assert_eq!(c.get("redelivered"), "false", "{c:?}");
    }
    let again = scene.lines().len();
    scene.recover();
    assert!(scene.calls(again).is_empty());
}

#[test]
fn recovering_processes_and_threads_together_fire_each_hook_once() {
    let Some(scene) = Scene::new("two-recoverers") else {
        return;
    };
    let child = scene.spawn("kill_in_step");
    scene.wait_for("load body");
    kill(child);
    scene.wait_until_dead();
    let from = scene.lines().len();
    let a = scene.spawn("recover");
    let b = scene.spawn("recover");
    // And this process, at the same moment, in two threads.
    fs::write(scene.log.with_file_name("go"), "").unwrap();
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
    let mut want = AFTER_KILL_IN_STEP.to_vec();
    want.sort();
    assert_eq!(got, want, "{calls:?}");
    let recovered: usize = scene
        .lines()
        .iter()
        .filter_map(|l| l.strip_prefix("mark=recovered "))
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert!(
        recovered <= 1,
        "one recoverer finished the run: {recovered}"
    );
}

#[test]
fn an_async_pipeline_killed_mid_step_is_recovered_by_another_process() {
    let Some(scene) = Scene::new("async-in-step") else {
        return;
    };
    let child = scene.spawn("async_kill_in_step");
    scene.wait_for("stream body");
    let live = scene.calls(0);
    assert_eq!(
        ids(&live),
        ["s_success@stream_in", "s_finish@stream_in"],
        "{live:?}"
    );
    kill(child);
    scene.wait_until_dead();
    let from = scene.lines().len();
    let report = scene.recover();
    let calls = scene.calls(from);
    assert_async_step_recovered_aborted(&calls, &report);
    let again = scene.lines().len();
    assert!(scene.recover().runs.is_empty());
    assert!(scene.calls(again).is_empty());
}
