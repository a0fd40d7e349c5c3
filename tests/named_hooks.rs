//! `#[hook]`: the registry of hooks by name, its lookups, and instances
//! built from it that run like any hook.

use std::sync::Mutex;

use hookflow::named::{self, HookLookupError, HookShape, NamedHook};
use hookflow::{hook, Event, HookContext, StepError};

/// What the registered hooks saw, one line per call.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The tests that fire hooks read `SEEN`: one at a time.
static FIRING: Mutex<()> = Mutex::new(());

fn record(line: String) {
    SEEN.lock().unwrap().push(line);
}

fn fire(path: &str, event: Event, ctx: &HookContext) -> Vec<String> {
    let _one = FIRING.lock().unwrap_or_else(|p| p.into_inner());
    SEEN.lock().unwrap().clear();
    named::hook(path, None).unwrap().__fire(event, ctx);
    std::mem::take(&mut *SEEN.lock().unwrap())
}

pub mod alerts {
    use super::record;
    use hookflow::{hook, HookContext, StepError};

    #[hook]
    pub fn heartbeat() {
        record("heartbeat".to_owned());
    }

    #[hook]
    pub fn log_step(ctx: &HookContext) -> Result<(), String> {
        record(format!("log_step {:?} {}", ctx.step_name(), ctx.attempt()));
        Ok(())
    }

    #[hook]
    pub fn page_oncall(err: &StepError) {
        record(format!("page_oncall {}", err.message()));
    }

    #[hook]
    pub fn ticket(ctx: &HookContext, err: &StepError) -> Result<(), std::fmt::Error> {
        record(format!("ticket {:?} {}", ctx.step_name(), err.message()));
        Ok(())
    }

    #[hook]
    pub fn failing() -> Result<(), String> {
        record("failing".to_owned());
        Err("the ticket system is down".to_owned())
    }

    #[hook]
    pub fn panicking() {
        record("panicking".to_owned());
        panic!("hook bug");
    }

    pub mod nested {
        use super::super::record;
        use hookflow::{hook, HookContext, StepError};

        #[hook]
        pub async fn notify(ctx: &HookContext) {
            record(format!("notify {:?}", ctx.pipeline_name()));
        }

        #[hook]
        pub async fn escalate(ctx: &HookContext, err: &StepError) -> Result<(), String> {
            record(format!("escalate {:?} {}", ctx.step_name(), err.message()));
            Ok(())
        }

        #[hook]
        pub async fn wake() {
            record("wake".to_owned());
        }

        #[hook]
        pub async fn on_err(err: &StepError) {
            record(format!("on_err {}", err.message()));
        }
    }
}

// Two hooks with one bare name, in two modules.
mod eu {
    use hookflow::hook;

    #[hook]
    fn cleanup() {}
}
mod us {
    use hookflow::hook;

    #[hook]
    fn cleanup() {}
}

#[hook]
fn r#type() {}

fn find(path: &str) -> &'static NamedHook {
    named::hooks()
        .iter()
        .find(|h| h.path() == path)
        .unwrap_or_else(|| panic!("{path} is not registered"))
}

#[test]
fn the_registry_lists_each_hook_with_its_path_bare_name_shape_and_async_flag() {
    let expected = [
        (
            "named_hooks::alerts::heartbeat",
            "heartbeat",
            HookShape::Unit,
            false,
        ),
        (
            "named_hooks::alerts::log_step",
            "log_step",
            HookShape::Ctx,
            false,
        ),
        (
            "named_hooks::alerts::page_oncall",
            "page_oncall",
            HookShape::Err,
            false,
        ),
        (
            "named_hooks::alerts::ticket",
            "ticket",
            HookShape::CtxErr,
            false,
        ),
        (
            "named_hooks::alerts::nested::wake",
            "wake",
            HookShape::Unit,
            true,
        ),
        (
            "named_hooks::alerts::nested::notify",
            "notify",
            HookShape::Ctx,
            true,
        ),
        (
            "named_hooks::alerts::nested::on_err",
            "on_err",
            HookShape::Err,
            true,
        ),
        (
            "named_hooks::alerts::nested::escalate",
            "escalate",
            HookShape::CtxErr,
            true,
        ),
        (
            "named_hooks::eu::cleanup",
            "cleanup",
            HookShape::Unit,
            false,
        ),
        (
            "named_hooks::us::cleanup",
            "cleanup",
            HookShape::Unit,
            false,
        ),
        ("named_hooks::type", "type", HookShape::Unit, false),
    ];
    for (path, bare, shape, is_async) in expected {
        let h = find(path);
        assert_eq!(h.bare_name(), bare, "{path}");
        assert_eq!(h.shape(), shape, "{path}");
        assert_eq!(h.is_async(), is_async, "{path}");
    }
    let ours = named::hooks()
        .iter()
        .filter(|h| h.path().starts_with("named_hooks::"))
        .count();
    assert_eq!(ours, expected.len() + 2, "plus `failing` and `panicking`");
    // Each registered once.
    for h in named::hooks() {
        let same = named::hooks().iter().filter(|o| o.path() == h.path());
        assert_eq!(same.count(), 1, "{} registered twice", h.path());
    }
}

