//! The records of a durable run: what happened, in the order it happened,
//! with everything a recovery needs to rebuild the contexts of the hooks it
//! fires.
//!
//! Names and messages are `Cow<'a, str>`: a running process journals its
//! `&'static` step names and borrowed messages without copying them, and a
//! record read back owns its text (`Record<'static>`).

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::JournalError;
use crate::error::ErrorKind;
use crate::event::Event;
use crate::status::Status;

/// One entry of the journal.
///
/// A durable run writes them in this order: [`RunStarted`]; per step
/// attempt [`StepStarted`] (before the body runs), [`StepEnded`] (the
/// attempt's outcome, before its hooks fire), a [`HookStarted`] /
/// [`HookEnded`] pair per hook call, [`StepClosed`] once the attempt's hooks
/// are done; then [`RunEnded`] (the run's terminal state, before the
/// pipeline's hooks), the pipeline's hook pairs and [`RunClosed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record<'a> {
    /// A pipeline run started.
    RunStarted(RunStarted<'a>),
    /// A step attempt is about to run its body.
    StepStarted(StepStarted<'a>),
    /// A step attempt reached its outcome; its hooks fire next.
    StepEnded(StepEnded<'a>),
    /// A hook is about to be called (the intent).
    HookStarted(HookStarted<'a>),
    /// A hook call returned (the outcome).
    HookEnded(HookEnded<'a>),
    /// Every hook of a step attempt's outcome has run.
    StepClosed(StepClosed<'a>),
    /// The run reached its terminal state; the pipeline's hooks fire next.
    RunEnded(RunEnded<'a>),
    /// The pipeline's hooks have run: the run is finished and may be
    /// compacted away.
    RunClosed(RunClosed),
}

impl Record<'_> {
    /// The run this record belongs to.
    pub fn run_id(&self) -> Uuid {
        match self {
            Record::RunStarted(r) => r.run_id,
            Record::StepStarted(r) => r.run_id,
            Record::StepEnded(r) => r.run_id,
            Record::HookStarted(r) => r.key.run_id,
            Record::HookEnded(r) => r.key.run_id,
            Record::StepClosed(r) => r.run_id,
            Record::RunEnded(r) => r.run_id,
            Record::RunClosed(r) => r.run_id,
        }
    }

    /// The record's payload, as every store keeps it (`postcard`): compact,
    /// and stable within one [`FORMAT_VERSION`](super::FORMAT_VERSION).
    pub fn to_bytes(&self) -> Result<Vec<u8>, JournalError> {
        postcard::to_stdvec(self).map_err(|e| JournalError::Encode(e.to_string()))
    }

    /// Reads a payload written by [`to_bytes`](Self::to_bytes); `None` when
    /// it is not one whole record.
    pub fn from_bytes(bytes: &[u8]) -> Option<Record<'static>> {
        match postcard::take_from_bytes::<Record<'static>>(bytes) {
            Ok((record, [])) => Some(record),
            _ => None,
        }
    }

    /// A copy that owns its text.
    pub fn into_owned(self) -> Record<'static> {
        match self {
            Record::RunStarted(r) => Record::RunStarted(RunStarted {
                run_id: r.run_id,
                pipeline: owned(r.pipeline),
                pipeline_path: owned(r.pipeline_path),
                at: r.at,
            }),
            Record::StepStarted(r) => Record::StepStarted(StepStarted {
                run_id: r.run_id,
                step: r.step.into_owned(),
                step_path: owned(r.step_path),
                attempt: r.attempt,
                max_attempts: r.max_attempts,
                at: r.at,
            }),
            Record::StepEnded(r) => Record::StepEnded(StepEnded {
                run_id: r.run_id,
                step: r.step.into_owned(),
                attempt: r.attempt,
                status: r.status,
                error: r.error.map(ErrorInfo::into_owned),
                retrying: r.retrying,
                at: r.at,
            }),
            Record::HookStarted(r) => Record::HookStarted(HookStarted {
                key: r.key.into_owned(),
                redelivered: r.redelivered,
                at: r.at,
            }),
            Record::HookEnded(r) => Record::HookEnded(HookEnded {
                key: r.key.into_owned(),
                result: r.result.into_owned(),
                at: r.at,
            }),
            Record::StepClosed(r) => Record::StepClosed(StepClosed {
                run_id: r.run_id,
                step: r.step.into_owned(),
                attempt: r.attempt,
            }),
            Record::RunEnded(r) => Record::RunEnded(RunEnded {
                run_id: r.run_id,
                status: r.status,
                error: r.error.map(ErrorInfo::into_owned),
                failed_steps: r
                    .failed_steps
                    .into_iter()
                    .map(FailedStepInfo::into_owned)
                    .collect(),
                at: r.at,
            }),
            Record::RunClosed(r) => Record::RunClosed(r),
        }
    }
}

fn owned(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// A pipeline run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStarted<'a> {
    /// The run's id (UUID v7).
    pub run_id: Uuid,
    /// The pipeline's display name.
    pub pipeline: Cow<'a, str>,
    /// The pipeline function's path (`my_crate::etl::nightly`), how a
    /// recovering binary finds its declaration.
    pub pipeline_path: Cow<'a, str>,
    /// When the run started.
    #[serde(with = "unix_nanos")]
    pub at: SystemTime,
}

/// One call of a step inside a run: its display name and its place among
/// the run's step calls (a step called twice in one run is two calls).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StepCall<'a> {
    /// The call's number in its run, unique per run.
    pub seq: u32,
    /// The step's display name.
    pub name: Cow<'a, str>,
}

impl StepCall<'_> {
    /// A copy that owns its text.
    pub fn into_owned(self) -> StepCall<'static> {
        StepCall {
            seq: self.seq,
            name: owned(self.name),
        }
    }
}

