//! Property test of the lifecycle: for generated step behaviours (per
//! attempt: ok / error / panic / timeout / hang-then-cancel), retries 0..=3
//! and hooks that succeed, err or panic, check the invariants:
//! exactly one terminal status; the hooks of that status fire exactly once
//! each, in the documented order; `on_retry` fires `attempts - 1` times; no
//! hook of another status fires; hook failures never change the result.
//! 10 000 generated lifecycles per run.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hookflow::{current, step, ErrorKind, HookContext, StepError};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    Ok,
    Err,
    Panic,
    Timeout,
    Hang,
}

#[derive(Debug, Clone, Copy)]
enum HookAct {
    Fine,
    Errs,
    Panics,
}

struct Script {
    acts: Vec<Act>,
    hooks: [HookAct; 7],
    log: Vec<String>,
    hang: Option<Arc<tokio::sync::Notify>>,
}

static SCRIPT: Mutex<Option<Script>> = Mutex::new(None);
static NEXT: AtomicUsize = AtomicUsize::new(0);

fn with_script<T>(f: impl FnOnce(&mut Script) -> T) -> T {
    f(SCRIPT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_mut()
        .unwrap())
}

fn hook(index: usize, entry: String) -> Result<(), String> {
    let act = with_script(|s| {
        s.log.push(entry);
        s.hooks[index]
    });
    match act {
        HookAct::Fine => Ok(()),
        HookAct::Errs => Err("hook says no".into()),
        HookAct::Panics => panic!("hook panicked"),
    }
}

fn h_start(ctx: &HookContext) -> Result<(), String> {
    hook(0, format!("start#{}", ctx.attempt()))
}
fn h_success(ctx: &HookContext) -> Result<(), String> {
    hook(1, format!("success:{}", ctx.output::<u32>().unwrap()))
}
fn h_failure(e: &StepError) -> Result<(), String> {
    hook(2, format!("failure:{}", e.kind()))
}
fn h_retry(ctx: &HookContext, e: &StepError) -> Result<(), String> {
    hook(3, format!("retry#{}:{}", ctx.attempt(), e.kind()))
}
fn h_crash(_: &StepError) -> Result<(), String> {
    hook(4, "crash".into())
}
fn h_cancel(ctx: &HookContext) -> Result<(), String> {
    hook(5, format!("cancel:{}", ctx.status()))
}
fn h_finish(ctx: &HookContext) -> Result<(), String> {
    hook(6, format!("finish:{}", ctx.status()))
}

async fn body() -> anyhow::Result<u32> {
    let attempt = current().unwrap().attempt();
    let act = with_script(|s| s.acts[NEXT.fetch_add(1, Ordering::SeqCst)]);
    tokio::task::yield_now().await;
    match act {
        Act::Ok => Ok(attempt * 10),
        Act::Err => anyhow::bail!("attempt {attempt} failed"),
        Act::Panic => panic!("attempt {attempt} panicked"),
        Act::Timeout => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(0)
        }
        Act::Hang => {
            with_script(|s| s.hang.clone()).unwrap().notify_one();
            std::future::pending().await
        }
    }
}

macro_rules! steps {
    ($($name:ident = $retries:literal),*) => {$(
        #[step(
            retries = $retries,
            timeout = "100ms",
            on_start = h_start,
            on_success = h_success,
            on_failure = h_failure,
            on_retry = h_retry,
            on_crash = h_crash,
            on_cancel = h_cancel,
            on_finish = h_finish
        )]
        async fn $name() -> anyhow::Result<u32> {
            body().await
        }
    )*};
}

steps!(r0 = 0, r1 = 1, r2 = 2, r3 = 3);

/// What the documented lifecycle says must happen.
fn expected(acts: &[Act], retries: usize) -> (Vec<String>, Result<u32, ErrorKind>) {
    let mut log = Vec::new();
    let max = retries + 1;
    for (i, act) in acts.iter().take(max).enumerate() {
        let attempt = i + 1;
        log.push(format!("start#{attempt}"));
        let last = attempt == max;
        match act {
            Act::Ok => {
                let v = attempt as u32 * 10;
                log.push(format!("success:{v}"));
                log.push("finish:completed".into());
                return (log, Ok(v));
            }
            Act::Err | Act::Timeout => {
                let kind = if *act == Act::Err {
                    ErrorKind::Error
                } else {
                    ErrorKind::Timeout
                };
                if last {
                    log.push(format!("failure:{kind}"));
                    log.push("finish:failed".into());
                    return (log, Err(kind));
                }
                log.push(format!("retry#{attempt}:{kind}"));
            }
            Act::Panic => {
                log.extend([
                    "crash".into(),
                    "failure:panic".into(),
                    "finish:crashed".into(),
                ]);
                return (log, Err(ErrorKind::Panic));
            }
            Act::Hang => {
                log.extend(["cancel:cancelled".into(), "finish:cancelled".into()]);
                return (log, Err(ErrorKind::Cancelled));
            }
        }
    }
    unreachable!("the script has an action per attempt")
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => Just(Act::Ok),
        3 => Just(Act::Err),
        1 => Just(Act::Panic),
        2 => Just(Act::Timeout),
        1 => Just(Act::Hang),
    ]
}

fn hook_act() -> impl Strategy<Value = HookAct> {
    prop_oneof![4 => Just(HookAct::Fine), 1 => Just(HookAct::Errs), 1 => Just(HookAct::Panics)]
}

/// One runtime for every case (paused clock: timeouts cost no real time),
/// and no panic output: the generated panics are expected, by the
/// thousand.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        std::panic::set_hook(Box::new(|_| {}));
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn lifecycle_invariants(
        acts in proptest::collection::vec(act(), 4),
        retries in 0usize..=3,
        hooks in proptest::array::uniform7(hook_act()),
    ) {
        let hang = Arc::new(tokio::sync::Notify::new());
        *SCRIPT.lock().unwrap_or_else(|p| p.into_inner()) = Some(Script {
            acts: acts.clone(),
            hooks,
            log: Vec::new(),
            hang: Some(hang.clone()),
        });
        NEXT.store(0, Ordering::SeqCst);

        let result: Result<u32, ErrorKind> = runtime().block_on(async {
            let fut = async {
                match retries {
                    0 => r0().await,
                    1 => r1().await,
                    2 => r2().await,
                    _ => r3().await,
                }
            };
            tokio::select! {
                biased;
                r = fut => r.map_err(|e: StepError| e.kind()),
                // Hang: the caller drops the step's future.
                () = hang.notified() => Err(ErrorKind::Cancelled),
            }
        });
        let log = with_script(|s| std::mem::take(&mut s.log));
        let (want_log, want_result) = expected(&acts, retries);
        prop_assert_eq!(&result, &want_result);
        prop_assert_eq!(&log, &want_log);
        let retries_fired = log.iter().filter(|e| e.starts_with("retry#")).count();
        let attempts = log.iter().filter(|e| e.starts_with("start#")).count();
        prop_assert_eq!(retries_fired, attempts - 1);
        let terminal = log.iter().filter(|e| e.starts_with("finish:")).count();
        prop_assert_eq!(terminal, 1);
    }
}
