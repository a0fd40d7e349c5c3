// Hooks given as paths into modules (`alerts::page`, `crate::..`, `self::..`,
// `super::..`), as calls that build a hook, and as `[a, b]` lists mixing all
// of these; within one event they fire in the order written.
use hookflow::{step, HookContext, StepError};
use std::sync::Mutex;

static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(s: impl Into<String>) {
    LOG.lock().unwrap().push(s.into());
}

mod alerts {
    use super::log;

    pub fn page(e: &hookflow::StepError) {
        log(format!("page:{}", e.message()));
    }

    pub mod slack {
        pub fn post(c: &hookflow::HookContext) -> Result<(), String> {
            super::super::log(format!("slack:{}", c.step_name().unwrap()));
            Ok(())
        }
    }

    /// A call that builds a hook.
    pub fn tagged(tag: &'static str) -> impl Fn(&hookflow::HookContext) + Send + Sync + 'static {
        move |c| log(format!("{tag}:{}", c.status()))
    }

    pub mod inner {
        #[hookflow::step(on_success = [super::slack::post, self::local], on_failure = super::page)]
        pub fn nested(fail: bool) -> anyhow::Result<()> {
            anyhow::ensure!(!fail, "nested failed");
            Ok(())
        }

        fn local() {
            super::log("local");
        }
    }
}

fn first() {
    log("first");
}

#[step(
    on_success = [first, crate::alerts::slack::post, alerts::tagged("done")],
    on_failure = [alerts::page, crate::alerts::page],
    on_finish = alerts::tagged("finish"),
)]
fn work(fail: bool) -> anyhow::Result<u32> {
    anyhow::ensure!(!fail, "nope");
    Ok(1)
}

fn main() {
    let _: fn(&StepError) = alerts::page;
    let _: fn(&HookContext) -> Result<(), String> = alerts::slack::post;

    work(false).unwrap();
    assert_eq!(
        std::mem::take(&mut *LOG.lock().unwrap()),
        ["first", "slack:work", "done:completed", "finish:completed"]
    );
    work(true).unwrap_err();
    assert_eq!(
        std::mem::take(&mut *LOG.lock().unwrap()),
        ["page:nope", "page:nope", "finish:failed"]
    );
    alerts::inner::nested(false).unwrap();
    alerts::inner::nested(true).unwrap_err();
    assert_eq!(
        std::mem::take(&mut *LOG.lock().unwrap()),
        ["slack:nested", "local", "page:nested failed"]
    );
}
