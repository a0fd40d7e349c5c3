//! The journal on PostgreSQL (feature `postgres`): processes on many
//! machines journal into one database, and any of them recovers the runs
//! of a dead one.
//!
//! # Segments and leases
//!
//! A segment is one process's writer, as in the embedded store: every run
//! the process journals goes to its one segment. A segment per process
//! keeps the [`Journal`] contract as it is (one writer, one segment), costs
//! one lease to renew per process however many runs it has in flight, and
//! moves all of a dead process's runs to one recoverer at once, which then
//! finishes them in order; the segments of different dead processes are
//! recovered by different machines in parallel.
//!
//! A writer owns its segment through a **lease**, renewed by a background
//! thread every [`renew_every`](PgJournal::renew_every) (10 s by default)
//! for [`lease`](PgJournal::lease) (30 s by default); every append renews
//! it too. Expiry is judged by the database's clock (`now()`), never a
//! client's. [`Journal::list_dead`] lists only segments whose lease has
//! expired, and [`Journal::claim`] takes one with a single conditional
//! `UPDATE … SET epoch = epoch + 1 … WHERE lease_until < now() RETURNING`:
//! of two recoverers, one gets the claim and the other `None`. The claim
//! holds a lease of its own, renewed the same way, so a recoverer that
//! dies in turn leaves a segment that becomes claimable again once that
//! lease expires. A writer dropped with runs still open ends its lease at
//! once (a recoverer need not wait for it); a writer dropped with every
//! run closed removes its segment. A process killed outright (SIGKILL, the
//! OOM killer, a lost machine) keeps its lease until it expires: its runs
//! are recovered at most one lease after its last renewal.
//!
//! # Fencing
//!
//! Every append carries its holder's **epoch** and is refused when the
//! segment's epoch moved on: a writer that was paused past its lease (a
//! long GC-like stall, a suspended VM) and whose segment another process
//! claimed meanwhile gets [`JournalError::Fenced`] on its next append and
//! stores nothing. A paused writer whose segment nobody claimed yet goes
//! on as before: the epoch, not the clock, decides who owns a segment.
//!
//! # Deliveries
//!
//! Each hook delivery is recorded once: `hookflow_journal_deliveries` is
//! keyed by the [`DeliveryKey`](super::DeliveryKey) and written in the same
//! transaction as the `HookStarted` / `HookEnded` record. A first
//! `HookStarted` for a key that is already there, a redelivery
//! (`redelivered: true`) of a call that returned or that this holder
//! already redelivered (one redelivery per claim: a redelivery needs an
//! intent of an earlier epoch), or a second `HookEnded`, fails the whole
//! append with [`JournalError::DuplicateDelivery`]: the hook must not be
//! called for that key. A closed run's deliveries are removed with its
//! records.
//!
//! # Costs
//!
//! [`JournalWriter::append`] is one statement, prepared once per
//! connection: one round trip and one transaction, whatever the number of
//! records. It locks the segment's row, checks the epoch, renews the lease,
//! records the deliveries and inserts the records (one `bytea` row each,
//! [`Record::to_bytes`](super::Record::to_bytes) payloads, in order). A
//! `RunClosed` also deletes the run's records and deliveries in the same
//! statement: the tables hold the unfinished runs and little else. Lease
//! renewal is one `UPDATE` per segment per interval; `list_dead` is one
//! query returning the records of the expired segments; `claim` is one
//! `UPDATE` and one query; `open_writer` is a connection, one schema check
//! per [`PgJournal`], and one `INSERT`.
//!
//! Measured (`cargo bench --features postgres --bench journal`) against a
//! server on the same 2-core machine, shared with other work, with `fsync`
//! off (so: round trips and the server's work, no disk flush): a step's
//! three appends cost 1.33 ms, about 0.44 ms an append, where the record
//! file takes 6.5 µs and SQLite 250 µs on the same run. A network between
//! the process and the database adds its round-trip time per append.
//!
//! The client is blocking (the `postgres` crate). Called from a thread that
//! drives an async runtime (an async pipeline's steps, the hooks of a
//! recovery), a call runs on a short-lived thread of its own while the
//! caller waits, as a blocking file write would: a thread start more per
//! append there.
//!
//! # An unreachable database
//!
//! [`Journal::open_writer`], `list_dead`, `claim` and `compact` connect
//! with a timeout ([`connect_timeout`](PgJournal::connect_timeout), 5 s by
//! default, unless the URL sets `connect_timeout`) and return
//! [`JournalError::Database`] when the database cannot be reached. A
//! connection lost later (a restarted server, a terminated backend) is
//! reconnected: the call is tried again up to [`retries`](PgJournal::retries)
//! times (5 by default) with an exponential backoff from 100 ms to 2 s
//! (about 3 s in all), then returns the error. A retried append is stored
//! once: each append carries an id, and the segment ignores the one it
//! already stored. Errors never show the URL's password.
//!
//! # Schema
//!
//! The tables (`hookflow_journal_segments`, `_records`, `_deliveries`, and
//! the function `hookflow_journal_append_v1`) are created on first use, in
//! one transaction under an advisory lock, and versioned in
//! `hookflow_journal_schema`. A database whose schema is newer than
//! [`SCHEMA_VERSION`] is refused with [`JournalError::NewerSchema`] and left
//! unchanged.

