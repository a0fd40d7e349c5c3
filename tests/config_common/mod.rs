//! Shared by the configuration tests: a lock for tests that install a
//! configuration (one process-wide slot), and a recorder of hook calls.
#![allow(dead_code, unused_macros)]

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

/// Registers a hook by name, as `#[hook]` does: `named_hook!(f, Ctx)`, or
/// `named_hook!(f, Ctx, async)`.
macro_rules! named_hook {
    ($f:ident, $shape:ident) => {
        named_hook!(@ $f, $shape, false);
    };
    ($f:ident, $shape:ident, async) => {
        named_hook!(@ $f, $shape, true);
    };
    (@ $f:ident, $shape:ident, $is_async:literal) => {
        const _: () = {
            #[::hookflow::__private::linkme::distributed_slice(::hookflow::__private::HOOKS)]
            #[linkme(crate = ::hookflow::__private::linkme)]
            static HOOK: ::hookflow::__private::NamedHook = ::hookflow::__private::NamedHook::__new(
                concat!(module_path!(), "::", stringify!($f)),
                ::hookflow::__private::HookShape::$shape,
                $is_async,
                |name| {
                    <_ as ::hookflow::__private::ErrorHook<
                        ::hookflow::__private::event::on_failure,
                        _,
                    >>::__erase($f, name)
                },
            );
        };
    };
}
