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

impl JournalError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        JournalError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
