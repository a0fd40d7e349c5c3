//! The embedded journal store (feature `journal`): records read back as
//! written, damage never panics nor hides healthy files, a live owner is
//! never taken over, a SIGKILLed writer leaves every record it wrote, two
//! racing recoverers claim each run once, compaction keeps exactly the
//! unfinished runs, and the recovery plan computed from record sequences.
//!
//! The child-process tests re-run this test binary with
//! `HOOKFLOW_JOURNAL_TEST_CHILD` set; the child's entry point is the ignored
//! test `child_process_entry`, which does nothing unless started that way.
//!
//! ```text
//! cargo test --features journal --test journal_store
//! ```

#![cfg(feature = "journal")]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookflow::journal::{
    plan, DeliveryKey, DeliveryState, Durability, ErrorInfo, FailedStepInfo, FileJournal,
    HookEnded, HookResult, HookStarted, Journal, JournalError, Location, Record, RunClosed,
    RunEnded, RunStarted, StepCall, StepClosed, StepEnded, StepStarted, FORMAT_VERSION,
};
use hookflow::{ErrorKind, Event, Status};
use proptest::prelude::*;
use uuid::Uuid;

const CHILD_ENV: &str = "HOOKFLOW_JOURNAL_TEST_CHILD";
const DIR_ENV: &str = "HOOKFLOW_JOURNAL_TEST_DIR";
const RUN_ENV: &str = "HOOKFLOW_JOURNAL_TEST_RUN";

// ----- record builders -------------------------------------------------------------

/// Spawning a child process forks this one: until the child's `exec`, it
/// shares every open file description, and with them the journal files'
/// locks, so a file whose writer a test just dropped looks live for that
/// moment. Tests spawn children under the write side of this lock and look
/// at locks under the read side.
static FORK: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn quiet<T>(f: impl FnOnce() -> T) -> T {
    let _guard = FORK.read().unwrap_or_else(|p| p.into_inner());
    f()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(secs * 1_000_000_007)
}

