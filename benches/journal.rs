//! What journaling one step costs (spec §6: at most 10 µs more than a plain
//! step on the embedded journal), and the embedded store against SQLite.
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --features journal --bench journal
//! ```
//!
//! One step on the success path with one hook writes four records: the
//! attempt's start (before the body), its outcome (before the hooks), the
//! hook's intent and its outcome. Every variant stores those four records,
//! freshly built (names borrowed, `SystemTime::now()` per record), so that
//! each survives a SIGKILL of the process the moment its write returns:
//!
//! - `file_4_writes`: the embedded journal, one `write` per record;
//! - `file_3_writes`: the same records as the runtime groups them (outcome
//!   and first intent together, last outcome and the attempt's close
//!   together: each group guards the same next action);
//! - `sqlite_4_commits` / `sqlite_3_commits`: `rusqlite` (bundled SQLite),
//!   WAL, `synchronous=NORMAL`, one committed transaction per group, the
//!   same postcard payloads in a `BLOB` column;
//! - `file_3_writes_fdatasync`: the embedded journal with
//!   `Durability::PowerLoss` (a flush per write), for scale.
//!
//! `raw_write_100_bytes` (one `write` of 100 bytes to a file) and
//! `file_1_record` (one journal append) show the floor a record stands on;
//! `build_records_only` is the cost of building the four records, without
//! storing them.
//!
//! `plain_step` is a `#[step]` with a no-op `on_success` hook, called alone:
//! the cost a durable step adds to.
//!
//! Files are written under the bench's target temporary directory (a real
//! disk, not a tmpfs).
//!
//! With the `postgres` feature, `postgres_3_appends` stores the same three
//! groups through `PgJournal` (one round trip and one transaction per
//! group) into a PostgreSQL server the bench starts on 127.0.0.1 with
//! `pgtemp` (which turns `fsync` and `synchronous_commit` off: the row
//! measures the round trips and the server's work, not a disk flush).
//! Without PostgreSQL's binaries the row is skipped with a notice:
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo bench --features postgres --bench journal
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, Criterion};
use hookflow::journal::{
    DeliveryKey, Durability, FileJournal, HookEnded, HookResult, HookStarted, Journal,
    JournalWriter, Record, RunStarted, StepCall, StepClosed, StepEnded, StepStarted,
};
use hookflow::{Event, Status};
use uuid::Uuid;

fn noop() {}

#[hookflow::step(on_success = noop)]
fn add(x: u64) -> u64 {
    x.wrapping_add(1)
}

/// The records of one step call with one hook, grouped as the runtime
/// writes them.
fn step_records(run_id: Uuid, seq: u32) -> [Vec<Record<'static>>; 3] {
    let step = StepCall {
        seq,
        name: "load".into(),
    };
    let key = DeliveryKey {
        run_id,
        step: Some(step.clone()),
        attempt: 1,
        event: Event::Success,
        hook: "record_metrics".into(),
    };
    [
        vec![Record::StepStarted(StepStarted {
            run_id,
            step: step.clone(),
            step_path: "etl::load".into(),
            attempt: 1,
            max_attempts: 1,
            at: SystemTime::now(),
        })],
        vec![
            Record::StepEnded(StepEnded {
                run_id,
                step: step.clone(),
                attempt: 1,
                status: Status::Completed,
                error: None,
                retrying: false,
                at: SystemTime::now(),
            }),
            Record::HookStarted(HookStarted {
                key: key.clone(),
                redelivered: false,
                at: SystemTime::now(),
            }),
        ],
        vec![
            Record::HookEnded(HookEnded {
                key,
                result: HookResult::Ok,
                at: SystemTime::now(),
            }),
            Record::StepClosed(StepClosed {
                run_id,
                step,
                attempt: 1,
            }),
        ],
    ]
}

