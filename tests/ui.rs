//! Compile-time behaviour of `#[step]`, `#[pipeline]` and `#[hook]`: what
//! compiles and runs (`ui-tests/pass`), and the exact errors for what must
//! not (`ui-tests/fail/*.stderr`, reviewed by hand).
//!
//! The snapshots depend on the compiler's wording, so the toolchain is pinned
//! in `rust-toolchain.toml`. Regenerate with
//! `TRYBUILD=overwrite cargo test --test ui` and review every `.stderr` diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui-tests/pass/*.rs");
    t.compile_fail("ui-tests/fail/*.rs");
}