#[test]
fn a_hook_is_found_by_full_path_crate_path_and_unique_bare_name() {
    let full = named::hook("named_hooks::alerts::ticket", None).unwrap();
    assert_eq!(full.path(), "named_hooks::alerts::ticket");
    let crate_path = named::hook("crate::alerts::ticket", Some("named_hooks")).unwrap();
    assert_eq!(crate_path.path(), full.path());
    let bare = named::hook("ticket", None).unwrap();
    assert_eq!(bare.path(), full.path());
    let nested = named::hook("crate::alerts::nested::escalate", Some("named_hooks")).unwrap();
    assert_eq!(nested.shape(), HookShape::CtxErr);
    // A raw identifier is registered without its `r#`.
    assert_eq!(
        named::hook("type", None).unwrap().path(),
        "named_hooks::type"
    );
}

#[test]
fn a_bare_name_two_hooks_share_is_ambiguous_and_lists_both_paths() {
    match named::hook("cleanup", None) {
        Err(HookLookupError::Ambiguous(mut paths)) => {
            paths.sort_unstable();
            assert_eq!(
                paths,
                ["named_hooks::eu::cleanup", "named_hooks::us::cleanup"]
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    // Their full paths still find each one.
    assert_eq!(
        named::hook("crate::eu::cleanup", Some("named_hooks"))
            .unwrap()
            .path(),
        "named_hooks::eu::cleanup"
    );
}

#[test]
fn an_unknown_name_is_unknown() {
    for name in [
        "clean_up",
        "named_hooks::alerts::missing",
        "crate::alerts::missing",
        "other_crate::alerts::ticket",
    ] {
        assert_eq!(
            named::hook(name, None).unwrap_err(),
            HookLookupError::Unknown,
            "{name}"
        );
    }
    // `crate::` means the crate given, not any crate.
    assert_eq!(
        named::hook("crate::alerts::ticket", Some("other_crate")).unwrap_err(),
        HookLookupError::Unknown
    );
}

fn failed_ctx() -> HookContext {
    HookContext::builder()
        .step("load")
        .pipeline("nightly")
        .attempt(2)
        .error(StepError::manual(
            "load",
            hookflow::ErrorKind::Error,
            "disk full",
        ))
        .build()
}

#[test]
fn an_instance_from_the_registry_runs_and_sees_its_context_and_error() {
    let ctx = failed_ctx();
    assert_eq!(
        fire("named_hooks::alerts::heartbeat", Event::Finish, &ctx),
        ["heartbeat"]
    );
    assert_eq!(
        fire("named_hooks::alerts::log_step", Event::Finish, &ctx),
        ["log_step Some(\"load\") 2"]
    );
    assert_eq!(
        fire("named_hooks::alerts::page_oncall", Event::Failure, &ctx),
        ["page_oncall disk full"]
    );
    assert_eq!(
        fire("named_hooks::alerts::ticket", Event::Failure, &ctx),
        ["ticket Some(\"load\") disk full"]
    );
}

#[test]
fn an_async_instance_from_the_registry_is_awaited_and_sees_its_context_and_error() {
    let ctx = failed_ctx();
    assert_eq!(
        fire("named_hooks::alerts::nested::wake", Event::Finish, &ctx),
        ["wake"]
    );
    assert_eq!(
        fire("named_hooks::alerts::nested::notify", Event::Finish, &ctx),
        ["notify Some(\"nightly\")"]
    );
    assert_eq!(
        fire("named_hooks::alerts::nested::on_err", Event::Retry, &ctx),
        ["on_err disk full"]
    );
    assert_eq!(
        fire("named_hooks::alerts::nested::escalate", Event::Crash, &ctx),
        ["escalate Some(\"load\") disk full"]
    );
}

#[test]
fn an_error_hook_fired_without_an_error_is_skipped_not_called() {
    let ctx = HookContext::builder().step("load").build();
    assert!(fire("named_hooks::alerts::page_oncall", Event::Failure, &ctx).is_empty());
    assert!(fire(
        "named_hooks::alerts::nested::escalate",
        Event::Failure,
        &ctx
    )
    .is_empty());
}

#[test]
fn a_registered_hook_that_fails_or_panics_is_isolated() {
    let ctx = failed_ctx();
    assert_eq!(
        fire("named_hooks::alerts::failing", Event::Failure, &ctx),
        ["failing"]
    );
    assert_eq!(
        fire("named_hooks::alerts::panicking", Event::Failure, &ctx),
        ["panicking"]
    );
}

#[test]
fn a_registered_hook_is_still_a_plain_function() {
    let _one = FIRING.lock().unwrap_or_else(|p| p.into_inner());
    SEEN.lock().unwrap().clear();
    alerts::page_oncall(&StepError::manual(
        "x",
        hookflow::ErrorKind::Error,
        "direct",
    ));
    assert_eq!(*SEEN.lock().unwrap(), ["page_oncall direct"]);
    SEEN.lock().unwrap().clear();
}
