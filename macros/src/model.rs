//! A typed model of the annotated function: what the expansion needs to know
//! about its signature.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

use crate::text;

/// How the function's return type maps to the step's `Result<T, StepError>`.
pub enum Returns {
    /// `-> Result<T, E>` (any type whose name ends in `Result`): `T` when it
    /// is written as the first type argument.
    Result {
        ok: Option<Box<Type>>,
        /// Where `E` is written, when it is (`Result<T, E>`).
        err_span: Option<Span>,
    },
    /// Any other type (or none: `()`).
    Plain,
}

pub struct FnModel {
    pub item: ItemFn,
    pub is_async: bool,
    /// The declared return type (`()` when none).
    pub ret: Type,
    pub returns: Returns,
    /// The return type mentions a generic parameter, a lifetime, a reference
    /// or `impl Trait`: the output cannot be named from a `static`, nor shown
    /// to hooks.
    pub opaque: bool,
    /// Bindings of the parameters, in order (for per-attempt clones).
    pub bindings: Vec<Binding>,
}

pub struct Binding {
    pub ident: Ident,
    /// The binding's `mut`, if any: its span, for lints about it and their
    /// fixes.
    pub mut_span: Option<Span>,
    /// `ref x` / `ref mut x`: the binding is a reference to the argument.
    pub by_ref: bool,
    pub span: Span,
    /// The parameter's type, when the binding is the whole parameter and
    /// the type can be named (no `impl Trait`).
    pub ty: Option<Type>,
    /// The parameter's attributes (`#[allow(..)]`, `#[cfg(..)]`), for the
    /// per-attempt copies.
    pub attrs: Vec<syn::Attribute>,
    /// Which parameter the binding is part of (bindings of one pattern are
    /// copied by one `let`, which its attributes apply to as a whole).
    pub param: usize,
}

