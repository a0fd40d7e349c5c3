//! Names to the program's registries: each section's step or pipeline, each
//! hook name to a registered hook whose shape fits its event. Produces the
//! settings to install and a summary of them, or reports every name that
//! finds nothing, finds several, or does not fit.

use std::collections::btree_map::{BTreeMap, Entry as MapEntry};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::alert::kind::{from_kind, KindError};
use crate::alert::Alerter;
use crate::hooks::alert_hook;
use crate::template::{Template, TemplateErrors};

use crate::event::Event;
use crate::hook::ErasedHook;
use crate::meta::{registry, PipelineMeta, StepMeta};
use crate::named::{self, HookLookupError, NamedHook};
use crate::settings::{Lists, Overrides};

use super::report::Problems;
use super::schema::{
    AlerterSection, Document, EventList, HookEntry, PipelineSection, Sp, StepSection,
};
use super::suggest::{closest, did_you_mean, quoted};

/// What a configuration sets, by full path: the `Debug` view of a config.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) steps: BTreeMap<String, StepSummary>,
    pub(crate) pipelines: BTreeMap<String, PipelineSummary>,
}

/// What a configuration sets for one step.
#[derive(Debug, Default)]
pub(crate) struct StepSummary {
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) hooks: BTreeMap<&'static str, Vec<&'static str>>,
}

/// What a configuration sets for one pipeline.
#[derive(Debug, Default)]
pub(crate) struct PipelineSummary {
    pub(crate) durable: Option<bool>,
    pub(crate) hooks: BTreeMap<&'static str, Vec<&'static str>>,
    pub(crate) steps: BTreeMap<&'static str, Vec<&'static str>>,
}

/// Resolves every name of `doc`. Problems go to `out`; the settings are
/// complete only when none were found.
pub(crate) fn resolve(doc: &Document, out: &mut Problems) -> (Overrides, Summary) {
    let mut overrides = Overrides::default();
    let mut summary = Summary::default();
    let alerters = Alerters(doc.alerters.iter().map(|a| alerter(a, out)).collect());
    let mut seen_steps: HashSet<usize> = HashSet::new();
    for s in &doc.steps {
        step(
            s,
            &alerters,
            &mut seen_steps,
            &mut overrides,
            &mut summary,
            out,
        );
    }
    let mut seen_pipelines: HashSet<usize> = HashSet::new();
    for p in &doc.pipelines {
        pipeline(
            p,
            &alerters,
            &mut seen_pipelines,
            &mut overrides,
            &mut summary,
            out,
        );
    }
    (overrides, summary)
}

/// The file's alerters by name; `None` for one whose section had problems
/// (already reported).
struct Alerters(Vec<(String, Option<Arc<dyn Alerter>>)>);

/// Builds `[alerters.NAME]`: its `url` and `headers` are templates over
/// `secret.*`, read from the environment now.
fn alerter(a: &AlerterSection, out: &mut Problems) -> (String, Option<Arc<dyn Alerter>>) {
    let name = a.name.value.clone();
    let needs = |key: &str, out: &mut Problems| {
        out.at(&a.name.span, format!("alerter `{name}` has no `{key}`"))
            .set_help(match key {
                "kind" => "add `kind = \"slack\"`, `\"discord\"` or `\"webhook\"`".to_owned(),
                _ => "add `url = \"{{ secret.MY_WEBHOOK_URL }}\"`".to_owned(),
            });
    };
    if a.kind.is_none() {
        needs("kind", out);
    }
    if a.url.is_none() {
        needs("url", out);
    }
    // The values are checked even when a key is missing: every problem at once.
    let url_secret = a.url.as_ref().and_then(|url| secret(url, "url", out));
    let mut headers = Vec::with_capacity(a.headers.len());
    let mut ok = url_secret.is_some();
    for (key, value) in &a.headers {
        match secret(value, &format!("header `{}`", key.value), out) {
            Some(v) => headers.push((key.value.clone(), v)),
            None => ok = false,
        }
    }
    let (Some(kind), Some(url), Some(url_secret)) = (&a.kind, &a.url, url_secret.filter(|_| ok))
    else {
        return (name, None);
    };
    match from_kind(&kind.value, url_secret, headers) {
        Ok(alerter) => (name, Some(alerter)),
        Err(e) => {
            let text = e.to_string();
            let (message, help) = match text.split_once("; ") {
                Some((m, h)) => (m.to_owned(), Some(h.to_owned())),
                None => (text, None),
            };
            let span = match &e {
                KindError::Invalid(m) => invalid_at(m, a).unwrap_or(&url.span),
                _ => &kind.span,
            };
            out.at(span, message).set_help(help);
            (name, None)
        }
    }
}

