//! The `hook.*` template variables of a context, as one serialisable value:
//! what templates render and what the JSON webhook posts.

use serde::Serialize;

use crate::context::HookContext;
use crate::secret::redacted;

/// One failed step, under the names templates use.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct FailedStepVars {
    pub(crate) step_name: String,
    pub(crate) error_message: String,
    pub(crate) error_kind: &'static str,
}

/// The `hook.*` variables. Every text is redacted: a secret value that a
/// step's error happens to hold does not reach an alert.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct HookVars {
    pub(crate) step_name: Option<String>,
    pub(crate) pipeline: Option<String>,
    pub(crate) run_id: Option<String>,
    pub(crate) status: &'static str,
    pub(crate) is_success: bool,
    pub(crate) error_message: Option<String>,
    pub(crate) error_kind: Option<&'static str>,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) started_at: Option<String>,
    pub(crate) completed_at: Option<String>,
    pub(crate) duration_secs: f64,
    pub(crate) failed_steps: Vec<FailedStepVars>,
}

/// The variable names, in SPEC order (`hook.NAME`).
pub(crate) const NAMES: [&str; 13] = [
    "step_name",
    "pipeline",
    "run_id",
    "status",
    "is_success",
    "error_message",
    "error_kind",
    "attempt",
    "max_attempts",
    "started_at",
    "completed_at",
    "duration_secs",
    "failed_steps",
];

/// The fields of one `hook.failed_steps` item.
pub(crate) const FAILED_STEP_NAMES: [&str; 3] = ["step_name", "error_message", "error_kind"];

impl HookVars {
    pub(crate) fn of(ctx: &HookContext) -> HookVars {
        HookVars {
            step_name: ctx.step_name().map(redacted),
            pipeline: ctx.pipeline_name().map(redacted),
            run_id: ctx.run_id().map(|id| id.to_string()),
            status: ctx.status().as_str(),
            is_success: ctx.is_success(),
            error_message: ctx.error().map(|e| redacted(e.message())),
            error_kind: ctx.error().map(|e| e.kind().as_str()),
            attempt: ctx.attempt(),
            max_attempts: ctx.max_attempts(),
            started_at: ctx.started_at_rfc3339(),
            completed_at: ctx.finished_at_rfc3339(),
            duration_secs: ctx.duration().as_secs_f64(),
            failed_steps: ctx
                .failed_steps()
                .iter()
                .map(|s| FailedStepVars {
                    step_name: redacted(s.name()),
                    error_message: redacted(s.message()),
                    error_kind: s.kind().as_str(),
                })
                .collect(),
        }
    }

    /// Values of the right types for a dry render at load time: every
    /// optional variable set, one failed step.
    pub(crate) fn placeholder() -> HookVars {
        HookVars {
            step_name: Some("step".into()),
            pipeline: Some("pipeline".into()),
            run_id: Some("00000000-0000-7000-8000-000000000000".into()),
            status: "failed",
            is_success: false,
            error_message: Some("error message".into()),
            error_kind: Some("error"),
            attempt: 1,
            max_attempts: 1,
            started_at: Some("2000-01-01T00:00:00.000Z".into()),
            completed_at: Some("2000-01-01T00:00:01.000Z".into()),
            duration_secs: 1.0,
            failed_steps: vec![FailedStepVars {
                step_name: "step".into(),
                error_message: "error message".into(),
                error_kind: "error",
            }],
        }
    }
}
