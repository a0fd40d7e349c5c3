//! The storage seam: a [`Journal`] hands out one [`JournalWriter`] per
//! process, lists the segments whose owner is dead, and lets exactly one
//! recoverer [`Claim`] each of them.
//!
//! A *segment* is the unit of ownership: everything one owner wrote. In the
//! embedded store it is one process's file, owned through an exclusive lock
//! that the kernel releases when the process dies. A store shared by many
//! machines (PostgreSQL) keeps it one process's too, owned through a lease
//! whose epoch fences the appends of an owner that lost it.

use std::fmt;
use std::time::SystemTime;

use uuid::Uuid;

use super::error::JournalError;
use super::record::{Record, RunClosed};

/// How hard an append works to keep a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Durability {
    /// A record is in the kernel's hands when the append returns: it
    /// survives the process being killed (SIGKILL, the OOM killer), not a
    /// power cut. One `write` per append, no flush.
    #[default]
    Process,
    /// Also `fdatasync` after every append: survives a power cut, at the
    /// cost of a disk flush per append.
    PowerLoss,
}

/// The name of a segment, stable for its life.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentId(pub(crate) String);

impl SegmentId {
    /// The name as text (the file name, in the embedded store).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A run that a dead owner left unfinished (no [`RunClosed`] record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: Uuid,
    /// The pipeline's display name, when its start was recorded.
    pub pipeline: Option<String>,
    /// When the run started, when recorded.
    pub started_at: Option<SystemTime>,
    /// The run's terminal state was recorded (only its hooks are left).
    pub ended: bool,
}

/// A segment whose owner is dead and that no recoverer holds.
#[derive(Debug)]
pub struct DeadSegment {
    /// Its name, for [`Journal::claim`].
    pub id: SegmentId,
    /// Its unfinished runs, in the order they started.
    pub runs: Vec<RunSummary>,
    /// Damage found in it: the records before the damage are used.
    pub damage: Option<JournalError>,
}

/// What [`Journal::list_dead`] found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Segments of dead owners that have unfinished runs.
    pub segments: Vec<DeadSegment>,
    /// Files that were skipped (not a journal, a newer format, unreadable),
    /// each with the reason; the healthy segments are listed all the same.
    pub skipped: Vec<JournalError>,
}

/// What [`Journal::compact`] did.
#[derive(Debug, Default)]
pub struct Compaction {
    /// Segments removed: their owner is dead and every run in them is
    /// finished.
    pub removed: usize,
    /// Dead segments kept because they hold unfinished runs.
    pub kept: usize,
    /// Files that were skipped, with the reason.
    pub skipped: Vec<JournalError>,
}

/// A journal store.
///
/// Every implementation keeps these promises:
/// - a record is stored when [`JournalWriter::append`] returns (per the
///   [`Durability`] chosen);
/// - a segment whose owner is alive is never listed, claimed or compacted,
///   and the proof of death comes from the store (a lock released by the
///   kernel, an expired lease), never from a timestamp or a PID;
/// - at most one [`Claim`] on a segment exists at a time, across processes,
///   and what the claimer appends is seen by the next claimer.
pub trait Journal: Send + Sync + fmt::Debug {
    /// Opens this process's writer: a new segment, owned until the writer
    /// is dropped or the process dies.
    fn open_writer(&self) -> Result<Box<dyn JournalWriter>, JournalError>;

    /// The segments of dead owners that hold unfinished runs. Damaged
    /// files are listed in [`Listing::skipped`], never an error of the
    /// whole listing.
    fn list_dead(&self) -> Result<Listing, JournalError>;

    /// Takes a dead segment for recovery. `Ok(None)` when it has no
    /// unfinished run any more, is gone, or is held (by its live owner, by
    /// another recoverer, or for an instant by another process listing it:
    /// a later claim then succeeds). At most one claim on a segment exists
    /// at a time.
    fn claim(&self, segment: &SegmentId) -> Result<Option<Box<dyn Claim>>, JournalError>;

    /// Removes the segments of dead owners whose runs are all finished.
    fn compact(&self) -> Result<Compaction, JournalError>;
}

/// The writer of one live owner.
pub trait JournalWriter: Send + Sync + fmt::Debug {
    /// The segment it writes.
    fn segment(&self) -> &SegmentId;

    /// Stores `records`, in order, as one write. Write a record that guards
    /// something (a step's start, a hook's intent) before doing that thing.
    fn append(&self, records: &[Record<'_>]) -> Result<(), JournalError>;

    /// Marks a run finished (a [`RunClosed`] record): nothing in it is left
    /// to recover, and the store may compact it away.
    fn finish_run(&self, run_id: Uuid) -> Result<(), JournalError> {
        self.append(&[Record::RunClosed(RunClosed { run_id })])
    }
}

/// A dead segment held by one recoverer. Dropping it releases the segment
/// (a later recoverer sees what this one appended).
pub trait Claim: Send + fmt::Debug {
    /// The segment.
    fn segment(&self) -> &SegmentId;

    /// Every record of the segment, read after the claim was taken.
    fn records(&self) -> &[Record<'static>];

    /// Damage found when reading: [`records`](Self::records) ends before it.
    fn damage(&self) -> Option<&JournalError>;

    /// Stores the recoverer's own records (hook intents and outcomes,
    /// terminal states, closed runs) into the segment, as one write.
    fn append(&mut self, records: &[Record<'_>]) -> Result<(), JournalError>;

    /// Releases the segment, removing it when every run in it is closed.
    fn finish(self: Box<Self>) -> Result<(), JournalError>;
}