/// Where an alerter's `Invalid` problem is: at the header it names (its
/// name, or its value), else `None` (the URL's).
fn invalid_at<'a>(message: &str, a: &'a AlerterSection) -> Option<&'a crate::config::source::Span> {
    let message = message.to_ascii_lowercase();
    a.headers.iter().find_map(|(key, value)| {
        let name = key.value.to_ascii_lowercase();
        if message.contains(&format!("`{name}` is not a valid header name")) {
            Some(&key.span)
        } else if message.contains(&format!("the value of header `{name}`")) {
            Some(&value.span)
        } else {
            None
        }
    })
}

/// A value that may use `secret.NAME` only, rendered.
fn secret(value: &Sp<String>, what: &str, out: &mut Problems) -> Option<crate::secret::Secret> {
    Template::secret_value(&value.value)
        .map_err(|errors| template_problems(value, what, &errors, out))
        .ok()
}

/// Each template problem at its place inside the string value.
fn template_problems(value: &Sp<String>, what: &str, errors: &TemplateErrors, out: &mut Problems) {
    for e in errors.errors() {
        let span = out.inside(&value.span, &value.value, e.span());
        // The suggestion goes to the help line.
        let message = e.message();
        let message = message.split("; did you mean").next().unwrap_or(message);
        out.at(&span, format!("in {what}: {message}"))
            .set_help(e.suggestion().map(|s| format!("did you mean `{s}`?")));
    }
}

/// Interned hook names for alert entries (`alert:ops`): hook records take
/// `&'static str`, and a handful of names is all a program has.
fn intern(name: String) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.push(leaked);
    leaked
}

/// `my_crate::etl::load`.
fn full_path(module: &str, item: &str) -> String {
    format!("{module}::{item}")
}

/// `name` is `module::item`, or `crate::…` for it from inside its crate.
fn path_is(module: &str, item: &str, name: &str) -> bool {
    if let Some(rest) = name.strip_prefix("crate::") {
        return match module.split_once("::") {
            Some((_, inner)) => {
                rest.strip_suffix(item).and_then(|m| m.strip_suffix("::")) == Some(inner)
            }
            None => rest == item,
        };
    }
    name.strip_suffix(item).and_then(|m| m.strip_suffix("::")) == Some(module)
}

fn crate_of(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// Which unit a section names: found, or reported.
fn find<M: 'static>(
    all: &'static [M],
    name: &Sp<String>,
    kind: &str,
    parts: impl Fn(&M) -> (&'static str, &'static str, &'static str),
    out: &mut Problems,
) -> Option<&'static M> {
    let n = name.value.as_str();
    let found: Vec<&'static M> = all
        .iter()
        .filter(|m| {
            let (display, item, module) = parts(m);
            display == n || item == n || path_is(module, item, n)
        })
        .collect();
    match found.as_slice() {
        [one] => Some(*one),
        [] => {
            // Paths for a path, names for a name: one suggestion per unit.
            let candidates: Vec<String> = all
                .iter()
                .map(|m| {
                    let (display, item, module) = parts(m);
                    if n.contains("::") {
                        full_path(module, item)
                    } else {
                        display.to_owned()
                    }
                })
                .collect();
            let close = closest(n, candidates.iter().map(String::as_str));
            let help = did_you_mean(&close).unwrap_or_else(|| {
                if all.is_empty() {
                    format!("this program declares no {kind}")
                } else {
                    let mut names: Vec<&str> = all.iter().map(|m| parts(m).0).collect();
                    names.sort_unstable();
                    names.dedup();
                    format!("the {kind}s of this program are {}", quoted(&names))
                }
            });
            out.at(&name.span, format!("unknown {kind} `{n}`"))
                .set_help(help);
            None
        }
        many => {
            let paths: Vec<String> = many
                .iter()
                .map(|m| {
                    let (_, item, module) = parts(m);
                    full_path(module, item)
                })
                .collect();
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            out.at(&name.span, format!("`{n}` names {} {kind}s", many.len()))
                .set_help(format!("name one by its full path: {}", quoted(&paths)));
            None
        }
    }
}

