//! The journal on PostgreSQL (feature `postgres`), against a real server
//! that each test starts on 127.0.0.1 (`pgtemp`): records read back as
//! written and planned, a live writer is never taken over, a dead or paused
//! one is, exactly one of many claimers (threads or processes) wins, a
//! paused writer is fenced, a delivery is recorded once, a newer schema is
//! refused, an unreachable server is an error value, a lost connection is
//! reconnected, and compaction removes the finished segments.
//!
//! Without PostgreSQL's binaries every test prints a notice and returns.
//! The two-process test re-runs this binary with `HOOKFLOW_PG_TEST_CHILD`
//! set; the child's entry point is the ignored test `child_process_entry`.
//!
//! ```text
//! cargo test --features postgres --test journal_postgres
//! ```

#![cfg(feature = "postgres")]

mod pg_support;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookflow::journal::{
    plan, DeliveryKey, DeliveryState, ErrorInfo, HookEnded, HookResult, HookStarted, Journal,
    JournalError, Location, PgJournal, Record, RunClosed, RunStarted, SegmentId, StepCall,
    StepEnded, StepStarted, SCHEMA_VERSION,
};
use hookflow::{ErrorKind, Event, Status};
use uuid::Uuid;

const CHILD_ENV: &str = "HOOKFLOW_PG_TEST_CHILD";

// ----- records ----------------------------------------------------------------------

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn call(seq: u32) -> StepCall<'static> {
    StepCall {
        seq,
        name: "load".into(),
    }
}

fn run_started(run_id: Uuid) -> Record<'static> {
    Record::RunStarted(RunStarted {
        run_id,
        pipeline: "nightly".into(),
        pipeline_path: "etl::nightly".into(),
        at: at(1),
    })
}

fn step_started(run_id: Uuid, seq: u32) -> Record<'static> {
    Record::StepStarted(StepStarted {
        run_id,
        step: call(seq),
        step_path: "etl::load".into(),
        attempt: 1,
        max_attempts: 1,
        at: at(2),
    })
}

fn step_failed(run_id: Uuid, seq: u32) -> Record<'static> {
    Record::StepEnded(StepEnded {
        run_id,
        step: call(seq),
        attempt: 1,
        status: Status::Failed,
        error: Some(ErrorInfo {
            kind: ErrorKind::Error,
            message: "disk full".into(),
        }),
        retrying: false,
        at: at(3),
    })
}

fn key(run_id: Uuid, seq: u32, hook: &'static str) -> DeliveryKey<'static> {
    DeliveryKey {
        run_id,
        step: Some(call(seq)),
        attempt: 1,
        event: Event::Failure,
        hook: hook.into(),
    }
}

fn hook_started(key: &DeliveryKey<'static>, redelivered: bool) -> Record<'static> {
    Record::HookStarted(HookStarted {
        key: key.clone(),
        redelivered,
        at: at(4),
    })
}

fn hook_ended(key: &DeliveryKey<'static>) -> Record<'static> {
    Record::HookEnded(HookEnded {
        key: key.clone(),
        result: HookResult::Ok,
        at: at(5),
    })
}

fn run_closed(run_id: Uuid) -> Record<'static> {
    Record::RunClosed(RunClosed { run_id })
}

/// A run whose step failed and whose `page_oncall` hook was called and
/// never returned.
fn in_flight_run(run_id: Uuid) -> [Vec<Record<'static>>; 3] {
    let k = key(run_id, 0, "page_oncall");
    [
        vec![run_started(run_id), step_started(run_id, 0)],
        vec![step_failed(run_id, 0), hook_started(&k, false)],
        vec![],
    ]
}

// ----- fixtures ---------------------------------------------------------------------

/// A journal on the server, with a short lease renewed often.
fn journal(url: &str) -> PgJournal {
    PgJournal::new(url)
        .expect("a valid URL")
        .lease(Duration::from_secs(3))
        .renew_every(Duration::from_millis(200))
}

/// A journal whose holders never renew in the background (a paused
/// process): their lease ends `lease` after their last append.
fn paused_journal(url: &str, lease: Duration) -> PgJournal {
    PgJournal::new(url)
        .expect("a valid URL")
        .lease(lease)
        .renew_every(Duration::from_secs(3600))
}

fn listed(journal: &PgJournal) -> Vec<SegmentId> {
    journal
        .list_dead()
        .expect("list")
        .segments
        .into_iter()
        .map(|s| s.id)
        .collect()
}

fn count(server: &pg_support::Server, sql: &str) -> i64 {
    server.admin().query_one(sql, &[]).expect(sql).get(0)
}

// ----- the child process ------------------------------------------------------------

/// The child of `two_processes_claim_a_segment_once`: waits for the start
/// time, claims the segment, says whether it got it, and exits holding it.
#[test]
#[ignore = "entry point of the child processes of the two-process test"]
fn child_process_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, ' ');
    let (start, segment, url) = (
        parts.next().expect("start"),
        parts.next().expect("segment"),
        parts.next().expect("url"),
    );
    let journal = PgJournal::new(url)
        .expect("url")
        .lease(Duration::from_secs(60));
    let start = UNIX_EPOCH + Duration::from_millis(start.parse().expect("start millis"));
    if let Ok(wait) = start.duration_since(SystemTime::now()) {
        std::thread::sleep(wait);
    }
    let segment = journal
        .list_dead()
        .expect("list")
        .segments
        .into_iter()
        .map(|s| s.id)
        .find(|id| id.as_str() == segment);
    let claim = match segment {
        Some(id) => journal.claim(&id).expect("claim"),
        None => None,
    };
    println!("{}", if claim.is_some() { "CLAIMED" } else { "NONE" });
    // Exit holding the claim (as a recoverer killed mid-way would).
    std::mem::forget(claim);
    std::process::exit(0);
}

