//! Step calls running while `install` replaces the configuration: each call
//! uses one configuration from start to end (hooks, attempts, retries),
//! never a mix of two.
#![cfg(feature = "config")]

mod config_common;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hookflow::config::Config;
use hookflow::{step, HookContext};

thread_local! {
    static SEEN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn note(ctx: &HookContext, what: &str) {
    let entry = format!("{what}{}/{}", ctx.attempt(), ctx.max_attempts());
    SEEN.with(|s| s.borrow_mut().push(entry));
}

#[hookflow::hook]
pub fn a_start(ctx: &HookContext) {
    note(ctx, "A:start");
}
#[hookflow::hook]
pub fn a_retry(ctx: &HookContext) {
    note(ctx, "A:retry");
}
#[hookflow::hook]
pub fn a_fail(ctx: &HookContext) {
    note(ctx, "A:fail");
}
#[hookflow::hook]
pub fn b_start(ctx: &HookContext) {
    note(ctx, "B:start");
}
#[hookflow::hook]
pub fn b_retry(ctx: &HookContext) {
    note(ctx, "B:retry");
}
#[hookflow::hook]
pub fn b_fail(ctx: &HookContext) {
    note(ctx, "B:fail");
}

fn attr_fail(ctx: &HookContext) {
    note(ctx, "attr:fail");
}

#[step(retries = 0, on_failure = attr_fail)]
fn contended() -> anyhow::Result<()> {
    anyhow::bail!("always")
}

const A: &str = "[steps.contended]\nretries = 1\non_start = [\"a_start\"]\non_retry = [\"a_retry\"]\non_failure = [\"a_fail\"]\n";
const B: &str = "[steps.contended]\nretries = 2\non_start = [\"b_start\"]\non_retry = [\"b_retry\"]\non_failure = [\"b_fail\"]\n";

#[test]
fn every_call_sees_one_whole_configuration_while_install_replaces_it() {
    let as_a = ["A:start1/2", "A:retry1/2", "A:start2/2", "A:fail2/2"];
    let as_b = [
        "B:start1/3",
        "B:retry1/3",
        "B:start2/3",
        "B:retry2/3",
        "B:start3/3",
        "B:fail3/3",
    ];
    let as_attr = ["attr:fail1/1"];

    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let done = done.clone();
            std::thread::spawn(move || {
                let (mut a, mut b, mut attr) = (0u32, 0u32, 0u32);
                let mut extra = 50;
                while extra > 0 {
                    if done.load(Ordering::Acquire) {
                        extra -= 1;
                    }
                    let err = contended().unwrap_err();
                    let seen = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
                    if seen == as_a {
                        a += 1;
                        assert_eq!(err.attempt(), 2);
                    } else if seen == as_b {
                        b += 1;
                        assert_eq!(err.attempt(), 3);
                    } else if seen == as_attr {
                        attr += 1;
                        assert_eq!(err.attempt(), 1);
                    } else {
                        panic!("a call mixed configurations: {seen:?}");
                    }
                }
                (a, b, attr)
            })
        })
        .collect();

    for i in 0..200 {
        let text = if i % 2 == 0 { A } else { B };
        Config::from_toml_str("hookflow.toml", text)
            .unwrap()
            .install();
        std::thread::sleep(Duration::from_micros(200));
    }
    done.store(true, Ordering::Release);

    let (mut a, mut b) = (0, 0);
    for w in workers {
        let (wa, wb, _) = w.join().expect("a worker saw a mixed configuration");
        a += wa;
        b += wb;
    }
    assert!(
        a > 0 && b > 0,
        "both configurations were used: A {a}, B {b}"
    );
    hookflow::config::uninstall();
}