/// A step attempt is about to run its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepStarted<'a> {
    /// The run it belongs to.
    pub run_id: Uuid,
    /// Which step call.
    pub step: StepCall<'a>,
    /// The step function's path (`my_crate::etl::load`).
    pub step_path: Cow<'a, str>,
    /// The attempt, from 1.
    pub attempt: u32,
    /// How many attempts the step may make.
    pub max_attempts: u32,
    /// When the attempt started.
    #[serde(with = "unix_nanos")]
    pub at: SystemTime,
}

/// What went wrong: the kind and the error's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo<'a> {
    /// What happened.
    #[serde(with = "kind_code")]
    pub kind: ErrorKind,
    /// The error's `Display`.
    pub message: Cow<'a, str>,
}

impl ErrorInfo<'_> {
    /// A copy that owns its text.
    pub fn into_owned(self) -> ErrorInfo<'static> {
        ErrorInfo {
            kind: self.kind,
            message: owned(self.message),
        }
    }
}

/// A step attempt reached its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepEnded<'a> {
    /// The run it belongs to.
    pub run_id: Uuid,
    /// Which step call.
    pub step: StepCall<'a>,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The attempt's state: a terminal [`Status`], or `Failed` with
    /// `retrying` set when another attempt follows.
    #[serde(with = "status_code")]
    pub status: Status,
    /// The error, for every status but `Completed`.
    pub error: Option<ErrorInfo<'a>>,
    /// Another attempt follows (its `on_retry` hooks fire, not the terminal
    /// ones).
    pub retrying: bool,
    /// When the attempt ended.
    #[serde(with = "unix_nanos")]
    pub at: SystemTime,
}

/// The stable identity of one hook call: run id / step call / attempt /
/// event / hook. Receivers use its [`Display`](fmt::Display) form to drop
/// duplicate deliveries.
///
/// ```
/// use hookflow::journal::{DeliveryKey, StepCall};
/// use hookflow::Event;
///
/// let run_id = uuid::Uuid::nil();
/// let key = DeliveryKey {
///     run_id,
///     step: Some(StepCall { seq: 3, name: "load".into() }),
///     attempt: 2,
///     event: Event::Failure,
///     hook: "page_oncall".into(),
/// };
/// assert_eq!(
///     key.to_string(),
///     "00000000-0000-0000-0000-000000000000/load#3/2/on_failure/page_oncall"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeliveryKey<'a> {
    /// The run.
    pub run_id: Uuid,
    /// The step call; `None` for the pipeline's own hooks.
    pub step: Option<StepCall<'a>>,
    /// The attempt (1 for the pipeline's own hooks).
    pub attempt: u32,
    /// The event the hook fires for.
    #[serde(with = "event_code")]
    pub event: Event,
    /// The hook, by its registered name or as written in the attribute.
    pub hook: Cow<'a, str>,
}

impl DeliveryKey<'_> {
    /// A copy that owns its text.
    pub fn into_owned(self) -> DeliveryKey<'static> {
        DeliveryKey {
            run_id: self.run_id,
            step: self.step.map(StepCall::into_owned),
            attempt: self.attempt,
            event: self.event,
            hook: owned(self.hook),
        }
    }
}

impl fmt::Display for DeliveryKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/", self.run_id)?;
        match &self.step {
            Some(step) => write!(f, "{}#{}", step.name, step.seq)?,
            None => f.write_str("-")?,
        }
        write!(f, "/{}/{}/{}", self.attempt, self.event, self.hook)
    }
}

/// A hook is about to be called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookStarted<'a> {
    /// Which call.
    pub key: DeliveryKey<'a>,
    /// A recovery calls it again because an earlier call never returned.
    pub redelivered: bool,
    /// When the call started.
    #[serde(with = "unix_nanos")]
    pub at: SystemTime,
}

