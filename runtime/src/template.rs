//! Message templates: Jinja syntax over the `hook.*` and `secret.*`
//! variables, checked in full when compiled, strict when rendered.
//!
//! [`Template::compile`] does every check a configuration needs at load
//! time, and reports every problem at once:
//!
//! - the source parses;
//! - every variable it reads exists: `hook.NAME` for the context variables
//!   (`step_name`, `pipeline`, `run_id`, `status`, `is_success`,
//!   `error_message`, `error_kind`, `attempt`, `max_attempts`, `started_at`,
//!   `completed_at`, `duration_secs`, `failed_steps`) and `secret.NAME`
//!   for a secret; an unknown one is reported with the closest valid name
//!   and its position in the source;
//! - every `secret.NAME` has its environment variable `NAME` set (the error
//!   names the variable, never a value); the value is read once, here, and
//!   becomes a known secret for [`redact`](crate::secret::redact);
//! - a dry render with placeholder values of the right types succeeds, once
//!   for each terminal status (`failed` with one failed step, `completed`
//!   with `is_success` true and no failed steps, `cancelled`, `crashed`),
//!   which catches unknown filters, unknown fields of `hook.failed_steps`
//!   items and type errors in every branch taken on the status,
//!   `is_success` or whether there are failed steps (a branch on another
//!   value, such as `hook.attempt > 3`, is checked only if a placeholder
//!   takes it: the placeholders have attempt 1 of 1);
//! - rendering is bounded: a template may run at most [`Template::FUEL`]
//!   steps of the engine (minijinja's fuel; a loop over every failed step
//!   of a large run takes a few per step), so that a runaway loop fails to
//!   load, or fails its render, instead of holding its hook.
//!
//! Rendering is strict: an undefined value is an error, never an empty
//! string. A variable without a value (`hook.step_name` in a pipeline's own
//! hook, `hook.error_message` on success) renders as nothing; booleans
//! render as `true` / `false`. Errors never
//! hold a secret's value: their text passes through
//! [`redact`](crate::secret::redact).
//!
//! ```
//! use hookflow::template::Template;
//! use hookflow::{ErrorKind, HookContext, Status, StepError};
//!
//! let t = Template::compile("{{ hook.step_name }} {{ hook.status }}: {{ hook.error_message }}").unwrap();
//! let ctx = HookContext::builder()
//!     .step("load")
//!     .status(Status::Failed)
//!     .error(StepError::manual("load", ErrorKind::Error, "disk full"))
//!     .build();
//! assert_eq!(t.render(&ctx).unwrap(), "load failed: disk full");
//!
//! let err = Template::compile("{{ hook.step_nme }}").unwrap_err();
//! let first = &err.errors()[0];
//! assert_eq!(first.suggestion(), Some("hook.step_name"));
//! assert_eq!(first.offset(), Some(8));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use minijinja::value::{Serde, ValueKind};
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::context::HookContext;
use crate::secret::{redacted, Secret, SecretError};
use crate::vars::{HookVars, FAILED_STEP_NAMES, NAMES};

const NAME: &str = "message";

/// Global functions a template may call (`debug()` is not one: it would dump
/// the secrets).
const GLOBALS: [&str; 3] = ["range", "dict", "namespace"];

/// A compiled, checked message template.
pub struct Template {
    env: Environment<'static>,
    source: Box<str>,
    secrets: Vec<Secret>,
}

impl Template {
    /// The most engine steps one render may take (minijinja's fuel): a
    /// message over thousands of failed steps fits; a runaway loop does not.
    pub const FUEL: u64 = 5_000_000;

