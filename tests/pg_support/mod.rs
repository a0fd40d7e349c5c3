//! A throwaway PostgreSQL server on 127.0.0.1 for the tests and the
//! benchmark, started with `pgtemp` from the `initdb` / `postgres` binaries
//! of the machine. When they are missing, [`start`] prints how to install
//! them and returns `None`.
//!
//! As root, `pgtemp` runs the server as the `postgres` user through `sudo`
//! (PostgreSQL refuses to run as root), so root needs `sudo` and that user.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pgtemp::{PgTempDB, PgTempDBBuilder};

/// A running server; stopped and removed when dropped.
pub struct Server {
    db: PgTempDB,
}

impl Server {
    /// The URL of its database (with a password).
    pub fn url(&self) -> String {
        self.db
            .connection_uri()
            .replacen("@localhost:", "@127.0.0.1:", 1)
    }

    /// A connection for the test's own statements.
    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).expect("connect to the test server")
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .and_then(|p| p.parent().map(Path::to_path_buf))
}

/// The directory holding `initdb`, `postgres` and `createdb`: on `PATH`,
/// else the newest `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu).
fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = on_path("initdb") {
        // Follow a link (`/usr/local/bin/initdb`) to the directory of the
        // whole installation.
        let real = std::fs::canonicalize(dir.join("initdb")).ok();
        if let Some(dir) = real.as_deref().and_then(Path::parent) {
            if dir.join("postgres").is_file() {
                return Some(dir.to_path_buf());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Starts a server, or says why it cannot and returns `None`.
pub fn start() -> Option<Server> {
    let Some(bin) = bin_dir() else {
        eprintln!(
            "notice: PostgreSQL's initdb was not found (PATH, /usr/lib/postgresql/*/bin): \
             the PostgreSQL journal tests are skipped; install it with \
             `apt-get install -y postgresql` to run them"
        );
        return None;
    };
    if is_root() && on_path("sudo").is_none() {
        eprintln!(
            "notice: running as root, the test server runs as the `postgres` user through \
             sudo, which is missing: the PostgreSQL journal tests are skipped; install it \
             with `apt-get install -y sudo` to run them"
        );
        return None;
    }
    let db = PgTempDBBuilder::new()
        .with_bin_path(&bin)
        .with_username("hookflow")
        .with_password("test-password-7f3a")
        .with_config_param("listen_addresses", "127.0.0.1")
        .start();
    let server = Server { db };
    // The default database needs no `createdb`, so pgtemp returns as soon
    // as the server process started: wait until it answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&server.url(), postgres::NoTls) {
            Ok(_) => return Some(server),
            Err(e) if Instant::now() > deadline => panic!("the test server never answered: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
