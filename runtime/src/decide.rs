//! The lifecycle's decisions, as pure functions: what follows an attempt
//! (another attempt, or a terminal state with its error), and whether the
//! next attempt may start.
//!
//! Sync steps, async steps and pipelines all decide here; the drivers only
//! carry the decisions out.

use std::borrow::Cow;
use std::time::Duration;

use crate::error::{ErrorKind, StepError};
use crate::status::Status;

/// How one attempt (or a pipeline body) ended.
pub(crate) enum AttemptEnd {
    /// The body returned `Ok`.
    Done,
    /// The body returned this error.
    Error(anyhow::Error),
    /// The body panicked, with this message.
    Panicked(String),
    /// The step's `timeout` passed.
    TimedOut(Duration),
    /// The run was cancelled while the attempt ran.
    Cancelled,
}

/// What comes after an attempt.
pub(crate) enum Next {
    /// Another attempt follows; `on_retry` fires with this error.
    Retry(StepError),
    /// The call ends in this state (`error` is `None` only on success).
    Terminal(Status, Option<StepError>),
}

/// The decision after `attempt` of `max_attempts` ended with `end`.
///
/// - Success ends `Completed`; a panic ends `Crashed` at once (panics are not
///   retried); a cancellation ends `Cancelled`.
/// - An error or a timeout is retried while attempts are left and the run
///   is not cancelled; on the last attempt it ends `Failed`; with attempts
///   left but the run cancelled, `Cancelled`.
pub(crate) fn after_attempt(
    end: AttemptEnd,
    name: Cow<'static, str>,
    attempt: u32,
    max_attempts: u32,
    run_cancelled: bool,
) -> Next {
    let err = match end {
        AttemptEnd::Done => return Next::Terminal(Status::Completed, None),
        AttemptEnd::Panicked(msg) => {
            let err = StepError::new(ErrorKind::Panic, name, attempt, msg, None);
            return Next::Terminal(Status::Crashed, Some(err));
        }
        AttemptEnd::Cancelled => {
            return Next::Terminal(Status::Cancelled, Some(StepError::cancelled(name, attempt)))
        }
        AttemptEnd::Error(e) => StepError::from_error(name.clone(), attempt, e),
        AttemptEnd::TimedOut(bound) => StepError::timeout(name.clone(), attempt, bound),
    };
    if attempt >= max_attempts {
        Next::Terminal(Status::Failed, Some(err))
    } else if run_cancelled {
        Next::Terminal(Status::Cancelled, Some(StepError::cancelled(name, attempt)))
    } else {
        Next::Retry(err)
    }
}

/// Before an attempt starts (the first, or the next after a retry delay):
/// `Some` terminal decision when the run was cancelled meanwhile.
/// `attempt` is the attempt that would start; a cancelled error carries the
/// last attempt that ran (or 1 when none did).
pub(crate) fn before_attempt(
    name: &'static str,
    attempt: u32,
    run_cancelled: bool,
) -> Option<Next> {
    run_cancelled.then(|| {
        let last = attempt.saturating_sub(1).max(1);
        Next::Terminal(
            Status::Cancelled,
            Some(StepError::cancelled(Cow::Borrowed(name), last)),
        )
    })
}

/// A pipeline's terminal state from its body's outcome: a body that returns
/// (`Ok` or an error) while the run is cancelled ends `Cancelled`, with an
/// error of kind `Cancelled` for the caller, who asked for the cancellation
/// (even an `Ok` value is not what a cancelled run gives back). A panic
/// still ends `Crashed`.
pub(crate) fn pipeline_end(
    end: AttemptEnd,
    name: Cow<'static, str>,
    run_cancelled: bool,
) -> (Status, Option<StepError>) {
    match end {
        AttemptEnd::Done if run_cancelled => {
            (Status::Cancelled, Some(StepError::cancelled(name, 1)))
        }
        AttemptEnd::Done => (Status::Completed, None),
        AttemptEnd::Error(e) => {
            let kind = if run_cancelled {
                ErrorKind::Cancelled
            } else {
                ErrorKind::Error
            };
            let status = if run_cancelled {
                Status::Cancelled
            } else {
                Status::Failed
            };
            (status, Some(StepError::with_kind(kind, name, 1, e)))
        }
        AttemptEnd::Panicked(msg) => (
            Status::Crashed,
            Some(StepError::new(ErrorKind::Panic, name, 1, msg, None)),
        ),
        AttemptEnd::Cancelled => (Status::Cancelled, Some(StepError::cancelled(name, 1))),
        AttemptEnd::TimedOut(bound) => (Status::Failed, Some(StepError::timeout(name, 1, bound))),
    }
}