    /// Compiles and checks `source` (see the [module docs](self)); every
    /// problem found is in the error.
    pub fn compile(source: &str) -> Result<Template, TemplateErrors> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(Self::FUEL));
        env.remove_global("debug");
        env.set_formatter(|out, state, value| {
            if value.is_none() {
                Ok(())
            } else if value.kind() == ValueKind::Bool {
                // `true` / `false`, as in Rust and JSON (not `True`).
                let text = if value.is_true() { "true" } else { "false" };
                out.write_str(text).map_err(minijinja::Error::from)
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        if let Err(e) = env.add_template_owned(NAME, source.to_owned()) {
            return Err(TemplateErrors(vec![TemplateError::from_engine(
                TemplateErrorKind::Syntax,
                &e,
            )]));
        }
        let mut errors = Vec::new();
        let mut secrets = Vec::new();
        let used = match env.get_template(NAME) {
            Ok(t) => t.undeclared_variables(true),
            Err(e) => {
                return Err(TemplateErrors(vec![TemplateError::from_engine(
                    TemplateErrorKind::Syntax,
                    &e,
                )]))
            }
        };
        let mut used: Vec<String> = used.into_iter().collect();
        used.sort();
        for path in &used {
            check_variable(source, path, &mut errors, &mut secrets);
        }
        errors.sort_by_key(|e| e.span.as_ref().map_or(usize::MAX, |r| r.start));
        let template = Template {
            env,
            source: source.into(),
            secrets,
        };
        if errors.is_empty() {
            if let Err(e) = template.dry_render() {
                errors.push(TemplateError::from_engine(TemplateErrorKind::Render, &e));
            }
        }
        if errors.is_empty() {
            Ok(template)
        } else {
            Err(TemplateErrors(errors))
        }
    }

    /// Compiles and renders a template that may use only `secret.NAME`
    /// (an alerter's `url = "{{ secret.SLACK_WEBHOOK_URL }}"`, a header
    /// value): the result is a [`Secret`], never shown. Any `hook.*`
    /// variable is an error, as are the problems [`compile`](Self::compile)
    /// reports.
    ///
    /// ```
    /// use hookflow::template::Template;
    ///
    /// std::env::set_var("DOC_HOOK_TOKEN", "T000/B000/XXXXXXXX");
    /// let url = Template::secret_value("https://hooks.slack.com/services/{{ secret.DOC_HOOK_TOKEN }}").unwrap();
    /// assert_eq!(format!("{url:?}"), "Secret([redacted])");
    /// assert!(Template::secret_value("{{ hook.step_name }}").is_err());
    /// ```
    pub fn secret_value(source: &str) -> Result<Secret, TemplateErrors> {
        let template = Template::compile(source)?;
        let used = match template.env.get_template(NAME) {
            Ok(t) => t.undeclared_variables(false),
            Err(e) => {
                return Err(TemplateErrors(vec![TemplateError::from_engine(
                    TemplateErrorKind::Syntax,
                    &e,
                )]))
            }
        };
        if used.contains("hook") {
            return Err(TemplateErrors(vec![TemplateError {
                kind: TemplateErrorKind::UnknownVariable,
                message: "only `secret.NAME` variables can be used here, not `hook.*`".to_owned(),
                span: find_path(source, &["hook"]),
                line: None,
                suggestion: None,
            }]));
        }
        template
            .render_vars(&HookVars::placeholder())
            .map(Secret::unnamed)
            .map_err(|e| {
                TemplateErrors(vec![TemplateError::from_engine(
                    TemplateErrorKind::Render,
                    &e,
                )])
            })
    }

    /// The source as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The names of the secrets it uses (`secret.NAME`), sorted.
    pub fn secret_names(&self) -> impl Iterator<Item = &str> {
        self.secrets.iter().map(Secret::name)
    }

    /// The message for `ctx`.
    pub fn render(&self, ctx: &HookContext) -> Result<String, TemplateError> {
        self.render_vars(&HookVars::of(ctx))
            .map_err(|e| TemplateError::from_engine(TemplateErrorKind::Render, &e))
    }

    pub(crate) fn render_vars(&self, vars: &HookVars) -> Result<String, minijinja::Error> {
        let secrets: BTreeMap<&str, &str> = self
            .secrets
            .iter()
            .map(|s| (s.name(), s.expose()))
            .collect();
        self.render_with(Value::from(Serde(vars)), Value::from(Serde(&secrets)))
    }

    /// Renders with placeholder values once per terminal status (see the
    /// module docs); the first error.
    fn dry_render(&self) -> Result<(), minijinja::Error> {
        let placeholders: BTreeMap<&str, String> = self
            .secrets
            .iter()
            .map(|s| (s.name(), format!("<secret {}>", s.name())))
            .collect();
        let secret = Value::from(Serde(&placeholders));
        for status in ["failed", "completed", "cancelled", "crashed"] {
            let mut vars = HookVars::placeholder();
            vars.status = status;
            if status == "completed" {
                vars.is_success = true;
                vars.failed_steps.clear();
            }
            self.render_with(Value::from(Serde(vars)), secret.clone())?;
        }
        Ok(())
    }

    fn render_with(&self, hook: Value, secret: Value) -> Result<String, minijinja::Error> {
        let t = self.env.get_template(NAME)?;
        let ctx = Value::from_pairs([("hook", hook), ("secret", secret)]);
        t.render(ctx)
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("source", &redacted(&self.source))
            .field("secrets", &self.secrets)
            .finish()
    }
}

fn check_variable(
    source: &str,
    path: &str,
    errors: &mut Vec<TemplateError>,
    secrets: &mut Vec<Secret>,
) {
    let mut parts = path.split('.');
    let top = parts.next().unwrap_or_default();
    let field = parts.next();
    match (top, field) {
        ("hook", None) => {}
        ("hook", Some(f)) if NAMES.contains(&f) => {}
        ("hook", Some(f)) => errors.push(TemplateError::unknown(
            source,
            &["hook", f],
            format!("hook.{f}"),
            closest(f, &NAMES).map(|n| format!("hook.{n}")),
        )),
        ("secret", None) => errors.push(TemplateError {
            kind: TemplateErrorKind::UnknownVariable,
            message: "`secret` must be followed by the name of one secret: `secret.NAME`"
                .to_owned(),
            span: find_path(source, &["secret"]),
            line: None,
            suggestion: None,
        }),
        ("secret", Some(name)) => {
            if secrets.iter().any(|s| s.name() == name) {
                return;
            }
            match Secret::from_env(name) {
                Ok(s) => secrets.push(s),
                Err(e) => errors.push(TemplateError::secret(source, name, &e)),
            }
        }
        (g, _) if GLOBALS.contains(&g) => {}
        (other, _) => errors.push(TemplateError::unknown(
            source,
            &[other],
            other.to_owned(),
            closest(other, &["hook", "secret"]).map(str::to_owned),
        )),
    }
}

/// The valid name closest to `name`, when one is close enough.
fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The byte range of the last segment of the dotted path `segments`
/// (`hook . step_nme`, spaces allowed around the dot) inside a `{{ }}` or
/// `{% %}` tag of `source`.
fn find_path(source: &str, segments: &[&str]) -> Option<Range<usize>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for (open, close) in tags(source) {
        let inner = &source[open..close];
        let mut from = 0;
        while let Some(at) = inner[from..].find(segments[0]) {
            let start = from + at;
            from = start + segments[0].len();
            if inner[..start].chars().next_back().is_some_and(ident) {
                continue;
            }
            let mut pos = from;
            let mut last = start..from;
            let mut ok = true;
            for seg in &segments[1..] {
                let rest = &inner[pos..];
                let trimmed = rest.trim_start();
                let Some(after_dot) = trimmed.strip_prefix('.') else {
                    ok = false;
                    break;
                };
                let seg_text = after_dot.trim_start();
                if !seg_text.starts_with(seg) {
                    ok = false;
                    break;
                }
                let seg_start = pos + (rest.len() - seg_text.len());
                pos = seg_start + seg.len();
                last = seg_start..pos;
            }
            if ok && !inner[pos..].chars().next().is_some_and(ident) {
                return Some(open + last.start..open + last.end);
            }
        }
    }
    None
}

