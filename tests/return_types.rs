//! Return types: aliases and `…Result` names with `returns = ..`, outputs
//! that borrow through elided lifetimes, `impl Trait` outputs with `?`.

// The elided `Cow<str>` outputs below are what these tests are about.
#![allow(mismatched_lifetime_syntaxes)]

use std::borrow::Cow;
use std::fmt::Display;

use hookflow::{step, ErrorKind, HookContext};

type Fallible<T> = Result<T, std::io::Error>;

#[step(returns = "result")]
fn alias(fail: bool) -> Fallible<u32> {
    if fail {
        return Err(std::io::Error::other("alias failed"));
    }
    Ok(1)
}

#[test]
fn a_result_alias_with_another_name_is_a_result_with_returns_result() {
    assert_eq!(alias(false).unwrap(), 1);
    let err = alias(true).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert!(err.downcast_ref::<std::io::Error>().is_some());
}

#[derive(Debug, PartialEq)]
struct SearchResult {
    hits: usize,
}

#[step(returns = "value")]
fn search(q: &str) -> SearchResult {
    SearchResult { hits: q.len() }
}

#[test]
fn a_plain_type_named_result_is_a_value_with_returns_value() {
    assert_eq!(search("abc").unwrap(), SearchResult { hits: 3 });
}

fn saw(ctx: &HookContext) {
    assert!(ctx.output::<String>().is_none());
}

#[step(on_success = saw)]
fn trimmed(s: &str) -> Cow<str> {
    Cow::Borrowed(s.trim())
}

#[step]
async fn trimmed_async(s: &str) -> anyhow::Result<Cow<str>> {
    Ok(Cow::Borrowed(s.trim()))
}

#[tokio::test]
async fn outputs_borrowing_through_elided_lifetimes() {
    assert_eq!(trimmed(" a ").unwrap(), "a");
    assert_eq!(trimmed_async(" b ").await.unwrap(), "b");
}

#[step]
fn parsed(s: &str) -> anyhow::Result<impl Display> {
    let n: u32 = s.parse()?;
    Ok(n * 2)
}

#[step]
async fn parsed_async(s: &str) -> anyhow::Result<impl Display> {
    let n: u32 = s.parse()?;
    Ok(n + 1)
}

#[tokio::test]
async fn impl_trait_outputs_keep_question_mark() {
    assert_eq!(parsed("21").unwrap().to_string(), "42");
    assert!(parsed("x").is_err());
    assert_eq!(parsed_async("1").await.unwrap().to_string(), "2");
}