fn call(seq: u32, name: &'static str) -> StepCall<'static> {
    StepCall {
        seq,
        name: name.into(),
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

fn step_started(run_id: Uuid, seq: u32, name: &'static str, attempt: u32) -> Record<'static> {
    Record::StepStarted(StepStarted {
        run_id,
        step: call(seq, name),
        step_path: "etl::step".into(),
        attempt,
        max_attempts: 3,
        at: at(2 + u64::from(attempt)),
    })
}

fn step_ended(
    run_id: Uuid,
    seq: u32,
    name: &'static str,
    attempt: u32,
    status: Status,
    retrying: bool,
) -> Record<'static> {
    let error = (status != Status::Completed).then(|| ErrorInfo {
        kind: if status == Status::Crashed {
            ErrorKind::Panic
        } else {
            ErrorKind::Error
        },
        message: format!("{name} broke").into(),
    });
    Record::StepEnded(StepEnded {
        run_id,
        step: call(seq, name),
        attempt,
        status,
        error,
        retrying,
        at: at(10),
    })
}

fn key(
    run_id: Uuid,
    step: Option<(u32, &'static str)>,
    attempt: u32,
    event: Event,
    hook: &'static str,
) -> DeliveryKey<'static> {
    DeliveryKey {
        run_id,
        step: step.map(|(seq, name)| call(seq, name)),
        attempt,
        event,
        hook: hook.into(),
    }
}

fn hook_started(key: &DeliveryKey<'static>) -> Record<'static> {
    Record::HookStarted(HookStarted {
        key: key.clone(),
        redelivered: false,
        at: at(11),
    })
}

fn hook_ended(key: &DeliveryKey<'static>) -> Record<'static> {
    Record::HookEnded(HookEnded {
        key: key.clone(),
        result: HookResult::Failed("webhook answered 500".into()),
        at: at(12),
    })
}

fn step_closed(run_id: Uuid, seq: u32, name: &'static str, attempt: u32) -> Record<'static> {
    Record::StepClosed(StepClosed {
        run_id,
        step: call(seq, name),
        attempt,
    })
}

fn run_ended(run_id: Uuid, status: Status) -> Record<'static> {
    Record::RunEnded(RunEnded {
        run_id,
        status,
        error: Some(ErrorInfo {
            kind: ErrorKind::Error,
            message: "load failed".into(),
        }),
        failed_steps: vec![FailedStepInfo {
            name: "load".into(),
            error: ErrorInfo {
                kind: ErrorKind::Error,
                message: "load broke".into(),
            },
        }],
        at: at(20),
    })
}

fn run_closed(run_id: Uuid) -> Record<'static> {
    Record::RunClosed(RunClosed { run_id })
}

/// A run that got as far as a hook call of its second step: every record
/// kind but `RunClosed`.
fn scripted_records(run_id: Uuid) -> Vec<Record<'static>> {
    let k1 = key(run_id, Some((0, "extract")), 1, Event::Success, "record");
    let k2 = key(run_id, Some((1, "load")), 1, Event::Retry, "page_oncall");
    vec![
        run_started(run_id),
        step_started(run_id, 0, "extract", 1),
        step_ended(run_id, 0, "extract", 1, Status::Completed, false),
        hook_started(&k1),
        hook_ended(&k1),
        step_closed(run_id, 0, "extract", 1),
        step_started(run_id, 1, "load", 1),
        step_ended(run_id, 1, "load", 1, Status::Failed, true),
        hook_started(&k2),
    ]
}

// ----- fixtures ---------------------------------------------------------------------

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("journal_store")
        .join(format!("{name}-{}", Uuid::now_v7().simple()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hfj"))
        .collect();
    files.sort();
    files
}

/// Leaves a dead segment holding `records` (the writer is dropped with its
/// runs open, which is what a dead process leaves).
fn dead_segment(journal: &FileJournal, records: &[Record<'_>]) -> PathBuf {
    // Held until the writer's file is closed (see `FORK`).
    let _guard = FORK.read().unwrap_or_else(|p| p.into_inner());
    let writer = journal.open_writer().unwrap();
    writer.append(records).unwrap();
    let path = journal
        .dir()
        .join(format!("{}.hfj", writer.segment().as_str()));
    drop(writer);
    path
}

/// Every record of the only dead segment of `journal` (none: empty), and
/// the damage found, through a claim that is released without finishing.
fn read_only_segment(journal: &FileJournal) -> (Vec<Record<'static>>, Option<String>) {
    // Held until the claim's file is closed, not only while it is taken: a
    // child forked while it is open would keep its lock past this call.
    let _guard = FORK.read().unwrap_or_else(|p| p.into_inner());
    let listing = journal.list_dead().unwrap();
    assert!(listing.skipped.is_empty(), "{:?}", listing.skipped);
    assert!(listing.segments.len() <= 1);
    let Some(segment) = listing.segments.first() else {
        return (Vec::new(), None);
    };
    let claim = journal.claim(&segment.id).unwrap().expect("a dead segment");
    let damage = claim.damage().map(ToString::to_string);
    (claim.records().to_vec(), damage)
}

fn child(mode: &str, dir: &Path, run: Option<Uuid>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_process_entry",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, mode)
    .env(DIR_ENV, dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(run) = run {
        cmd.env(RUN_ENV, run.to_string());
    }
    let _forking = FORK.write().unwrap_or_else(|p| p.into_inner());
    cmd.spawn().unwrap()
}

/// A child that is killed when the test ends, even when it fails first.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines the child printed with our prefix, once it exits.
fn child_lines(child: Child) -> Vec<String> {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "child failed: {:?}", out.status);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        // libtest may print "test child_process_entry ... " in front.
        .filter_map(|l| l.find("CHILD ").map(|i| l[i + "CHILD ".len()..].to_owned()))
        .collect()
}

// ----- the child processes ------------------------------------------------------------

/// The entry point of the child processes (ignored in a normal run).
#[test]
#[ignore = "entry point of the child processes of the other tests"]
fn child_process_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(std::env::var_os(DIR_ENV).unwrap());
    let journal = FileJournal::new(&dir);
    let mut stdout = std::io::stdout();
    match mode.as_str() {
        // Writes the scripted run one record per append, says so, and waits
        // to be killed.
        "writer" => {
            let run_id: Uuid = std::env::var(RUN_ENV).unwrap().parse().unwrap();
            let writer = journal.open_writer().unwrap();
            for record in scripted_records(run_id) {
                writer.append(&[record]).unwrap();
            }
            writeln!(stdout, "CHILD READY {}", writer.segment()).unwrap();
            stdout.flush().unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        // Waits for the start signal, then recovers every dead segment it
        // can claim, slowly, printing each run it finished.
        "recoverer" => {
            while !dir.join("go").exists() {
                std::thread::sleep(Duration::from_millis(1));
            }
            for segment in quiet(|| journal.list_dead()).unwrap().segments {
                let Some(mut claim) = quiet(|| journal.claim(&segment.id)).unwrap() else {
                    writeln!(stdout, "CHILD BUSY {}", segment.id).unwrap();
                    continue;
                };
                for run in plan(claim.records()) {
                    std::thread::sleep(Duration::from_millis(20));
                    claim
                        .append(&[
                            run_ended(run.run_id, Status::Crashed),
                            run_closed(run.run_id),
                        ])
                        .unwrap();
                    writeln!(stdout, "CHILD CLAIMED {}", run.run_id).unwrap();
                }
                claim.finish().unwrap();
            }
            journal.compact().unwrap();
        }
        // Claims the only dead segment, starts a hook call, says so, and
        // waits to be killed mid-call.
        "dying-recoverer" => {
            let run_id: Uuid = std::env::var(RUN_ENV).unwrap().parse().unwrap();
            let segment = quiet(|| journal.list_dead()).unwrap().segments.remove(0);
            let mut claim = quiet(|| journal.claim(&segment.id)).unwrap().unwrap();
            let k = key(run_id, Some((1, "load")), 1, Event::Crash, "page_oncall");
            claim.append(&[hook_started(&k)]).unwrap();
            writeln!(stdout, "CHILD READY {}", segment.id).unwrap();
            stdout.flush().unwrap();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "location" => {
            writeln!(stdout, "CHILD {:?}", Location::from_env()).unwrap();
        }
        other => panic!("unknown child mode {other}"),
    }
}

// ----- appends and reads back -------------------------------------------------------------

#[test]
fn appends_read_back_in_order() {
    let journal = FileJournal::new(scratch("read-back"));
    let run_id = Uuid::now_v7();
    let records = scripted_records(run_id);
    let writer = journal.open_writer().unwrap();
    // One record alone, then the rest in two groups (one write each).
    writer.append(&records[..1]).unwrap();
    writer.append(&records[1..5]).unwrap();
    writer.append(&records[5..]).unwrap();
    drop(writer);

    let listing = quiet(|| journal.list_dead()).unwrap();
    assert_eq!(listing.segments.len(), 1);
    let runs = &listing.segments[0].runs;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run_id, run_id);
    assert_eq!(runs[0].pipeline.as_deref(), Some("nightly"));
    assert_eq!(runs[0].started_at, Some(at(1)));
    assert!(!runs[0].ended);

    let (read, damage) = read_only_segment(&journal);
    assert_eq!(damage, None);
    assert_eq!(read, records);
}

#[test]
fn appends_from_many_threads_stay_whole_and_in_order_per_thread() {
    let journal = FileJournal::new(scratch("threads"));
    let run_id = Uuid::now_v7();
    let writer = journal.open_writer().unwrap();
    writer.append(&[run_started(run_id)]).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let writer = &writer;
            s.spawn(move || {
                for i in 0..200u32 {
                    let seq = t * 1000 + i;
                    writer
                        .append(&[
                            step_started(run_id, seq, "load", 1),
                            step_ended(run_id, seq, "load", 1, Status::Completed, false),
                        ])
                        .unwrap();
                }
            });
        }
    });
    drop(writer);

    let (records, damage) = read_only_segment(&journal);
    assert_eq!(damage, None);
    assert_eq!(records.len(), 1 + 4 * 200 * 2);
    for t in 0..4u32 {
        let seqs: Vec<u32> = records
            .iter()
            .filter_map(|r| match r {
                Record::StepStarted(s) if s.step.seq / 1000 == t => Some(s.step.seq),
                _ => None,
            })
            .collect();
        assert_eq!(seqs, (0..200).map(|i| t * 1000 + i).collect::<Vec<_>>());
    }
    // Each group stayed together: every start is followed by its own end.
    for pair in records[1..].chunks(2) {
        match pair {
            [Record::StepStarted(a), Record::StepEnded(b)] => assert_eq!(a.step, b.step),
            other => panic!("a group was split: {other:?}"),
        }
    }
}

#[test]
fn a_record_payload_round_trips_and_rejects_trailing_bytes() {
    let record = run_ended(Uuid::now_v7(), Status::Failed);
    let bytes = record.to_bytes().unwrap();
    assert_eq!(Record::from_bytes(&bytes), Some(record));
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Record::from_bytes(&longer), None);
    assert_eq!(Record::from_bytes(&bytes[..bytes.len() - 1]), None);
}

// ----- damage ----------------------------------------------------------------------------

fn arb_record(run_id: Uuid) -> impl Strategy<Value = Record<'static>> {
    let name = "[a-z]{1,12}";
    prop_oneof![
        (0u32..50, name, 1u32..4).prop_map(move |(seq, n, attempt)| {
            Record::StepStarted(StepStarted {
                run_id,
                step: StepCall {
                    seq,
                    name: n.into(),
                },
                step_path: "etl::x".into(),
                attempt,
                max_attempts: 3,
                at: SystemTime::now(),
            })
        }),
        (0u32..50, name, ".{0,80}", any::<bool>()).prop_map(move |(seq, n, msg, retrying)| {
            Record::StepEnded(StepEnded {
                run_id,
                step: StepCall {
                    seq,
                    name: n.into(),
                },
                attempt: 1,
                status: Status::Failed,
                error: Some(ErrorInfo {
                    kind: ErrorKind::Timeout,
                    message: msg.into(),
                }),
                retrying,
                at: SystemTime::now(),
            })
        }),
        (0u32..50, name, name).prop_map(move |(seq, n, hook)| {
            Record::HookStarted(HookStarted {
                key: DeliveryKey {
                    run_id,
                    step: Some(StepCall {
                        seq,
                        name: n.into(),
                    }),
                    attempt: 1,
                    event: Event::Finish,
                    hook: hook.into(),
                },
                redelivered: false,
                at: SystemTime::now(),
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Cutting a valid file at any byte gives a prefix of its records,
    /// with no error and no panic: a torn tail is what a crash leaves.
    #[test]
    fn a_torn_tail_at_every_offset_yields_a_prefix(
        (run_id, tail) in any::<u128>().prop_map(Uuid::from_u128).prop_flat_map(|id| {
            (Just(id), proptest::collection::vec(arb_record(id), 1..8))
        })
    ) {
        let mut records = vec![run_started(run_id)];
        records.extend(tail);
        let source = FileJournal::new(scratch("torn-source"));
        let path = dead_segment(&source, &records);
        let bytes = fs::read(&path).unwrap();

        let dir = scratch("torn");
        let journal = FileJournal::new(&dir);
        let mut last = 0;
        for cut in 0..=bytes.len() {
            fs::write(dir.join("seg.hfj"), &bytes[..cut]).unwrap();
            let (read, damage) = read_only_segment(&journal);
            prop_assert_eq!(damage, None, "cut at {}", cut);
            prop_assert!(read.len() >= last, "cut at {}: fewer records than before", cut);
            prop_assert_eq!(&read[..], &records[..read.len()], "cut at {}", cut);
            last = read.len();
        }
        prop_assert_eq!(last, records.len());
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_dir_all(source.dir()).unwrap();
    }
}

#[test]
fn a_claim_cuts_a_torn_tail_so_that_its_own_records_read_back() {
    let dir = scratch("torn-claim");
    let journal = FileJournal::new(&dir);
    let run_id = Uuid::now_v7();
    let records = scripted_records(run_id);
    let path = dead_segment(&journal, &records);
    // The last write was cut short three bytes before its end.
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();

    let id = quiet(|| journal.list_dead()).unwrap().segments[0]
        .id
        .clone();
    let mut claim = quiet(|| journal.claim(&id)).unwrap().unwrap();
    assert_eq!(claim.records(), &records[..records.len() - 1]);
    assert!(claim.damage().is_none(), "a torn tail is no damage");
    claim.append(&[run_ended(run_id, Status::Crashed)]).unwrap();
    drop(claim);

    let (read, damage) = read_only_segment(&journal);
    assert_eq!(damage, None);
    let mut expected = records[..records.len() - 1].to_vec();
    expected.push(run_ended(run_id, Status::Crashed));
    assert_eq!(read, expected);
}

#[test]
fn power_loss_durability_appends_and_reads_back() {
    let journal = FileJournal::new(scratch("power-loss")).durability(Durability::PowerLoss);
    let run_id = Uuid::now_v7();
    dead_segment(&journal, &scripted_records(run_id));
    let (read, _) = read_only_segment(&journal);
    assert_eq!(read, scripted_records(run_id));
}

#[test]
fn garbage_and_future_version_files_are_skipped_and_do_not_hide_healthy_ones() {
    let dir = scratch("skipped");
    let journal = FileJournal::new(&dir);
    let run_id = Uuid::now_v7();
    dead_segment(&journal, &scripted_records(run_id));

    fs::write(
        dir.join("garbage.hfj"),
        b"this is not a journal at all, just text",
    )
    .unwrap();
    let mut future = b"hookflow-journal".to_vec();
    future.extend_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    future.extend_from_slice(&[0xAB; 64]);
    fs::write(dir.join("future.hfj"), &future).unwrap();

    let listing = quiet(|| journal.list_dead()).unwrap();
    assert_eq!(listing.segments.len(), 1, "the healthy segment is listed");
    assert_eq!(listing.segments[0].runs[0].run_id, run_id);
    assert_eq!(listing.skipped.len(), 2);
    let garbage = listing
        .skipped
        .iter()
        .find(|e| matches!(e, JournalError::NotAJournal { .. }))
        .expect("the garbage file is reported");
    assert!(garbage.to_string().contains("garbage.hfj"), "{garbage}");
    assert!(garbage.to_string().contains("not a hookflow journal"));
    let newer = listing
        .skipped
        .iter()
        .find_map(|e| match e {
            JournalError::UnsupportedVersion {
                path,
                found,
                supported,
            } => Some((path.clone(), *found, *supported, e.to_string())),
            _ => None,
        })
        .expect("the future file is reported");
    assert!(newer.0.ends_with("future.hfj"));
    assert_eq!((newer.1, newer.2), (FORMAT_VERSION + 1, FORMAT_VERSION));
    assert!(newer.3.contains("newer"), "{}", newer.3);

    // The healthy run can be claimed; compaction leaves the foreign files
    // alone and reports them again.
    let mut claim = quiet(|| journal.claim(&listing.segments[0].id))
        .unwrap()
        .unwrap();
    claim.append(&[run_closed(run_id)]).unwrap();
    claim.finish().unwrap();
    let compaction = journal.compact().unwrap();
    assert_eq!(compaction.skipped.len(), 2);
    assert!(dir.join("garbage.hfj").exists());
    assert_eq!(fs::read(dir.join("future.hfj")).unwrap(), future);
    assert_eq!(
        segment_files(&dir).len(),
        2,
        "only the two foreign files remain"
    );
}

#[test]
fn a_corrupt_record_in_the_middle_skips_the_rest_with_a_warning() {
    let dir = scratch("corrupt");
    let journal = FileJournal::new(&dir);
    let run_id = Uuid::now_v7();
    let records = scripted_records(run_id);
    let path = dead_segment(&journal, &records);

    // Frames: header (16 + 4 bytes), then length u32, crc u32, payload.
    let mut bytes = fs::read(&path).unwrap();
    let first_len = u32::from_le_bytes(bytes[20..24].try_into().unwrap()) as usize;
    let second = 20 + 8 + first_len;
    bytes[second + 8 + 1] ^= 0xFF;
    fs::write(&path, &bytes).unwrap();

    let listing = quiet(|| journal.list_dead()).unwrap();
    let segment = &listing.segments[0];
    match &segment.damage {
        Some(JournalError::Corrupt { offset, reason, .. }) => {
            assert_eq!(*offset, second as u64);
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected damage, got {other:?}"),
    }
    let mut claim = quiet(|| journal.claim(&segment.id)).unwrap().unwrap();
    assert_eq!(claim.records(), &records[..1]);
    assert!(claim.damage().is_some());

    // What the recoverer appends stays readable: the damaged tail was cut
    // off and kept aside.
    claim.append(&[run_ended(run_id, Status::Crashed)]).unwrap();
    drop(claim);
    let aside = dir.join(format!("{}.hfj.damaged-{second}", segment.id));
    assert_eq!(fs::read(&aside).unwrap(), &bytes[second..]);
    let (read, damage) = read_only_segment(&journal);
    assert_eq!(damage, None);
    assert_eq!(
        read,
        vec![records[0].clone(), run_ended(run_id, Status::Crashed)]
    );
}

// ----- ownership ------------------------------------------------------------------------

#[test]
fn a_live_owner_is_never_listed_claimed_or_compacted() {
    let dir = scratch("live");
    let journal = FileJournal::new(&dir);
    let run_id = Uuid::now_v7();
    let writer = journal.open_writer().unwrap();
    writer.append(&scripted_records(run_id)).unwrap();

    assert!(quiet(|| journal.list_dead()).unwrap().segments.is_empty());
    assert!(journal.claim(writer.segment()).unwrap().is_none());
    let compaction = journal.compact().unwrap();
    assert_eq!((compaction.removed, compaction.kept), (0, 0));
    assert_eq!(segment_files(&dir).len(), 1);

    // Its owner gone, the same segment is dead and claimable.
    let id = writer.segment().clone();
    drop(writer);
    let listing = quiet(|| journal.list_dead()).unwrap();
    assert_eq!(listing.segments.len(), 1);
    assert_eq!(listing.segments[0].id, id);
}

#[test]
fn a_claim_is_exclusive_and_the_next_claimer_sees_what_it_appended() {
    let journal = FileJournal::new(scratch("claim"));
    let run_id = Uuid::now_v7();
    dead_segment(&journal, &scripted_records(run_id));
    let id = quiet(|| journal.list_dead()).unwrap().segments[0]
        .id
        .clone();

    let mut first = quiet(|| journal.claim(&id)).unwrap().unwrap();
    assert!(
        quiet(|| journal.claim(&id)).unwrap().is_none(),
        "held by the first claim"
    );
    assert!(quiet(|| journal.list_dead()).unwrap().segments.is_empty());

    // The first recoverer starts a hook call and dies (its claim is
    // dropped without finishing).
    let k = key(run_id, Some((1, "load")), 1, Event::Crash, "page_oncall");
    first.append(&[hook_started(&k)]).unwrap();
    drop(first);

    let second = quiet(|| journal.claim(&id)).unwrap().unwrap();
    assert_eq!(second.records().last(), Some(&hook_started(&k)));
    let plans = plan(second.records());
    let load = &plans[0].steps[0];
    assert_eq!(load.deliveries.state(&k), DeliveryState::InFlight);
}

#[cfg(unix)]
#[test]
fn a_writer_killed_with_sigkill_leaves_every_record_it_wrote() {
    use std::os::unix::process::ExitStatusExt;

    let dir = scratch("sigkill");
    let journal = FileJournal::new(&dir);
    let run_id = Uuid::now_v7();
    let mut writer = Killed(child("writer", &dir, Some(run_id)));
    let line = wait_ready(&mut writer.0);

    // Alive: its segment is not dead.
    assert_eq!(segment_files(&dir).len(), 1);
    assert!(quiet(|| journal.list_dead()).unwrap().segments.is_empty());

    writer.0.kill().unwrap(); // SIGKILL
    let status = writer.0.wait().unwrap();
    assert_eq!(status.signal(), Some(9));

    let listing = quiet(|| journal.list_dead()).unwrap();
    assert_eq!(listing.segments.len(), 1);
    assert_eq!(
        listing.segments[0].id.as_str(),
        line.trim().rsplit(' ').next().unwrap()
    );
    let (records, damage) = read_only_segment(&journal);
    assert_eq!(damage, None);
    assert_eq!(records, scripted_records(run_id));
}

/// Reads the child's stdout until its READY line; returns that line.
fn wait_ready(child: &mut Child) -> String {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("CHILD READY") {
        line.clear();
        assert_ne!(out.read_line(&mut line).unwrap(), 0, "child ended early");
    }
    line
}

#[cfg(unix)]
#[test]
fn a_recoverer_killed_mid_hook_keeps_its_claim_until_death_and_leaves_the_call_in_flight() {
    let dir = scratch("dying-recoverer");
    let journal = FileJournal::new(&dir);
    let run_id = Uuid::now_v7();
    dead_segment(&journal, &scripted_records(run_id));

    let id = quiet(|| journal.list_dead()).unwrap().segments[0]
        .id
        .clone();

    let mut recoverer = Killed(child("dying-recoverer", &dir, Some(run_id)));
    let line = wait_ready(&mut recoverer.0);
    assert_eq!(line.trim().rsplit(' ').next(), Some(id.as_str()));
    assert!(
        quiet(|| journal.list_dead()).unwrap().segments.is_empty(),
        "claimed by a live recoverer"
    );
    assert!(quiet(|| journal.claim(&id)).unwrap().is_none());

    recoverer.0.kill().unwrap(); // SIGKILL
    recoverer.0.wait().unwrap();

    let listing = quiet(|| journal.list_dead()).unwrap();
    assert_eq!(listing.segments[0].id, id);
    let claim = quiet(|| journal.claim(&id)).unwrap().unwrap();
    let k = key(run_id, Some((1, "load")), 1, Event::Crash, "page_oncall");
    assert_eq!(claim.records().last(), Some(&hook_started(&k)));
    let plans = plan(claim.records());
    assert_eq!(
        plans[0].steps[0].deliveries.state(&k),
        DeliveryState::InFlight
    );
}

#[test]
fn two_racing_recoverers_claim_each_run_once() {
    let dir = scratch("race");
    let journal = FileJournal::new(&dir);
    let mut runs = Vec::new();
    for _ in 0..6 {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut records = scripted_records(a);
        records.extend(scripted_records(b));
        dead_segment(&journal, &records);
        runs.extend([a, b]);
    }
    // A finished run in one of them is not recovered again.
    let done = Uuid::now_v7();
    dead_segment(&journal, &[run_started(done), run_closed(done)]);

    let children = [
        child("recoverer", &dir, None),
        child("recoverer", &dir, None),
    ];
    fs::write(dir.join("go"), b"").unwrap();
    let mut claimed: Vec<Uuid> = Vec::new();
    for c in children {
        for line in child_lines(c) {
            if let Some(run) = line.strip_prefix("CLAIMED ") {
                claimed.push(run.parse().unwrap());
            }
        }
    }
    claimed.sort();
    runs.sort();
    assert_eq!(claimed, runs, "every run recovered exactly once");
    assert!(
        segment_files(&dir).is_empty(),
        "recovered segments are removed"
    );
}

// ----- compaction --------------------------------------------------------------------

#[test]
fn compaction_removes_finished_runs_and_keeps_unfinished_ones() {
    let dir = scratch("compact");
    let journal = FileJournal::new(&dir);
    let finished = Uuid::now_v7();
    let mut records = scripted_records(finished);
    records.push(run_ended(finished, Status::Failed));
    let finished_path = dead_segment(&journal, &records);
    // A recoverer closed the run and died before removing the file.
    let id = quiet(|| journal.list_dead()).unwrap().segments[0]
        .id
        .clone();
    let mut claim = quiet(|| journal.claim(&id)).unwrap().unwrap();
    claim.append(&[run_closed(finished)]).unwrap();
    drop(claim);
    assert!(finished_path.exists());
    assert!(quiet(|| journal.list_dead()).unwrap().segments.is_empty());
    let (open_a, open_b) = (Uuid::now_v7(), Uuid::now_v7());
    let mut mixed = scripted_records(open_a);
    mixed.extend([run_started(open_b), run_closed(open_b)]);
    let mixed_path = dead_segment(&journal, &mixed);
    let live = journal.open_writer().unwrap();
    live.append(&[run_started(Uuid::now_v7())]).unwrap();

    let compaction = journal.compact().unwrap();
    assert_eq!((compaction.removed, compaction.kept), (1, 1));
    assert!(!finished_path.exists());
    assert!(mixed_path.exists());
    assert_eq!(
        segment_files(&dir).len(),
        2,
        "the mixed and the live segment"
    );
    let listing = quiet(|| journal.list_dead()).unwrap();
    let runs: Vec<Uuid> = listing.segments[0].runs.iter().map(|r| r.run_id).collect();
    assert_eq!(runs, [open_a]);
}

#[test]
fn compaction_removes_temporaries_of_dead_writers_only() {
    let dir = scratch("temporaries");
    let journal = FileJournal::new(&dir);
    let live = journal.open_writer().unwrap();
    // A writer that died between creating its file and publishing it.
    let stale = dir.join(".0190a0b0c0d0e0f0a0b0c0d0e0f0a0b0.hfj.tmp");
    fs::write(&stale, b"hookflow-journal").unwrap();
    // A temporary whose creator is still alive holds its lock.
    let held = dir.join(".0190a0b0c0d0e0f0a0b0c0d0e0f0a0b1.hfj.tmp");
    let held_file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&held)
        .unwrap();
    held_file.try_lock().unwrap();

    journal.compact().unwrap();
    assert!(!stale.exists());
    assert!(held.exists());
    assert!(dir.join(format!("{}.hfj", live.segment())).exists());
}

#[test]
fn a_writer_cuts_its_file_back_once_no_run_is_open() {
    let dir = scratch("self-compact");
    let journal = FileJournal::new(&dir).compact_at(0);
    let writer = journal.open_writer().unwrap();
    let path = dir.join(format!("{}.hfj", writer.segment()));
    let header = fs::metadata(&path).unwrap().len();
    assert_eq!(header, 20);

    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    writer.append(&scripted_records(a)).unwrap();
    writer.append(&scripted_records(b)).unwrap();
    writer.finish_run(a).unwrap();
    assert!(
        fs::metadata(&path).unwrap().len() > header,
        "run b is still open"
    );
    writer.finish_run(b).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().len(), header);

    // Appends go on after the cut, and read back.
    let c = Uuid::now_v7();
    writer.append(&scripted_records(c)).unwrap();
    drop(writer);
    let (records, _) = read_only_segment(&journal);
    assert_eq!(records, scripted_records(c));
}

#[cfg(unix)]
#[test]
fn the_journal_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let dir = scratch("private").join("journal");
    let journal = FileJournal::new(&dir);
    let writer = journal.open_writer().unwrap();
    let path = dir.join(format!("{}.hfj", writer.segment()));
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_writer_that_ends_with_no_open_run_leaves_nothing() {
    let dir = scratch("clean-end");
    let journal = FileJournal::new(&dir);
    let writer = journal.open_writer().unwrap();
    let run_id = Uuid::now_v7();
    writer.append(&scripted_records(run_id)).unwrap();
    writer.finish_run(run_id).unwrap();
    drop(writer);
    assert!(segment_files(&dir).is_empty());
    assert!(
        fs::read_dir(&dir).unwrap().next().is_none(),
        "no temporary left"
    );
}

// ----- the recovery plan ---------------------------------------------------------------

#[test]
fn plan_a_step_killed_in_its_body_is_interrupted_and_the_run_not_ended() {
    let run = Uuid::now_v7();
    let records = [
        run_started(run),
        step_started(run, 0, "extract", 1),
        step_ended(run, 0, "extract", 1, Status::Completed, false),
        step_closed(run, 0, "extract", 1),
        step_started(run, 1, "load", 1),
    ];
    let plans = plan(&records);
    assert_eq!(plans.len(), 1);
    let p = &plans[0];
    assert_eq!(p.run_id, run);
    assert_eq!(p.started.as_ref().unwrap().pipeline, "nightly");
    assert!(p.ended.is_none());
    assert_eq!(p.steps.len(), 1, "the finished step fires nothing again");
    let load = &p.steps[0];
    assert_eq!(load.started.step, call(1, "load"));
    assert!(load.interrupted);
    assert!(load.unfinished_outcome.is_none());
    assert!(p.failed_steps.is_empty());
    assert_eq!(p.interrupted_steps().count(), 1);
}

#[test]
fn plan_an_end_after_a_closed_retry_of_the_same_attempt_is_not_closed() {
    // Attempt 1 failed and fired its `on_retry` hooks (closed); the run was
    // then cancelled before attempt 2, so the call ended at attempt 1, and
    // the process died in its first `on_cancel` hook.
    let run = Uuid::now_v7();
    let cancel = key(run, Some((0, "load")), 1, Event::Cancel, "page");
    let records = [
        run_started(run),
        step_started(run, 0, "load", 1),
        step_ended(run, 0, "load", 1, Status::Failed, true),
        step_closed(run, 0, "load", 1),
        step_ended(run, 0, "load", 1, Status::Cancelled, false),
        hook_started(&cancel),
    ];
    let p = &plan(&records)[0];
    assert_eq!(p.steps.len(), 1, "the cancelled end still has hooks to run");
    let load = &p.steps[0];
    assert_eq!(
        load.unfinished_outcome.as_ref().map(|e| e.status),
        Some(Status::Cancelled)
    );
    assert!(!load.interrupted);
    assert_eq!(load.deliveries.state(&cancel), DeliveryState::InFlight);
}

#[test]
fn plan_a_hook_mid_call_is_in_flight_and_the_others_are_not_started() {
    let run = Uuid::now_v7();
    let done = key(run, Some((0, "load")), 1, Event::Crash, "log");
    let mid = key(run, Some((0, "load")), 1, Event::Failure, "page_oncall");
    let later = key(run, Some((0, "load")), 1, Event::Finish, "log");
    let records = [
        run_started(run),
        step_started(run, 0, "load", 1),
        step_ended(run, 0, "load", 1, Status::Crashed, false),
        hook_started(&done),
        hook_ended(&done),
        hook_started(&mid),
    ];
    let p = &plan(&records)[0];
    let load = &p.steps[0];
    assert!(!load.interrupted, "its terminal state was recorded");
    let outcome = load.unfinished_outcome.as_ref().unwrap();
    assert_eq!(outcome.status, Status::Crashed);
    assert_eq!(load.deliveries.state(&done), DeliveryState::Done);
    assert_eq!(load.deliveries.state(&mid), DeliveryState::InFlight);
    assert_eq!(load.deliveries.state(&later), DeliveryState::NotStarted);
    assert_eq!(load.deliveries.in_flight().len(), 1);
    assert_eq!(load.deliveries.in_flight()[0].key, mid);
    assert_eq!(p.failed_steps.len(), 1);
    assert_eq!(p.failed_steps[0].name, "load");
    assert_eq!(p.failed_steps[0].error.kind, ErrorKind::Panic);
}

#[test]
fn plan_a_redelivered_hook_that_returned_is_done() {
    let run = Uuid::now_v7();
    let k = key(run, Some((0, "load")), 1, Event::Failure, "page_oncall");
    let mut redelivery = hook_started(&k);
    if let Record::HookStarted(h) = &mut redelivery {
        h.redelivered = true;
    }
    let records = [
        run_started(run),
        step_started(run, 0, "load", 1),
        step_ended(run, 0, "load", 1, Status::Failed, false),
        hook_started(&k),
        redelivery.clone(),
    ];
    let plans = plan(&records);
    let inflight = plans[0].steps[0].deliveries.in_flight();
    assert_eq!(inflight.len(), 1, "one call to make, not two");
    assert!(inflight[0].redelivered, "the last start stands");

    let mut records = records.to_vec();
    records.push(hook_ended(&k));
    let plans = plan(&records);
    let d = &plans[0].steps[0].deliveries;
    assert_eq!(d.state(&k), DeliveryState::Done);
    assert!(d.in_flight().is_empty());
}

#[test]
fn plan_retries_killed_between_attempts_or_in_a_retry_hook_are_interrupted() {
    let run = Uuid::now_v7();
    let retry_hook = key(run, Some((0, "load")), 1, Event::Retry, "log");
    let base = vec![
        run_started(run),
        step_started(run, 0, "load", 1),
        step_ended(run, 0, "load", 1, Status::Failed, true),
        hook_started(&retry_hook),
    ];

    // In the retry hook.
    let step = &plan(&base)[0].steps[0];
    assert!(step.interrupted);
    assert!(step.unfinished_outcome.as_ref().unwrap().retrying);
    assert_eq!(step.deliveries.state(&retry_hook), DeliveryState::InFlight);
    assert!(
        plan(&base)[0].failed_steps.is_empty(),
        "a retried attempt is no failure"
    );

    // During the retry delay.
    let mut delay = base.clone();
    delay.extend([hook_ended(&retry_hook), step_closed(run, 0, "load", 1)]);
    let step = &plan(&delay)[0].steps[0];
    assert!(step.interrupted);
    assert!(step.unfinished_outcome.is_none());
    assert_eq!(step.deliveries.state(&retry_hook), DeliveryState::Done);

    // In the second attempt's body.
    let mut second = delay.clone();
    second.push(step_started(run, 0, "load", 2));
    let step = &plan(&second)[0].steps[0];
    assert!(step.interrupted);
    assert_eq!(step.started.attempt, 2);
    assert!(step.unfinished_outcome.is_none());

    // The second attempt completed and closed: nothing is left of the step.
    let mut completed = second.clone();
    completed.extend([
        step_ended(run, 0, "load", 2, Status::Completed, false),
        step_closed(run, 0, "load", 2),
    ]);
    assert!(plan(&completed)[0].steps.is_empty());
}

#[test]
fn plan_an_ended_run_keeps_its_state_and_a_closed_run_is_left_out() {
    let run = Uuid::now_v7();
    let pipeline_hook = key(run, None, 1, Event::Failure, "summary");
    let other = key(run, None, 1, Event::Finish, "summary");
    let mut records = vec![
        run_started(run),
        step_started(run, 0, "load", 1),
        step_ended(run, 0, "load", 1, Status::Failed, false),
        step_closed(run, 0, "load", 1),
        run_ended(run, Status::Failed),
        hook_started(&pipeline_hook),
    ];
    let p = &plan(&records)[0];
    assert!(p.steps.is_empty());
    assert_eq!(p.ended.as_ref().unwrap().status, Status::Failed);
    assert_eq!(
        p.run_deliveries.state(&pipeline_hook),
        DeliveryState::InFlight
    );
    assert_eq!(p.run_deliveries.state(&other), DeliveryState::NotStarted);

    records.extend([hook_ended(&pipeline_hook), run_closed(run)]);
    assert!(plan(&records).is_empty());
}

#[test]
fn plan_interleaved_runs_are_kept_apart_in_start_order() {
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let records = [
        run_started(a),
        run_started(b),
        step_started(b, 0, "extract", 1),
        step_started(a, 0, "load", 1),
        step_ended(a, 0, "load", 1, Status::Completed, false),
        step_closed(a, 0, "load", 1),
        run_ended(a, Status::Completed),
        run_closed(a),
    ];
    let plans = plan(&records);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].run_id, b);
    assert_eq!(plans[0].steps[0].started.step, call(0, "extract"));
    assert!(plans[0].steps[0].interrupted);
}

#[test]
fn delivery_keys_name_run_step_attempt_event_and_hook() {
    let run = Uuid::nil();
    let step = key(
        run,
        Some((4, "load")),
        2,
        Event::Retry,
        "crate::alerts::page",
    );
    assert_eq!(
        step.to_string(),
        "00000000-0000-0000-0000-000000000000/load#4/2/on_retry/crate::alerts::page"
    );
    let pipeline = key(run, None, 1, Event::Finish, "summary");
    assert_eq!(
        pipeline.to_string(),
        "00000000-0000-0000-0000-000000000000/-/1/on_finish/summary"
    );
}

// ----- where the journal lives ---------------------------------------------------------------

#[test]
fn hookflow_journal_names_the_directory_or_a_postgres_url() {
    let dir = scratch("location");
    let run = |journal: Option<&str>, xdg: Option<&str>, home: Option<&str>| {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["child_process_entry", "--exact", "--ignored", "--nocapture"])
            .env(CHILD_ENV, "location")
            .env(DIR_ENV, &dir)
            .env_remove("HOOKFLOW_JOURNAL")
            .env_remove("XDG_STATE_HOME")
            .env_remove("HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in [
            ("HOOKFLOW_JOURNAL", journal),
            ("XDG_STATE_HOME", xdg),
            ("HOME", home),
        ] {
            if let Some(v) = value {
                cmd.env(name, v);
            }
        }
        child_lines({
            let _forking = FORK.write().unwrap_or_else(|p| p.into_inner());
            cmd.spawn().unwrap()
        })
        .join("\n")
    };
    assert_eq!(
        run(Some("/srv/etl/journal"), Some("/state"), Some("/home/ada")),
        r#"Dir("/srv/etl/journal")"#
    );
    assert_eq!(
        run(None, Some("/state"), Some("/home/ada")),
        r#"Dir("/state/hookflow/journal")"#
    );
    assert_eq!(
        run(Some(""), Some("relative"), Some("/home/ada")),
        r#"Dir("/home/ada/.local/state/hookflow/journal")"#,
        "an empty value is unset; a relative XDG_STATE_HOME is ignored"
    );
    assert_eq!(run(None, None, None), r#"Dir(".hookflow/journal")"#);
    assert_eq!(
        run(Some("postgres://etl:hunter2@db/jobs"), None, None),
        r#"Postgres("postgres://etl:***@db/jobs")"#,
        "the password never shows"
    );
}

// With the `postgres` feature the location opens a `PgJournal`
// (tests/journal_postgres.rs).
#[cfg(not(feature = "postgres"))]
#[test]
fn a_postgres_location_without_the_backend_is_an_error_that_hides_the_password() {
    let location = Location::Postgres("postgresql://etl:hunter2@db.internal/jobs".into());
    let err = location.open().unwrap_err();
    let message = err.to_string();
    assert!(message.contains("HOOKFLOW_JOURNAL"), "{message}");
    assert!(message.contains("PostgreSQL"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("etl:***@db.internal"), "{message}");
    assert!(message.contains("the `postgres` feature"), "{message}");
}

#[test]
fn an_unwritable_directory_is_an_error_value() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    fs::write(&file, b"").unwrap();
    // A journal "directory" below a regular file cannot be created.
    let journal = FileJournal::new(file.join("journal"));
    let err = journal.open_writer().unwrap_err();
    assert!(matches!(err, JournalError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("a-file"), "{err}");
    // Listing a journal that does not exist finds nothing, no error.
    let missing = FileJournal::new(dir.join("missing"));
    assert!(missing.list_dead().unwrap().segments.is_empty());
}