// ----- tests ------------------------------------------------------------------------

#[test]
fn a_dropped_writer_is_listed_and_its_claim_reads_back_and_plans() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let journal = journal(&server.url());
    let run_id = Uuid::now_v7();
    let groups = in_flight_run(run_id);
    let writer = journal.open_writer().expect("open writer");
    let segment = writer.segment().clone();
    for group in &groups {
        writer.append(group).expect("append");
    }
    assert!(listed(&journal).is_empty(), "a live writer is not listed");
    drop(writer); // an open run: the lease ends at once, without waiting

    let listing = journal.list_dead().expect("list");
    assert_eq!(listing.segments.len(), 1);
    let dead = &listing.segments[0];
    assert_eq!(dead.id, segment);
    assert_eq!(dead.runs.len(), 1);
    assert_eq!(dead.runs[0].run_id, run_id);
    assert_eq!(dead.runs[0].pipeline.as_deref(), Some("nightly"));
    assert!(!dead.runs[0].ended);

    let mut claim = journal.claim(&segment).expect("claim").expect("claimed");
    let written: Vec<Record<'static>> = groups.concat();
    assert_eq!(claim.records(), written.as_slice());
    assert!(claim.damage().is_none());
    let plans = plan(claim.records());
    assert_eq!(plans.len(), 1);
    let step = &plans[0].steps[0];
    assert!(step.unfinished_outcome.is_some());
    let k = key(run_id, 0, "page_oncall");
    assert_eq!(step.deliveries.state(&k), DeliveryState::InFlight);
    assert!(plans[0].ended.is_none());
    assert!(
        journal.claim(&segment).expect("claim").is_none(),
        "a held claim is exclusive"
    );

    claim
        .append(&[hook_started(&k, true), hook_ended(&k)])
        .expect("redelivery recorded");
    claim.append(&[run_closed(run_id)]).expect("close");
    claim.finish().expect("finish");
    assert!(listed(&journal).is_empty());
    assert_eq!(
        count(&server, "SELECT count(*) FROM hookflow_journal_segments"),
        0,
        "a finished claim with every run closed removes its segment"
    );
}

#[test]
fn a_live_writer_is_never_listed_claimed_or_compacted() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let journal = journal(&server.url());
    let writer = journal.open_writer().expect("open writer");
    let run_id = Uuid::now_v7();
    writer.append(&in_flight_run(run_id)[0]).expect("append");
    // Well past the lease: the background thread keeps renewing it.
    std::thread::sleep(Duration::from_millis(4500));
    assert!(listed(&journal).is_empty());
    assert!(journal.claim(writer.segment()).expect("claim").is_none());
    let compaction = journal.compact().expect("compact");
    assert_eq!((compaction.removed, compaction.kept), (0, 0));
    writer
        .append(&[step_failed(run_id, 0)])
        .expect("the writer still owns its segment");
    assert_eq!(
        count(&server, "SELECT count(*) FROM hookflow_journal_records"),
        3
    );
}

