//! Holding a segment: the live writer of a process and the claim of a
//! recoverer. Both append through one statement that checks their epoch.

use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

use super::conn::{db_error, Conn};
use super::lease::{let_go, Renewer};
use crate::journal::error::JournalError;
use crate::journal::file::unfinished;
use crate::journal::record::Record;
use crate::journal::store::{Claim, JournalWriter, SegmentId};

/// The SQLSTATE the append function raises for a stale epoch.
const FENCED: &str = "HF001";
/// The SQLSTATE the append function raises for a delivery already recorded.
const DUPLICATE: &str = "HF002";

/// Stores `records` into `segment` as `epoch`'s holder: one statement, one
/// round trip, one transaction. Retried over a lost connection without
/// storing anything twice (the append carries an id the segment keeps).
fn append(
    conn: &Mutex<Conn>,
    segment: &str,
    epoch: i64,
    records: &[Record<'_>],
) -> Result<(), JournalError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut runs = Vec::with_capacity(records.len());
    let mut payloads = Vec::with_capacity(records.len());
    let mut ops = Vec::new();
    let mut keys = Vec::new();
    let mut key_runs = Vec::new();
    let mut closed = Vec::new();
    for record in records {
        let run = record.run_id().simple().to_string();
        payloads.push(record.to_bytes()?);
        match record {
            Record::HookStarted(h) => {
                ops.push(if h.redelivered { "R" } else { "S" });
                keys.push(h.key.to_string());
                key_runs.push(run.clone());
            }
            Record::HookEnded(h) => {
                ops.push("E");
                keys.push(h.key.to_string());
                key_runs.push(run.clone());
            }
            Record::RunClosed(_) => closed.push(run.clone()),
            _ => {}
        }
        runs.push(run);
    }
    let append_id = Uuid::now_v7().simple().to_string();
    let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
    let lease_ms = conn.settings().lease_ms();
    let result = conn.run(|live| {
        let st = live.append_statement()?;
        live.client.execute(
            &st,
            &[
                &segment, &epoch, &lease_ms, &append_id, &runs, &payloads, &ops, &keys, &key_runs,
                &closed,
            ],
        )
    });
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(match e.as_db_error() {
            Some(db) if db.code().code() == FENCED => JournalError::Fenced {
                segment: segment.to_owned(),
                epoch,
                current: db.detail().and_then(|d| d.parse().ok()),
            },
            Some(db) if db.code().code() == DUPLICATE => JournalError::DuplicateDelivery {
                key: db.detail().unwrap_or_default().to_owned(),
            },
            _ => db_error("append to", &e, conn.settings()),
        }),
    }
}

/// The writer of one live process: a segment whose lease a background
/// thread renews.
#[derive(Debug)]
pub(super) struct PgWriter {
    id: SegmentId,
    epoch: i64,
    conn: Arc<Mutex<Conn>>,
    /// Runs started by this writer and not closed.
    open: Mutex<Vec<Uuid>>,
    renewer: Option<Renewer>,
}

impl PgWriter {
    pub fn new(conn: Conn, id: String, epoch: i64) -> PgWriter {
        let conn = Arc::new(Mutex::new(conn));
        let renewer = Renewer::start(conn.clone(), id.clone(), epoch);
        PgWriter {
            id: SegmentId(id),
            epoch,
            conn,
            open: Mutex::new(Vec::new()),
            renewer: Some(renewer),
        }
    }
}

impl JournalWriter for PgWriter {
    fn segment(&self) -> &SegmentId {
        &self.id
    }

    fn append(&self, records: &[Record<'_>]) -> Result<(), JournalError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        append(&self.conn, &self.id.0, self.epoch, records)?;
        for record in records {
            match record {
                Record::RunStarted(r) => open.push(r.run_id),
                Record::RunClosed(r) => open.retain(|id| *id != r.run_id),
                _ => {}
            }
        }
        Ok(())
    }
}

impl Drop for PgWriter {
    fn drop(&mut self) {
        drop(self.renewer.take());
        let open = self.open.get_mut().unwrap_or_else(PoisonError::into_inner);
        let_go(&self.conn, &self.id.0, self.epoch, open.is_empty());
    }
}

/// A dead segment held by one recoverer through a fresh lease and the
/// next epoch.
#[derive(Debug)]
pub(super) struct PgClaim {
    id: SegmentId,
    epoch: i64,
    conn: Arc<Mutex<Conn>>,
    records: Vec<Record<'static>>,
    damage: Option<JournalError>,
    renewer: Option<Renewer>,
    done: bool,
}

impl PgClaim {
    pub fn new(
        conn: Arc<Mutex<Conn>>,
        id: SegmentId,
        epoch: i64,
        records: Vec<Record<'static>>,
        damage: Option<JournalError>,
    ) -> PgClaim {
        let renewer = Renewer::start(conn.clone(), id.0.clone(), epoch);
        PgClaim {
            id,
            epoch,
            conn,
            records,
            damage,
            renewer: Some(renewer),
            done: false,
        }
    }
}

impl Claim for PgClaim {
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
        append(&self.conn, &self.id.0, self.epoch, records)?;
        self.records
            .extend(records.iter().map(|r| r.clone().into_owned()));
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), JournalError> {
        drop(self.renewer.take());
        self.done = true;
        let remove = unfinished(&self.records).is_empty();
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = if remove {
            "DELETE FROM hookflow_journal_segments WHERE id = $1 AND epoch = $2"
        } else {
            "UPDATE hookflow_journal_segments SET lease_until = '-infinity'
              WHERE id = $1 AND epoch = $2"
        };
        let (id, epoch) = (&self.id.0, self.epoch);
        match conn.run(|l| l.client.execute(sql, &[id, &epoch])) {
            Ok(1) => Ok(()),
            Ok(_) => Err(JournalError::Fenced {
                segment: id.clone(),
                epoch,
                current: None,
            }),
            Err(e) => Err(db_error("release a segment in", &e, conn.settings())),
        }
    }
}

impl Drop for PgClaim {
    fn drop(&mut self) {
        if !self.done {
            drop(self.renewer.take());
            let_go(&self.conn, &self.id.0, self.epoch, false);
        }
    }
}
