//! Load-time problems: collected with their positions, given back as data
//! ([`Problem`]) and rendered as `file:line:col: message` with a snippet of
//! the line, a caret under the offending text, and the help.

use std::fmt;
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// A byte range in the file's text.
pub(crate) type Span = std::ops::Range<usize>;

/// One mistake in a configuration file.
///
/// ```
/// let err = hookflow::config::Config::from_toml_str("hookflow.toml", "[stepz.load]\n")
///     .unwrap_err();
/// let problem = &err.problems()[0];
/// assert_eq!((problem.file(), problem.line(), problem.column()), ("hookflow.toml", 1, 2));
/// assert_eq!(problem.message(), "unknown key `stepz`");
/// assert_eq!(problem.help(), Some("did you mean `steps`?"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    file: Arc<str>,
    line: usize,
    column: usize,
    span: Option<Span>,
    message: String,
    help: Option<String>,
    note: Option<String>,
}

impl Problem {
    /// The file, as named to the loader.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line (1-based); `0` when the problem is about the whole file (it
    /// cannot be read, or its extension names no format).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column (1-based, in characters); `0` with `line() == 0`.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it: `did you mean ...`, when there is a likely fix.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// More context, when useful (how to force-link a hook's crate, the full
    /// paths behind an ambiguous name).
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

/// Why a configuration file could not be loaded: **every** problem found in
/// it, in file order. Nothing was installed.
///
/// `Display` renders each problem as `file:line:col: message`, the line
/// with a caret under the offending text, and its `help:` line.
#[derive(Clone)]
pub struct ConfigError {
    file: Arc<str>,
    text: Option<Arc<str>>,
    problems: Vec<Problem>,
}

impl ConfigError {
    /// The file, as named to the loader.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Every problem, in file order (never empty).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// An error about the whole file (unreadable, unknown extension).
    pub(crate) fn whole(file: &str, message: String, help: Option<String>) -> ConfigError {
        let file: Arc<str> = Arc::from(file);
        ConfigError {
            problems: vec![Problem {
                file: file.clone(),
                line: 0,
                column: 0,
                span: None,
                message,
                help,
                note: None,
            }],
            file,
            text: None,
        }
    }

    fn render(&self, p: &Problem, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if p.line == 0 {
            writeln!(f, "{}: {}", p.file, p.message)?;
        } else {
            writeln!(f, "{}:{}:{}: {}", p.file, p.line, p.column, p.message)?;
        }
        let mut group = Group::with_level(Level::ERROR);
        let mut has_elements = false;
        if let (Some(text), Some(span)) = (&self.text, &p.span) {
            if let Some((line_text, range)) = line_of(text, span) {
                group = group.element(
                    Snippet::source(line_text)
                        .line_start(p.line)
                        .fold(false)
                        .annotation(AnnotationKind::Primary.span(range)),
                );
                has_elements = true;
            }
        }
        if let Some(help) = &p.help {
            group = group.element(Level::HELP.message(help.as_str()));
            has_elements = true;
        }
        if let Some(note) = &p.note {
            group = group.element(Level::NOTE.message(note.as_str()));
            has_elements = true;
        }
        if has_elements {
            writeln!(f, "{}", Renderer::plain().render(&[group]))?;
        }
        Ok(())
    }
}

/// The text of the line that `span` starts on, and the span's range within
/// it (at least one character wide, cut at the end of the line).
fn line_of<'t>(text: &'t str, span: &Span) -> Option<(&'t str, Span)> {
    let start = span.start.min(text.len());
    let start = (0..=start).rev().find(|&i| text.is_char_boundary(i))?;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let from = (start - line_start).min(line.len());
    let mut to = span.end.saturating_sub(line_start).clamp(from, line.len());
    if to == from {
        to = line[from..]
            .chars()
            .next()
            .map_or(from, |c| from + c.len_utf8());
    }
    Some((line, from..to))
}

/// Renders every problem; the text goes through the redaction pass, so a
/// known secret value that a problem or a snippet would show never leaves.
struct Rendered<'a>(&'a ConfigError);

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let n = e.problems.len();
        writeln!(
            f,
            "{}: {} problem{} in the configuration; nothing was applied",
            e.file,
            n,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &e.problems {
            writeln!(f)?;
            e.render(p, f)?;
        }
        Ok(())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = Rendered(self).to_string();
        f.write_str(&crate::secret::redact(&text))
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `unwrap()` on a failed load prints the rendered problems.
        write!(f, "ConfigError:\n{self}")
    }
}

