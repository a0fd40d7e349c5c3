// Sync steps keep the user's parameters as written: references (with and
// without named lifetimes), generics with bounds and `where` clauses,
// `impl Trait` arguments, pattern parameters, `mut` parameters with and
// without `retries`; and early `return` and `?` in the body behave as in the
// plain function.
use hookflow::{step, ErrorKind, StepError};
use std::fmt::Display;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

#[step]
fn by_ref(v: &[u32], s: &str) -> usize {
    v.len() + s.len()
}

#[step]
fn with_lifetime<'a>(a: &'a str, _b: &str) -> String {
    a.to_owned()
}

#[step(on_success = || ())]
fn generic<T: Display + Clone, const N: usize>(items: [T; N]) -> String
where
    T: Send,
{
    items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

#[step]
fn impl_arg(it: impl IntoIterator<Item = u32>, f: impl Fn(u32) -> u32) -> u32 {
    it.into_iter().map(f).sum()
}

#[step]
fn patterns((a, b): (u32, u32), [c, d]: [u8; 2], Wrapper { inner }: Wrapper, _: ()) -> u32 {
    a + b + u32::from(c) + u32::from(d) + inner
}

struct Wrapper {
    inner: u32,
}

#[step]
fn mut_param(mut n: u32, mut v: Vec<u32>) -> Vec<u32> {
    n += 1;
    v.push(n);
    v
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[step(retries = 3)]
fn mut_param_retried(mut n: u32, mut v: Vec<u32>, (mut a, b): (u32, u32)) -> anyhow::Result<Vec<u32>> {
    // each attempt starts from the caller's values
    n += 1;
    a += b;
    v.push(n);
    v.push(a);
    if ATTEMPTS.fetch_add(1, SeqCst) < 2 {
        anyhow::bail!("attempt with {v:?}");
    }
    Ok(v)
}

#[step]
fn early_return(x: i32) -> Result<i32, std::num::ParseIntError> {
    if x < 0 {
        return Ok(0);
    }
    let parsed: i32 = "12".parse()?;
    let _bad: i32 = if x == 99 { "x".parse()? } else { 0 };
    Ok(parsed + x)
}

#[step]
fn early_return_plain(x: i32) -> &'static str {
    if x < 0 {
        return "negative";
    }
    "non-negative"
}

#[step]
fn question_anyhow(s: &str) -> anyhow::Result<u32> {
    let n: u32 = s.parse()?;
    anyhow::ensure!(n < 100, "too big: {n}");
    Ok(n)
}

#[step]
fn unit_step() {}

fn main() {
    assert_eq!(by_ref(&[1, 2], "abc").unwrap(), 5);
    assert_eq!(with_lifetime("x", "y").unwrap(), "x");
    assert_eq!(generic([1, 2, 3]).unwrap(), "1,2,3");
    assert_eq!(generic::<&str, 1>(["a"]).unwrap(), "a");
    assert_eq!(impl_arg(vec![1, 2], |x| x * 10).unwrap(), 30);
    assert_eq!(patterns((1, 2), [3, 4], Wrapper { inner: 5 }, ()).unwrap(), 15);
    assert_eq!(mut_param(1, vec![0]).unwrap(), [0, 2]);
    assert_eq!(mut_param_retried(1, vec![0], (1, 2)).unwrap(), [0, 2, 3]);
    assert_eq!(ATTEMPTS.load(SeqCst), 3);
    assert_eq!(early_return(-5).unwrap(), 0);
    assert_eq!(early_return(1).unwrap(), 13);
    let e: StepError = early_return(99).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Error);
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
    assert_eq!(early_return_plain(-1).unwrap(), "negative");
    assert_eq!(early_return_plain(1).unwrap(), "non-negative");
    assert_eq!(question_anyhow("7").unwrap(), 7);
    assert!(question_anyhow("x").is_err());
    assert_eq!(question_anyhow("700").unwrap_err().message(), "too big: 700");
    let () = unit_step().unwrap();
}
