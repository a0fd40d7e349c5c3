//! Code generation: a static description, the hook set built once, and a
//! call into the runtime's generic entry point. Everything the generated code
//! names is an absolute path; its locals start with `__hookflow_`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Pat, ReturnType};

use crate::attr::{Events, HookList, PipelineArgs, StepArgs, each_event};
use crate::model::{FnModel, HookFn, Returns};
use crate::text;

/// Which registration function (and so which signature trait) checks a hook.
#[derive(Clone, Copy)]
enum Role {
    /// `fn()`, `fn(&HookContext)`.
    Basic,
    /// + `fn(&StepError)`, `fn(&HookContext, &StepError)`.
    Error,
    /// + the step's error type.
    StepError,
    /// `on_success` of a step: + the step's output type.
    StepSuccess,
}

fn event_marker(event: &str) -> TokenStream {
    let marker = format_ident!("on_{}", event.to_lowercase());
    quote!(::hookflow::__private::event::#marker)
}

/// The text of a hook as written, for names in records and logs.
fn hook_name(expr: &Expr) -> String {
    text::compact(expr)
}

/// Registration calls for one event list into the builder `b`.
fn register(
    b: &syn::Ident,
    event: &str,
    list: &HookList,
    role: Role,
    kind: &TokenStream,
    step_types: Option<(&TokenStream, &TokenStream)>,
) -> TokenStream {
    let ev = format_ident!("{}", event);
    let marker = event_marker(event);
    let calls = list.hooks.iter().map(|hook| {
        let name = hook_name(hook);
        let span = hook.span();
        let call = match (role, step_types) {
            (Role::StepSuccess, Some((out, _))) => quote_spanned! {span=>
                ::hookflow::__private::step_success_hook::<#out, #kind, _, _>(&mut #b, #name, __hookflow_hook);
            },
            (Role::StepError, Some((_, err))) => quote_spanned! {span=>
                ::hookflow::__private::step_error_hook::<#marker, #err, #kind, _, _>(&mut #b, #name, __hookflow_hook);
            },
            (Role::Error, _) => quote_spanned! {span=>
                ::hookflow::__private::error_hook::<#marker, #kind, _, _>(&mut #b, #name, __hookflow_hook);
            },
            _ => quote_spanned! {span=>
                ::hookflow::__private::hook::<#marker, #kind, _, _>(&mut #b, #name, __hookflow_hook);
            },
        };
        // Bound first, so that a generic hook's own bounds are reported (as
        // in `__hookflow_hook_types`, below) before any shape ambiguity.
        quote_spanned!(span=> { let __hookflow_hook = #hook; #call })
    });
    quote! {
        #b.name_event(::hookflow::__private::Event::#ev);
        #(#calls)*
    }
}

/// A path whose last segment has no generic arguments (`show`, not
/// `show::<Report>`), in parentheses or not.
fn is_bare_path(expr: &Expr) -> bool {
    match expr {
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.arguments.is_none()),
        Expr::Paren(p) => is_bare_path(&p.expr),
        Expr::Group(g) => is_bare_path(&g.expr),
        _ => false,
    }
}

/// `&[(Event::X, &["a", "b"]), ..]` for the static description.
fn names_table(events: &Events) -> TokenStream {
    let rows = each_event(events).into_iter().filter_map(|(event, list)| {
        let list = list?;
        let ev = format_ident!("{}", event);
        let names = list.hooks.iter().map(hook_name);
        Some(quote!((::hookflow::__private::Event::#ev, &[#(#names),*])))
    });
    quote!(&[#(#rows),*])
}

fn has_hooks(events: &Events) -> bool {
    each_event(events).iter().any(|(_, l)| l.is_some())
}

/// A builder expression producing a `HookSet` for `events`.
fn hook_set(
    events: &Events,
    roles: impl Fn(&str) -> Role,
    kind: &TokenStream,
    step_types: Option<(&TokenStream, &TokenStream)>,
) -> TokenStream {
    let b = format_ident!("__hookflow_b");
    let regs = each_event(events).into_iter().filter_map(|(event, list)| {
        list.map(|list| register(&b, event, list, roles(event), kind, step_types))
    });
    // Each hook that is a path without generic arguments, typed on its own
    // in a body of its own: a generic function has nothing there to fix its
    // type parameter, so it is rustc's "cannot infer the type parameter `T`
    // declared on the function `show`" with the turbofish to write, instead
    // of a parameter inferred from the accepted shapes (`HookContext`).
    let bare_paths: Vec<&Expr> = each_event(events)
        .into_iter()
        .filter_map(|(_, list)| list)
        .flat_map(|list| &list.hooks)
        .filter(|hook| is_bare_path(hook))
        .collect();
    let types = (!bare_paths.is_empty()).then(|| {
        let lets = bare_paths
            .iter()
            .map(|hook| quote_spanned!(hook.span()=> let _ = #hook;));
        quote! {
            #[allow(dead_code)]
            fn __hookflow_hook_types() { #(#lets)* }
        }
    });
    quote! {{
        #types
        #[allow(unused_mut)]
        let mut #b = ::hookflow::__private::HookSetBuilder::new();
        #(#regs)*
        #b.build()
    }}
}

fn duration_tokens(d: std::time::Duration) -> TokenStream {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    quote!(::hookflow::__private::Duration::from_nanos(#nanos))
}

/// The wrapper's signature: same name, parameters and generics, returning
/// `Result<T, ErrorType>`; in retry mode the parameters lose `mut` (the
/// per-attempt copies get it).
fn wrapper_sig(model: &FnModel, error_ty: TokenStream, strip_mut: bool) -> syn::Signature {
    let mut sig = model.item.sig.clone();
    let ok = model.ok_type();
    let span = match &sig.output {
        ReturnType::Type(arrow, _) => arrow.span(),
        ReturnType::Default => sig.paren_token.span.close(),
    };
    sig.output = syn::parse_quote_spanned!(span=> -> ::core::result::Result<#ok, #error_ty>);
    if strip_mut {
        for input in sig.inputs.iter_mut() {
            if let FnArg::Typed(pt) = input {
                strip_mutability(&mut pt.pat);
                // The parameter is used (copied for each attempt): a lint
                // the user expects is fulfilled on the copy, not here.
                pt.attrs = relaxed(&pt.attrs);
            }
        }
    }
    sig
}

/// `attrs` with each `#[expect(..)]` turned into `#[allow(..)]`, for a
/// binding that the expansion uses where the user's does not.
fn relaxed(attrs: &[syn::Attribute]) -> Vec<syn::Attribute> {
    attrs
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let syn::Meta::List(list) = &mut a.meta {
                if list.path.is_ident("expect") {
                    list.path = syn::Ident::new("allow", list.path.span()).into();
                } else if list.path.is_ident("cfg_attr")
                    && let Ok(mut metas) = list.parse_args_with(
                        syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                    )
                {
                    // `cfg_attr(PREDICATE, expect(..), ..)`: the same for the
                    // attributes it applies (the predicate comes first).
                    for meta in metas.iter_mut().skip(1) {
                        if let syn::Meta::List(inner) = meta
                            && inner.path.is_ident("expect")
                        {
                            inner.path = syn::Ident::new("allow", inner.path.span()).into();
                        }
                    }
                    list.tokens = quote!(#metas);
                }
            }
            a
        })
        .collect()
}

fn strip_mutability(pat: &mut Pat) {
    match pat {
        Pat::Ident(p) => {
            p.mutability = None;
            if let Some((_, sub)) = &mut p.subpat {
                strip_mutability(sub);
            }
        }
        Pat::Tuple(t) => t.elems.iter_mut().for_each(strip_mutability),
        Pat::TupleStruct(t) => t.elems.iter_mut().for_each(strip_mutability),
        Pat::Struct(s) => s
            .fields
            .iter_mut()
            .for_each(|f| strip_mutability(&mut f.pat)),
        Pat::Slice(s) => s.elems.iter_mut().for_each(strip_mutability),
        Pat::Reference(r) => strip_mutability(&mut r.pat),
        Pat::Type(t) => strip_mutability(&mut t.pat),
        Pat::Paren(p) => strip_mutability(&mut p.pat),
        _ => {}
    }
}

/// The body as a value of the declared return type: a closure call (sync) or
/// an awaited async block, so that `return` and `?` keep their meaning.
fn body_value(model: &FnModel) -> TokenStream {
    let block = &model.item.block;
    let ret = model.body_type();
    quote!(::hookflow::__private::call(move || -> #ret #block))
}

/// Wraps a body value for the runtime (`Plain(..)` for non-`Result` returns).
fn wrap(model: &FnModel, value: TokenStream) -> TokenStream {
    match model.returns {
        Returns::Result { .. } => value,
        Returns::Plain => quote!(::hookflow::__private::Plain(#value)),
    }
}

/// An async body as one `async move` block, with `prefix` statements
/// before the user's own, and the type its runtime entry point is told to
/// expect (`Plain<T>` for a non-`Result` return), which gives `?` in the
/// block its target type.
fn async_body(model: &FnModel, prefix: TokenStream) -> (TokenStream, TokenStream) {
    let block = &model.item.block;
    let ret = model.body_type();
    // An async block's output type is inferred from its first `return` or
    // its tail, so `Box::new(s)` would not become the declared
    // `Box<dyn Trait>`: a `return` the block never takes, first, fixes its
    // output to the declared type, and every later `return` and the tail
    // coerce to it, as in the user's `async fn`.
    let declared = quote! {
        if let ::core::option::Option::Some(__hookflow_ret) = ::core::option::Option::None::<#ret> {
            #[allow(unreachable_code)]
            return __hookflow_ret;
        }
    };
    let stmts = &block.stmts;
    let block = quote_spanned!(block.brace_token.span.join()=> { #declared #prefix #(#stmts)* });
    match model.returns {
        Returns::Result { .. } => (quote!(async move #block), quote!(#ret)),
        Returns::Plain => (
            quote!(async move #block),
            quote!(::hookflow::__private::Plain<#ret>),
        ),
    }
}

/// The statements that give one attempt its copies of the arguments (with
/// `retries`): `(in the attempt closure, at the start of the async block)`.
///
/// Sync: each copy is bound in the closure as the user wrote the binding
/// (`ref` bindings borrow a copy, not the argument). Async: the closure
/// makes each copy and the async block binds it as the user wrote it, so
/// that the attempt's future holds every copy until it ends, used or not,
/// and `unused_variables` / `unused_mut` fire at the user's binding.
fn attempt_copies(model: &FnModel, is_async: bool) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    // The bindings of one parameter are copied by one `let`, so that the
    // parameter's attributes (`#[expect(unused_variables)]` on `(a, b)`)
    // apply to them as a whole, as they do on the parameter.
    for group in model.bindings.chunk_by(|a, b| a.param == b.param) {
        let attrs = &group[0].attrs;
        let span = group[0].span;
        let mut copies = Vec::new();
        let mut pats = Vec::new();
        let mut outer_pats = Vec::new();
        let mut names = Vec::new();
        for b in group {
            let ident = &b.ident;
            // Spanned at the user's binding: `unused_mut` and a missing
            // `Clone` point there.
            let mutability = b.mut_span.map(|span| quote_spanned!(span=> mut));
            let by_ref = b.by_ref.then(|| quote_spanned!(b.span=> ref));
            // Naming the type keeps rustc from suggesting to borrow the
            // parameter when it is not `Clone`.
            let turbofish = b.ty.as_ref().map(|ty| quote!(::<#ty>));
            let source = if b.by_ref {
                quote_spanned!(b.span=> &*#ident)
            } else {
                quote_spanned!(b.span=> &#ident)
            };
            copies.push(match turbofish {
                Some(turbofish) => {
                    quote_spanned!(b.span=> ::hookflow::__private::clone_arg #turbofish (#source))
                }
                None => quote_spanned!(b.span=> ::hookflow::__private::clone_part(#source)),
            });
            pats.push(quote!(#by_ref #mutability #ident));
            // `ref mut x` borrows the copy mutably, so the copy is `mut`.
            let outer_mut = b
                .by_ref
                .then_some(b.mut_span)
                .flatten()
                .map(|span| quote_spanned!(span=> mut));
            outer_pats.push(quote!(#outer_mut #ident));
            names.push(quote!(#ident));
        }
        // Copying a `_guard` for an attempt uses it, and a `ref` copy is the
        // parameter's own `ref`: not the user's doing.
        let underscore = group.iter().any(|b| b.ident.to_string().starts_with('_'));
        let by_ref = group.iter().any(|b| b.by_ref);
        let allow = match (underscore, by_ref) {
            (false, false) => None,
            _ => Some(quote!(#[allow(
                clippy::used_underscore_binding,
                clippy::no_effect_underscore_binding,
                clippy::toplevel_ref_arg
            )])),
        };
        let tuple = |items: &[TokenStream]| match items {
            [one] => one.clone(),
            many => quote_spanned!(span=> (#(#many),*)),
        };
        let (copy, pat, outer_pat, name) = (
            tuple(&copies),
            tuple(&pats),
            tuple(&outer_pats),
            tuple(&names),
        );
        if is_async {
            let outer_attrs = relaxed(attrs);
            outer.push(quote_spanned! {span=>
                #(#outer_attrs)*
                #allow
                let #outer_pat = #copy;
            });
            inner.push(quote_spanned! {span=>
                #(#attrs)*
                #allow
                let #pat = #name;
            });
        } else {
            outer.push(quote_spanned! {span=>
                #(#attrs)*
                #allow
                let #pat = #copy;
            });
        }
    }
    (outer, inner)
}

pub fn step(args: StepArgs, model: FnModel) -> TokenStream {
    let retries = args.retries.map_or(0, |r| r.value);
    // `retries` present, even as `0`: arguments are cloned per attempt, so
    // a configuration file can change the count.
    let retry_mode = args.retries.is_some();
    let item = &model.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = wrapper_sig(&model, quote!(::hookflow::StepError), retry_mode);
    let fn_ident = &item.sig.ident;
    let fn_name = fn_ident.to_string();
    let name = args
        .name
        .as_ref()
        .map_or_else(|| fn_name.clone(), |n| n.value.clone());
    let is_async = model.is_async;
    let delay = duration_tokens(args.retry_delay.map(|d| d.value).unwrap_or_default());
    let timeout = match args.timeout {
        Some(t) => {
            let d = duration_tokens(t.value);
            quote!(::core::option::Option::Some(#d))
        }
        None => quote!(::core::option::Option::None),
    };
    let names = names_table(&args.events);
    let line = quote_spanned!(fn_ident.span()=> ::core::line!());

    let kind = if is_async {
        quote!(::hookflow::__private::AsyncStep)
    } else {
        quote!(::hookflow::__private::SyncStep)
    };
    // Typed shapes only where the type can be named from a `static` and, for
    // errors, where there is an error type at all.
    let typed_output = !model.opaque;
    let typed_error = !model.opaque && matches!(model.returns, Returns::Result { .. });
    let out_ty = model.hook_output_type();
    let err_ty = model.hook_error_type();
    let hooks_of = has_hooks(&args.events)
        .then(|| quote!(hooks_of: ::core::option::Option::Some(__hookflow_hooks_any),));
    let hooks = if has_hooks(&args.events) {
        let set = hook_set(
            &args.events,
            |ev| match (ev, typed_output, typed_error) {
                ("Success", true, _) => Role::StepSuccess,
                ("Failure" | "Retry" | "Crash", _, true) => Role::StepError,
                ("Failure" | "Retry" | "Crash", _, false) => Role::Error,
                _ => Role::Basic,
            },
            &kind,
            Some((&out_ty, &err_ty)),
        );
        // A nested `fn` item: it cannot capture the step's arguments or use
        // its generic parameters, which a `static` shared by every call
        // must not depend on.
        quote! {
            fn __hookflow_build_hooks() -> ::hookflow::__private::HookSet #set
            static __HOOKFLOW_HOOKS: ::hookflow::__private::HookCell<::hookflow::__private::HookSet> =
                ::hookflow::__private::HookCell::new();
            fn __hookflow_hooks_any() -> &'static (dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync) {
                __HOOKFLOW_HOOKS.get_or_build(#name, __hookflow_build_hooks, ::hookflow::__private::HookSet::empty_set)
            }
            let __hookflow_hooks =
                __HOOKFLOW_HOOKS.get_or_build(#name, __hookflow_build_hooks, ::hookflow::__private::HookSet::empty_set);
        }
    } else {
        quote!(let __hookflow_hooks = ::hookflow::__private::HookSet::none();)
    };

    let ok = model.ok_type();
    let expose = if model.opaque {
        quote!(::hookflow::__private::Hidden)
    } else {
        quote! {{
            #[allow(unused_imports)]
            use ::hookflow::__private::{ExposeOutput as _, HideOutput as _};
            (&::hookflow::__private::Probe::<#ok>::NEW).expose()
        }}
    };

    let (clones, rebinds) = if retry_mode {
        attempt_copies(&model, is_async)
    } else {
        (Vec::new(), Vec::new())
    };
    // The call is spanned on the return type, so that a return type the
    // runtime cannot use (an error type that is no error) is reported there.
    let span = model.return_span();
    let call = if is_async {
        let (attempt, expected) = async_body(&model, quote!(#(#rebinds)*));
        let body = if retry_mode {
            quote!(::hookflow::__private::Retry(move || { #(#clones)* #attempt }))
        } else {
            quote!(::hookflow::__private::Once::new(move || #attempt))
        };
        // The wrapper stays an `async fn`: it holds every parameter until the
        // call ends, whatever the body uses, and takes every parameter
        // pattern and attribute an `async fn` takes.
        quote_spanned!(span=> ::hookflow::__private::run_async::<#expected, _, _>(&__HOOKFLOW_STEP, __hookflow_hooks, #expose, #body).await)
    } else {
        // The body as one closure: `return` and `?` keep their meaning, and
        // the entry point (one per call mode and return kind) is the only
        // generic code between the wrapper and the lifecycle.
        let block = &model.item.block;
        let ret = model.body_type();
        let entry = match (retry_mode, &model.returns) {
            (false, Returns::Plain) => quote!(run_plain),
            (false, Returns::Result { .. }) => quote!(run_once),
            (true, Returns::Plain) => quote!(run_plain_retry),
            (true, Returns::Result { .. }) => quote!(run_retry),
        };
        // Without `retries` the user's block is the closure's body itself
        // (nesting it in another block would draw `unused_braces` on
        // one-line bodies); with `retries`, the clones come first and the
        // block runs as its own closure, so `return` still leaves the body.
        let closure = if clones.is_empty() {
            quote!(move || -> #ret #block)
        } else {
            quote!(move || -> #ret { #(#clones)* ::hookflow::__private::call(move || -> #ret #block) })
        };
        quote_spanned!(span=> ::hookflow::__private::#entry(&__HOOKFLOW_STEP, __hookflow_hooks, #expose, #closure))
    };

    quote! {
        #(#attrs)*
        #vis #sig {
            #[::hookflow::__private::linkme::distributed_slice(::hookflow::__private::STEPS)]
            #[linkme(crate = ::hookflow::__private::linkme)]
            // `..DEFAULT` keeps the expansion valid when the description grows.
            #[allow(clippy::needless_update)]
            static __HOOKFLOW_STEP: ::hookflow::__private::StepMeta = ::hookflow::__private::StepMeta {
                name: #name,
                fn_name: #fn_name,
                module_path: ::core::module_path!(),
                file: ::core::file!(),
                line: #line,
                is_async: #is_async,
                retries: #retries,
                retryable: #retry_mode,
                retry_delay: #delay,
                timeout: #timeout,
                hooks: #names,
                #hooks_of
                ..::hookflow::__private::StepMeta::DEFAULT
            };
            #hooks
            #call
        }
    }
}

pub fn pipeline(args: PipelineArgs, model: FnModel) -> TokenStream {
    let item = &model.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = wrapper_sig(&model, quote!(::hookflow::PipelineError), false);
    let fn_ident = &item.sig.ident;
    let fn_name = fn_ident.to_string();
    let name = args
        .name
        .as_ref()
        .map_or_else(|| fn_name.clone(), |n| n.value.clone());
    let is_async = model.is_async;
    let line = quote_spanned!(fn_ident.span()=> ::core::line!());
    let kind = if is_async {
        quote!(::hookflow::__private::AsyncStep)
    } else {
        quote!(::hookflow::__private::SyncStep)
    };
    let roles = |ev: &str| match ev {
        "Failure" | "Retry" | "Crash" => Role::Error,
        _ => Role::Basic,
    };
    let durable = args.durable.is_some_and(|d| d.value);
    let durable_check = durable.then(|| {
        quote_spanned! {fn_ident.span()=>
            const _: () = ::core::assert!(
                ::hookflow::__private::JOURNAL_FEATURE,
                "`#[pipeline(durable)]` needs hookflow's `journal` feature: add `features = [\"journal\"]` to hookflow in Cargo.toml"
            );
        }
    });
    let steps = args.steps.clone().unwrap_or_default();
    let own_names = names_table(&args.events);
    let step_names = names_table(&steps);
    let own_set = hook_set(&args.events, roles, &kind, None);
    let steps_set = hook_set(&steps, roles, &kind, None);

    let value = wrap(&model, body_value(&model));
    let span = model.return_span();
    let call = if is_async {
        let (fut, expected) = async_body(&model, TokenStream::new());
        quote_spanned!(span=> ::hookflow::__private::pipeline_async::<#expected, _>(&__HOOKFLOW_PIPELINE, __hookflow_hooks, #fut).await)
    } else {
        quote_spanned!(span=> ::hookflow::__private::pipeline_sync(&__HOOKFLOW_PIPELINE, __hookflow_hooks, move || #value))
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #[::hookflow::__private::linkme::distributed_slice(::hookflow::__private::PIPELINES)]
            #[linkme(crate = ::hookflow::__private::linkme)]
            // `..DEFAULT` keeps the expansion valid when the description grows.
            #[allow(clippy::needless_update)]
            static __HOOKFLOW_PIPELINE: ::hookflow::__private::PipelineMeta = ::hookflow::__private::PipelineMeta {
                name: #name,
                fn_name: #fn_name,
                module_path: ::core::module_path!(),
                file: ::core::file!(),
                line: #line,
                is_async: #is_async,
                hooks: #own_names,
                step_defaults: #step_names,
                durable: #durable,
                hooks_of: ::core::option::Option::Some(__hookflow_hooks_any),
                ..::hookflow::__private::PipelineMeta::DEFAULT
            };
            #durable_check
            fn __hookflow_build_hooks() -> ::hookflow::__private::PipelineHooks {
                ::hookflow::__private::PipelineHooks::new(#own_set, #steps_set)
            }
            static __HOOKFLOW_HOOKS: ::hookflow::__private::HookCell<::hookflow::__private::PipelineHooks> =
                ::hookflow::__private::HookCell::new();
            fn __hookflow_hooks_of() -> &'static ::hookflow::__private::PipelineHooks {
                __HOOKFLOW_HOOKS.get_or_build(
                    #name,
                    __hookflow_build_hooks,
                    ::hookflow::__private::PipelineHooks::none,
                )
            }
            fn __hookflow_hooks_any() -> &'static (dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync) {
                __hookflow_hooks_of()
            }
            let __hookflow_hooks = __hookflow_hooks_of();
            #call
        }
    }
}

/// The span to blame for a `timeout` on a sync step.
pub fn timeout_on_sync(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "`timeout` needs an `async fn` step: a sync function cannot be interrupted when its time is up; make the step `async fn`, or remove `timeout`",
    )
}

/// `#[hook]`: the function unchanged, and its registry entry. The shape is
/// checked by `named_fn`, spanned on the function's name; both uses are the
/// same expression, so a wrong shape is one error.
pub fn hook(model: HookFn) -> TokenStream {
    let item = &model.item;
    let ident = &item.sig.ident;
    let bare = syn::ext::IdentExt::unraw(ident).to_string();
    let check = quote_spanned!(ident.span()=> ::hookflow::__private::named_fn(&#ident));
    // The entry exists exactly when the function does.
    let cfgs = item.attrs.iter().filter(|a| a.path().is_ident("cfg"));
    quote! {
        #item
        #(#cfgs)*
        const _: () = {
            #[::hookflow::__private::linkme::distributed_slice(::hookflow::__private::HOOKS)]
            #[linkme(crate = ::hookflow::__private::linkme)]
            static __HOOKFLOW_NAMED_HOOK: ::hookflow::__private::NamedHook =
                #check.register(
                    ::core::concat!(::core::module_path!(), "::", #bare),
                    __hookflow_make,
                );
            fn __hookflow_make(name: &'static str) -> ::hookflow::__private::ErasedHook {
                #check.erase(name)
            }
        };
    }
}