mod conn;
mod lease;
mod schema;
mod segment;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use uuid::Uuid;

use self::conn::{db_error, Conn, Settings};
use self::segment::{PgClaim, PgWriter};
use super::error::JournalError;
use super::file::unfinished;
use super::record::Record;
use super::store::{Claim, Compaction, DeadSegment, Journal, JournalWriter, Listing, SegmentId};

pub use self::schema::SCHEMA_VERSION;

/// The journal in a PostgreSQL database, shared by processes on many
/// machines (feature `postgres`): one leased, epoch-fenced segment per
/// process, each hook delivery recorded once under its key, one round trip
/// per append (the README's "Durable pipelines on PostgreSQL" has the
/// details: leases, fencing, deliveries, costs, an unreachable database).
///
/// ```no_run
/// use std::time::Duration;
/// use hookflow::journal::{Journal, PgJournal};
///
/// let journal = PgJournal::new("postgres://etl@db.internal/etl")?
///     .lease(Duration::from_secs(30))
///     .renew_every(Duration::from_secs(10));
/// let writer = journal.open_writer()?;
/// # Ok::<(), hookflow::journal::JournalError>(())
/// ```
pub struct PgJournal {
    settings: Settings,
    /// The connection for listing, claiming and compacting, opened on
    /// first use.
    conn: Mutex<Option<Conn>>,
    /// The schema was checked (and created or migrated) by this value.
    schema_ready: Mutex<bool>,
}

impl fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgJournal")
            .field("url", &self.settings.shown)
            .field("lease", &self.settings.lease)
            .field("renew_every", &self.settings.renew_every)
            .field(
                "connect_timeout",
                &self.settings.config.get_connect_timeout(),
            )
            .field("retries", &self.settings.retries)
            .finish()
    }
}

impl PgJournal {
    /// The journal in the database at `url` (`postgres://user:password@host:port/db`
    /// or `postgresql://…`, with the parameters of libpq's URLs). Nothing
    /// is connected yet: every operation connects when it needs to.
    ///
    /// An unreadable URL is a [`JournalError::Location`], which shows the
    /// URL without its password.
    pub fn new(url: &str) -> Result<PgJournal, JournalError> {
        Ok(PgJournal {
            settings: Settings::parse(url, Duration::from_secs(5))?,
            conn: Mutex::new(None),
            schema_ready: Mutex::new(false),
        })
    }

    /// How long a lease lasts without renewal (30 s by default): a writer
    /// or recoverer silent for longer loses its segment to the next claim.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.settings.lease = lease;
        self
    }

    /// How often the background thread renews a lease (10 s by default).
    /// Keep it well under the [`lease`](Self::lease), a third of it or
    /// less, so that one slow renewal does not lose the segment.
    pub fn renew_every(mut self, every: Duration) -> Self {
        self.settings.renew_every = every;
        self
    }

    /// How long connecting may take (5 s by default; a `connect_timeout`
    /// in the URL wins).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.config.connect_timeout(timeout);
        self
    }

    /// How many times an operation is tried again over a lost connection
    /// before its error is returned (5 by default, with a backoff from
    /// 100 ms to 2 s).
    pub fn retries(mut self, retries: usize) -> Self {
        self.settings.retries = retries;
        self
    }

    /// A new connection, with the schema checked once per journal.
    fn connect(&self) -> Result<Conn, JournalError> {
        let mut conn = Conn::connect(&self.settings)?;
        let mut ready = self
            .schema_ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !*ready {
            let settings = &self.settings;
            let result = conn.run(|live| Ok(schema::ensure(&mut live.client, settings)));
            match result {
                Ok(result) => result?,
                Err(e) => return Err(db_error("create the journal schema in", &e, settings)),
            }
            *ready = true;
        }
        Ok(conn)
    }

    /// Runs `op` on the shared connection, connecting first when needed.
    fn with_conn<T: Send>(
        &self,
        action: &'static str,
        op: impl FnMut(&mut conn::Live) -> Result<T, ::postgres::Error> + Send,
    ) -> Result<T, JournalError> {
        let mut guard = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            *guard = Some(self.connect()?);
        }
        let Some(conn) = guard.as_mut() else {
            unreachable!("connected above")
        };
        conn.run(op)
            .map_err(|e| db_error(action, &e, &self.settings))
    }
}

