//! The lease of a held segment: renewed by a background thread while its
//! holder lives, released when the holder lets the segment go.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::conn::{db_error, Conn};

/// Extends the lease, if `epoch` still holds the segment.
const RENEW: &str = "UPDATE hookflow_journal_segments
                        SET lease_until = now() + $3::bigint * interval '1 millisecond'
                      WHERE id = $1 AND epoch = $2";

/// Ends the lease now: the segment is claimable at once.
const RELEASE: &str = "UPDATE hookflow_journal_segments
                          SET lease_until = '-infinity'
                        WHERE id = $1 AND epoch = $2";

/// Removes a segment that holds nothing to recover.
const REMOVE: &str = "DELETE FROM hookflow_journal_segments WHERE id = $1 AND epoch = $2";

/// The background renewal of one lease; stops when dropped.
#[derive(Debug)]
pub(super) struct Renewer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Renewer {
    /// Renews the lease of `segment` at `epoch` every `renew_every`.
    pub fn start(conn: Arc<Mutex<Conn>>, segment: String, epoch: i64) -> Renewer {
        let (stop, stopped) = mpsc::channel::<()>();
        let every = conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .settings()
            .renew_every;
        let thread = std::thread::Builder::new()
            .name("hookflow-journal-lease".into())
            .spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
                let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                let lease_ms = conn.settings().lease_ms();
                match conn.run(|l| l.client.execute(RENEW, &[&segment, &epoch, &lease_ms])) {
                    Ok(1) => {}
                    Ok(_) => {
                        tracing::warn!(
                            segment = %segment,
                            epoch,
                            "hookflow journal: the lease was taken over by another owner; \
                             this owner's appends are refused from now on"
                        );
                        return;
                    }
                    Err(e) => {
                        let e = db_error("renew the lease in", &e, conn.settings());
                        tracing::warn!(error = %e, segment = %segment, "hookflow journal");
                    }
                }
            })
            .ok();
        if thread.is_none() {
            tracing::warn!(
                "hookflow journal: cannot start the lease renewal thread; \
                 the lease lasts as long as appends renew it"
            );
        }
        Renewer {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Lets a segment go: removed when nothing in it is left to recover,
/// else its lease ends now so that a recoverer can claim it at once.
/// Failures are logged: the lease then simply expires.
pub(super) fn let_go(conn: &Mutex<Conn>, segment: &str, epoch: i64, remove: bool) {
    let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
    let sql = if remove { REMOVE } else { RELEASE };
    if let Err(e) = conn.run(|l| l.client.execute(sql, &[&segment, &epoch])) {
        let action = if remove {
            "remove a finished segment from"
        } else {
            "release a segment in"
        };
        let e = db_error(action, &e, conn.settings());
        tracing::warn!(error = %e, segment = %segment, "hookflow journal: the lease expires instead");
    }
}
