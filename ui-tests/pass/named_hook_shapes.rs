// Every shape `#[hook]` accepts, sync and `async`, returning `()` and
// `Result<(), E: Display>`, each registered under its path with its shape.
use hookflow::named::{self, HookShape};
use hookflow::{hook, HookContext, StepError};

#[hook]
fn unit() {}
#[hook]
fn unit_result() -> Result<(), String> {
    Ok(())
}
#[hook]
fn ctx(_: &HookContext) {}
#[hook]
fn ctx_result(_: &HookContext) -> Result<(), std::fmt::Error> {
    Ok(())
}
#[hook]
fn err(_: &StepError) {}
#[hook]
fn err_result(_: &StepError) -> Result<(), &'static str> {
    Ok(())
}
#[hook]
fn ctx_err(_: &HookContext, _: &StepError) {}
#[hook]
fn ctx_err_result(_: &HookContext, _: &StepError) -> Result<(), String> {
    Ok(())
}
#[hook]
async fn a_unit() {}
#[hook]
async fn a_unit_result() -> Result<(), String> {
    Ok(())
}
#[hook]
async fn a_ctx(_: &HookContext) {}
#[hook]
async fn a_ctx_result(_: &HookContext) -> Result<(), String> {
    Ok(())
}
#[hook]
async fn a_err(_: &StepError) {}
#[hook]
async fn a_err_result(_: &StepError) -> Result<(), String> {
    Ok(())
}
#[hook]
async fn a_ctx_err(_: &HookContext, _: &StepError) {}
#[hook]
async fn a_ctx_err_result(_: &HookContext, _: &StepError) -> Result<(), String> {
    Ok(())
}
// Lifetimes are not type parameters: still one function.
#[hook]
fn with_lifetime<'a>(_: &'a HookContext) {}

// Configured out: neither the function nor its entry exists.
#[hook]
#[cfg(any())]
fn configured_out() {}

fn main() {
    let expected = [
        ("unit", HookShape::Unit, false),
        ("unit_result", HookShape::Unit, false),
        ("ctx", HookShape::Ctx, false),
        ("ctx_result", HookShape::Ctx, false),
        ("err", HookShape::Err, false),
        ("err_result", HookShape::Err, false),
        ("ctx_err", HookShape::CtxErr, false),
        ("ctx_err_result", HookShape::CtxErr, false),
        ("a_unit", HookShape::Unit, true),
        ("a_unit_result", HookShape::Unit, true),
        ("a_ctx", HookShape::Ctx, true),
        ("a_ctx_result", HookShape::Ctx, true),
        ("a_err", HookShape::Err, true),
        ("a_err_result", HookShape::Err, true),
        ("a_ctx_err", HookShape::CtxErr, true),
        ("a_ctx_err_result", HookShape::CtxErr, true),
        ("with_lifetime", HookShape::Ctx, false),
    ];
    let krate = module_path!();
    for (name, shape, is_async) in expected {
        let h = named::hook(name, None).unwrap();
        assert_eq!(h.path(), format!("{krate}::{name}"));
        assert_eq!((h.shape(), h.is_async()), (shape, is_async), "{name}");
    }
    // This program's own hooks (the built-in `hookflow::…` ones are there too).
    let own = named::hooks()
        .iter()
        .filter(|h| h.path().starts_with(&format!("{krate}::")))
        .count();
    assert_eq!(own, expected.len());
    assert!(named::hooks().iter().any(|h| h.path() == "hookflow::log"));
    assert!(named::hook("configured_out", None).is_err());
}
