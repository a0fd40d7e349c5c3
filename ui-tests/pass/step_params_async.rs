// Async steps keep the user's parameters as written: references, generics,
// `impl Trait` arguments, pattern parameters, `mut` parameters with and
// without `retries`; early `return` and `?` in the body behave as in the
// plain function; `timeout` and `retry_delay` are accepted.
use hookflow::{step, ErrorKind};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

#[step]
async fn by_ref(v: &[u32], s: &str) -> usize {
    tokio::task::yield_now().await;
    v.len() + s.len()
}

#[step(timeout = "5s")]
async fn generic<T: Debug + Send + Sync>(item: T) -> String {
    format!("{item:?}")
}

#[step]
async fn impl_arg(it: impl IntoIterator<Item = u32> + Send) -> u32 {
    it.into_iter().sum()
}

#[step]
async fn patterns((a, b): (u32, u32), [c, _]: [u32; 2]) -> u32 {
    a + b + c
}

#[step]
async fn mut_param(mut n: u32) -> u32 {
    n += 1;
    n
}

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);

#[step(retries = 2, retry_delay = "1ms", timeout = "2s")]
async fn mut_param_retried(mut v: Vec<u32>, (mut a, _b): (u32, u32)) -> anyhow::Result<Vec<u32>> {
    a += 1;
    v.push(a);
    if ATTEMPTS.fetch_add(1, SeqCst) < 2 {
        anyhow::bail!("attempt with {v:?}");
    }
    Ok(v)
}

#[step]
async fn early_return(x: i32) -> Result<i32, std::num::ParseIntError> {
    if x < 0 {
        return Ok(0);
    }
    let parsed: i32 = "12".parse()?;
    tokio::task::yield_now().await;
    let _bad: i32 = if x == 99 { "x".parse()? } else { 0 };
    Ok(parsed + x)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(by_ref(&[1, 2], "abc").await.unwrap(), 5);
    assert_eq!(generic(Some(1)).await.unwrap(), "Some(1)");
    assert_eq!(impl_arg([1, 2, 3]).await.unwrap(), 6);
    assert_eq!(patterns((1, 2), [3, 4]).await.unwrap(), 6);
    assert_eq!(mut_param(1).await.unwrap(), 2);
    assert_eq!(mut_param_retried(vec![0], (1, 0)).await.unwrap(), [0, 2]);
    assert_eq!(ATTEMPTS.load(SeqCst), 3);
    assert_eq!(early_return(-1).await.unwrap(), 0);
    assert_eq!(early_return(1).await.unwrap(), 13);
    let e = early_return(99).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Error);
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
}
