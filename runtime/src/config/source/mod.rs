//! Reading a file into one spanned tree, whatever its format: every value
//! and every key keeps the byte range it came from, so that later checks can
//! point at it.

mod toml;
mod yaml;

use super::report::Problems;
pub(crate) use super::report::Span;

/// The file formats a configuration can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// The format that a file name's extension names (in any case).
    pub(crate) fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Toml => "TOML",
            Format::Yaml => "YAML",
        }
    }
}

/// A value of the file and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) span: Span,
}

/// The values both formats share.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Float,
    Bool(bool),
    /// A YAML `null` (or an empty value).
    Null,
    /// A value that no key of the schema accepts (a TOML date, a YAML
    /// number too large for `i64`), by the name used in messages.
    Other(&'static str),
    List(Vec<Node>),
    /// Entries in file order.
    Table(Vec<Entry>),
}

impl Value {
    /// What the value is, for "expected .., found .." messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float => "a float",
            Value::Bool(_) => "a boolean",
            Value::Null => "an empty value",
            Value::Other(what) => what,
            Value::List(_) => "a list",
            Value::Table(_) => "a table",
        }
    }
}

/// A key of a table, its span, and its value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_span: Span,
    pub(crate) value: Node,
}

/// Parses `text` as `format`. Syntax errors go to `out`, each at its own
/// position; then there is no tree (a half-read file is never checked, so
/// that nothing is reported about what the parser guessed).
pub(crate) fn read(text: &str, format: Format, out: &mut Problems) -> Option<Node> {
    // The parsers are meant not to panic on any input; should one do so, the
    // load fails with an error instead of unwinding into the caller.
    let parsed = std::panic::catch_unwind(|| match format {
        Format::Toml => toml::read(text),
        Format::Yaml => yaml::read(text),
    });
    match parsed {
        Ok(Ok(node)) => Some(node),
        Ok(Err(errors)) => {
            for (span, message) in errors {
                out.syntax(format.name(), span, message);
            }
            None
        }
        Err(_) => {
            out.whole_file(format!(
                "the {} parser failed on this file; please report it with the file attached",
                format.name()
            ));
            None
        }
    }
}
