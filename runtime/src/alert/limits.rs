//! Platform limits and escaping: long text is shortened in the middle,
//! never rejected.

use std::borrow::Cow;

/// Slack's `mrkdwn` control characters escaped: `&`, `<`, `>`.
pub(crate) fn escape_slack(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The length that platforms limit: UTF-16 code units, which is never less
/// than the number of characters (so a limit in characters holds too).
fn chars(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `text`, escaped by `escape`, at most `limit` long (in UTF-16 code units,
/// see [`chars`]): when too
/// long, its head and tail are kept (two thirds head, one third tail) around
/// a marker saying how many characters were cut, so that both the start of
/// a message and the end of an error survive.
pub(crate) fn fit(text: &str, limit: usize, escape: fn(&str) -> Cow<'_, str>) -> String {
    let whole = escape(text);
    if chars(&whole) <= limit {
        return whole.into_owned();
    }
    let raw: Vec<(usize, char)> = text.char_indices().collect();
    let n = raw.len();
    let piece = |keep: usize| -> String {
        let head = keep * 2 / 3 + keep % 3 / 2;
        let tail = keep - head;
        let head_end = raw.get(head).map_or(text.len(), |&(i, _)| i);
        let tail_start = raw.get(n - tail).map_or(text.len(), |&(i, _)| i);
        let marker = format!("\n… [{} characters cut] …\n", n - keep);
        format!(
            "{}{marker}{}",
            escape(&text[..head_end]),
            escape(&text[tail_start..])
        )
    };
    // The largest number of kept characters that fits.
    let (mut lo, mut hi) = (0usize, n - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if chars(&piece(mid)) <= limit {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut out = piece(lo);
    while chars(&out) > limit {
        out.pop();
    }
    out
}

/// No escaping.
pub(crate) fn plain(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(fit("a < b", 100, escape_slack), "a &lt; b");
    }

    #[test]
    fn long_text_keeps_head_and_tail_within_the_limit() {
        let text = format!("START{}END", "x".repeat(5000));
        let out = fit(&text, 200, plain);
        assert!(out.chars().count() <= 200, "{}", out.chars().count());
        assert!(out.starts_with("STARTxx"));
        assert!(out.ends_with("xxEND"));
        assert!(out.contains("characters cut"));
    }

    #[test]
    fn wide_characters_count_as_platforms_count_them() {
        let text = "🦀".repeat(300);
        let out = fit(&text, 200, plain);
        assert!(out.encode_utf16().count() <= 200);
        assert!(out.starts_with("🦀🦀") && out.ends_with("🦀🦀"));
    }

    #[test]
    fn escaping_counts_against_the_limit_and_is_never_split() {
        let text = "<".repeat(1000);
        let out = fit(&text, 100, escape_slack);
        assert!(out.chars().count() <= 100);
        let body = out.replace("&lt;", "");
        assert!(!body.contains('&'), "{out}");
    }
}
