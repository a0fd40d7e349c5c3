//! Tokens as a user writes them, for names in records and in messages:
//! `crate::alerts::page(..)` rather than `crate :: alerts :: page (..)`.

use quote::ToTokens;

/// The tokens' text with the spaces `to_string` adds around punctuation
/// removed, and without a leading `::`.
pub fn compact(tokens: &impl ToTokens) -> String {
    let raw = tokens.to_token_stream().to_string();
    let s = raw
        .replace(" < ", "<")
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" ::", "::")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" .", ".")
        .replace(". ", ".");
    s.trim_start_matches("::").to_owned()
}
