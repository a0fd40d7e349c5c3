//! The journal of durable pipelines (feature `journal`): what a run
//! records as it goes, the stores that keep it, and what a recovery must do
//! with the records a dead process left.
//!
//! # Records
//!
//! A durable run writes [`Record`]s in the order things happen, and every
//! record that a recovery needs is stored *before* the thing it guards:
//!
//! | record | written | guards |
//! |---|---|---|
//! | [`RunStarted`] | when the run starts | the run is known at all |
//! | [`StepStarted`] | before each attempt's body | an attempt that never ended ends `Crashed` (aborted) |
//! | [`StepEnded`] | the attempt's outcome, before its hooks | the recorded outcome is kept, not replaced |
//! | [`HookStarted`] | before each hook call | a call that never returned is redelivered once |
//! | [`HookEnded`] | when the call returns | a returned call is never made again |
//! | [`StepClosed`] | the attempt's hooks are done | nothing of the attempt is looked at again |
//! | [`RunEnded`] | the run's terminal state, before the pipeline's hooks | as `StepEnded` |
//! | [`RunClosed`] | the pipeline's hooks are done | the run may be compacted away |
//!
//! Records that guard the same next action go in one
//! [`append`](JournalWriter::append) (one `write`): an outcome with the
//! first hook's intent, a hook's outcome with the next one's intent. Every
//! hook call has a [`DeliveryKey`] (run id / step call / attempt / event /
//! hook) that is stable across a redelivery, so receivers can drop
//! duplicates.
//!
//! # Stores and ownership
//!
//! The [`Journal`] trait is the seam: a writer per process, the dead
//! segments, an exclusive [`Claim`] per dead segment, compaction.
//! [`FileJournal`] is the embedded store: a directory with one record file
//! per process, exclusively locked (`File::try_lock`) by its writer for the
//! writer's whole life. The kernel drops that lock when the process dies,
//! SIGKILL and the OOM killer included, so a lock that can be taken proves
//! the owner dead; no heartbeat, timestamp or PID is consulted. A recoverer
//! claims a dead file by taking the same lock and appends its own records
//! (its deliveries, the terminal states it gives) to the same file: a
//! recoverer that dies in turn leaves a file that the next one continues,
//! and a second recoverer, in this process or another, cannot claim the
//! file while the first holds it, and afterwards finds its runs closed. A
//! store shared by many machines fits the same trait: `PgJournal`
//! (feature `postgres`) keeps one segment per process in PostgreSQL, owned
//! through a lease whose epoch fences a former owner's appends.
//!
//! # What recovery must do
//!
//! [`plan()`] turns a claimed segment's records into plain data: per
//! unclosed run, the step calls that never reached their terminal state
//! (they end `Crashed`, aborted), the recorded outcomes whose hooks had not
//! all run, the hook calls in flight (to redeliver once) or done (never
//! again), the failed steps so far, and whether the run's own terminal
//! state was recorded.
//!
//! # Damage
//!
//! Each file starts with a header (`hookflow-journal`, format version)
//! and frames every record with its length and a CRC-32. A partial last
//! record (a write cut short) is ignored; a damaged record in the middle
//! ends that file's readable records with a [`JournalError::Corrupt`]
//! warning (a recoverer keeps the damaged bytes aside in
//! `<segment>.hfj.damaged-<offset>`); a file that is not a journal, or was
//! written by a newer version, is skipped with an error value in
//! [`Listing::skipped`]. None of these panics, and none stops the healthy
//! files next to it from being listed and recovered.
//!
//! # Compaction
//!
//! A writer cuts its file back to the header whenever its last open run
//! closes and the file is larger than [`FileJournal::compact_at`] (1 MiB by
//! default), and removes it when dropped with no open run. A recoverer
//! removes a file once every run in it is closed, and [`Journal::compact`]
//! removes the dead files whose runs are all closed. The journal holds the
//! unfinished runs and little else.
//!
//! # Where
//!
//! `HOOKFLOW_JOURNAL` names the directory, or a PostgreSQL database by a
//! `postgres://` URL (feature `postgres`; a build without it says so in
//! its error); without it the journal lives in
//! `$XDG_STATE_HOME/hookflow/journal`, else
//! `$HOME/.local/state/hookflow/journal`, else `.hookflow/journal`: see
//! [`Location`]. The directory is created readable by its owner only
//! (`0700`, files `0600`): records hold error messages and hook outcomes.
//!
//! # Why a record file and not SQLite
//!
//! Measured side by side (`cargo bench --features journal --bench
//! journal`): the records of one step with one hook (attempt started,
//! outcome, hook intent, hook outcome), each stored so that it survives a
//! SIGKILL the moment its write returns, on a 2-core machine shared with
//! other work (load average 5 to 7; three runs gave 7.9 to 12.7 µs for the
//! grouped record file, the table is the middle one):
//!
//! | what | per step |
//! |---|---|
//! | a `#[step]` call alone (no journal), for scale | 0.24 µs |
//! | one 100-byte `write` to a file (the floor of one append) | 1.39 µs |
//! | one record appended to the record file | 1.68 µs |
//! | record file, 3 writes (records grouped as above) | 8.56 µs |
//! | record file, 4 writes (one per record) | 12.2 µs |
//! | SQLite (bundled, WAL, `synchronous=NORMAL`), 3 commits | 283 µs |
//! | SQLite, 4 commits | 395 µs |
//! | record file, 3 writes, `fdatasync` each ([`Durability::PowerLoss`]) | 11.4 ms |
//!
//! A record file costs one `write` system call per group and nothing else;
//! a SQLite commit costs its page and WAL bookkeeping plus the flushes of
//! its checkpoints, 30 times more here. The file format by hand is small
//! (the framing and its reader are one short module, the records are
//! `serde` types encoded with `postcard`, checksums from `crc32fast`),
//! while SQLite would bring a C library into the build for a log that is
//! only ever appended and read whole. The record file is the embedded
//! store; [`Record::to_bytes`] gives the same payload to any other store.

mod codec;
mod error;
mod file;
mod location;
mod plan;
#[cfg(feature = "postgres")]
mod postgres;
mod record;
mod store;
mod url;

pub use codec::FORMAT_VERSION;
pub use error::JournalError;
pub use file::FileJournal;
pub use location::{open_default, Location, ENV_VAR};
pub use plan::{plan, Deliveries, DeliveryState, RunPlan, StepPlan};
#[cfg(feature = "postgres")]
pub use postgres::{PgJournal, SCHEMA_VERSION};
pub use record::{
    DeliveryKey, ErrorInfo, FailedStepInfo, HookEnded, HookResult, HookStarted, Record, RunClosed,
    RunEnded, RunStarted, StepCall, StepClosed, StepEnded, StepStarted,
};
pub use store::{
    Claim, Compaction, DeadSegment, Durability, Journal, JournalWriter, Listing, RunSummary,
    SegmentId,
};