fn step_parts(m: &StepMeta) -> (&'static str, &'static str, &'static str) {
    (m.name, m.fn_name, m.module_path)
}

fn pipeline_parts(m: &PipelineMeta) -> (&'static str, &'static str, &'static str) {
    (m.name, m.fn_name, m.module_path)
}

/// A unit that a second section configures again.
fn twice(
    seen: &mut HashSet<usize>,
    key: usize,
    name: &Sp<String>,
    kind: &str,
    path: &str,
    out: &mut Problems,
) -> bool {
    if seen.insert(key) {
        return false;
    }
    out.at(&name.span, format!("{kind} `{path}` is configured twice"))
        .set_help(format!("merge the sections that name `{path}` into one"));
    true
}

fn step(
    s: &StepSection,
    alerters: &Alerters,
    seen: &mut HashSet<usize>,
    overrides: &mut Overrides,
    summary: &mut Summary,
    out: &mut Problems,
) {
    let meta = find(registry::steps(), &s.name, "step", step_parts, out);
    let own_crate = meta.map(|m| crate_of(m.module_path));
    // Hook names are checked even for an unknown step, so that one file
    // shows every mistake.
    let lists: Vec<_> = s
        .hooks
        .iter()
        .map(|l| hook_list(l, alerters, own_crate, meta.map(|m| !m.is_async), out))
        .collect();
    let Some(meta) = meta else { return };
    let path = full_path(meta.module_path, meta.fn_name);
    if twice(
        seen,
        meta as *const StepMeta as usize,
        &s.name,
        "step",
        &path,
        out,
    ) {
        return;
    }
    let not_retryable = |key: &str, span, out: &mut Problems| {
        out.at(
            span,
            format!("`{key}` for step `{path}`, whose attribute has no `retries`"),
        )
        .set_help(format!(
            "add `retries = 0` to its `#[step(..)]` attribute (at {}:{}): only then are its arguments cloned for each attempt",
            meta.file, meta.line
        ));
    };
    if let Some(r) = &s.retries {
        if !meta.is_retryable() {
            not_retryable("retries", &r.span, out);
        }
    }
    if let Some(d) = &s.retry_delay {
        if !meta.is_retryable() {
            not_retryable("retry_delay", &d.span, out);
        }
    }
    if let Some(t) = &s.timeout {
        if !meta.is_async() {
            out.at(
                &t.span,
                format!(
                    "`timeout` for the sync step `{path}`: only `async fn` steps can be bounded"
                ),
            )
            .set_help("remove `timeout`, or make the step an `async fn`".to_owned());
        }
    }
    let settings = overrides.step_mut(meta);
    settings.retries = s.retries.as_ref().map(|r| r.value);
    settings.retry_delay = s.retry_delay.as_ref().map(|d| d.value);
    settings.timeout = s.timeout.as_ref().map(|t| t.value);
    let entry = summary.steps.entry(path).or_default();
    entry.retries = settings.retries;
    entry.retry_delay = settings.retry_delay;
    entry.timeout = settings.timeout;
    fill(&mut settings.hooks, &mut entry.hooks, lists);
}

