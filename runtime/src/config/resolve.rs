//! Names to the program's registries: each section's step or pipeline, each
//! hook name to a registered hook whose shape fits its event. Produces the
//! settings to install and a summary of them, or reports every name that
//! finds nothing, finds several, or does not fit.

use std::collections::btree_map::{BTreeMap, Entry as MapEntry};
use std::collections::HashSet;
use std::time::Duration;

use crate::event::Event;
use crate::hook::ErasedHook;
use crate::meta::{registry, PipelineMeta, StepMeta};
use crate::named::{self, HookLookupError, NamedHook};
use crate::settings::{Lists, Overrides};

use super::report::Problems;
use super::schema::{Document, EventList, PipelineSection, Sp, StepSection};
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
    let mut seen_steps: HashSet<usize> = HashSet::new();
    for s in &doc.steps {
        step(s, &mut seen_steps, &mut overrides, &mut summary, out);
    }
    let mut seen_pipelines: HashSet<usize> = HashSet::new();
    for p in &doc.pipelines {
        pipeline(p, &mut seen_pipelines, &mut overrides, &mut summary, out);
    }
    (overrides, summary)
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
        .map(|l| hook_list(l, own_crate, meta.map(|m| !m.is_async), out))
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
        .map(|l| hook_list(l, own_crate, meta.map(|m| !m.is_async), out))
        .collect();
    // A sync step inside the run hands an async default hook to hookflow's
    // hook thread, so `steps` defaults may be async whatever the steps are.
    let defaults: Vec<_> = p
        .steps
        .iter()
        .map(|l| hook_list(l, own_crate, None, out))
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

/// The resolved hooks of one event (`None` when one of its names failed).
type Resolved = Option<(Event, Vec<&'static NamedHook>)>;

fn fill(
    lists: &mut Lists,
    summary: &mut BTreeMap<&'static str, Vec<&'static str>>,
    resolved: Vec<Resolved>,
) {
    for (event, hooks) in resolved.into_iter().flatten() {
        let names = hooks.iter().map(|h| h.path()).collect();
        match summary.entry(event.key()) {
            MapEntry::Vacant(v) => {
                v.insert(names);
            }
            MapEntry::Occupied(mut o) => *o.get_mut() = names,
        }
        lists.set(
            event,
            hooks
                .iter()
                .map(|h| h.instantiate(h.path()))
                .collect::<Vec<ErasedHook>>(),
        );
    }
}

/// Resolves one event's hook names. `sync_unit`: `Some(true)` for a sync
/// step or pipeline (which cannot await an async hook), `None` when unknown.
fn hook_list(
    l: &EventList,
    own_crate: Option<&str>,
    sync_unit: Option<bool>,
    out: &mut Problems,
) -> Resolved {
    let mut hooks = Vec::with_capacity(l.hooks.len());
    let mut ok = true;
    for name in &l.hooks {
        match hook(name, l.event, own_crate, sync_unit, out) {
            Some(h) => hooks.push(h),
            None => ok = false,
        }
    }
    ok.then_some((l.event, hooks))
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