/// The byte ranges inside the `{{ … }}` and `{% … %}` tags of `source`.
fn tags(source: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = source[at..].find('{') {
        let open = at + i;
        let closer = match source[open + 1..].chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                at = open + 1;
                continue;
            }
        };
        let start = open + 2;
        match source[start..].find(closer) {
            Some(len) => {
                out.push((start, start + len));
                at = start + len + 2;
            }
            None => {
                out.push((start, source.len()));
                break;
            }
        }
    }
    out
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// What kind of problem a template has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateErrorKind {
    /// The source does not parse.
    Syntax,
    /// A variable that does not exist (`hook.stpe_name`, `hooks`).
    UnknownVariable,
    /// A `secret.NAME` whose environment variable is unset or empty.
    UnsetSecret,
    /// Rendering failed: an unknown filter, a type error, an undefined value.
    Render,
}

/// One problem of a template, with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    kind: TemplateErrorKind,
    message: String,
    span: Option<Range<usize>>,
    line: Option<usize>,
    suggestion: Option<String>,
}

impl TemplateError {
    fn unknown(source: &str, segments: &[&str], shown: String, suggestion: Option<String>) -> Self {
        let mut message = format!("unknown variable `{shown}`");
        match &suggestion {
            Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
            None => message.push_str(&format!(
                "; the variables are `hook.NAME` ({}) and `secret.NAME`",
                NAMES.join(", ")
            )),
        }
        TemplateError {
            kind: TemplateErrorKind::UnknownVariable,
            message,
            span: find_path(source, segments),
            line: None,
            suggestion,
        }
    }

