//! TOML into the spanned tree, through `toml`'s spanned document parser
//! (which reports every syntax error it finds, each with its range).

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{Entry, Node, Span, Value};

/// The document, or every syntax error with its range.
pub(super) fn read(text: &str) -> Result<Node, Vec<(Span, String)>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| (e.span().unwrap_or(0..0), e.message().to_owned()))
            .collect());
    }
    let span = doc.span();
    Ok(Node {
        value: table(doc.into_inner()),
        span,
    })
}

fn table(t: DeTable<'_>) -> Value {
    let mut entries: Vec<Entry> = t
        .into_iter()
        .map(|(k, v)| Entry {
            key_span: k.span(),
            key: k.into_inner().into_owned(),
            value: node(v),
        })
        .collect();
    // The parser's map is ordered by key; checks and messages follow the file.
    entries.sort_by_key(|e| e.key_span.start);
    Value::Table(entries)
}

fn node(v: Spanned<DeValue<'_>>) -> Node {
    let span = v.span();
    let value = match v.into_inner() {
        DeValue::String(s) => Value::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Other("an integer out of range"),
        },
        DeValue::Float(_) => Value::Float,
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(_) => Value::Other("a date-time"),
        DeValue::Array(items) => Value::List(items.into_iter().map(node).collect()),
        DeValue::Table(t) => table(t),
    };
    Node { value, span }
}
