//! Attribute arguments, parsed with darling: unknown keys (with "did you
//! mean"), duplicate keys and malformed values are reported on their tokens.

use std::time::Duration;

use darling::{Error, FromMeta};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit};

/// The expression inside invisible groups (values passed through
/// `macro_rules!` arrive wrapped in them).
fn ungroup(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => ungroup(&g.expr),
        other => other,
    }
}

/// `on_x = hook` or `on_x = [a, b]`.
#[derive(Debug, Clone)]
pub struct HookList {
    pub hooks: Vec<Expr>,
}

impl FromMeta for HookList {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let items: Vec<&Expr> = match ungroup(expr) {
            Expr::Array(array) => array.elems.iter().map(ungroup).collect(),
            other => vec![other],
        };
        let mut errors = Error::accumulator();
        let mut hooks = Vec::with_capacity(items.len());
        for item in items {
            if let Some(hook) = errors.handle(check_hook(item)) {
                hooks.push(hook.clone());
            }
        }
        errors.finish_with(HookList { hooks })
    }
}

/// A hook is a path, a call that builds one, or a closure.
fn check_hook(expr: &Expr) -> darling::Result<&Expr> {
    match expr {
        Expr::Path(_) | Expr::Call(_) | Expr::MethodCall(_) | Expr::Closure(_) => Ok(expr),
        Expr::Paren(p) => check_hook(&p.expr).map(|_| expr),
        Expr::Lit(lit) => {
            let found = match &lit.lit {
                Lit::Str(_) => "a string literal",
                _ => "a literal",
            };
            Err(Error::custom(format!(
                "expected a hook function, found {found}: a hook is a function path (`alert`), a call that builds a hook (`hooks::log()`), or a closure"
            ))
            .with_span(expr))
        }
        _ => Err(Error::custom(
            "expected a hook function: a hook is a function path (`alert`), a call that builds a hook (`hooks::log()`), or a closure",
        )
        .with_span(expr)),
    }
}

/// A duration literal in humantime syntax (`"500ms"`, `"2s"`, `"1m 30s"`).
#[derive(Debug, Clone, Copy)]
pub struct DurationLit {
    pub value: Duration,
    pub span: Span,
}

impl FromMeta for DurationLit {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) = ungroup(expr)
        else {
            return Err(Error::custom(
                "expected a duration string such as \"500ms\", \"2s\" or \"1m 30s\"",
            )
            .with_span(expr));
        };
        match humantime::parse_duration(&s.value()) {
            Ok(value) => Ok(DurationLit {
                value,
                span: s.span(),
            }),
            Err(e) => Err(Error::custom(format!(
                "malformed duration {:?}: {e}; expected something like \"500ms\", \"2s\" or \"1m 30s\"",
                s.value()
            ))
            .with_span(s)),
        }
    }
}

/// `retries = N`.
#[derive(Debug, Clone, Copy)]
pub struct Retries {
    pub value: u32,
}

impl FromMeta for Retries {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match ungroup(expr) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => i
                .base10_parse::<u32>()
                .map(|value| Retries { value })
                .map_err(|e| {
                    Error::custom(format!("`retries` must be a whole number: {e}")).with_span(i)
                }),
            _ => Err(
                Error::custom("`retries` must be a whole number, such as `retries = 2`")
                    .with_span(expr),
            ),
        }
    }
}

/// `durable`, or `durable = true` / `false`.
#[derive(Debug, Clone, Copy)]
pub struct Durable {
    pub value: bool,
}

impl FromMeta for Durable {
    fn from_word() -> darling::Result<Self> {
        Ok(Durable { value: true })
    }

    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match ungroup(expr) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Bool(b), ..
            }) => Ok(Durable { value: b.value }),
            _ => Err(Error::custom(
                "`durable` is a flag: write `durable`, or `durable = true` / `durable = false`",
            )
            .with_span(expr)),
        }
    }
}

/// `name = "..."`.
#[derive(Debug, Clone)]
pub struct Name {
    pub value: String,
}

impl FromMeta for Name {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match ungroup(expr) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) if !s.value().trim().is_empty() => Ok(Name { value: s.value() }),
            _ => Err(Error::custom(
                "`name` must be a non-empty string, such as `name = \"load orders\"`",
            )
            .with_span(&expr.span())),
        }
    }
}

/// `returns = "result"` or `returns = "value"`.
#[derive(Debug, Clone, Copy)]
pub struct ReturnsKey {
    pub result: bool,
}

impl FromMeta for ReturnsKey {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        match ungroup(expr) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) if s.value() == "result" || s.value() == "value" => Ok(ReturnsKey {
                result: s.value() == "result",
            }),
            other => Err(Error::custom(
                "`returns` is \"result\" (the return type is a `Result` alias) or \"value\" (it is a plain value)",
            )
            .with_span(other)),
        }
    }
}

/// The seven event keys.
#[derive(Debug, Default, Clone, FromMeta)]
pub struct Events {
    pub on_start: Option<HookList>,
    pub on_success: Option<HookList>,
    pub on_failure: Option<HookList>,
    pub on_retry: Option<HookList>,
    pub on_crash: Option<HookList>,
    pub on_cancel: Option<HookList>,
    pub on_finish: Option<HookList>,
}

/// `#[step(...)]`.
#[derive(Debug, Default, FromMeta)]
pub struct StepArgs {
    pub name: Option<Name>,
    #[darling(flatten)]
    pub events: Events,
    pub retries: Option<Retries>,
    pub retry_delay: Option<DurationLit>,
    pub timeout: Option<DurationLit>,
    pub returns: Option<ReturnsKey>,
}

/// `#[pipeline(...)]`.
#[derive(Debug, Default, FromMeta)]
pub struct PipelineArgs {
    pub name: Option<Name>,
    #[darling(flatten)]
    pub events: Events,
    pub steps: Option<Events>,
    pub returns: Option<ReturnsKey>,
    /// `durable` or `durable = true`.
    pub durable: Option<Durable>,
}

/// The events in a fixed order, with the runtime's names for them.
pub fn each_event(events: &Events) -> [(&'static str, Option<&HookList>); 7] {
    [
        ("Start", events.on_start.as_ref()),
        ("Success", events.on_success.as_ref()),
        ("Failure", events.on_failure.as_ref()),
        ("Retry", events.on_retry.as_ref()),
        ("Crash", events.on_crash.as_ref()),
        ("Cancel", events.on_cancel.as_ref()),
        ("Finish", events.on_finish.as_ref()),
    ]
}

/// `#[hook]` takes no arguments: a hook is registered under its path.
pub fn hook_args(args: proc_macro2::TokenStream) -> darling::Result<()> {
    match args.into_iter().next() {
        None => Ok(()),
        Some(first) => Err(Error::custom(
            "`#[hook]` takes no arguments: the hook is registered under its path (`my_crate::module::name`) and its bare name, which configuration files use to attach it",
        )
        .with_span(&first.span())),
    }
}