    fn secret(source: &str, name: &str, err: &SecretError) -> Self {
        TemplateError {
            kind: TemplateErrorKind::UnsetSecret,
            message: format!("secret `{name}`: {err}"),
            span: find_path(source, &["secret", name]),
            line: None,
            suggestion: None,
        }
    }

    fn from_engine(kind: TemplateErrorKind, e: &minijinja::Error) -> Self {
        let mut message = match e.detail() {
            Some(d) => format!("{}: {d}", e.kind()),
            None => e.kind().to_string(),
        };
        if e.kind() == minijinja::ErrorKind::UndefinedError && kind == TemplateErrorKind::Render {
            message.push_str(&format!(
                " (the fields of a `hook.failed_steps` item are {})",
                FAILED_STEP_NAMES.join(", ")
            ));
        }
        TemplateError {
            kind,
            message: redacted(message),
            line: e.line(),
            span: None,
            suggestion: None,
        }
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> TemplateErrorKind {
        self.kind
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset of the problem inside the template's source, when
    /// known.
    pub fn offset(&self) -> Option<usize> {
        self.span.as_ref().map(|r| r.start)
    }

    /// The byte range of the problem inside the template's source, when
    /// known.
    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// 1-based line and column inside the template's `source` (the source
    /// the template was compiled from), when the exact place is known.
    pub fn line_col(&self, source: &str) -> Option<(usize, usize)> {
        self.span.as_ref().map(|r| line_col(source, r.start))
    }

    /// 1-based line inside the template's `source`, when known (syntax
    /// and render errors give the line only).
    pub fn line(&self, source: &str) -> Option<usize> {
        self.line_col(source).map(|(l, _)| l).or(self.line)
    }

    /// The closest valid name, for an unknown variable.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.span, self.line) {
            (Some(r), _) => write!(f, "{} (at byte {})", self.message, r.start),
            (None, Some(l)) => write!(f, "{} (line {l})", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Every problem [`Template::compile`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateErrors(Vec<TemplateError>);

impl TemplateErrors {
    /// The problems, in source order of the variables.
    pub fn errors(&self) -> &[TemplateError] {
        &self.0
    }
}

impl IntoIterator for TemplateErrors {
    type Item = TemplateError;
    type IntoIter = std::vec::IntoIter<TemplateError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for TemplateErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_paths_inside_tags_only() {
        let src = "hook.x {{ a }} {{ hook . stpe }} {% if hook.x %}";
        assert_eq!(find_path(src, &["hook", "stpe"]), Some(25..29));
        assert_eq!(find_path(src, &["hook", "x"]), Some(44..45));
        assert_eq!(find_path(src, &["hookx"]), None);
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
