//! Hook outcomes as data: how each hook call went, readable after a run.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::event::Event;

/// How one hook call went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookStatus {
    /// It returned `()` or `Ok(())`.
    Ok,
    /// It returned `Err`; the message is the error's `Display`.
    Failed(String),
    /// It panicked; the panic message.
    Panicked(String),
    /// An async hook ran past its time bound and was stopped.
    TimedOut(Duration),
    /// It was not called because its argument does not exist for this
    /// firing (a typed `fn(&E)` hook after a panic, say).
    Skipped(Cow<'static, str>),
    /// The step's future was dropped while this async hook ran.
    Interrupted,
}

impl HookStatus {
    /// `true` for [`HookStatus::Ok`] and [`HookStatus::Skipped`].
    pub fn is_ok(&self) -> bool {
        matches!(self, HookStatus::Ok | HookStatus::Skipped(_))
    }
}

impl fmt::Display for HookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HookStatus::Ok => f.write_str("ok"),
            HookStatus::Failed(m) => write!(f, "failed: {m}"),
            HookStatus::Panicked(m) => write!(f, "panicked: {m}"),
            HookStatus::TimedOut(d) => {
                write!(f, "timed out after {}", humantime::format_duration(*d))
            }
            HookStatus::Skipped(why) => f.write_str(why),
            HookStatus::Interrupted => f.write_str("interrupted: the step's future was dropped"),
        }
    }
}

/// The record of one hook call in a pipeline run, readable after the run
/// from [`RunReport::hook_outcomes`](crate::RunReport::hook_outcomes).
#[derive(Debug, Clone)]
pub struct HookOutcome {
    pub(crate) hook: &'static str,
    pub(crate) event: Event,
    pub(crate) step: Option<Cow<'static, str>>,
    pub(crate) status: HookStatus,
    pub(crate) duration: Duration,
}

impl HookOutcome {
    /// The hook, as written in the attribute.
    pub fn hook(&self) -> &'static str {
        self.hook
    }

    /// The event it fired for.
    pub fn event(&self) -> Event {
        self.event
    }

    /// The step it fired for; `None` for the pipeline's own hooks.
    pub fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    /// How it went.
    pub fn status(&self) -> &HookStatus {
        &self.status
    }

    /// How long the call took. Calls that returned `Ok` are recorded
    /// without timing (zero here): only the calls that went wrong are timed.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}
