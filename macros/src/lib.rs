//! Attribute macros of hookflow. Use them through the `hookflow` crate
//! (`hookflow::step`, `hookflow::pipeline`, `hookflow::hook`), whose
//! documentation describes them in full.
//!
//! Set `HOOKFLOW_DEBUG_EXPAND=1` while building to print every expansion to
//! stderr.

mod attr;
mod expand;
mod fallback;
mod model;
mod text;

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

use crate::model::FnModel;

/// See `hookflow::step`.
#[proc_macro_attribute]
pub fn step(args: TokenStream, item: TokenStream) -> TokenStream {
    run(
        "step",
        args.into(),
        item.into(),
        |args: attr::StepArgs, mut model| {
            if let (Some(t), false) = (&args.timeout, model.is_async) {
                return Err(expand::timeout_on_sync(t.span).into());
            }
            if let Some(r) = args.returns {
                model.set_returns(r.result);
            }
            Ok(expand::step(args, model))
        },
    )
}

/// See `hookflow::pipeline`.
#[proc_macro_attribute]
pub fn pipeline(args: TokenStream, item: TokenStream) -> TokenStream {
    run(
        "pipeline",
        args.into(),
        item.into(),
        |args: attr::PipelineArgs, mut model| {
            if let Some(r) = args.returns {
                model.set_returns(r.result);
            }
            Ok(expand::pipeline(args, model))
        },
    )
}

/// See `hookflow::hook`.
#[proc_macro_attribute]
pub fn hook(args: TokenStream, item: TokenStream) -> TokenStream {
    let item: TokenStream2 = item.into();
    let mut errors = darling::Error::accumulator();
    errors.handle(attr::hook_args(args.into()));
    let model = match fallback::parse_fn("hook", item.clone()) {
        Ok(f) => errors.handle(model::HookFn::new(f)),
        Err(e) => {
            errors.push(e.into());
            None
        }
    };
    let output = match errors.finish() {
        Err(e) => fallback::with_errors(item, e),
        // A model is missing only after an error.
        Ok(()) => model.map_or(item, expand::hook),
    };
    debug_expansion("hook", &output);
    output.into()
}

/// Parses the arguments and the function, collects every problem, and turns
/// them into compile errors next to the unchanged function; or expands.
fn run<A: FromMeta>(
    macro_name: &str,
    args: TokenStream2,
    item: TokenStream2,
    expand: impl FnOnce(A, FnModel) -> darling::Result<TokenStream2>,
) -> TokenStream {
    let mut errors = darling::Error::accumulator();
    let parsed_args = match NestedMeta::parse_meta_list(args) {
        Ok(list) => errors.handle(A::from_list(&list)),
        Err(e) => {
            errors.push(e.into());
            None
        }
    };
    let model = match fallback::parse_fn(macro_name, item.clone()) {
        Ok(f) => errors.handle(FnModel::new(f).map_err(darling::Error::from)),
        Err(e) => {
            errors.push(e.into());
            None
        }
    };
    let output = match (parsed_args, model) {
        (Some(args), Some(model)) => match errors.handle(expand(args, model)) {
            Some(tokens) => match errors.finish() {
                Ok(()) => tokens,
                Err(e) => fallback::with_errors(item, e),
            },
            None => fallback::with_errors(item, errors.finish().unwrap_err()),
        },
        _ => fallback::with_errors(item, errors.finish().expect_err("a part failed to parse")),
    };
    debug_expansion(macro_name, &output);
    output.into()
}

/// Prints the expansion when `HOOKFLOW_DEBUG_EXPAND` is set.
fn debug_expansion(macro_name: &str, output: &TokenStream2) {
    if std::env::var_os("HOOKFLOW_DEBUG_EXPAND").is_some() {
        eprintln!("#[hookflow::{macro_name}] expands to:\n{output}\n");
    }
}