impl std::error::Error for ConfigError {}

/// Collects the problems of one file as the checks find them.
pub(crate) struct Problems {
    file: Arc<str>,
    text: Arc<str>,
    line_starts: Vec<usize>,
    list: Vec<Problem>,
}

impl Problems {
    pub(crate) fn new(file: &str, text: &str) -> Problems {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Problems {
            file: Arc::from(file),
            text: Arc::from(text),
            line_starts,
            list: Vec::new(),
        }
    }

    /// A problem at `span`.
    pub(crate) fn at(&mut self, span: &Span, message: impl Into<String>) -> &mut Problem {
        let (line, column) = self.position(span.start);
        self.list.push(Problem {
            file: self.file.clone(),
            line,
            column,
            span: Some(span.clone()),
            message: message.into(),
            help: None,
            note: None,
        });
        self.list.last_mut().expect("just pushed")
    }

    /// The file range of `inner` (a range of the string `decoded`, the
    /// value at `span` as parsed) inside that value: past its opening quote
    /// when the file's text there reads the same; else where that fragment
    /// next appears in the value's text (escapes, a multi-line or block
    /// string before it shift it); all of `span` when neither holds.
    pub(crate) fn inside(&self, span: &Span, decoded: &str, inner: Option<Span>) -> Span {
        let Some(inner) = inner else {
            return span.clone();
        };
        let Some(fragment) = decoded.get(inner.clone()).filter(|f| !f.is_empty()) else {
            return span.clone();
        };
        let raw = self.text.get(span.clone()).unwrap_or_default();
        let quoted = matches!(raw.as_bytes().first(), Some(b'"' | b'\''));
        let base = span.start + usize::from(quoted);
        let direct = (base + inner.start)..(base + inner.end);
        if self.text.get(direct.clone()) == Some(fragment) && direct.end <= span.end {
            return direct;
        }
        // The file's text is never shorter than the parsed string before the
        // fragment (escapes and indentation only add to it): the first
        // occurrence from there on.
        let from = (inner.start..=raw.len())
            .find(|&i| raw.is_char_boundary(i))
            .unwrap_or(raw.len());
        match raw[from..]
            .find(fragment)
            .map(|at| from + at)
            .or_else(|| raw.find(fragment))
        {
            Some(at) => (span.start + at)..(span.start + at + fragment.len()),
            None => span.clone(),
        }
    }

    /// A syntax error reported by the `format` parser (`"TOML"`).
    pub(crate) fn syntax(&mut self, format: &str, span: Span, message: String) {
        self.at(&span, format!("invalid {format}: {message}"));
    }

    /// A problem about the whole file.
    pub(crate) fn whole_file(&mut self, message: String) {
        self.list.push(Problem {
            file: self.file.clone(),
            line: 0,
            column: 0,
            span: None,
            message,
            help: None,
            note: None,
        });
    }

    /// `Ok` when nothing was found, else every problem in file order.
    pub(crate) fn finish(mut self) -> Result<(), ConfigError> {
        if self.list.is_empty() {
            return Ok(());
        }
        self.list.sort_by_key(|p| (p.line, p.column));
        // One place read twice (a YAML merge key or alias) is one problem.
        self.list.dedup_by(|b, a| {
            (a.line, a.column, &a.message, &a.help) == (b.line, b.column, &b.message, &b.help)
        });
        Err(ConfigError {
            file: self.file,
            text: Some(self.text),
            problems: self.list,
        })
    }

    /// 1-based line and character column of byte `at`.
    fn position(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= at);
        let line_start = self.line_starts[line.saturating_sub(1)];
        let column = match self.text.get(line_start..at) {
            Some(s) => s.chars().count(),
            None => at - line_start,
        };
        (line.max(1), column + 1)
    }
}

impl Problem {
    /// Sets the help line (none when `help` is `None`).
    pub(crate) fn set_help(&mut self, help: impl Into<Option<String>>) -> &mut Problem {
        self.help = help.into();
        self
    }

    /// Sets the note.
    pub(crate) fn set_note(&mut self, note: impl Into<String>) -> &mut Problem {
        self.note = Some(note.into());
        self
    }
}
