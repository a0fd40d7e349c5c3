//! Journal locations in messages: a URL shown without its password.

/// A URL without its password (in the user part or a `password=`
/// parameter), for messages and `Debug`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let rest = match rest.rsplit_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{auth}@{host}"),
        },
        None => rest.to_owned(),
    };
    let query = query.map(|q| {
        q.split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    match query {
        Some(q) => format!("{scheme}://{rest}?{q}"),
        None => format!("{scheme}://{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_in_the_user_part_or_a_parameter_is_hidden() {
        let shown = redact("postgres://app:s3cret@db.local:5432/jobs?sslmode=off&password=p4ss");
        assert!(
            !shown.contains("s3cret") && !shown.contains("p4ss"),
            "{shown}"
        );
        assert!(
            shown.contains("app") && shown.contains("db.local:5432/jobs"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=off"), "{shown}");
        // Nothing to hide: shown as given.
        assert_eq!(redact("file:///var/lib/jobs"), "file:///var/lib/jobs");
        assert_eq!(redact("not a url"), "not a url");
    }
}
