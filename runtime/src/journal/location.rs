//! Where the journal lives: `HOOKFLOW_JOURNAL`, or a default directory.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

use super::error::JournalError;
use super::file::FileJournal;
use super::store::Journal;
use super::url::redact;

/// The environment variable that names the journal.
pub const ENV_VAR: &str = "HOOKFLOW_JOURNAL";

/// Where a journal lives.
///
/// Resolution, first match wins:
///
/// 1. `HOOKFLOW_JOURNAL`, when set and not empty: a `postgres://` (or
///    `postgresql://`) URL names a PostgreSQL journal, anything else a
///    directory for the embedded journal;
/// 2. `$XDG_STATE_HOME/hookflow/journal`, when `XDG_STATE_HOME` is an
///    absolute path;
/// 3. `$HOME/.local/state/hookflow/journal`, when `HOME` is set (the XDG
///    default for state that outlives a process but is not user data);
/// 4. `.hookflow/journal`, relative to the working directory.
///
/// ```
/// use hookflow::journal::Location;
/// use std::path::PathBuf;
///
/// let resolve = |journal: Option<&str>, xdg: Option<&str>, home: Option<&str>| {
///     Location::resolve(journal.map(AsRef::as_ref), xdg.map(AsRef::as_ref), home.map(AsRef::as_ref))
/// };
/// assert_eq!(
///     resolve(Some("/var/lib/etl/journal"), None, Some("/home/ada")),
///     Location::Dir(PathBuf::from("/var/lib/etl/journal"))
/// );
/// assert_eq!(
///     resolve(None, Some("/state"), Some("/home/ada")),
///     Location::Dir(PathBuf::from("/state/hookflow/journal"))
/// );
/// assert_eq!(
///     resolve(None, None, Some("/home/ada")),
///     Location::Dir(PathBuf::from("/home/ada/.local/state/hookflow/journal"))
/// );
/// assert_eq!(resolve(None, None, None), Location::Dir(PathBuf::from(".hookflow/journal")));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A directory for the embedded journal.
    Dir(PathBuf),
    /// A PostgreSQL connection URL (its `Debug` form hides the password).
    Postgres(String),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(dir) => f.debug_tuple("Dir").field(dir).finish(),
            Location::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
        }
    }
}

impl Location {
    /// The location this process's environment names.
    pub fn from_env() -> Location {
        Location::resolve(
            std::env::var_os(ENV_VAR).as_deref(),
            std::env::var_os("XDG_STATE_HOME").as_deref(),
            std::env::var_os("HOME").as_deref(),
        )
    }

    /// The location for these values of `HOOKFLOW_JOURNAL`,
    /// `XDG_STATE_HOME` and `HOME` (unset or empty: `None`).
    pub fn resolve(
        journal: Option<&OsStr>,
        xdg_state_home: Option<&OsStr>,
        home: Option<&OsStr>,
    ) -> Location {
        if let Some(value) = non_empty(journal) {
            if let Some(text) = value.to_str() {
                if text.starts_with("postgres://") || text.starts_with("postgresql://") {
                    return Location::Postgres(text.to_owned());
                }
            }
            return Location::Dir(PathBuf::from(value));
        }
        let journal_in = |base: PathBuf| Location::Dir(base.join("hookflow").join("journal"));
        if let Some(xdg) = non_empty(xdg_state_home).map(PathBuf::from) {
            if xdg.is_absolute() {
                return journal_in(xdg);
            }
        }
        if let Some(home) = non_empty(home) {
            return journal_in(PathBuf::from(home).join(".local").join("state"));
        }
        Location::Dir(PathBuf::from(".hookflow").join("journal"))
    }

    /// Opens the journal here.
    pub fn open(&self) -> Result<Box<dyn Journal>, JournalError> {
        match self {
            Location::Dir(dir) => Ok(Box::new(FileJournal::new(dir))),
            #[cfg(feature = "postgres")]
            Location::Postgres(url) => Ok(Box::new(super::postgres::PgJournal::new(url)?)),
            #[cfg(not(feature = "postgres"))]
            Location::Postgres(url) => Err(JournalError::Location {
                value: redact(url),
                reason: "this build has no PostgreSQL journal: enable the `postgres` feature of hookflow",
            }),
        }
    }
}

fn non_empty(v: Option<&OsStr>) -> Option<&OsStr> {
    v.filter(|v| !v.is_empty())
}

/// The journal that `HOOKFLOW_JOURNAL` (or the default) names.
pub fn open_default() -> Result<Box<dyn Journal>, JournalError> {
    Location::from_env().open()
}
