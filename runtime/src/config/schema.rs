//! The schema: which keys exist where and what their values are. Turns the
//! spanned tree into a [`Document`] of sections, reporting every unknown key,
//! wrong type and malformed duration (names are resolved later).

use std::time::Duration;

use crate::event::Event;

use super::report::Problems;
use super::source::{Entry, Node, Span, Value};
use super::suggest::{closest, did_you_mean, quoted};

/// A value and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct Sp<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// The file, checked against the schema.
#[derive(Debug, Default)]
pub(crate) struct Document {
    pub(crate) steps: Vec<StepSection>,
    pub(crate) pipelines: Vec<PipelineSection>,
    pub(crate) alerters: Vec<AlerterSection>,
}

/// `[alerters.NAME]`: `kind`, `url` and (webhooks) `headers`, the values
/// still templates over `secret.*`.
#[derive(Debug)]
pub(crate) struct AlerterSection {
    pub(crate) name: Sp<String>,
    pub(crate) kind: Option<Sp<String>>,
    pub(crate) url: Option<Sp<String>>,
    pub(crate) headers: Vec<(Sp<String>, Sp<String>)>,
}

/// One entry of a hook list.
#[derive(Debug)]
pub(crate) enum HookEntry {
    /// A registered hook, by name.
    Named(Sp<String>),
    /// `{ alert = "NAME", message = "TEMPLATE" }`.
    Alert {
        alerter: Sp<String>,
        message: Option<Sp<String>>,
    },
    /// `{ suggest_fix = "NAME" }` (failure events only).
    SuggestFix { alerter: Sp<String> },
}

/// `[steps.NAME]`.
#[derive(Debug)]
pub(crate) struct StepSection {
    pub(crate) name: Sp<String>,
    pub(crate) retries: Option<Sp<u32>>,
    pub(crate) retry_delay: Option<Sp<Duration>>,
    pub(crate) timeout: Option<Sp<Duration>>,
    pub(crate) hooks: Vec<EventList>,
}

/// `[pipelines.NAME]` and its `[pipelines.NAME.steps]`.
#[derive(Debug)]
pub(crate) struct PipelineSection {
    pub(crate) name: Sp<String>,
    pub(crate) durable: Option<Sp<bool>>,
    pub(crate) hooks: Vec<EventList>,
    pub(crate) steps: Vec<EventList>,
}

/// `on_failure = [..]`: the event, where its key is, and the hook names in
/// file order.
#[derive(Debug)]
pub(crate) struct EventList {
    pub(crate) event: Event,
    pub(crate) hooks: Vec<HookEntry>,
}

const TOP_KEYS: &[&str] = &["steps", "pipelines", "alerters"];
const STEP_KEYS: &[&str] = &["retries", "retry_delay", "timeout"];
const PIPELINE_KEYS: &[&str] = &["durable", "steps"];

fn event_keys() -> impl Iterator<Item = &'static str> + Clone {
    Event::ALL.into_iter().map(Event::key)
}

/// Checks `root` against the schema.
pub(crate) fn read(root: &Node, out: &mut Problems) -> Document {
    let mut doc = Document::default();
    let Some(entries) = table(root, "the file", out) else {
        return doc;
    };
    for e in entries {
        match e.key.as_str() {
            "steps" => {
                for (name, body) in sections(e, "steps", out) {
                    doc.steps.push(step_section(name, body, out));
                }
            }
            "pipelines" => {
                for (name, body) in sections(e, "pipelines", out) {
                    doc.pipelines.push(pipeline_section(name, body, out));
                }
            }
            "alerters" => {
                for (name, body) in sections(e, "alerters", out) {
                    doc.alerters.push(alerter_section(name, body, out));
                }
            }
            _ => unknown_key(e, TOP_KEYS.iter().copied(), "at the top level", out),
        }
    }
    doc
}

/// The entries of a table value, or a type problem.
fn table<'n>(node: &'n Node, what: &str, out: &mut Problems) -> Option<&'n [Entry]> {
    match &node.value {
        Value::Table(entries) => Some(entries),
        other => {
            out.at(
                &node.span,
                format!("{what} must be a table, found {}", other.describe()),
            );
            None
        }
    }
}

/// `[steps.NAME]` tables: each name with its table of settings.
fn sections<'n>(e: &'n Entry, kind: &str, out: &mut Problems) -> Vec<(Sp<String>, &'n [Entry])> {
    let Some(entries) = table(&e.value, &format!("`{kind}`"), out) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|s| {
            let body = table(&s.value, &format!("`{kind}.{}`", s.key), out)?;
            Some((
                Sp {
                    value: s.key.clone(),
                    span: s.key_span.clone(),
                },
                body,
            ))
        })
        .collect()
}