/// The records of one segment read back, up to the first unreadable one.
fn decode_rows(
    segment: &str,
    rows: impl IntoIterator<Item = (i64, Vec<u8>)>,
) -> (Vec<Record<'static>>, Option<JournalError>) {
    let mut records = Vec::new();
    for (id, payload) in rows {
        match Record::from_bytes(&payload) {
            Some(record) => records.push(record),
            None => {
                let damage = JournalError::UnreadableRecord {
                    segment: segment.to_owned(),
                    record: id,
                };
                tracing::warn!(error = %damage, "hookflow journal");
                return (records, Some(damage));
            }
        }
    }
    (records, None)
}

impl Journal for PgJournal {
    fn open_writer(&self) -> Result<Box<dyn JournalWriter>, JournalError> {
        let mut conn = self.connect()?;
        let id = Uuid::now_v7().simple().to_string();
        let lease_ms = self.settings.lease_ms();
        conn.run(|live| {
            live.client.execute(
                "INSERT INTO hookflow_journal_segments (id, epoch, lease_until)
                 VALUES ($1, 1, now() + $2::bigint * interval '1 millisecond')",
                &[&id, &lease_ms],
            )
        })
        .map_err(|e| db_error("create a segment in", &e, &self.settings))?;
        Ok(Box::new(PgWriter::new(conn, id, 1)))
    }

    fn list_dead(&self) -> Result<Listing, JournalError> {
        let rows = self.with_conn("list the dead segments of", |live| {
            live.client.query(
                "SELECT s.id, r.id, r.payload
                   FROM hookflow_journal_segments s
                   JOIN hookflow_journal_records r ON r.segment = s.id
                  WHERE s.lease_until < now()
                  ORDER BY s.id, r.id",
                &[],
            )
        })?;
        let mut by_segment: BTreeMap<String, Vec<(i64, Vec<u8>)>> = BTreeMap::new();
        for row in rows {
            by_segment
                .entry(row.get(0))
                .or_default()
                .push((row.get(1), row.get(2)));
        }
        let mut listing = Listing::default();
        for (id, rows) in by_segment {
            let (records, damage) = decode_rows(&id, rows);
            let runs = unfinished(&records);
            if !runs.is_empty() {
                listing.segments.push(DeadSegment {
                    id: SegmentId(id),
                    runs,
                    damage,
                });
            }
        }
        Ok(listing)
    }

    fn claim(&self, segment: &SegmentId) -> Result<Option<Box<dyn Claim>>, JournalError> {
        let mut conn = self.connect()?;
        let lease_ms = self.settings.lease_ms();
        let id = &segment.0;
        let claimed = conn
            .run(|live| {
                live.client.query_opt(
                    "UPDATE hookflow_journal_segments
                        SET epoch = epoch + 1,
                            lease_until = now() + $2::bigint * interval '1 millisecond',
                            last_append = NULL
                      WHERE id = $1 AND lease_until < now()
                  RETURNING epoch",
                    &[id, &lease_ms],
                )
            })
            .map_err(|e| db_error("claim a segment in", &e, &self.settings))?;
        let Some(row) = claimed else {
            return Ok(None);
        };
        let epoch: i64 = row.get(0);
        let rows = conn
            .run(|live| {
                live.client.query(
                    "SELECT id, payload FROM hookflow_journal_records
                      WHERE segment = $1 ORDER BY id",
                    &[id],
                )
            })
            .map_err(|e| db_error("read a segment in", &e, &self.settings))?;
        let (records, damage) = decode_rows(id, rows.iter().map(|r| (r.get(0), r.get(1))));
        let conn = Arc::new(Mutex::new(conn));
        let claim = PgClaim::new(conn, segment.clone(), epoch, records, damage);
        if unfinished(claim.records()).is_empty() {
            Box::new(claim).finish()?;
            return Ok(None);
        }
        Ok(Some(Box::new(claim)))
    }

    fn compact(&self) -> Result<Compaction, JournalError> {
        let row = self.with_conn("compact", |live| {
            live.client.query_one(
                "WITH removed AS (
                     DELETE FROM hookflow_journal_segments s
                      WHERE s.lease_until < now()
                        AND NOT EXISTS (SELECT 1 FROM hookflow_journal_records r
                                         WHERE r.segment = s.id)
                  RETURNING 1
                 )
                 SELECT (SELECT count(*) FROM removed),
                        (SELECT count(*) FROM hookflow_journal_segments s
                          WHERE s.lease_until < now()
                            AND EXISTS (SELECT 1 FROM hookflow_journal_records r
                                         WHERE r.segment = s.id))",
                &[],
            )
        })?;
        let removed: i64 = row.get(0);
        let kept: i64 = row.get(1);
        Ok(Compaction {
            removed: usize::try_from(removed).unwrap_or(usize::MAX),
            kept: usize::try_from(kept).unwrap_or(usize::MAX),
            skipped: Vec::new(),
        })
    }
}
