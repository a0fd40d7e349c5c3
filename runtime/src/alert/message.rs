//! The default alert message: what happened, where, and when.

use std::fmt::Write;

use crate::context::HookContext;
use crate::secret::redacted;

/// The message an alert carries when no template is given: the step (or
/// pipeline), its status, the error's kind and message, the attempt, the
/// pipeline and run id, the duration and, for a pipeline, every failed step.
/// Every part is redacted.
///
/// ```
/// use hookflow::alert::default_message;
/// use hookflow::{ErrorKind, HookContext, Status, StepError};
///
/// let ctx = HookContext::builder()
///     .step("load")
///     .status(Status::Failed)
///     .error(StepError::manual("load", ErrorKind::Timeout, "timed out after 2s"))
///     .attempt(3)
///     .max_attempts(3)
///     .build();
/// assert_eq!(
///     default_message(&ctx),
///     "step `load` failed (timeout): timed out after 2s\nattempt 3/3 · took 0.00s"
/// );
/// ```
pub fn default_message(ctx: &HookContext) -> String {
    let mut out = String::new();
    let (what, name) = match ctx.step_name() {
        Some(step) => ("step", step),
        None => ("pipeline", ctx.pipeline_name().unwrap_or("?")),
    };
    let _ = write!(out, "{what} `{name}` {}", ctx.status());
    if let Some(e) = ctx.error() {
        let _ = write!(out, " ({}): {}", e.kind(), e.message());
    }
    out.push('\n');
    let mut facts = Vec::new();
    if ctx.step_name().is_some() {
        facts.push(format!("attempt {}/{}", ctx.attempt(), ctx.max_attempts()));
        if let Some(p) = ctx.pipeline_name() {
            facts.push(format!("pipeline `{p}`"));
        }
    }
    if let Some(id) = ctx.run_id() {
        facts.push(format!("run {id}"));
    }
    facts.push(format!("took {:.2}s", ctx.duration().as_secs_f64()));
    out.push_str(&facts.join(" · "));
    let failed = ctx.failed_steps();
    if !failed.is_empty() {
        let _ = write!(out, "\nfailed steps ({}):", failed.len());
        for s in failed {
            let _ = write!(out, "\n- `{}` ({}): {}", s.name(), s.kind(), s.message());
        }
    }
    redacted(out)
}
