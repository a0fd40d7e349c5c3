//! Shared by the configuration tests: a lock for tests that install a
//! configuration (one process-wide slot), and a recorder of hook calls.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use hookflow::HookContext;

static INSTALL: Mutex<()> = Mutex::new(());

/// Serialises the tests of one binary that install a configuration, and
/// uninstalls it when dropped (even when the test fails).
pub struct Installed(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Drop for Installed {
    fn drop(&mut self) {
        hookflow::config::uninstall();
    }
}

/// Takes the install lock, with nothing installed.
pub fn exclusive() -> Installed {
    let guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    hookflow::config::uninstall();
    Installed(guard)
}

static EVENTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Records `entry` under the context's step (or pipeline) name.
pub fn record(ctx: &HookContext, entry: &str) {
    let key = ctx
        .step_name()
        .or(ctx.pipeline_name())
        .unwrap_or("?")
        .to_owned();
    EVENTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((key, entry.to_owned()));
}

/// The entries recorded under `key`, in order (and forgets them).
pub fn take(key: &str) -> Vec<String> {
    let mut all = EVENTS.lock().unwrap_or_else(|p| p.into_inner());
    let mut mine = Vec::new();
    all.retain(|(k, e)| {
        if k == key {
            mine.push(e.clone());
            false
        } else {
            true
        }
    });
    mine
}
