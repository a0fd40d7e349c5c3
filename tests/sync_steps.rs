//! Sync steps: return types, `?` and `return`, hooks on success and error.

mod common;

use common::{on_failure, on_finish, on_start, on_success, take};
use hookflow::{step, ErrorKind, HookContext, StepError};

#[derive(Debug, thiserror::Error, PartialEq)]
enum DbError {
    #[error("row {0} is missing")]
    Missing(u32),
}

#[step(on_success = on_success, on_failure = on_failure, on_finish = on_finish)]
fn plain_value(x: u32) -> u32 {
    x * 2
}

#[test]
fn plain_return_type_is_wrapped_and_fires_success_then_finish() {
    let v: Result<u32, StepError> = plain_value(21);
    assert_eq!(v.unwrap(), 42);
    assert_eq!(take("plain_value"), ["success", "finish:completed"]);
}

#[step(on_success = on_success, on_failure = on_failure, on_finish = on_finish)]
fn custom_error(id: u32) -> Result<String, DbError> {
    if id == 0 {
        return Err(DbError::Missing(id));
    }
    Ok(format!("row {id}"))
}

#[test]
fn custom_error_enum_fires_failure_with_error_kind_and_original() {
    let err = custom_error(0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert_eq!(err.message(), "row 0 is missing");
    assert_eq!(err.downcast_ref::<DbError>(), Some(&DbError::Missing(0)));
    assert_eq!(err.step_name(), "custom_error");
    assert_eq!(
        take("custom_error"),
        ["failure:error:row 0 is missing", "finish:failed"]
    );

    assert_eq!(custom_error(7).unwrap(), "row 7");
    assert_eq!(take("custom_error"), ["success", "finish:completed"]);
}

#[step(on_failure = on_failure)]
fn io_step(path: &str) -> std::io::Result<usize> {
    let n = std::fs::read_to_string(path)?.len();
    Ok(n)
}

#[test]
fn question_mark_inside_the_body_keeps_its_meaning() {
    let err = io_step("/definitely/not/here").unwrap_err();
    let io = err.downcast_ref::<std::io::Error>().expect("the io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(take("io_step").len(), 1);
}

#[step(on_success = on_success)]
fn early_return(x: i64) -> anyhow::Result<&'static str> {
    if x < 0 {
        return Ok("negative");
    }
    anyhow::ensure!(x != 0, "zero");
    Ok("positive")
}

#[test]
fn early_return_and_anyhow_result() {
    assert_eq!(early_return(-1).unwrap(), "negative");
    assert_eq!(early_return(1).unwrap(), "positive");
    let err = early_return(0).unwrap_err();
    assert_eq!(err.message(), "zero");
    assert!(err.downcast_ref::<anyhow::Error>().is_some());
    assert_eq!(take("early_return"), ["success", "success"]);
}

#[step]
fn double(x: u32) -> u32 {
    x * 2
}

#[step]
fn lookup(id: u32) -> Result<String, DbError> {
    if id == 0 {
        return Err(DbError::Missing(id));
    }
    Ok(format!("row {id}"))
}

fn uses_steps() -> anyhow::Result<u32> {
    let v = double(1)?;
    let _ = lookup(v)?;
    Ok(v)
}

#[test]
fn step_errors_propagate_into_anyhow_with_question_mark() {
    assert_eq!(uses_steps().unwrap(), 2);
    let err: anyhow::Error = (|| -> anyhow::Result<()> {
        lookup(0)?;
        Ok(())
    })()
    .unwrap_err();
    let step_err = err.downcast_ref::<StepError>().expect("a StepError inside");
    assert_eq!(step_err.kind(), ErrorKind::Error);
    assert!(step_err.downcast_ref::<DbError>().is_some());
}

mod nested {
    pub mod deeper {
        use hookflow::HookContext;
        pub fn hook(ctx: &HookContext) {
            super::super::common::record(ctx.step_name().unwrap(), "nested-hook");
        }
    }

    #[hookflow::step(on_start = deeper::hook)]
    pub(crate) fn private_in_module(a: &[u8], b: &mut Vec<u8>) -> usize {
        b.extend_from_slice(a);
        b.len()
    }
}

#[test]
fn steps_in_modules_with_reference_arguments_and_module_paths_to_hooks() {
    let mut out = vec![1];
    assert_eq!(nested::private_in_module(&[2, 3], &mut out).unwrap(), 3);
    assert_eq!(out, [1, 2, 3]);
    assert_eq!(take("private_in_module"), ["nested-hook"]);
}

#[step(on_success = on_success, name = "generic step")]
fn generic<T: std::fmt::Display + Clone>(items: &[T], sep: impl AsRef<str>) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(sep.as_ref())
}

#[test]
fn generic_parameters_and_display_name() {
    assert_eq!(generic(&[1, 2, 3], ", ").unwrap(), "1, 2, 3");
    assert_eq!(generic(&["a"], "-").unwrap(), "a");
    assert_eq!(take("generic step"), ["success", "success"]);
}

#[step(on_success = [first, second, third], on_start = on_start)]
fn ordered() {}

fn first(ctx: &HookContext) {
    common::record(ctx.step_name().unwrap(), "first");
}
fn second() -> Result<(), String> {
    common::record("ordered", "second");
    Ok(())
}
fn third(_: &()) {
    common::record("ordered", "third");
}

#[test]
fn hooks_of_one_event_fire_in_the_order_written() {
    ordered().unwrap();
    assert_eq!(take("ordered"), ["start#1", "first", "second", "third"]);
}

#[step(on_success = |ctx: &HookContext| common::record(ctx.step_name().unwrap(), "closure"))]
fn with_closure() -> u8 {
    1
}

#[test]
fn closures_are_accepted_as_hooks() {
    with_closure().unwrap();
    assert_eq!(take("with_closure"), ["closure"]);
}

#[test]
fn the_description_is_reachable_by_name() {
    let meta = hookflow::registry::step("custom_error").expect("registered");
    assert_eq!(meta.fn_name(), "custom_error");
    assert_eq!(meta.hooks(hookflow::Event::Failure), ["on_failure"]);
    assert_eq!(meta.hooks(hookflow::Event::Finish), ["on_finish"]);
    assert!(meta.file().ends_with("sync_steps.rs"));
    assert!(!meta.is_async());
    let by_path = hookflow::registry::step("sync_steps::nested::private_in_module").unwrap();
    assert_eq!(by_path.hooks(hookflow::Event::Start), ["deeper::hook"]);
    assert_eq!(
        hookflow::registry::step("generic step").unwrap().fn_name(),
        "generic"
    );
    assert!(hookflow::registry::step("no_such_step").is_none());
}

#[deny(unused_variables)]
mod parameter_attributes {
    // The per-attempt copies keep the parameter's own attributes.
    #[hookflow::step(retries = 1)]
    pub fn with_allowed_unused(used: u8, #[allow(unused_variables)] unused: u8) -> u8 {
        used
    }
}

#[test]
fn parameter_attributes_survive_retries() {
    assert_eq!(parameter_attributes::with_allowed_unused(3, 4).unwrap(), 3);
}
