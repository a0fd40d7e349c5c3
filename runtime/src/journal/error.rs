//! What can go wrong with a journal.

use std::io;
use std::path::PathBuf;

/// An error of the journal: a file that could not be read or written, a
/// file that is not a journal or comes from a newer version, a damaged
/// record, or a journal location that cannot be used.
///
/// Damage is reported per file: a damaged file never stops the healthy
/// files next to it from being listed and recovered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A file system operation failed.
    #[error("journal: cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`open`, `append to`, `lock`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file does not start with a journal header.
    #[error("journal: {} is not a hookflow journal file (bad header); skipped", path.display())]
    NotAJournal {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer version of hookflow.
    #[error(
        "journal: {} has format version {found}, newer than the supported version {supported}; \
         skipped (recover it with a newer hookflow)",
        path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in its header.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A record in the middle of the file is damaged: the records before it
    /// are used, the rest of the file is skipped.
    #[error(
        "journal: {} is damaged at byte {offset} ({reason}); the records after it are skipped",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A record could not be encoded.
    #[error("journal: cannot encode a record: {0}")]
    Encode(String),
    /// A PostgreSQL journal's database could not be reached, or failed an
    /// operation (after the retries of a lost connection). The message
    /// never holds the connection URL's password.
    #[error("journal: cannot {action} the PostgreSQL journal at {database}: {message}")]
    Database {
        /// What was being done (`connect to`, `append to`, …).
        action: &'static str,
        /// The connection URL, its password replaced by `***`.
        database: String,
        /// The database's or the connection's error.
        message: String,
    },
    /// This owner lost its segment: its lease expired and another process
    /// claimed the segment (or compacted it away), so the owner's epoch is
    /// stale. Nothing of the refused append was stored; the owner must stop
    /// writing to the segment, whose runs the new owner recovers.
    #[error(
        "journal: segment {segment} was taken over by another owner ({}); \
         this owner's lease had expired, nothing of this append was stored",
        fenced_detail(*epoch, *current)
    )]
    Fenced {
        /// The segment.
        segment: String,
        /// The epoch this owner held.
        epoch: i64,
        /// The segment's epoch now; `None` when the segment is gone.
        current: Option<i64>,
    },
    /// A hook delivery is already recorded (a `HookStarted` for a delivery
    /// key that has one, a redelivery this owner already made, an outcome
    /// recorded twice): the hook must not be called for it again. Nothing
    /// of the refused append was stored.
    #[error(
        "journal: the hook delivery {key} is already recorded; do not call the hook again \
         (nothing of this append was stored)"
    )]
    DuplicateDelivery {
        /// The delivery key, in its `Display` form.
        key: String,
    },
    /// The PostgreSQL journal's schema was created or migrated by a newer
    /// version of hookflow: this build neither reads nor changes it.
    #[error(
        "journal: the PostgreSQL journal schema has version {found}, newer than the version \
         {supported} this build supports; use a newer hookflow"
    )]
    NewerSchema {
        /// The version recorded in the database.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// A stored record of a PostgreSQL segment cannot be read: the records
    /// before it are used, the rest of the segment is skipped.
    #[error(
        "journal: record {record} of segment {segment} is not a readable record; \
         the records after it are skipped"
    )]
    UnreadableRecord {
        /// The segment.
        segment: String,
        /// The record's row id.
        record: i64,
    },
    /// `HOOKFLOW_JOURNAL` names a store this build cannot open.
    #[error("journal: HOOKFLOW_JOURNAL={value:?}: {reason}")]
    Location {
        /// The variable's value.
        value: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// A recovery could not run (no runtime for its hooks, a fault of its
    /// own); the journal is left as it was.
    #[error("journal: recovery failed: {0}")]
    Recovery(String),
}

fn fenced_detail(epoch: i64, current: Option<i64>) -> String {
    match current {
        Some(now) => format!("epoch {epoch} held, now {now}"),
        None => format!("epoch {epoch} held, the segment is gone"),
    }
}

impl JournalError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        JournalError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
