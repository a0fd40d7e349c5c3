//! What to emit when the input is wrong: the user's item unchanged, next to
//! the errors, so that one mistake gives one error and not a cascade.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

/// The annotated item as a function, or an error on its first token.
pub fn parse_fn(macro_name: &str, item: TokenStream) -> syn::Result<ItemFn> {
    match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(f)) => Ok(f),
        Ok(other) => Err(syn::Error::new(
            item_keyword_span(&other),
            format!(
                "`#[{macro_name}]` can only be applied to functions, not to {}",
                describe(&other)
            ),
        )),
        Err(e) => Err(syn::Error::new(
            e.span(),
            format!("`#[{macro_name}]` can only be applied to functions: {e}"),
        )),
    }
}

fn describe(item: &Item) -> &'static str {
    match item {
        Item::Struct(_) => "a struct",
        Item::Enum(_) => "an enum",
        Item::Union(_) => "a union",
        Item::Const(_) => "a const",
        Item::Static(_) => "a static",
        Item::Trait(_) => "a trait",
        Item::Impl(_) => "an impl block",
        Item::Mod(_) => "a module",
        Item::Type(_) => "a type alias",
        Item::Use(_) => "a use declaration",
        Item::Macro(_) => "a macro invocation",
        Item::ExternCrate(_) => "an extern crate",
        Item::ForeignMod(_) => "an extern block",
        _ => "this item",
    }
}

fn item_keyword_span(item: &Item) -> proc_macro2::Span {
    match item {
        Item::Struct(i) => i.struct_token.span,
        Item::Enum(i) => i.enum_token.span,
        Item::Union(i) => i.union_token.span,
        Item::Const(i) => i.const_token.span,
        Item::Static(i) => i.static_token.span,
        Item::Trait(i) => i.trait_token.span,
        Item::Impl(i) => i.impl_token.span,
        Item::Mod(i) => i.mod_token.span,
        Item::Type(i) => i.type_token.span,
        other => other.span(),
    }
}

/// The original item with the errors.
pub fn with_errors(item: TokenStream, errors: darling::Error) -> TokenStream {
    let errors = errors.write_errors();
    quote!(#item #errors)
}
