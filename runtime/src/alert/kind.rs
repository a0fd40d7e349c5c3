//! Alerters by kind name, as configuration files declare them
//! (`kind = "slack" | "discord" | "webhook"`).

use std::sync::Arc;

use super::Alerter;
use crate::secret::Secret;

/// The kinds a configuration file may name.
pub(crate) const KINDS: [&str; 3] = ["slack", "discord", "webhook"];

/// Why an alerter could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(dead_code)] // built by the configuration loader
pub(crate) enum KindError {
    /// Not one of [`KINDS`]; the closest one, if any is close.
    Unknown {
        kind: String,
        closest: Option<&'static str>,
    },
    /// `headers` on a kind other than `webhook`.
    HeadersNotAllowed(&'static str),
    /// The kind is known but this build lacks the `alerts` feature.
    FeatureOff,
    /// The alerter rejected its URL or a header (redacted text).
    Invalid(String),
}

impl std::fmt::Display for KindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KindError::Unknown { kind, closest } => {
                write!(f, "unknown alerter kind `{kind}`")?;
                match closest {
                    Some(c) => write!(f, "; did you mean `{c}`?"),
                    None => write!(f, "; the kinds are {}", KINDS.join(", ")),
                }
            }
            KindError::HeadersNotAllowed(kind) => {
                write!(f, "`headers` are only for `kind = \"webhook\"`, not `{kind}`")
            }
            KindError::FeatureOff => f.write_str(
                "HTTP alerters need hookflow's `alerts` feature, which this program was built without; \
                 add `features = [\"alerts\"]` to hookflow in Cargo.toml",
            ),
            KindError::Invalid(m) => f.write_str(m),
        }
    }
}

/// An alerter of `kind` posting to `url` with `headers` (webhook only), with
/// the default HTTP options: what `[alerters.NAME]` becomes.
#[allow(dead_code)] // called by the configuration loader
pub(crate) fn from_kind(
    kind: &str,
    url: Secret,
    headers: Vec<(String, Secret)>,
) -> Result<Arc<dyn Alerter>, KindError> {
    let Some(&kind) = KINDS.iter().find(|k| **k == kind) else {
        let closest = KINDS
            .iter()
            .map(|k| (strsim::jaro_winkler(kind, k), *k))
            .filter(|(score, _)| *score > 0.7)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, k)| k);
        return Err(KindError::Unknown {
            kind: kind.to_owned(),
            closest,
        });
    };
    if kind != "webhook" && !headers.is_empty() {
        return Err(KindError::HeadersNotAllowed(kind));
    }
    build(kind, url, headers)
}

#[cfg(feature = "alerts")]
fn build(
    kind: &'static str,
    url: Secret,
    headers: Vec<(String, Secret)>,
) -> Result<Arc<dyn Alerter>, KindError> {
    use super::{DiscordAlerter, SlackAlerter, WebhookAlerter};
    let invalid = |e: super::AlertError| KindError::Invalid(e.to_string());
    Ok(match kind {
        "slack" => Arc::new(SlackAlerter::new(url).map_err(invalid)?),
        "discord" => Arc::new(DiscordAlerter::new(url).map_err(invalid)?),
        _ => {
            let mut b = WebhookAlerter::builder(url);
            for (name, value) in headers {
                b = b.header(name, value);
            }
            Arc::new(b.build().map_err(invalid)?)
        }
    })
}

#[cfg(not(feature = "alerts"))]
fn build(
    _kind: &'static str,
    _url: Secret,
    _headers: Vec<(String, Secret)>,
) -> Result<Arc<dyn Alerter>, KindError> {
    Err(KindError::FeatureOff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_kind_names_the_closest() {
        let err = from_kind("slak", Secret::unnamed("http://127.0.0.1:9/x"), vec![])
            .err()
            .unwrap();
        assert_eq!(
            err,
            KindError::Unknown {
                kind: "slak".into(),
                closest: Some("slack")
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown alerter kind `slak`; did you mean `slack`?"
        );
        let err = from_kind("pager", Secret::unnamed("http://127.0.0.1:9/x"), vec![])
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "unknown alerter kind `pager`; the kinds are slack, discord, webhook"
        );
    }

    #[test]
    fn headers_belong_to_webhooks_only() {
        let headers = vec![("X-Token".to_owned(), Secret::unnamed("abcdefgh"))];
        let err = from_kind(
            "discord",
            Secret::unnamed("http://127.0.0.1:9/x"),
            headers.clone(),
        )
        .err()
        .unwrap();
        assert_eq!(err, KindError::HeadersNotAllowed("discord"));
        #[cfg(feature = "alerts")]
        assert!(from_kind("webhook", Secret::unnamed("http://127.0.0.1:9/x"), headers).is_ok());
    }

    #[cfg(feature = "alerts")]
    #[test]
    fn a_bad_url_is_invalid_without_showing_it() {
        let err = from_kind("slack", Secret::unnamed("not a url at all"), vec![])
            .err()
            .unwrap();
        assert!(
            matches!(&err, KindError::Invalid(m) if m.starts_with("slack: the URL is not valid")),
            "{err}"
        );
        assert!(!err.to_string().contains("not a url at all"));
    }
}
