//! YAML into the spanned tree, through `serde-saphyr` with its `Spanned`
//! locations (duplicate keys are errors; aliases and size are bounded by its
//! budget, nesting to a few levels).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::{Entry, Node, Span, Value};

/// How deeply values may nest: far more than the schema uses (a file, a
/// section, a table, a hook list, an entry), and few enough that reading
/// stays within a small thread's stack.
const MAX_DEPTH: usize = 16;

/// The document, or the syntax error with its range.
pub(super) fn read(text: &str) -> Result<Node, Vec<(Span, String)>> {
    let options = serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
    };
    match serde_saphyr::from_str_with_options::<Option<Spanned<Raw>>>(text, options) {
        Ok(Some(root)) => Ok(convert(text, root)),
        Ok(None) => Ok(Node {
            value: Value::Table(Vec::new()),
            span: 0..0,
        }),
        Err(e) => {
            let span = e.location().map(|l| span_of(text, l)).unwrap_or(0..0);
            Err(vec![(span, message_of(&e))])
        }
    }
}

/// The error's own words, without the location and snippet that
/// `serde-saphyr` appends (the report adds its own).
fn message_of(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    if full.contains("budget breached: Depth") {
        return format!("values nest deeper than {MAX_DEPTH} levels");
    }
    let first = full.lines().next().unwrap_or("").trim();
    let first = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    // Advice meant for programs that embed the parser, not for the file's
    // author.
    if let Some(key) = first.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return format!("duplicate key `{key}`");
    }
    if first.is_empty() {
        "malformed YAML".to_owned()
    } else {
        first.to_owned()
    }
}

/// A YAML value as `serde-saphyr` hands it over, children with locations.
enum Raw {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Other(&'static str),
    List(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

fn convert(text: &str, n: Spanned<Raw>) -> Node {
    let span = span_of(text, n.referenced);
    let value = match n.value {
        Raw::Str(s) => Value::Str(s),
        Raw::Int(i) => Value::Int(i),
        // Digits alone too large for an integer reach us as a float.
        Raw::Float(_) if is_integer_text(text.get(span.clone()).unwrap_or_default()) => {
            Value::Other("an integer out of range")
        }
        Raw::Float(_) => Value::Float,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Null => Value::Null,
        Raw::Other(what) => Value::Other(what),
        Raw::List(items) => Value::List(items.into_iter().map(|i| convert(text, i)).collect()),
        Raw::Map(entries) => Value::Table(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key_span = span_of(text, k.referenced);
                    let key = match k.value {
                        Raw::Str(s) => s,
                        Raw::Int(i) => i.to_string(),
                        Raw::Bool(b) => b.to_string(),
                        Raw::Float(f) => f.to_string(),
                        Raw::Null => "null".to_owned(),
                        Raw::Other(_) | Raw::List(_) | Raw::Map(_) => "<not a name>".to_owned(),
                    };
                    Entry {
                        key,
                        key_span,
                        value: convert(text, v),
                    }
                })
                .collect(),
        ),
    };
    Node { value, span }
}

/// `[+-]digits`: an integer as written.
fn is_integer_text(raw: &str) -> bool {
    let digits = raw.trim().trim_start_matches(['+', '-']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The byte range of a location: its byte offset when `serde-saphyr` knows
/// it, else computed from the line and (character) column.
fn span_of(text: &str, loc: Location) -> Span {
    let s = loc.span();
    if let Some(start) = s.byte_offset() {
        let start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
        let len = s
            .byte_len()
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(0);
        let end = start.saturating_add(len).min(text.len());
        return start..end;
    }
    if loc.line() == 0 {
        return 0..0;
    }
    let line = usize::try_from(loc.line() - 1).unwrap_or(usize::MAX);
    let col = usize::try_from(loc.column().saturating_sub(1)).unwrap_or(usize::MAX);
    let Some(line_start) = text
        .split_inclusive('\n')
        .take(line)
        .map(str::len)
        .try_fold(0usize, usize::checked_add)
    else {
        return 0..0;
    };
    let start = text
        .get(line_start..)
        .and_then(|rest| rest.char_indices().nth(col).map(|(i, _)| line_start + i))
        .unwrap_or(text.len());
    start..start
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v)
            .map(Raw::Int)
            .unwrap_or(Raw::Other("an integer out of range")))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(i64::try_from(v)
            .map(Raw::Int)
            .unwrap_or(Raw::Other("an integer out of range")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(i64::try_from(v)
            .map(Raw::Int)
            .unwrap_or(Raw::Other("an integer out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Other("binary data"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Spanned<Raw>, Spanned<Raw>>()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}
