//! One connection to the journal's database: connecting with a bounded
//! timeout, reconnecting with a bounded backoff when the connection is lost,
//! and errors that never show the password.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};

use crate::journal::error::JournalError;
use crate::journal::url::redact as redact_url;
use crate::secret;

/// How a [`PgJournal`](super::PgJournal) connects and holds its leases.
#[derive(Clone)]
pub(super) struct Settings {
    pub config: postgres::Config,
    /// The URL with its password replaced, for messages.
    pub shown: String,
    pub password: Option<String>,
    pub lease: Duration,
    pub renew_every: Duration,
    pub retries: usize,
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("url", &self.shown)
            .field("lease", &self.lease)
            .field("renew_every", &self.renew_every)
            .field("connect_timeout", &self.config.get_connect_timeout())
            .field("retries", &self.retries)
            .finish()
    }
}

impl Settings {
    /// Reads a `postgres://` URL; the error never shows the password.
    pub fn parse(url: &str, connect_timeout: Duration) -> Result<Settings, JournalError> {
        let shown = redact_url(url);
        // The parser's message may quote the URL: only the redacted form
        // is shown.
        let mut config = postgres::Config::from_str(url).map_err(|_| JournalError::Location {
            value: shown.clone(),
            reason: "not a valid PostgreSQL connection URL",
        })?;
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        if let Some(p) = &password {
            secret::register_named("HOOKFLOW_JOURNAL password", p);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("hookflow");
        }
        // A server that vanished without closing the connection: sent data
        // that is never acknowledged fails the call instead of hanging it.
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(10));
        }
        Ok(Settings {
            config,
            shown,
            password,
            lease: Duration::from_secs(30),
            renew_every: Duration::from_secs(10),
            retries: 5,
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(2),
        })
    }

    /// The lease length in milliseconds, as the SQL takes it.
    pub fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// `text` without the password (nor any other known secret).
    pub fn scrub(&self, text: &str) -> String {
        let text = match &self.password {
            Some(p) if !p.is_empty() => text.replace(p.as_str(), "***"),
            _ => text.to_owned(),
        };
        secret::redact(&text).into_owned()
    }
}

/// A live connection and the statements prepared on it.
pub(super) struct Live {
    pub client: Client,
    append: Option<Statement>,
}

impl Live {
    /// The prepared append statement (prepared once per connection, so an
    /// append is one round trip).
    pub fn append_statement(&mut self) -> Result<Statement, postgres::Error> {
        if let Some(st) = &self.append {
            return Ok(st.clone());
        }
        let st = self.client.prepare(
            "SELECT hookflow_journal_append_v1($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )?;
        self.append = Some(st.clone());
        Ok(st)
    }
}

/// A connection that reconnects.
pub(super) struct Conn {
    settings: Settings,
    live: Option<Live>,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("url", &self.settings.shown)
            .field("connected", &self.live.is_some())
            .finish()
    }
}