impl FnModel {
    pub fn new(item: ItemFn) -> syn::Result<FnModel> {
        let sig = &item.sig;
        if let Some(c) = &sig.constness {
            return Err(syn::Error::new(
                c.span(),
                "a `const fn` cannot be a step: steps catch panics and time their calls, which `const fn` cannot do",
            ));
        }
        let mut bindings = Vec::new();
        for (param, input) in sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(r) => {
                    return Err(syn::Error::new(
                        r.self_token.span(),
                        "steps and pipelines cannot take `self`: make this an associated function without a receiver, or a free function, and pass the value as an argument",
                    ));
                }
                FnArg::Typed(pt) => {
                    let first = bindings.len();
                    collect_bindings(&pt.pat, &mut bindings);
                    for b in &mut bindings[first..] {
                        b.attrs = pt.attrs.clone();
                        b.param = param;
                    }
                    if let (Pat::Ident(_), [only]) = (&*pt.pat, &mut bindings[first..]) {
                        let mut scan = Scan {
                            generics: &[],
                            opaque: false,
                            has_impl: false,
                        };
                        scan.visit_type(&pt.ty);
                        if !scan.has_impl {
                            only.ty = Some((*pt.ty).clone());
                        }
                    }
                }
            }
        }
        let ret: Type = match &sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => (**ty).clone(),
        };
        if let Type::Never(never) = &ret {
            return Err(syn::Error::new(
                never.bang_token.span(),
                "a step or pipeline cannot return `!`: it must be able to finish, so that its hooks can fire; return `()` or a `Result`",
            ));
        }
        if sig.asyncness.is_none()
            && let Some(output) = future_output(&ret)
        {
            let output = output.map_or_else(String::new, |t| format!(" -> {}", text::compact(&t)));
            return Err(syn::Error::new_spanned(
                &ret,
                format!(
                    "a sync `fn` that returns a future cannot be a step or pipeline: write `async fn {}(..){output}`; as it is, its hooks would fire when the future is built, before any of its work runs, and a panic inside the future would not be caught",
                    sig.ident
                ),
            ));
        }
        let returns = classify(&ret);
        let generics: Vec<Ident> = sig
            .generics
            .type_params()
            .map(|p| p.ident.clone())
            .chain(sig.generics.const_params().map(|p| p.ident.clone()))
            .collect();
        let mut scan = Scan {
            generics: &generics,
            opaque: false,
            has_impl: false,
        };
        scan.visit_type(&ret);
        // An output can borrow from the inputs through a lifetime the
        // signature does not write (`Cow<str>`): when the inputs borrow and
        // the output looks like it may, treat the output as borrowing.
        let inputs_borrow = sig.inputs.iter().any(|input| match input {
            FnArg::Typed(pt) => {
                let mut inputs = Scan {
                    generics: &[],
                    opaque: false,
                    has_impl: false,
                };
                inputs.visit_type(&pt.ty);
                inputs.opaque
            }
            FnArg::Receiver(_) => true,
        });
        let mut borrows = MayBorrow(false);
        borrows.visit_type(&ret);
        Ok(FnModel {
            is_async: sig.asyncness.is_some(),
            opaque: scan.opaque || (inputs_borrow && borrows.0),
            ret,
            returns,
            bindings,
            item,
        })
    }

    /// Applies `returns = "result" | "value"`.
    pub fn set_returns(&mut self, result: bool) {
        self.returns = if result {
            match classify(&self.ret) {
                r @ Returns::Result { .. } => r,
                Returns::Plain => Returns::Result {
                    ok: None,
                    err_span: None,
                },
            }
        } else {
            Returns::Plain
        };
    }

    /// The declared return type with `impl Trait` replaced by `_`, for
    /// annotating the body (closures cannot name `impl Trait`).
    pub fn body_type(&self) -> Type {
        struct Infer;
        impl syn::visit_mut::VisitMut for Infer {
            fn visit_type_mut(&mut self, ty: &mut Type) {
                if let Type::ImplTrait(_) = ty {
                    *ty = syn::parse_quote!(_);
                } else {
                    syn::visit_mut::visit_type_mut(self, ty);
                }
            }
        }
        let mut ty = self.ret.clone();
        syn::visit_mut::VisitMut::visit_type_mut(&mut Infer, &mut ty);
        ty
    }

    /// `T` of the wrapper's `Result<T, _>`.
    pub fn ok_type(&self) -> TokenStream {
        let ret = &self.ret;
        match &self.returns {
            Returns::Result { ok: Some(ok), .. } => ok.to_token_stream(),
            Returns::Result { ok: None, .. } => {
                quote!(<#ret as ::hookflow::__private::StepReturn>::Ok)
            }
            Returns::Plain => ret.to_token_stream(),
        }
    }

    /// Where to report problems with the return type: on `E` when it is
    /// written, else on the whole type.
    pub fn return_span(&self) -> Span {
        match &self.returns {
            Returns::Result {
                err_span: Some(span),
                ..
            } => *span,
            _ => self.ret.span(),
        }
    }

    /// The type typed success hooks take (`T`), as nameable from a `static`.
    pub fn hook_output_type(&self) -> TokenStream {
        if self.opaque {
            quote!(::hookflow::__private::GenericOrBorrowed)
        } else {
            self.ok_type()
        }
    }

    /// The type typed failure hooks take (`E`), as nameable from a `static`.
    pub fn hook_error_type(&self) -> TokenStream {
        let ret = &self.ret;
        match (&self.returns, self.opaque) {
            (_, true) => quote!(::hookflow::__private::GenericOrBorrowed),
            (Returns::Result { .. }, false) => {
                quote!(<#ret as ::hookflow::__private::StepReturn>::Err)
            }
            (Returns::Plain, false) => quote!(::core::convert::Infallible),
        }
    }
}

/// `Some(output)` when `ty` is a future: `impl Future<Output = T>` (or
/// `IntoFuture`), `dyn Future` behind `Box` / `Pin`, or `futures`'
/// `BoxFuture<'a, T>` / `LocalBoxFuture<'a, T>` (recognised by name).
/// `output` is `T` when it is written.
fn future_output(ty: &Type) -> Option<Option<Type>> {
    fn from_bounds<'a>(
        bounds: impl IntoIterator<Item = &'a syn::TypeParamBound>,
    ) -> Option<Option<Type>> {
        bounds.into_iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => {
                let last = t.path.segments.last()?;
                if last.ident != "Future" && last.ident != "IntoFuture" {
                    return None;
                }
                let output = match &last.arguments {
                    PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
                        GenericArgument::AssocType(at) if at.ident == "Output" => {
                            Some(at.ty.clone())
                        }
                        _ => None,
                    }),
                    _ => None,
                };
                Some(output)
            }
            _ => None,
        })
    }
    match ty {
        Type::ImplTrait(t) => from_bounds(&t.bounds),
        Type::TraitObject(t) => from_bounds(&t.bounds),
        Type::Paren(p) => future_output(&p.elem),
        Type::Group(g) => future_output(&g.elem),
        Type::Path(tp) if tp.qself.is_none() => {
            let last = tp.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            let mut types = args.args.iter().filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            });
            if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                Some(types.next().cloned())
            } else if last.ident == "Pin" || last.ident == "Box" {
                future_output(types.next()?)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn collect_bindings(pat: &Pat, out: &mut Vec<Binding>) {
    match pat {
        Pat::Ident(p) => {
            out.push(Binding {
                ident: p.ident.clone(),
                mut_span: p.mutability.map(|m| m.span),
                by_ref: p.by_ref.is_some(),
                span: p.ident.span(),
                ty: None,
                attrs: Vec::new(),
                param: 0,
            });
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Reference(r) => collect_bindings(&r.pat, out),
        Pat::Type(t) => collect_bindings(&t.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        _ => {}
    }
}

fn classify(ret: &Type) -> Returns {
    let Type::Path(tp) = ret else {
        return Returns::Plain;
    };
    let Some(last) = tp.path.segments.last() else {
        return Returns::Plain;
    };
    if tp.qself.is_some() || !last.ident.to_string().ends_with("Result") {
        return Returns::Plain;
    }
    classify_result(last)
}

fn classify_result(last: &syn::PathSegment) -> Returns {
    let types: Vec<&Type> = match &last.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Returns::Result {
        ok: types.first().map(|t| Box::new((*t).clone())),
        err_span: types.get(1).map(|t| t.span()),
    }
}

/// Finds types that usually borrow: `Cow<..>`, `str` or slices as type
/// arguments.
struct MayBorrow(bool);

impl<'ast> Visit<'ast> for MayBorrow {
    fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
        if seg.ident == "Cow" {
            self.0 = true;
        }
        if let PathArguments::AngleBracketed(args) = &seg.arguments {
            for arg in &args.args {
                match arg {
                    GenericArgument::Type(Type::Slice(_)) => self.0 = true,
                    GenericArgument::Type(Type::Path(p)) if p.path.is_ident("str") => self.0 = true,
                    _ => {}
                }
            }
        }
        syn::visit::visit_path_segment(self, seg);
    }
}

struct Scan<'g> {
    generics: &'g [Ident],
    opaque: bool,
    has_impl: bool,
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_lifetime(&mut self, _: &'ast syn::Lifetime) {
        self.opaque = true;
    }

    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        self.opaque = true;
        syn::visit::visit_type_reference(self, r);
    }

    fn visit_type_impl_trait(&mut self, t: &'ast syn::TypeImplTrait) {
        self.opaque = true;
        self.has_impl = true;
        syn::visit::visit_type_impl_trait(self, t);
    }

    fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
        if tp.qself.is_none()
            && let Some(first) = tp.path.segments.first()
            && (self.generics.contains(&first.ident) || first.ident == "Self")
        {
            self.opaque = true;
        }
        syn::visit::visit_type_path(self, tp);
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        // Array lengths and const arguments may name const generics.
        if let syn::Expr::Path(p) = e
            && let Some(first) = p.path.segments.first()
            && self.generics.contains(&first.ident)
        {
            self.opaque = true;
        }
        syn::visit::visit_expr(self, e);
    }
}