fn pipeline(
    p: &PipelineSection,
    alerters: &Alerters,
    seen: &mut HashSet<usize>,
    overrides: &mut Overrides,
    summary: &mut Summary,
    out: &mut Problems,
) {
    let meta = find(
        registry::pipelines(),
        &p.name,
        "pipeline",
        pipeline_parts,
        out,
    );
    let own_crate = meta.map(|m| crate_of(m.module_path));
    let own: Vec<_> = p
        .hooks
        .iter()
        .map(|l| hook_list(l, alerters, own_crate, meta.map(|m| !m.is_async), out))
        .collect();
    // A sync step inside the run hands an async default hook to hookflow's
    // hook thread, so `steps` defaults may be async whatever the steps are.
    let defaults: Vec<_> = p
        .steps
        .iter()
        .map(|l| hook_list(l, alerters, own_crate, None, out))
        .collect();
    let Some(meta) = meta else { return };
    let path = full_path(meta.module_path, meta.fn_name);
    if twice(
        seen,
        meta as *const PipelineMeta as usize,
        &p.name,
        "pipeline",
        &path,
        out,
    ) {
        return;
    }
    let settings = overrides.pipeline_mut(meta);
    settings.durable = p.durable.as_ref().map(|d| d.value);
    let entry = summary.pipelines.entry(path).or_default();
    entry.durable = settings.durable;
    fill(&mut settings.hooks, &mut entry.hooks, own);
    fill(&mut settings.steps, &mut entry.steps, defaults);
}