impl Conn {
    /// Connects once: an unreachable database is an error value after the
    /// connect timeout at most.
    pub fn connect(settings: &Settings) -> Result<Conn, JournalError> {
        let client = connect_client(settings).map_err(|e| db_error("connect to", &e, settings))?;
        Ok(Conn {
            settings: settings.clone(),
            live: Some(Live {
                client,
                append: None,
            }),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs `op`, reconnecting and running it again (with a bounded
    /// exponential backoff) while the failure is a lost connection. A
    /// failure the server reports (a refused statement) is returned at
    /// once.
    ///
    /// Called from inside an async runtime (an async pipeline's step, a
    /// recovery's hooks), the blocking client cannot run on that thread: the
    /// call then runs on a scoped thread of its own while this one waits,
    /// as a blocking file write would.
    pub fn run<T: Send>(
        &mut self,
        op: impl FnMut(&mut Live) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, Failure> {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.run_here(op);
        }
        std::thread::scope(|s| {
            s.spawn(|| self.run_here(op))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn run_here<T>(
        &mut self,
        mut op: impl FnMut(&mut Live) -> Result<T, postgres::Error>,
    ) -> Result<T, Failure> {
        let settings = &self.settings;
        let live = &mut self.live;
        let attempt = || {
            if live.as_ref().is_none_or(|l| l.client.is_closed()) {
                *live = None;
                let client = connect_client(settings)?;
                *live = Some(Live {
                    client,
                    append: None,
                });
            }
            let Some(l) = live.as_mut() else {
                unreachable!("connected above")
            };
            let result = op(l).map_err(Failure::Db);
            if let Err(e) = &result {
                if connection_lost(e) {
                    *live = None;
                }
            }
            result
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(settings.retry_min)
                    .with_max_delay(settings.retry_max)
                    .with_max_times(settings.retries),
            )
            .sleep(std::thread::sleep)
            .when(connection_lost)
            .notify(|e, after| {
                tracing::warn!(
                    error = %settings.scrub(&e.to_string()),
                    retry_in = ?after,
                    "hookflow journal: PostgreSQL connection lost, reconnecting"
                );
            })
            .call()
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Closing the blocking client blocks on its own runtime, which
        // cannot happen on a thread that drives an async runtime.
        if let Some(live) = self.live.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let closing = std::thread::Builder::new()
                    .name("hookflow-journal-close".into())
                    .spawn(move || drop(live));
                if let Err(e) = closing {
                    tracing::warn!(error = %e, "hookflow journal: cannot close a connection");
                }
            }
        }
    }
}

/// Why an operation on the database failed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The client library's error (the server's, or the connection's).
    Db(postgres::Error),
    /// The server accepted the connection and did not answer in time.
    Timeout(Duration),
}

impl Failure {
    /// The server's own error, when it sent one.
    pub fn as_db_error(&self) -> Option<&postgres::error::DbError> {
        match self {
            Failure::Db(e) => e.as_db_error(),
            Failure::Timeout(_) => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Db(e) => match e.as_db_error() {
                Some(db) => write!(f, "{} ({})", db.message(), db.code().code()),
                None => match std::error::Error::source(e) {
                    Some(source) if !e.to_string().contains(&source.to_string()) => {
                        write!(f, "{e}: {source}")
                    }
                    _ => write!(f, "{e}"),
                },
            },
            Failure::Timeout(after) => write!(
                f,
                "the server accepted the connection and did not answer within {after:?}"
            ),
        }
    }
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Db(e)
    }
}

/// Connects, bounded by the connect timeout as a whole: the client's own
/// timeout covers the TCP connection, and a server that accepts it and
/// never answers the start-up is given up on after the same time (the
/// connecting thread then ends whenever the server closes the socket).
fn connect_client(settings: &Settings) -> Result<Client, Failure> {
    let limit = settings
        .config
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(5));
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let config = settings.config.clone();
    let spawned = std::thread::Builder::new()
        .name("hookflow-journal-connect".into())
        .spawn(move || {
            let _ = tx.send(config.connect(NoTls));
        });
    if spawned.is_err() {
        // No thread to spare: connect here, bounded by the TCP timeout only.
        return settings.config.connect(NoTls).map_err(Failure::Db);
    }
    match rx.recv_timeout(limit + Duration::from_millis(100)) {
        Ok(result) => result.map_err(Failure::Db),
        Err(_) => Err(Failure::Timeout(limit)),
    }
}

/// The failure is the connection's, not the statement's: reconnecting and
/// trying again may succeed.
pub(super) fn connection_lost(failure: &Failure) -> bool {
    let e = match failure {
        Failure::Timeout(_) => return true,
        Failure::Db(e) => e,
    };
    if e.is_closed() {
        return true;
    }
    match e.code() {
        None => {
            // No SQLSTATE: an I/O error, a connect failure or a timeout.
            std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
                || e.to_string().contains("timeout")
        }
        Some(code) => {
            code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
        }
    }
}

/// A database failure as a journal error, without the password.
pub(super) fn db_error(action: &'static str, e: &Failure, s: &Settings) -> JournalError {
    JournalError::Database {
        action,
        database: s.shown.clone(),
        message: s.scrub(&e.to_string()),
    }
}