#[test]
fn a_paused_writer_loses_its_expired_segment_and_is_fenced() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    let paused = paused_journal(&url, Duration::from_secs(2));
    let writer = paused.open_writer().expect("open writer");
    let run_id = Uuid::now_v7();
    writer.append(&in_flight_run(run_id)[0]).expect("append");
    let recoverer = journal(&url);
    assert!(recoverer.claim(writer.segment()).expect("claim").is_none());
    std::thread::sleep(Duration::from_millis(2600));

    assert_eq!(listed(&recoverer), vec![writer.segment().clone()]);
    let claim = recoverer
        .claim(writer.segment())
        .expect("claim")
        .expect("an expired lease is claimable");
    assert_eq!(claim.records(), in_flight_run(run_id)[0].as_slice());

    // The writer wakes up: its epoch is stale, nothing it appends is stored.
    let err = writer
        .append(&[step_failed(run_id, 0)])
        .expect_err("a fenced writer's append is refused");
    match &err {
        JournalError::Fenced {
            segment,
            epoch,
            current,
        } => {
            assert_eq!(segment, writer.segment().as_str());
            assert_eq!((*epoch, *current), (1, Some(2)));
        }
        other => panic!("expected Fenced, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("taken over"), "{message}");
    assert!(
        message.contains("nothing of this append was stored"),
        "{message}"
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM hookflow_journal_records"),
        2,
        "the fenced append stored nothing"
    );
    // Dropping the fenced writer neither removes nor releases the claim.
    drop(writer);
    assert!(recoverer.claim(claim.segment()).expect("claim").is_none());
}

#[test]
fn a_claim_whose_holder_stops_renewing_becomes_claimable_again() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    let journal = journal(&url);
    let writer = journal.open_writer().expect("open writer");
    let segment = writer.segment().clone();
    let run_id = Uuid::now_v7();
    writer.append(&in_flight_run(run_id)[0]).expect("append");
    drop(writer);

    let stalled = paused_journal(&url, Duration::from_secs(2));
    let mut first = stalled.claim(&segment).expect("claim").expect("claimed");
    assert!(journal.claim(&segment).expect("claim").is_none(), "held");
    std::thread::sleep(Duration::from_millis(2600));
    let mut second = journal
        .claim(&segment)
        .expect("claim")
        .expect("the stalled claim's lease expired");
    let k = key(run_id, 0, "page_oncall");
    assert!(matches!(
        first.append(&[hook_started(&k, false)]),
        Err(JournalError::Fenced { .. })
    ));
    second
        .append(&[hook_started(&k, false)])
        .expect("the new holder appends");
}

#[test]
fn of_many_threads_claiming_one_segment_exactly_one_wins() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    let journal = Arc::new(journal(&url));
    let writer = journal.open_writer().expect("open writer");
    let segment = writer.segment().clone();
    writer
        .append(&in_flight_run(Uuid::now_v7())[0])
        .expect("append");
    drop(writer);

    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, segment, url) = (barrier.clone(), segment.clone(), url.clone());
            std::thread::spawn(move || {
                let journal = self::journal(&url);
                barrier.wait();
                journal.claim(&segment).expect("claim")
            })
        })
        .collect();
    // Every claim is held until all threads are done.
    let claims: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(claims.iter().filter(|c| c.is_some()).count(), 1);
    assert_eq!(
        count(&server, "SELECT epoch FROM hookflow_journal_segments"),
        2,
        "one claim moved the epoch once"
    );
}

#[test]
fn of_two_processes_claiming_one_segment_exactly_one_wins() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    let journal = journal(&url);
    let writer = journal.open_writer().expect("open writer");
    let segment = writer.segment().clone();
    writer
        .append(&in_flight_run(Uuid::now_v7())[0])
        .expect("append");
    drop(writer);

    let start = SystemTime::now() + Duration::from_millis(1500);
    let start = start.duration_since(UNIX_EPOCH).expect("time").as_millis();
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(["--ignored", "--exact", "child_process_entry", "--nocapture"])
                .env(CHILD_ENV, format!("{start} {segment} {url}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    let answers: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("child");
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines()
                .find(|l| *l == "CLAIMED" || *l == "NONE")
                .unwrap_or_else(|| panic!("no answer from the child: {text}"))
                .to_owned()
        })
        .collect();
    assert_eq!(
        answers.iter().filter(|a| *a == "CLAIMED").count(),
        1,
        "{answers:?}"
    );
    // The winner exited holding the claim: its lease (60 s) still runs.
    assert!(journal.claim(&segment).expect("claim").is_none());
}