/// The resolved hooks of one event, each with the name the summary shows
/// (`None` when one of its entries failed).
type Resolved = Option<(Event, Vec<(&'static str, ErasedHook)>)>;

fn fill(
    lists: &mut Lists,
    summary: &mut BTreeMap<&'static str, Vec<&'static str>>,
    resolved: Vec<Resolved>,
) {
    for (event, hooks) in resolved.into_iter().flatten() {
        let (names, hooks): (Vec<&'static str>, Vec<ErasedHook>) = hooks.into_iter().unzip();
        match summary.entry(event.key()) {
            MapEntry::Vacant(v) => {
                v.insert(names);
            }
            MapEntry::Occupied(mut o) => *o.get_mut() = names,
        }
        lists.set(event, hooks);
    }
}

/// Resolves one event's entries. `sync_unit`: `Some(true)` for a sync
/// step or pipeline (which cannot await an async hook), `None` when unknown.
fn hook_list(
    l: &EventList,
    alerters: &Alerters,
    own_crate: Option<&str>,
    sync_unit: Option<bool>,
    out: &mut Problems,
) -> Resolved {
    let mut hooks = Vec::with_capacity(l.hooks.len());
    let mut ok = true;
    for entry in &l.hooks {
        let resolved = match entry {
            HookEntry::Named(name) => hook(name, l.event, own_crate, sync_unit, out)
                .map(|h| (h.path(), h.instantiate(h.path()))),
            HookEntry::Alert { alerter, message } => {
                alert_entry(alerter, message.as_ref(), alerters, out)
            }
            HookEntry::SuggestFix { alerter } => suggest_fix_entry(alerter, alerters, out),
        };
        match resolved {
            Some(h) => hooks.push(h),
            None => ok = false,
        }
    }
    ok.then_some((l.event, hooks))
}

/// `{ alert = "NAME", message = ".." }`: a hook posting through the file's
/// alerter `NAME`. Alert hooks are async; a sync step hands them to
/// hookflow's hook thread, so they fit every step and event.
fn alert_entry(
    alerter: &Sp<String>,
    message: Option<&Sp<String>>,
    alerters: &Alerters,
    out: &mut Problems,
) -> Option<(&'static str, ErasedHook)> {
    let template = match message {
        Some(m) => match Template::compile(&m.value) {
            Ok(t) => Some(Arc::new(t)),
            Err(errors) => {
                template_problems(m, "`message`", &errors, out);
                return None;
            }
        },
        None => None,
    };
    let built = file_alerter(alerter, alerters, out)?;
    let name = intern(format!("alert:{}", alerter.value));
    Some((name, alert_hook(name, built, template)))
}

/// The file's alerter `NAME`, or a problem: unknown (with the closest
/// names), or `None` for one whose own section had problems (already
/// reported there).
fn file_alerter(
    alerter: &Sp<String>,
    alerters: &Alerters,
    out: &mut Problems,
) -> Option<Arc<dyn Alerter>> {
    let found = alerters.0.iter().find(|(n, _)| *n == alerter.value);
    let Some((_, built)) = found else {
        let names: Vec<&str> = alerters.0.iter().map(|(n, _)| n.as_str()).collect();
        let help =
            did_you_mean(&closest(&alerter.value, names.iter().copied())).unwrap_or_else(|| {
                format!(
                    "declare it: `[alerters.{}]` with `kind` and `url`",
                    alerter.value
                )
            });
        out.at(
            &alerter.span,
            format!("unknown alerter `{}`", alerter.value),
        )
        .set_help(help);
        return None;
    };
    // An alerter with problems of its own was reported at its section.
    built.clone()
}

/// `{ suggest_fix = "NAME" }`: a hook asking the model that the
/// environment names (`OPENAI_BASE_URL`, `OPENAI_API_KEY`,
/// `HOOKFLOW_LLM_MODEL`) for a fix, posted through the file's alerter
/// `NAME`. The environment is read when the hook fires: without a model
/// the hook is recorded as skipped, it does not fail the load.
#[cfg(feature = "alerts")]
fn suggest_fix_entry(
    alerter: &Sp<String>,
    alerters: &Alerters,
    out: &mut Problems,
) -> Option<(&'static str, ErasedHook)> {
    let built = file_alerter(alerter, alerters, out)?;
    let name = intern(format!("suggest_fix:{}", alerter.value));
    Some((name, crate::hooks::suggest_fix_hook(name, built)))
}

/// Without the `alerts` feature there is no HTTP client to ask a model.
#[cfg(not(feature = "alerts"))]
fn suggest_fix_entry(
    alerter: &Sp<String>,
    alerters: &Alerters,
    out: &mut Problems,
) -> Option<(&'static str, ErasedHook)> {
    let _ = file_alerter(alerter, alerters, out);
    out.at(
        &alerter.span,
        "`suggest_fix` needs hookflow's `alerts` feature, which this program was built without",
    )
    .set_help("add `features = [\"alerts\"]` to hookflow in Cargo.toml".to_owned());
    None
}

const FORCE_LINK: &str =
    "a `#[hook]` declared in a crate that nothing in this program uses may not be linked in: \
add `use that_crate as _;` to the program's main file so that its hooks are registered";

fn hook(
    name: &Sp<String>,
    event: Event,
    own_crate: Option<&str>,
    sync_unit: Option<bool>,
    out: &mut Problems,
) -> Option<&'static NamedHook> {
    let n = name.value.as_str();
    match named::hook(n, own_crate) {
        Ok(h) => {
            if !h.shape().fits(event) {
                out.at(
                    &name.span,
                    format!(
                        "hook `{}` takes the error (`{}`), but `{}` has no error to give",
                        h.path(),
                        h.shape(),
                        event.key()
                    ),
                )
                .set_help(format!(
                    "`{}` hooks are `fn()` or `fn(&HookContext)`; attach `{}` to `on_failure`, `on_retry` or `on_crash`",
                    event.key(),
                    h.bare_name()
                ));
                return None;
            }
            if h.is_async() && sync_unit == Some(true) {
                out.at(
                    &name.span,
                    format!(
                        "`{}` is an async hook; a sync step or pipeline cannot await it",
                        h.path()
                    ),
                )
                .set_help(
                    "attach a sync hook, or make the step or pipeline an `async fn`".to_owned(),
                );
                return None;
            }
            Some(h)
        }
        Err(HookLookupError::Unknown) => {
            // Full paths (their last segments are compared too); hooks that
            // fit the event first.
            let all = named::hooks();
            let fitting = all.iter().filter(|h| h.shape().fits(event));
            let mut close = closest(n, fitting.map(NamedHook::path));
            if close.is_empty() {
                close = closest(n, all.iter().map(NamedHook::path));
            }
            let help = did_you_mean(&close).unwrap_or_else(|| {
                "name a function marked `#[hook]` (or a built-in `hookflow::…` hook) by its bare name or its path".to_owned()
            });
            out.at(&name.span, format!("unknown hook `{n}`"))
                .set_help(help)
                .set_note(FORCE_LINK);
            None
        }
        Err(HookLookupError::Ambiguous(paths)) => {
            out.at(
                &name.span,
                format!(
                    "hook name `{n}` is ambiguous: {} hooks have it",
                    paths.len()
                ),
            )
            .set_help(format!("name one by its full path: {}", quoted(&paths)));
            None
        }
    }
}
