//! "Did you mean" from the names the program declares: Jaro similarity
//! above 0.7 (as clap does), on whole names and on their last `::` segment.

/// The candidates closest to `query`, best first: those scoring within a
/// hair of the best (so that one clear match is shown alone), at most three.
pub(crate) fn closest<'a>(
    query: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &'a str)> = candidates
        .into_iter()
        .filter(|c| *c != query)
        .map(|c| (score(query, c), c))
        .filter(|(score, _)| *score > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let best = scored.first().map_or(0.0, |s| s.0);
    let mut out: Vec<&'a str> = Vec::new();
    for (score, c) in scored {
        if score < best - 0.02 || out.len() == 3 {
            break;
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Jaro similarity of the parts after a shared `::` prefix (so that
/// `my_app::lod` is compared with `my_app::load` as `lod` with `load`), or
/// of the last segments, whichever is higher.
fn score(query: &str, candidate: &str) -> f64 {
    let mut q = query;
    let mut c = candidate;
    while let (Some((qh, qt)), Some((ch, ct))) = (q.split_once("::"), c.split_once("::")) {
        if qh != ch {
            break;
        }
        q = qt;
        c = ct;
    }
    let last = |s: &str| s.rsplit("::").next().unwrap_or(s).to_owned();
    strsim::jaro(q, c).max(strsim::jaro(&last(query), &last(candidate)))
}

/// `did you mean `a`?` or `did you mean one of `a`, `b`?`; `None` for no
/// candidate.
pub(crate) fn did_you_mean(found: &[&str]) -> Option<String> {
    match found {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!("did you mean one of {}?", quoted(many))),
    }
}

/// `` `a`, `b`, `c` ``.
pub(crate) fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_best_first() {
        let found = closest(
            "on_failur",
            ["on_start", "on_failure", "on_finish", "retries"],
        );
        assert_eq!(found[0], "on_failure");
        assert!(!found.contains(&"retries"));
    }

    #[test]
    fn last_segments_match_paths() {
        let found = closest("etl::lod", ["my_app::etl::load", "my_app::report"]);
        assert_eq!(found, ["my_app::etl::load"]);
    }

    #[test]
    fn nothing_close_gives_no_help() {
        assert!(closest("zzz", ["on_failure", "retries"]).is_empty());
        assert_eq!(did_you_mean(&[]), None);
        assert_eq!(
            did_you_mean(&["a", "b"]).as_deref(),
            Some("did you mean one of `a`, `b`?")
        );
    }
}