#[test]
fn a_delivery_is_recorded_once() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    let journal = journal(&url);
    let run_id = Uuid::now_v7();
    let k = key(run_id, 0, "page_oncall");
    let first = journal.open_writer().expect("open writer");
    first.append(&[run_started(run_id)]).expect("append");
    first.append(&[hook_started(&k, false)]).expect("intent");

    // Another owner recording the same delivery is refused, and nothing of
    // its append is stored.
    let other = journal.open_writer().expect("open writer");
    let other_run = Uuid::now_v7();
    let err = other
        .append(&[run_started(other_run), hook_started(&k, false)])
        .expect_err("a second intent for one delivery key");
    match &err {
        JournalError::DuplicateDelivery { key } => assert_eq!(key, &k.to_string()),
        other => panic!("expected DuplicateDelivery, got {other:?}"),
    }
    assert!(err.to_string().contains("do not call the hook"), "{err}");
    assert_eq!(
        count(&server, "SELECT count(*) FROM hookflow_journal_records"),
        2,
        "the refused append stored nothing"
    );

    // The first owner dies; its recoverer redelivers once, and only once.
    drop(first);
    let segment = listed(&journal)
        .into_iter()
        .next()
        .expect("the dead segment");
    let mut claim = journal.claim(&segment).expect("claim").expect("claimed");
    claim
        .append(&[hook_started(&k, true)])
        .expect("a redelivery of an earlier owner's intent");
    assert!(matches!(
        claim.append(&[hook_started(&k, true)]),
        Err(JournalError::DuplicateDelivery { .. })
    ));
    claim.append(&[hook_ended(&k)]).expect("outcome");
    assert!(matches!(
        claim.append(&[hook_ended(&k)]),
        Err(JournalError::DuplicateDelivery { .. })
    ));
    assert!(matches!(
        claim.append(&[hook_started(&k, true)]),
        Err(JournalError::DuplicateDelivery { .. })
    ));
    drop(claim);

    // A later recoverer cannot redeliver a call that returned.
    let mut next = journal.claim(&segment).expect("claim").expect("claimed");
    assert!(matches!(
        next.append(&[hook_started(&k, true)]),
        Err(JournalError::DuplicateDelivery { .. })
    ));
}

#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    journal(&url).open_writer().expect("creates the schema");
    assert_eq!(
        count(
            &server,
            "SELECT version::bigint FROM hookflow_journal_schema"
        ),
        i64::from(SCHEMA_VERSION)
    );
    let newer = SCHEMA_VERSION + 1;
    server
        .admin()
        .execute("UPDATE hookflow_journal_schema SET version = $1", &[&newer])
        .expect("bump");

    let err = journal(&url)
        .open_writer()
        .expect_err("an older build refuses a newer schema");
    match &err {
        JournalError::NewerSchema { found, supported } => {
            assert_eq!((*found, *supported), (newer, SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(err.to_string().contains("use a newer hookflow"), "{err}");
    assert!(matches!(
        journal(&url).list_dead(),
        Err(JournalError::NewerSchema { .. })
    ));
    assert_eq!(
        count(
            &server,
            "SELECT version::bigint FROM hookflow_journal_schema"
        ),
        i64::from(newer)
    );
}

#[test]
fn an_unreachable_server_is_an_error_value_soon_without_the_password() {
    // Nothing listens on this port.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("postgres://etl:hunter2-secret@127.0.0.1:{port}/etl");
    let journal = PgJournal::new(&url)
        .expect("url")
        .connect_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let err = journal.open_writer().expect_err("nothing listens");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once"
    );
    assert!(matches!(err, JournalError::Database { .. }), "{err:?}");
    let shown = format!("{err} {err:?} {journal:?}");
    assert!(shown.contains("connect to"), "{shown}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");

    // A server that accepts and never answers: the connect timeout.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let journal = PgJournal::new(&format!(
        "postgres://etl:hunter2-secret@127.0.0.1:{port}/etl"
    ))
    .expect("url")
    .connect_timeout(Duration::from_millis(700));
    let started = Instant::now();
    let err = journal.list_dead().expect_err("no answer");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(!format!("{err} {err:?}").contains("hunter2-secret"));
    drop(silent);
}

#[test]
fn the_url_password_never_shows_in_locations_or_journals() {
    let url = "postgresql://etl:hunter2-secret@db.invalid:5432/etl?password=other-secret-9";
    let location = Location::Postgres(url.to_owned());
    let shown = format!("{location:?}");
    assert!(
        !shown.contains("hunter2-secret") && !shown.contains("other-secret-9"),
        "{shown}"
    );
    assert!(shown.contains("etl:***@db.invalid:5432"), "{shown}");
    let journal = location
        .open()
        .expect("a PostgreSQL journal, not yet connected");
    let shown = format!("{journal:?}");
    assert!(shown.starts_with("PgJournal"), "{shown}");
    assert!(
        !shown.contains("hunter2-secret") && !shown.contains("other-secret-9"),
        "{shown}"
    );

    let err = PgJournal::new("postgres://etl:hunter2-secret@db.invalid:notaport/etl")
        .expect_err("a bad port");
    let shown = format!("{err} {err:?}");
    assert!(matches!(err, JournalError::Location { .. }), "{shown}");
    assert!(!shown.contains("hunter2-secret"), "{shown}");
}

