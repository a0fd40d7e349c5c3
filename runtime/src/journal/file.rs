//! The embedded store: one append-only record file per process in a
//! directory, owned through an exclusive lock held for the writer's whole
//! life.
//!
//! - `<uuid-v7>.hfj`: a segment. Its writer created it as
//!   `.<uuid-v7>.hfj.tmp`, locked it, wrote the header and renamed it, so a
//!   visible segment is always locked by its writer until that writer's
//!   process ends (or the writer is dropped). The kernel releases the lock
//!   when the process dies, however it dies: a lock that can be taken is
//!   the proof that the owner is dead.
//! - A recoverer claims a dead segment by taking the same lock, and appends
//!   its own records to the same file; when every run in it is closed it
//!   removes the file. A second recoverer cannot take the lock meanwhile,
//!   and afterwards finds the runs closed (or the file gone).
//! - `<segment>.damaged-<offset>`: the unreadable tail of a damaged segment,
//!   kept aside when a recoverer claims it (the file itself is cut back to
//!   its valid records so that the recoverer's records stay readable).
//!
//! Locks are `flock`-style locks on local file systems; a network file
//! system that does not carry them needs the PostgreSQL journal.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use uuid::Uuid;

use super::codec::{self, Decoded, HEADER_LEN};
use super::error::JournalError;
use super::record::Record;
use super::store::{
    Claim, Compaction, DeadSegment, Durability, Journal, JournalWriter, Listing, RunSummary,
    SegmentId,
};

/// The extension of a segment file.
const EXT: &str = ".hfj";
/// A writer truncates its file once no run is open and it is larger than
/// this.
const DEFAULT_COMPACT_AT: u64 = 1 << 20;

/// The embedded journal: a directory of per-process record files.
///
/// A writer dropped while a run it started is open leaves its file for
/// recovery, as a dead process does; dropped with every run closed, it
/// removes its file.
///
/// ```
/// use hookflow::journal::{FileJournal, Journal, Record, RunStarted};
///
/// let dir = std::env::temp_dir().join(format!("hookflow-doc-{}", uuid::Uuid::now_v7()));
/// let journal = FileJournal::new(&dir);
/// let run_id = uuid::Uuid::now_v7();
/// {
///     let writer = journal.open_writer()?;
///     writer.append(&[Record::RunStarted(RunStarted {
///         run_id,
///         pipeline: "nightly".into(),
///         pipeline_path: "etl::nightly".into(),
///         at: std::time::SystemTime::now(),
///     })])?;
///     // While the writer lives, its segment is never listed as dead.
///     assert!(journal.list_dead()?.segments.is_empty());
/// } // dropped with a run open: as if the process had died
/// let listing = journal.list_dead()?;
/// assert_eq!(listing.segments[0].runs[0].run_id, run_id);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), hookflow::journal::JournalError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileJournal {
    dir: PathBuf,
    durability: Durability,
    compact_at: u64,
}

