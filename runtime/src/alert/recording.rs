//! [`RecordingAlerter`]: keeps what it is asked to deliver, for tests.

use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::{Alert, AlertError, AlertErrorKind, AlertFuture, Alerter};
use crate::error::ErrorKind;
use crate::status::Status;

/// One alert a [`RecordingAlerter`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAlert {
    message: String,
    step: Option<String>,
    pipeline: Option<String>,
    run_id: Option<Uuid>,
    status: Status,
    error_kind: Option<ErrorKind>,
    failed_steps: Vec<String>,
}

impl RecordedAlert {
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The step it was about; `None` for a pipeline's own hooks.
    pub fn step(&self) -> Option<&str> {
        self.step.as_deref()
    }

    /// The pipeline of the run, if any.
    pub fn pipeline(&self) -> Option<&str> {
        self.pipeline.as_deref()
    }

    /// The run's id, if any.
    pub fn run_id(&self) -> Option<Uuid> {
        self.run_id
    }

    /// The status the hook fired for.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The kind of the error, if any.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error_kind
    }

    /// The names of the run's failed steps (pipeline hooks).
    pub fn failed_steps(&self) -> &[String] {
        &self.failed_steps
    }
}

#[derive(Debug, Default)]
struct Inner {
    alerts: Mutex<Vec<RecordedAlert>>,
    fail_with: Option<String>,
}

/// An alerter that records every alert instead of sending it: give it to a
/// run in tests, read back what production would have posted. Clones share
/// the same record.
///
/// ```
/// use hookflow::alert::{Alert, Alerter, RecordingAlerter};
/// use hookflow::HookContext;
///
/// # futures_executor::block_on(async {
/// let recorder = RecordingAlerter::new();
/// let ctx = HookContext::builder().step("load").build();
/// recorder.deliver(&Alert::new("hello", &ctx)).await.unwrap();
/// assert_eq!(recorder.messages(), ["hello"]);
/// assert_eq!(recorder.alerts()[0].step(), Some("load"));
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecordingAlerter {
    inner: Arc<Inner>,
}

impl RecordingAlerter {
    /// An empty recorder whose deliveries succeed.
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder whose deliveries record the alert and then fail with
    /// `message`: to test what a delivery failure does.
    pub fn failing(message: impl Into<String>) -> Self {
        RecordingAlerter {
            inner: Arc::new(Inner {
                alerts: Mutex::default(),
                fail_with: Some(message.into()),
            }),
        }
    }

    /// Every alert received, in order.
    pub fn alerts(&self) -> Vec<RecordedAlert> {
        self.inner
            .alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The messages of every alert received, in order.
    pub fn messages(&self) -> Vec<String> {
        self.alerts().into_iter().map(|a| a.message).collect()
    }

    /// How many alerts it received.
    pub fn len(&self) -> usize {
        self.inner
            .alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// `true` when it received none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Alerter for RecordingAlerter {
    fn deliver<'a>(&'a self, alert: &'a Alert<'a>) -> AlertFuture<'a> {
        let ctx = alert.context();
        let record = RecordedAlert {
            message: alert.message().to_owned(),
            step: ctx.step_name().map(str::to_owned),
            pipeline: ctx.pipeline_name().map(str::to_owned),
            run_id: ctx.run_id(),
            status: ctx.status(),
            error_kind: ctx.error().map(|e| e.kind()),
            failed_steps: ctx
                .failed_steps()
                .iter()
                .map(|s| s.name().to_owned())
                .collect(),
        };
        self.inner
            .alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
        let result = match &self.inner.fail_with {
            None => Ok(()),
            Some(m) => Err(AlertError::new(AlertErrorKind::Other, m)),
        };
        Box::pin(std::future::ready(result))
    }
}