#[test]
fn hookflow_journal_names_a_postgres_journal() {
    let Some(server) = pg_support::start() else {
        return;
    };
    // The only test of this binary that reads or sets HOOKFLOW_JOURNAL.
    std::env::set_var(hookflow::journal::ENV_VAR, server.url());
    let journal = hookflow::journal::open_default().expect("open");
    std::env::remove_var(hookflow::journal::ENV_VAR);
    assert!(format!("{journal:?}").starts_with("PgJournal"));
    let writer = journal.open_writer().expect("a writer in the database");
    writer
        .append(&[run_started(Uuid::now_v7())])
        .expect("append");
    assert_eq!(
        count(&server, "SELECT count(*) FROM hookflow_journal_records"),
        1
    );
}

#[test]
fn an_append_after_the_connection_was_killed_reconnects_and_stores_once() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let journal = journal(&server.url());
    let writer = journal.open_writer().expect("open writer");
    let run_id = Uuid::now_v7();
    let groups = in_flight_run(run_id);
    writer.append(&groups[0]).expect("append");

    let killed: i64 = server
        .admin()
        .query_one(
            "SELECT count(pg_terminate_backend(pid))
               FROM pg_stat_activity WHERE application_name = 'hookflow'",
            &[],
        )
        .expect("terminate")
        .get(0);
    assert!(killed >= 1, "the writer's connection was terminated");

    writer
        .append(&groups[1])
        .expect("the append reconnects and succeeds");
    drop(writer);
    let claim = journal
        .claim(&listed(&journal)[0])
        .expect("claim")
        .expect("claimed");
    assert_eq!(
        claim.records(),
        groups.concat().as_slice(),
        "each record once"
    );
}

#[test]
fn compaction_removes_the_dead_segments_whose_runs_are_all_closed() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let url = server.url();
    let paused = paused_journal(&url, Duration::from_millis(600));
    let finished = paused.open_writer().expect("open writer");
    let done = Uuid::now_v7();
    finished.append(&in_flight_run(done)[0]).expect("append");
    finished.append(&[run_closed(done)]).expect("close");
    assert_eq!(
        count(&server, "SELECT count(*) FROM hookflow_journal_records"),
        0,
        "a closed run's records are deleted with its close"
    );
    let unfinished = paused.open_writer().expect("open writer");
    unfinished
        .append(&in_flight_run(Uuid::now_v7())[0])
        .expect("append");
    let live = journal(&url);
    let live_writer = live.open_writer().expect("open writer");
    std::thread::sleep(Duration::from_millis(1000));

    let compaction = live.compact().expect("compact");
    assert_eq!((compaction.removed, compaction.kept), (1, 1));
    let ids: Vec<String> = server
        .admin()
        .query("SELECT id FROM hookflow_journal_segments ORDER BY id", &[])
        .expect("segments")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expected = vec![
        unfinished.segment().to_string(),
        live_writer.segment().to_string(),
    ];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(matches!(
        finished.append(&[run_started(Uuid::now_v7())]),
        Err(JournalError::Fenced { current: None, .. })
    ));
}

#[test]
fn an_append_to_a_server_gone_for_good_is_an_error_value_after_bounded_retries() {
    let Some(server) = pg_support::start() else {
        return;
    };
    let journal = journal(&server.url())
        .retries(2)
        .connect_timeout(Duration::from_secs(1));
    let writer = journal.open_writer().expect("open writer");
    let run_id = Uuid::now_v7();
    writer.append(&in_flight_run(run_id)[0]).expect("append");
    drop(server); // stops the server and removes its data

    let started = Instant::now();
    let err = writer
        .append(&[step_failed(run_id, 0)])
        .expect_err("nothing to reconnect to");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    match &err {
        JournalError::Database { action, .. } => assert_eq!(*action, "append to"),
        other => panic!("expected Database, got {other:?}"),
    }
    assert!(!err.to_string().contains("test-password"), "{err}");
    let started = Instant::now();
    drop(writer);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "dropping is bounded too"
    );
}