fn run_started(run_id: Uuid) -> Record<'static> {
    Record::RunStarted(RunStarted {
        run_id,
        pipeline: "nightly".into(),
        pipeline_path: "etl::nightly".into(),
        at: SystemTime::now(),
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("journal-bench")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_writer(name: &str, durability: Durability) -> Box<dyn JournalWriter> {
    let journal = FileJournal::new(scratch(name)).durability(durability);
    journal.open_writer().unwrap()
}

fn sqlite(name: &str) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(scratch(name).join("journal.db")).unwrap();
    db.pragma_update(None, "journal_mode", "WAL").unwrap();
    db.pragma_update(None, "synchronous", "NORMAL").unwrap();
    db.execute_batch(
        "CREATE TABLE records (id INTEGER PRIMARY KEY, run BLOB NOT NULL, body BLOB NOT NULL)",
    )
    .unwrap();
    db
}

fn sqlite_append(db: &mut rusqlite::Connection, records: &[Record<'_>]) {
    let tx = db.transaction().unwrap();
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO records (run, body) VALUES (?1, ?2)")
            .unwrap();
        for r in records {
            insert
                .execute((r.run_id().as_bytes(), r.to_bytes().unwrap()))
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn per_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("journal_per_step");
    let run_id = Uuid::now_v7();

    g.bench_function("plain_step", |b| b.iter(|| add(black_box(1)).unwrap()));

    // The floor: one 100-byte `write` to a file, and one journal record.
    let mut raw = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(scratch("raw").join("raw.bin"))
        .unwrap();
    let bytes = [7u8; 100];
    g.bench_function("raw_write_100_bytes", |b| {
        b.iter(|| std::io::Write::write_all(&mut raw, black_box(&bytes)).unwrap())
    });
    let writer = file_writer("file1", Durability::Process);
    writer.append(&[run_started(run_id)]).unwrap();
    let one = step_records(run_id, 0)[0].clone();
    g.bench_function("file_1_record", |b| b.iter(|| writer.append(&one).unwrap()));

    let mut seq = 0;
    g.bench_function("build_records_only", |b| {
        b.iter(|| {
            seq += 1;
            black_box(step_records(run_id, seq))
        })
    });

    let writer = file_writer("file4", Durability::Process);
    writer.append(&[run_started(run_id)]).unwrap();
    g.bench_function("file_4_writes", |b| {
        b.iter(|| {
            seq += 1;
            for group in step_records(run_id, seq) {
                for record in &group {
                    writer.append(std::slice::from_ref(record)).unwrap();
                }
            }
        })
    });

    let writer = file_writer("file3", Durability::Process);
    writer.append(&[run_started(run_id)]).unwrap();
    g.bench_function("file_3_writes", |b| {
        b.iter(|| {
            seq += 1;
            for group in step_records(run_id, seq) {
                writer.append(&group).unwrap();
            }
        })
    });

    let mut db = sqlite("sqlite4");
    sqlite_append(&mut db, &[run_started(run_id)]);
    g.bench_function("sqlite_4_commits", |b| {
        b.iter(|| {
            seq += 1;
            for group in step_records(run_id, seq) {
                for record in &group {
                    sqlite_append(&mut db, std::slice::from_ref(record));
                }
            }
        })
    });

    let mut db = sqlite("sqlite3");
    sqlite_append(&mut db, &[run_started(run_id)]);
    g.bench_function("sqlite_3_commits", |b| {
        b.iter(|| {
            seq += 1;
            for group in step_records(run_id, seq) {
                sqlite_append(&mut db, &group);
            }
        })
    });
    g.finish();

    #[cfg(feature = "postgres")]
    postgres_rows(c, run_id);

    let mut g = c.benchmark_group("journal_per_step_power_loss");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let writer = file_writer("file3sync", Durability::PowerLoss);
    writer.append(&[run_started(run_id)]).unwrap();
    g.bench_function("file_3_writes_fdatasync", |b| {
        b.iter(|| {
            seq += 1;
            for group in step_records(run_id, seq) {
                writer.append(&group).unwrap();
            }
        })
    });
    g.finish();
}

#[cfg(feature = "postgres")]
#[path = "../tests/pg_support/mod.rs"]
mod pg_support;

/// The PostgreSQL journal: the step's records in three appends.
#[cfg(feature = "postgres")]
fn postgres_rows(c: &mut Criterion, run_id: Uuid) {
    let Some(server) = pg_support::start() else {
        return;
    };
    let journal = hookflow::journal::PgJournal::new(&server.url()).unwrap();
    let writer = journal.open_writer().unwrap();
    writer.append(&[run_started(run_id)]).unwrap();
    let mut g = c.benchmark_group("journal_per_step_postgres");
    let mut seq = 0;
    g.bench_function("postgres_3_appends", |b| {
        b.iter(|| {
            seq += 1;
            for group in step_records(run_id, seq) {
                writer.append(&group).unwrap();
            }
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = per_step
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