fn step_section(name: Sp<String>, body: &[Entry], out: &mut Problems) -> StepSection {
    let mut s = StepSection {
        name,
        retries: None,
        retry_delay: None,
        timeout: None,
        hooks: Vec::new(),
    };
    for e in body {
        match e.key.as_str() {
            "retries" => s.retries = retries(&e.value, out),
            "retry_delay" => s.retry_delay = duration(e, out),
            "timeout" => s.timeout = duration(e, out),
            key => match Event::from_key(key) {
                Some(event) => s.hooks.push(event_list(event, e, out)),
                None => unknown_key(
                    e,
                    STEP_KEYS.iter().copied().chain(event_keys()),
                    &format!("in `[steps.{}]`", s.name.value),
                    out,
                ),
            },
        }
    }
    s
}

fn pipeline_section(name: Sp<String>, body: &[Entry], out: &mut Problems) -> PipelineSection {
    let mut p = PipelineSection {
        name,
        durable: None,
        hooks: Vec::new(),
        steps: Vec::new(),
    };
    for e in body {
        match e.key.as_str() {
            "durable" => match e.value.value {
                Value::Bool(true) if !cfg!(feature = "journal") => {
                    out.at(
                        &e.value.span,
                        "`durable = true` needs hookflow's `journal` feature, which this program was built without",
                    )
                    .set_help("add `features = [\"journal\"]` to hookflow in Cargo.toml".to_owned());
                }
                Value::Bool(b) => {
                    p.durable = Some(Sp {
                        value: b,
                        span: e.value.span.clone(),
                    })
                }
                ref other => {
                    out.at(
                        &e.value.span,
                        format!(
                            "`durable` must be `true` or `false`, found {}",
                            other.describe()
                        ),
                    );
                }
            },
            "steps" => {
                let what = format!("`pipelines.{}.steps`", p.name.value);
                if let Some(entries) = table(&e.value, &what, out) {
                    for d in entries {
                        match Event::from_key(&d.key) {
                            Some(event) => p.steps.push(event_list(event, d, out)),
                            None => unknown_key(
                                d,
                                event_keys(),
                                &format!(
                                    "in `[pipelines.{}.steps]` (hooks for its steps)",
                                    p.name.value
                                ),
                                out,
                            ),
                        }
                    }
                }
            }
            key => match Event::from_key(key) {
                Some(event) => p.hooks.push(event_list(event, e, out)),
                None => unknown_key(
                    e,
                    PIPELINE_KEYS.iter().copied().chain(event_keys()),
                    &format!("in `[pipelines.{}]`", p.name.value),
                    out,
                ),
            },
        }
    }
    p
}

const ALERTER_KEYS: &[&str] = &["kind", "url", "headers"];

fn alerter_section(name: Sp<String>, body: &[Entry], out: &mut Problems) -> AlerterSection {
    let mut a = AlerterSection {
        name,
        kind: None,
        url: None,
        headers: Vec::new(),
    };
    for e in body {
        match e.key.as_str() {
            "kind" => a.kind = string(e, out),
            "url" => a.url = string(e, out),
            "headers" => {
                let what = format!("`alerters.{}.headers`", a.name.value);
                if let Some(entries) = table(&e.value, &what, out) {
                    for h in entries {
                        if let Some(value) = string(h, out) {
                            let key = Sp {
                                value: h.key.clone(),
                                span: h.key_span.clone(),
                            };
                            a.headers.push((key, value));
                        }
                    }
                }
            }
            _ => unknown_key(
                e,
                ALERTER_KEYS.iter().copied(),
                &format!("in `[alerters.{}]`", a.name.value),
                out,
            ),
        }
    }
    a
}

/// A string value, or a type problem.
fn string(e: &Entry, out: &mut Problems) -> Option<Sp<String>> {
    match &e.value.value {
        Value::Str(s) => Some(Sp {
            value: s.clone(),
            span: e.value.span.clone(),
        }),
        other => {
            out.at(
                &e.value.span,
                format!("`{}` must be a string, found {}", e.key, other.describe()),
            );
            None
        }
    }
}

fn unknown_key<'k>(
    e: &Entry,
    known: impl Iterator<Item = &'k str> + Clone,
    place: &str,
    out: &mut Problems,
) {
    let found = closest(&e.key, known.clone());
    let help = did_you_mean(&found).unwrap_or_else(|| {
        format!(
            "the keys {place} are {}",
            quoted(&known.collect::<Vec<_>>())
        )
    });
    out.at(&e.key_span, format!("unknown key `{}`", e.key))
        .set_help(help);
}