impl FileJournal {
    /// The journal in `dir` (created when the first writer opens).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileJournal {
            dir: dir.into(),
            durability: Durability::default(),
            compact_at: DEFAULT_COMPACT_AT,
        }
    }

    /// How hard appends work to keep records; the default survives a
    /// killed process, not a power cut.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// A writer cuts its file back to the header when its last open run
    /// closes and the file is larger than `bytes` (default 1 MiB); `0`
    /// compacts at every idle moment.
    pub fn compact_at(mut self, bytes: u64) -> Self {
        self.compact_at = bytes;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment files (`*.hfj`), in name order, which is creation order.
    fn segments(&self) -> Result<Vec<(SegmentId, PathBuf)>, JournalError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(JournalError::io("read", &self.dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| JournalError::io("read", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(stem) = name.strip_suffix(EXT) {
                if !stem.is_empty() && !stem.starts_with('.') {
                    out.push((SegmentId(stem.to_owned()), entry.path()));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Leftovers of writers that died between creating and publishing their
    /// file (they hold no record).
    fn stale_temporaries(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.') && n.ends_with(".hfj.tmp"))
            })
            .collect()
    }

    /// Creates, locks and publishes a new segment file.
    fn create_segment(&self) -> Result<(String, PathBuf, File), JournalError> {
        let id = Uuid::now_v7().simple().to_string();
        let tmp = self.dir.join(format!(".{id}{EXT}.tmp"));
        let path = self.dir.join(format!("{id}{EXT}"));
        let mut options = OpenOptions::new();
        options.read(true).append(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .map_err(|e| JournalError::io("create", &tmp, e))?;
        let published = (|| {
            file.try_lock().map_err(|e| match e {
                TryLockError::WouldBlock => JournalError::io(
                    "lock",
                    &tmp,
                    io::Error::new(io::ErrorKind::WouldBlock, "locked by another process"),
                ),
                TryLockError::Error(e) => JournalError::io("lock", &tmp, e),
            })?;
            file.write_all(&codec::header())
                .map_err(|e| JournalError::io("write", &tmp, e))?;
            if self.durability == Durability::PowerLoss {
                file.sync_all()
                    .map_err(|e| JournalError::io("sync", &tmp, e))?;
            }
            fs::rename(&tmp, &path).map_err(|e| JournalError::io("rename", &tmp, e))?;
            if self.durability == Durability::PowerLoss {
                File::open(&self.dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| JournalError::io("sync", &self.dir, e))?;
            }
            Ok(())
        })();
        match published {
            Ok(()) => Ok((id, path, file)),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn path_of(&self, segment: &SegmentId) -> PathBuf {
        self.dir.join(format!("{}{EXT}", segment.0))
    }
}

/// A segment file opened and locked: its owner is dead.
struct DeadFile {
    file: File,
    decoded: Decoded,
    bytes: Vec<u8>,
}

enum Opened {
    /// Someone holds the lock: the owner (alive) or another recoverer.
    Owned,
    /// Removed meanwhile.
    Gone,
    /// Locked by us.
    Dead(DeadFile),
}

fn open_dead(path: &Path) -> Result<Opened, JournalError> {
    let file = match OpenOptions::new().read(true).append(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Opened::Gone),
        Err(e) => return Err(JournalError::io("open", path, e)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Opened::Owned),
        Err(TryLockError::Error(e)) => return Err(JournalError::io("lock", path, e)),
    }
    let mut bytes = Vec::new();
    (&file)
        .read_to_end(&mut bytes)
        .map_err(|e| JournalError::io("read", path, e))?;
    let decoded = codec::decode(&bytes, path)?;
    Ok(Opened::Dead(DeadFile {
        file,
        decoded,
        bytes,
    }))
}

/// The runs of `records` without a `RunClosed`, in order of first record.
pub(super) fn unfinished(records: &[Record<'_>]) -> Vec<RunSummary> {
    let mut runs: Vec<(RunSummary, bool)> = Vec::new();
    for record in records {
        let id = record.run_id();
        let i = match runs.iter().position(|(r, _)| r.run_id == id) {
            Some(i) => i,
            None => {
                runs.push((
                    RunSummary {
                        run_id: id,
                        pipeline: None,
                        started_at: None,
                        ended: false,
                    },
                    false,
                ));
                runs.len() - 1
            }
        };
        let (run, closed) = &mut runs[i];
        match record {
            Record::RunStarted(s) => {
                run.pipeline = Some(s.pipeline.to_string());
                run.started_at = Some(s.at);
            }
            Record::RunEnded(_) => run.ended = true,
            Record::RunClosed(_) => *closed = true,
            _ => {}
        }
    }
    runs.into_iter()
        .filter(|(_, closed)| !closed)
        .map(|(r, _)| r)
        .collect()
}

/// Creates the journal directory, readable by its owner only: records
/// hold error messages and hook outcomes.
fn create_private_dir(dir: &Path) -> Result<(), JournalError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| JournalError::io("create", dir, e))
}

fn warn(e: &JournalError) {
    tracing::warn!(error = %e, "hookflow journal");
}

fn remove(path: &Path) -> Result<(), JournalError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JournalError::io("remove", path, e)),
    }
}

impl Journal for FileJournal {
    fn open_writer(&self) -> Result<Box<dyn JournalWriter>, JournalError> {
        create_private_dir(&self.dir)?;
        // A compaction may remove a temporary between its creation and its
        // lock (it cannot tell it from a dead writer's): then start again.
        let mut tries = 0;
        let (id, path, file) = loop {
            tries += 1;
            match self.create_segment() {
                Err(JournalError::Io { action, source, .. })
                    if action == "rename"
                        && source.kind() == io::ErrorKind::NotFound
                        && tries < 3 => {}
                other => break other?,
            }
        };
        Ok(Box::new(FileWriter {
            id: SegmentId(id),
            path,
            durability: self.durability,
            compact_at: self.compact_at.max(HEADER_LEN as u64),
            state: Mutex::new(WriterState {
                file,
                buf: Vec::with_capacity(256),
                len: HEADER_LEN as u64,
                open: Vec::new(),
            }),
        }))
    }

    fn list_dead(&self) -> Result<Listing, JournalError> {
        let mut listing = Listing::default();
        for (id, path) in self.segments()? {
            match open_dead(&path) {
                Ok(Opened::Dead(dead)) => {
                    if let Some(e) = &dead.decoded.damage {
                        warn(e);
                    }
                    let runs = unfinished(&dead.decoded.records);
                    if !runs.is_empty() {
                        listing.segments.push(DeadSegment {
                            id,
                            runs,
                            damage: dead.decoded.damage,
                        });
                    }
                }
                Ok(Opened::Owned | Opened::Gone) => {}
                Err(e) => {
                    warn(&e);
                    listing.skipped.push(e);
                }
            }
        }
        Ok(listing)
    }

    fn claim(&self, segment: &SegmentId) -> Result<Option<Box<dyn Claim>>, JournalError> {
        let path = self.path_of(segment);
        let dead = match open_dead(&path)? {
            Opened::Dead(dead) => dead,
            Opened::Owned | Opened::Gone => return Ok(None),
        };
        let open = unfinished(&dead.decoded.records);
        if open.is_empty() {
            remove(&path)?;
            return Ok(None);
        }
        let valid = dead.decoded.valid_len;
        if valid < dead.bytes.len() as u64 {
            // Cut a torn or damaged tail so that what we append stays
            // readable; keep damaged bytes aside.
            if let Some(JournalError::Corrupt { offset, .. }) = &dead.decoded.damage {
                let aside = self
                    .dir
                    .join(format!("{}{EXT}.damaged-{offset}", segment.0));
                fs::write(&aside, &dead.bytes[valid as usize..])
                    .map_err(|e| JournalError::io("write", &aside, e))?;
            }
            dead.file
                .set_len(valid)
                .map_err(|e| JournalError::io("truncate", &path, e))?;
        }
        Ok(Some(Box::new(FileClaim {
            id: segment.clone(),
            path,
            durability: self.durability,
            len: valid,
            file: dead.file,
            records: dead.decoded.records,
            damage: dead.decoded.damage,
            buf: Vec::new(),
        })))
    }

    fn compact(&self) -> Result<Compaction, JournalError> {
        let mut report = Compaction::default();
        for (_, path) in self.segments()? {
            match open_dead(&path) {
                Ok(Opened::Dead(dead)) => {
                    if unfinished(&dead.decoded.records).is_empty() {
                        remove(&path)?;
                        report.removed += 1;
                    } else {
                        report.kept += 1;
                    }
                }
                Ok(Opened::Owned | Opened::Gone) => {}
                Err(e) => {
                    warn(&e);
                    report.skipped.push(e);
                }
            }
        }
        for tmp in self.stale_temporaries() {
            if let Ok(f) = OpenOptions::new().read(true).append(true).open(&tmp) {
                if f.try_lock().is_ok() {
                    remove(&tmp)?;
                }
            }
        }
        Ok(report)
    }
}

/// Appends framed records with one `write` and rolls a failed write back,
/// so that a short write never leaves a torn record in front of later ones.
fn write_records(
    file: &mut File,
    path: &Path,
    len: &mut u64,
    buf: &mut Vec<u8>,
    records: &[Record<'_>],
    durability: Durability,
) -> Result<(), JournalError> {
    buf.clear();
    for record in records {
        codec::encode(record, buf)?;
    }
    if let Err(e) = file.write_all(buf) {
        let _ = file.set_len(*len);
        return Err(JournalError::io("append to", path, e));
    }
    *len += buf.len() as u64;
    if durability == Durability::PowerLoss {
        file.sync_data()
            .map_err(|e| JournalError::io("sync", path, e))?;
    }
    Ok(())
}

#[derive(Debug)]
struct WriterState {
    file: File,
    buf: Vec<u8>,
    len: u64,
    /// Runs started in this segment and not closed.
    open: Vec<Uuid>,
}

/// The writer of one process: its segment stays locked while it lives.
#[derive(Debug)]
struct FileWriter {
    id: SegmentId,
    path: PathBuf,
    durability: Durability,
    compact_at: u64,
    state: Mutex<WriterState>,
}

impl JournalWriter for FileWriter {
    fn segment(&self) -> &SegmentId {
        &self.id
    }

    fn append(&self, records: &[Record<'_>]) -> Result<(), JournalError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let WriterState {
            file,
            buf,
            len,
            open,
        } = &mut *state;
        write_records(file, &self.path, len, buf, records, self.durability)?;
        let mut closed = false;
        for record in records {
            match record {
                Record::RunStarted(r) => open.push(r.run_id),
                Record::RunClosed(r) => {
                    open.retain(|id| *id != r.run_id);
                    closed = true;
                }
                _ => {}
            }
        }
        if closed && open.is_empty() && *len > self.compact_at {
            // Nothing in the file is needed any more: cut it back to the
            // header (appends go to the new end: the file is in append mode).
            file.set_len(HEADER_LEN as u64)
                .map_err(|e| JournalError::io("truncate", &self.path, e))?;
            *len = HEADER_LEN as u64;
        }
        Ok(())
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if state.open.is_empty() {
            // A clean end: nothing to recover. Removed while still locked.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A dead segment held by this recoverer through the segment's lock.
#[derive(Debug)]
struct FileClaim {
    id: SegmentId,
    path: PathBuf,
    durability: Durability,
    len: u64,
    file: File,
    records: Vec<Record<'static>>,
    damage: Option<JournalError>,
    buf: Vec<u8>,
}

impl Claim for FileClaim {
    fn segment(&self) -> &SegmentId {
        &self.id
    }

    fn records(&self) -> &[Record<'static>] {
        &self.records
    }

    fn damage(&self) -> Option<&JournalError> {
        self.damage.as_ref()
    }

    fn append(&mut self, records: &[Record<'_>]) -> Result<(), JournalError> {
        write_records(
            &mut self.file,
            &self.path,
            &mut self.len,
            &mut self.buf,
            records,
            self.durability,
        )?;
        self.records
            .extend(records.iter().map(|r| r.clone().into_owned()));
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), JournalError> {
        if unfinished(&self.records).is_empty() {
            remove(&self.path)?;
        }
        Ok(())
    }
}