/// How a hook call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookResult<'a> {
    /// It returned `()` or `Ok(())`.
    Ok,
    /// It returned `Err`, with the error's `Display`.
    Failed(Cow<'a, str>),
    /// It panicked, with the panic message.
    Panicked(Cow<'a, str>),
    /// An async hook ran past its time bound.
    TimedOut,
    /// It was not called, for this reason (a typed hook whose value died
    /// with the process, say).
    Skipped(Cow<'a, str>),
    /// Its step's future was dropped while it ran.
    Interrupted,
}

impl HookResult<'_> {
    /// A copy that owns its text.
    pub fn into_owned(self) -> HookResult<'static> {
        match self {
            HookResult::Ok => HookResult::Ok,
            HookResult::Failed(m) => HookResult::Failed(owned(m)),
            HookResult::Panicked(m) => HookResult::Panicked(owned(m)),
            HookResult::TimedOut => HookResult::TimedOut,
            HookResult::Skipped(m) => HookResult::Skipped(owned(m)),
            HookResult::Interrupted => HookResult::Interrupted,
        }
    }
}

/// A hook call returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookEnded<'a> {
    /// Which call.
    pub key: DeliveryKey<'a>,
    /// How it ended.
    pub result: HookResult<'a>,
    /// When it returned.
    #[serde(with = "unix_nanos")]
    pub at: SystemTime,
}

/// Every hook of a step attempt's outcome has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepClosed<'a> {
    /// The run it belongs to.
    pub run_id: Uuid,
    /// Which step call.
    pub step: StepCall<'a>,
    /// The attempt whose hooks are done.
    pub attempt: u32,
}

/// A failed step of a run, as [`RunEnded`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedStepInfo<'a> {
    /// The step's display name.
    pub name: Cow<'a, str>,
    /// What went wrong.
    pub error: ErrorInfo<'a>,
}

impl FailedStepInfo<'_> {
    /// A copy that owns its text.
    pub fn into_owned(self) -> FailedStepInfo<'static> {
        FailedStepInfo {
            name: owned(self.name),
            error: self.error.into_owned(),
        }
    }
}

/// A run reached its terminal state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnded<'a> {
    /// The run.
    pub run_id: Uuid,
    /// Its terminal state.
    #[serde(with = "status_code")]
    pub status: Status,
    /// The run's own error, for every status but `Completed`.
    pub error: Option<ErrorInfo<'a>>,
    /// The steps that failed during the run.
    pub failed_steps: Vec<FailedStepInfo<'a>>,
    /// When it ended.
    #[serde(with = "unix_nanos")]
    pub at: SystemTime,
}

/// A run's pipeline hooks have run: nothing is left to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunClosed {
    /// The run.
    pub run_id: Uuid,
}

/// Timestamps as nanoseconds since the Unix epoch (earlier times, which no
/// clock here reports, are stored as the epoch).
mod unix_nanos {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let nanos = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        u64::try_from(nanos).unwrap_or(u64::MAX).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let nanos = u64::deserialize(d)?;
        Ok(UNIX_EPOCH + Duration::from_nanos(nanos))
    }
}

/// Small stable codes for the enums, independent of their declaration order.
macro_rules! codes {
    ($module:ident, $ty:ty, $what:literal, { $($variant:path = $code:literal),* $(,)? }) => {
        mod $module {
            use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

            pub fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u8(match *v { $($variant => $code,)* })
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                match u8::deserialize(d)? {
                    $($code => Ok($variant),)*
                    other => Err(D::Error::custom(format_args!(
                        concat!("unknown ", $what, " code {}"), other
                    ))),
                }
            }
        }
    };
}

codes!(status_code, crate::status::Status, "status", {
    crate::status::Status::Running = 0,
    crate::status::Status::Completed = 1,
    crate::status::Status::Failed = 2,
    crate::status::Status::Crashed = 3,
    crate::status::Status::Cancelled = 4,
});

codes!(kind_code, crate::error::ErrorKind, "error kind", {
    crate::error::ErrorKind::Error = 0,
    crate::error::ErrorKind::Panic = 1,
    crate::error::ErrorKind::Timeout = 2,
    crate::error::ErrorKind::Cancelled = 3,
    crate::error::ErrorKind::Aborted = 4,
});

codes!(event_code, crate::event::Event, "event", {
    crate::event::Event::Start = 0,
    crate::event::Event::Success = 1,
    crate::event::Event::Failure = 2,
    crate::event::Event::Retry = 3,
    crate::event::Event::Crash = 4,
    crate::event::Event::Cancel = 5,
    crate::event::Event::Finish = 6,
});
