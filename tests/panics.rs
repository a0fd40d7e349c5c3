//! Panics in step bodies are caught (sync and async), end the call
//! `Crashed`, and fire `on_crash`, `on_failure`, `on_finish` in that order.

mod common;

use common::{on_crash, on_failure, on_finish, on_retry, on_success, take};
use hookflow::{step, ErrorKind};

#[step(on_crash = on_crash, on_failure = on_failure, on_success = on_success, on_finish = on_finish)]
fn boom(msg: &str) -> anyhow::Result<u32> {
    if msg.is_empty() {
        return Ok(0);
    }
    panic!("{msg}");
}

#[test]
fn a_sync_panic_is_caught_and_fires_crash_failure_finish_in_order() {
    let err = boom("disk on fire").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert!(err.is_panic());
    assert_eq!(err.message(), "disk on fire");
    assert!(err.to_string().contains("panicked: disk on fire"));
    assert_eq!(
        take("boom"),
        [
            "crash:disk on fire",
            "failure:panic:disk on fire",
            "finish:crashed"
        ]
    );
    // The process goes on, and the step works again.
    assert_eq!(boom("").unwrap(), 0);
    assert_eq!(take("boom"), ["success", "finish:completed"]);
}

#[step(on_crash = on_crash, on_failure = on_failure, on_finish = on_finish)]
fn static_str_panic() -> u8 {
    panic!("plain literal")
}

#[step(on_failure = on_failure)]
fn non_string_panic() -> u8 {
    std::panic::panic_any(17_u32)
}

#[test]
fn panic_payloads_become_messages() {
    assert_eq!(static_str_panic().unwrap_err().message(), "plain literal");
    assert_eq!(take("static_str_panic").len(), 3);
    let err = non_string_panic().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(err.message(), "panic with a non-string payload");
    assert_eq!(take("non_string_panic").len(), 1);
}

#[step(on_crash = on_crash, on_failure = on_failure, on_finish = on_finish, on_retry = on_retry, retries = 3)]
async fn async_boom(after_await: bool) -> anyhow::Result<()> {
    if after_await {
        tokio::task::yield_now().await;
    }
    panic!("async kaboom");
}

#[tokio::test]
async fn an_async_panic_is_caught_before_and_after_an_await() {
    for after_await in [false, true] {
        let err = async_boom(after_await).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Panic);
        assert_eq!(err.message(), "async kaboom");
        // Panics are not retried: one attempt, no on_retry.
        assert_eq!(err.attempt(), 1);
        assert_eq!(
            take("async_boom"),
            [
                "crash:async kaboom",
                "failure:panic:async kaboom",
                "finish:crashed"
            ]
        );
    }
}

#[step(retries = 2, on_retry = on_retry, on_failure = on_failure)]
fn panics_are_not_retried() -> anyhow::Result<()> {
    panic!("once")
}

#[test]
fn a_panic_ends_the_call_without_retrying() {
    let err = panics_are_not_retried().unwrap_err();
    assert_eq!(err.attempt(), 1);
    assert_eq!(take("panics_are_not_retried"), ["failure:panic:once"]);
}

/// A panic payload whose own `Drop` panics (std documents that dropping a
/// caught payload can panic).
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the payload's drop panicked");
    }
}

#[step(on_crash = on_crash, on_cancel = common::on_cancel, on_finish = on_finish)]
fn bomb() {
    std::panic::panic_any(Bomb)
}

#[step(on_crash = on_crash, on_cancel = common::on_cancel, on_finish = on_finish)]
async fn bomb_async() {
    std::panic::panic_any(Bomb)
}

#[test]
fn a_payload_whose_drop_panics_still_ends_crashed_sync() {
    let err = bomb().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(err.message(), "panic with a non-string payload");
    assert_eq!(
        take("bomb"),
        ["crash:panic with a non-string payload", "finish:crashed"]
    );
}

#[tokio::test]
async fn a_payload_whose_drop_panics_still_ends_crashed_async() {
    let err = bomb_async().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert_eq!(
        take("bomb_async"),
        ["crash:panic with a non-string payload", "finish:crashed"]
    );
}

/// An error whose `Drop` panics (once: the flag is cleared first). Dropping
/// a retried attempt's error must not unwind out of the step.
#[derive(Debug)]
struct BadErr(bool);

impl std::fmt::Display for BadErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bad")
    }
}

impl std::error::Error for BadErr {}

impl Drop for BadErr {
    fn drop(&mut self) {
        if self.0 {
            self.0 = false;
            panic!("the retried error's drop panicked");
        }
    }
}

/// Attempt 1 fails with an error whose `Drop` panics; attempt 2 with a
/// harmless one (the caller drops that one).
#[step(retries = 1, on_start = common::on_start, on_retry = on_retry, on_failure = on_failure, on_finish = on_finish)]
fn bad_err_retried() -> Result<u32, BadErr> {
    Err(BadErr(hookflow::current().unwrap().attempt() == 1))
}

#[step(retries = 1, on_start = common::on_start, on_retry = on_retry, on_failure = on_failure, on_finish = on_finish)]
async fn bad_err_retried_async() -> Result<u32, BadErr> {
    tokio::task::yield_now().await;
    Err(BadErr(hookflow::current().unwrap().attempt() == 1))
}

const BAD_ERR_HOOKS: [&str; 5] = [
    "start#1",
    "retry#1:error",
    "start#2",
    "failure:error:bad",
    "finish:failed",
];

#[test]
fn a_retried_error_whose_drop_panics_does_not_change_the_outcome_sync() {
    let err = bad_err_retried().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert_eq!(err.attempt(), 2);
    assert_eq!(take("bad_err_retried"), BAD_ERR_HOOKS);
}

#[tokio::test]
async fn a_retried_error_whose_drop_panics_does_not_change_the_outcome_async() {
    let err = bad_err_retried_async().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert_eq!(err.attempt(), 2);
    assert_eq!(take("bad_err_retried_async"), BAD_ERR_HOOKS);
}

/// An async `on_retry` hook holds the retried error in its context while it
/// is awaited: that context's drop is the error's last.
async fn on_retry_async(ctx: &hookflow::HookContext, e: &hookflow::StepError) {
    tokio::task::yield_now().await;
    on_retry(ctx, e);
}

#[step(retries = 1, on_start = common::on_start, on_retry = on_retry_async, on_failure = on_failure, on_finish = on_finish)]
async fn bad_err_retried_async_hook() -> Result<u32, BadErr> {
    Err(BadErr(hookflow::current().unwrap().attempt() == 1))
}

#[tokio::test]
async fn a_retried_error_whose_drop_panics_after_an_async_retry_hook_does_not_change_the_outcome() {
    let err = bad_err_retried_async_hook().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Error);
    assert_eq!(take("bad_err_retried_async_hook"), BAD_ERR_HOOKS);
}