fn retries(v: &Node, out: &mut Problems) -> Option<Sp<u32>> {
    match v.value {
        Value::Int(n) => match u32::try_from(n) {
            Ok(n) => Some(Sp {
                value: n,
                span: v.span.clone(),
            }),
            Err(_) => {
                out.at(
                    &v.span,
                    format!("`retries` must be between 0 and {}, found {n}", u32::MAX),
                );
                None
            }
        },
        ref other => {
            out.at(
                &v.span,
                format!(
                    "`retries` must be a whole number of extra attempts, found {}",
                    other.describe()
                ),
            );
            None
        }
    }
}

const DURATION_HELP: &str = "write a duration such as \"500ms\", \"2s\" or \"1m 30s\"";

fn duration(e: &Entry, out: &mut Problems) -> Option<Sp<Duration>> {
    let v = &e.value;
    match &v.value {
        Value::Str(s) => match humantime::parse_duration(s) {
            Ok(d) => Some(Sp {
                value: d,
                span: v.span.clone(),
            }),
            Err(err) => {
                out.at(
                    &v.span,
                    format!("malformed duration {s:?} for `{}`: {err}", e.key),
                )
                .set_help(DURATION_HELP.to_owned());
                None
            }
        },
        other => {
            out.at(
                &v.span,
                format!(
                    "`{}` must be a duration string, found {}",
                    e.key,
                    other.describe()
                ),
            )
            .set_help(DURATION_HELP.to_owned());
            None
        }
    }
}

/// A hook list: a list of hook names (a single name is a list of one).
fn event_list(event: Event, e: &Entry, out: &mut Problems) -> EventList {
    let mut list = EventList {
        event,
        hooks: Vec::new(),
    };
    match &e.value.value {
        Value::List(items) => {
            for item in items {
                if let Some(name) = hook_entry(event, item, out) {
                    list.hooks.push(name);
                }
            }
        }
        Value::Str(_) => list.hooks.extend(hook_entry(event, &e.value, out)),
        other => {
            out.at(
                &e.value.span,
                format!(
                    "`{}` must be a list of hook names, found {}",
                    event.key(),
                    other.describe()
                ),
            )
            .set_help("write `[\"my_hook\"]`, or `[]` to switch the event's hooks off".to_owned());
        }
    }
    list
}

fn hook_entry(event: Event, item: &Node, out: &mut Problems) -> Option<HookEntry> {
    match &item.value {
        Value::Str(s) if s.trim().is_empty() => {
            out.at(&item.span, format!("empty hook name in `{}`", event.key()));
            None
        }
        Value::Str(s) => Some(HookEntry::Named(Sp {
            value: s.trim().to_owned(),
            span: item.span.clone(),
        })),
        Value::Table(entries) => table_entry(event, item, entries, out),
        other => {
            out.at(
                &item.span,
                format!(
                    "a hook in `{}` is named by a string, found {}",
                    event.key(),
                    other.describe()
                ),
            );
            None
        }
    }
}

const ALERT_KEYS: &[&str] = &["alert", "message"];
const SUGGEST_FIX_KEYS: &[&str] = &["suggest_fix"];

/// `{ alert = "NAME", message = ".." }` or `{ suggest_fix = "NAME" }`.
fn table_entry(
    event: Event,
    item: &Node,
    entries: &[Entry],
    out: &mut Problems,
) -> Option<HookEntry> {
    if let Some(fix) = entries.iter().find(|e| e.key == "suggest_fix") {
        if !event.is_failure() {
            out.at(
                &fix.key_span,
                format!(
                    "`suggest_fix` on `{}`: there is no failure to fix",
                    event.key()
                ),
            )
            .set_help("attach it to `on_failure`, `on_retry` or `on_crash`".to_owned());
            return None;
        }
        let mut ok = true;
        for e in entries {
            if e.key != "suggest_fix" {
                unknown_key(
                    e,
                    SUGGEST_FIX_KEYS.iter().copied(),
                    "of a `suggest_fix` entry",
                    out,
                );
                ok = false;
            }
        }
        let alerter = string(fix, out)?;
        return ok.then_some(HookEntry::SuggestFix { alerter });
    }
    let Some(alert) = entries.iter().find(|e| e.key == "alert") else {
        out.at(
            &item.span,
            format!(
                "a table in `{}` must be `{{ alert = \"NAME\", message = \"..\" }}`",
                event.key()
            ),
        );
        return None;
    };
    let mut ok = true;
    let alerter = string(alert, out);
    let mut message = None;
    for e in entries {
        match e.key.as_str() {
            "alert" => {}
            "message" => {
                message = string(e, out);
                ok &= message.is_some();
            }
            _ => {
                unknown_key(e, ALERT_KEYS.iter().copied(), "of an `alert` entry", out);
                ok = false;
            }
        }
    }
    let alerter = alerter?;
    ok.then_some(HookEntry::Alert { alerter, message })
}