/// A `#[hook]` function: a free, non-generic function (its shape is
/// checked by the compiler, against the runtime's `NamedHookFn`).
pub struct HookFn {
    pub item: ItemFn,
}

impl HookFn {
    pub fn new(item: ItemFn) -> darling::Result<HookFn> {
        let mut errors = darling::Error::accumulator();
        let sig = &item.sig;
        for input in &sig.inputs {
            if let FnArg::Receiver(r) = input {
                errors.push(
                    darling::Error::custom(
                        "`#[hook]` cannot register a method: a hook attached by name is called without a value for `self`; make it a free function, such as `fn page_oncall(ctx: &HookContext)`",
                    )
                    .with_span(&r.self_token),
                );
            }
        }
        let params = &sig.generics.params;
        if params
            .iter()
            .any(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
        {
            errors.push(
                darling::Error::custom(
                    "`#[hook]` cannot register a generic function: configuration attaches one function, so its parameter types must be written out; remove the type parameters, or register a non-generic function that calls this one",
                )
                .with_span(&sig.generics),
            );
        }
        for input in &sig.inputs {
            if let FnArg::Typed(pt) = input {
                let mut scan = Scan {
                    generics: &[],
                    opaque: false,
                    has_impl: false,
                };
                scan.visit_type(&pt.ty);
                if scan.has_impl {
                    errors.push(
                        darling::Error::custom(
                            "`#[hook]` cannot register a generic function: an `impl Trait` parameter makes it generic; write the parameter's type (`&HookContext` or `&StepError`)",
                        )
                        .with_span(&pt.ty),
                    );
                }
            }
        }
        errors.finish_with(HookFn { item })
    }
}