/// Whether a run that ends in `status` cancels what it leaves running (the
/// steps of tasks it spawned and did not await): a run that crashed, or
/// was cancelled or dropped, has ended, and so have its steps. A run that
/// completed or failed (its body returned) leaves them be.
pub(crate) fn run_end_cancels_steps(status: Status) -> bool {
    matches!(status, Status::Crashed | Status::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed("s")
    }

    fn terminal(next: Next) -> (Status, Option<ErrorKind>, Option<u32>) {
        match next {
            Next::Terminal(s, e) => (s, e.as_ref().map(StepError::kind), e.map(|e| e.attempt())),
            Next::Retry(e) => panic!("expected a terminal state, got a retry after {e}"),
        }
    }

    #[test]
    fn success_ends_completed_on_any_attempt() {
        for attempt in 1..=3 {
            let next = after_attempt(AttemptEnd::Done, name(), attempt, 3, false);
            assert_eq!(terminal(next), (Status::Completed, None, None));
        }
    }

    #[test]
    fn an_error_is_retried_while_attempts_are_left() {
        let next = after_attempt(
            AttemptEnd::Error(anyhow::anyhow!("no")),
            name(),
            1,
            3,
            false,
        );
        match next {
            Next::Retry(e) => {
                assert_eq!(e.kind(), ErrorKind::Error);
                assert_eq!(e.attempt(), 1);
                assert_eq!(e.message(), "no");
            }
            Next::Terminal(..) => panic!("expected a retry"),
        }
    }

    #[test]
    fn the_last_failed_attempt_ends_failed() {
        let next = after_attempt(
            AttemptEnd::Error(anyhow::anyhow!("no")),
            name(),
            3,
            3,
            false,
        );
        assert_eq!(
            terminal(next),
            (Status::Failed, Some(ErrorKind::Error), Some(3))
        );
        let next = after_attempt(
            AttemptEnd::TimedOut(Duration::from_secs(1)),
            name(),
            2,
            2,
            false,
        );
        assert_eq!(
            terminal(next),
            (Status::Failed, Some(ErrorKind::Timeout), Some(2))
        );
    }

    #[test]
    fn a_timeout_is_retried_like_an_error() {
        let next = after_attempt(
            AttemptEnd::TimedOut(Duration::from_millis(5)),
            name(),
            1,
            2,
            false,
        );
        assert!(matches!(next, Next::Retry(e) if e.kind() == ErrorKind::Timeout));
    }

    #[test]
    fn panics_are_not_retried() {
        let next = after_attempt(AttemptEnd::Panicked("boom".into()), name(), 1, 5, false);
        assert_eq!(
            terminal(next),
            (Status::Crashed, Some(ErrorKind::Panic), Some(1))
        );
    }

    #[test]
    fn a_cancelled_run_stops_retries() {
        let next = after_attempt(AttemptEnd::Error(anyhow::anyhow!("no")), name(), 1, 3, true);
        assert_eq!(
            terminal(next),
            (Status::Cancelled, Some(ErrorKind::Cancelled), Some(1))
        );
        // ... but the last attempt's failure is still a failure.
        let next = after_attempt(AttemptEnd::Error(anyhow::anyhow!("no")), name(), 3, 3, true);
        assert_eq!(
            terminal(next),
            (Status::Failed, Some(ErrorKind::Error), Some(3))
        );
    }

    #[test]
    fn cancellation_between_attempts_ends_cancelled_with_the_last_attempt() {
        assert!(before_attempt("s", 1, false).is_none());
        assert!(before_attempt("s", 2, false).is_none());
        let next = before_attempt("s", 2, true).expect("cancelled");
        assert_eq!(
            terminal(next),
            (Status::Cancelled, Some(ErrorKind::Cancelled), Some(1))
        );
        let first = before_attempt("s", 1, true).expect("cancelled");
        assert_eq!(terminal(first).2, Some(1));
    }

    #[test]
    fn a_pipeline_error_while_cancelled_ends_cancelled() {
        let (status, err) = pipeline_end(AttemptEnd::Error(anyhow::anyhow!("stop")), name(), true);
        assert_eq!(status, Status::Cancelled);
        assert_eq!(err.unwrap().kind(), ErrorKind::Cancelled);
        let (status, err) = pipeline_end(AttemptEnd::Error(anyhow::anyhow!("bad")), name(), false);
        assert_eq!(status, Status::Failed);
        assert_eq!(err.unwrap().message(), "bad");
        let (status, _) = pipeline_end(AttemptEnd::Panicked("p".into()), name(), false);
        assert_eq!(status, Status::Crashed);
        let (status, _) = pipeline_end(AttemptEnd::Panicked("p".into()), name(), true);
        assert_eq!(status, Status::Crashed);
    }

    #[test]
    fn a_crashed_or_cancelled_run_cancels_the_steps_it_left_running() {
        assert!(run_end_cancels_steps(Status::Crashed));
        assert!(run_end_cancels_steps(Status::Cancelled));
        assert!(!run_end_cancels_steps(Status::Completed));
        assert!(!run_end_cancels_steps(Status::Failed));
    }

    #[test]
    fn a_cancelled_pipeline_whose_body_returns_ok_ends_cancelled() {
        let (status, err) = pipeline_end(AttemptEnd::Done, name(), true);
        assert_eq!(status, Status::Cancelled);
        let err = err.expect("the caller gets a cancellation");
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        assert_eq!(err.attempt(), 1);
        let (status, err) = pipeline_end(AttemptEnd::Done, name(), false);
        assert_eq!(status, Status::Completed);
        assert!(err.is_none());
    }
}
