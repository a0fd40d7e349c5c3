//! Secrets and the one redaction pass that every text leaving hookflow goes
//! through.
//!
//! A secret is a value that must never be shown: a webhook URL (for Slack
//! and Discord the URL *is* the credential), a token, a header value.
//! Every secret hookflow reads ([`Secret::from_env`], the URL of a built-in
//! alerter) or that a program hands over with [`register`] joins one
//! process-wide set of known values, and [`redact`] replaces each of them,
//! wherever it appears in a text, by a marker: `[secret NAME]` for a named
//! secret, `[redacted]` otherwise.
//!
//! hookflow passes through [`redact`] what its own hooks log, the errors
//! they return (which become hook outcome records), the excerpts of a
//! server's answer kept in an error, and template errors. Redaction costs one
//! atomic load while no secret is known.
//!
//! ```
//! use hookflow::secret;
//!
//! secret::register_named("DOC_TOKEN", "tok-123456");
//! assert_eq!(
//!     secret::redact("401 for token tok-123456"),
//!     "401 for token [secret DOC_TOKEN]"
//! );
//! assert_eq!(secret::redact("nothing to hide"), "nothing to hide");
//! ```
//!
//! Every value is matched exactly as registered, and in its JSON-escaped
//! and HTML-escaped forms when they differ (a server echoing a request
//! body); a URL's path (and query) is matched on its own too, in the same
//! forms, since a server may echo only that part. Values and forms shorter
//! than [`MIN_LEN`] bytes are not matched: they would blank out ordinary
//! text (a one-letter header value), and are no secret worth the name.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

struct Known {
    value: Box<str>,
    marker: Box<str>,
}

/// The known secret values, longest first (so that a secret containing
/// another is replaced whole).
static KNOWN: RwLock<Vec<Known>> = RwLock::new(Vec::new());
static ANY: AtomicBool = AtomicBool::new(false);

/// The shortest value [`redact`] replaces.
pub const MIN_LEN: usize = 6;

fn add(value: &str, marker: String) {
    if value.len() < MIN_LEN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    let mut forms = vec![value.to_owned()];
    // A server may echo only the path of a URL secret (`Cannot POST
    // /services/T0/B0/token`): for Slack and Discord that part holds the
    // credential.
    if let Some(path) = url_path(value) {
        forms.push(path.to_owned());
    }
    for i in 0..forms.len() {
        // As it appears in a JSON string or in HTML or Slack markup (a
        // server echoing a request body).
        for escaped in [json_escaped(&forms[i]), html_escaped(&forms[i])] {
            forms.push(escaped);
        }
    }
    for form in forms {
        if form.len() < MIN_LEN || known.iter().any(|k| *k.value == *form) {
            continue;
        }
        known.push(Known {
            value: form.into_boxed_str(),
            marker: marker.clone().into_boxed_str(),
        });
    }
    known.sort_by_key(|k| std::cmp::Reverse(k.value.len()));
    ANY.store(true, Ordering::Release);
}

/// The path (and query) of `value` when it is a URL with one, as a server
/// may echo it.
fn url_path(value: &str) -> Option<&str> {
    let rest = &value[value.find("://")? + 3..];
    let path = &rest[rest.find('/')?..];
    (path.len() > 1).then_some(path)
}

/// `value` with the characters HTML and Slack markup escape (`&`, `<`,
/// `>`, and quotes in HTML) as entities.
fn html_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` as it appears inside a JSON string (without the quotes).
fn json_escaped(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Makes `value` a known secret: from now on [`redact`] replaces it by
/// `[redacted]`. Values shorter than [`MIN_LEN`] are ignored.
pub fn register(value: &str) {
    add(value, "[redacted]".to_owned());
}

/// Makes `value` a known secret called `name` (an environment variable's
/// name, say): [`redact`] replaces it by `[secret NAME]`.
pub fn register_named(name: &str, value: &str) {
    add(value, format!("[secret {name}]"));
}

/// `text` with every known secret value replaced by its marker; borrowed
/// when there was nothing to replace.
pub fn redact(text: &str) -> Cow<'_, str> {
    if !ANY.load(Ordering::Acquire) {
        return Cow::Borrowed(text);
    }
    let known = KNOWN.read().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for k in known.iter() {
        if out.contains(&*k.value) {
            out = Cow::Owned(out.replace(&*k.value, &k.marker));
        }
    }
    out
}

/// [`redact`] into an owned `String`.
pub fn redacted(text: impl AsRef<str>) -> String {
    redact(text.as_ref()).into_owned()
}

/// `true` when `text` holds a known secret value.
pub fn contains_secret(text: &str) -> bool {
    ANY.load(Ordering::Acquire)
        && KNOWN
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|k| text.contains(&*k.value))
}

#[cfg(feature = "config")]
pub use value::{Secret, SecretError};

#[cfg(feature = "config")]
mod value {
    use std::fmt;
    use std::sync::Arc;

    use secrecy::{ExposeSecret, SecretString};

    /// A secret value: never shown by `Debug` or `Display`, registered for
    /// [`redact`](super::redact) as soon as it exists, wiped from memory
    /// when the last copy is dropped. Cheap to clone.
    ///
    /// ```
    /// use hookflow::secret::{self, Secret};
    ///
    /// let s = Secret::new("DOC_SECRET_KEY", "s3cr3t-value");
    /// assert_eq!(format!("{s:?}"), "Secret(DOC_SECRET_KEY)");
    /// assert_eq!(secret::redact("key=s3cr3t-value"), "key=[secret DOC_SECRET_KEY]");
    /// ```
    #[derive(Clone)]
    pub struct Secret {
        name: Arc<str>,
        value: Arc<SecretString>,
    }

    impl Secret {
        /// A secret called `name` (shown in place of the value).
        pub fn new(name: impl Into<Arc<str>>, value: impl Into<String>) -> Self {
            let name = name.into();
            let value: String = value.into();
            super::register_named(&name, &value);
            Secret {
                name,
                value: Arc::new(SecretString::from(value)),
            }
        }

        /// An unnamed secret (a webhook URL given in code); shown as
        /// `[redacted]`.
        pub fn unnamed(value: impl Into<String>) -> Self {
            let value: String = value.into();
            super::register(&value);
            Secret {
                name: Arc::from(""),
                value: Arc::new(SecretString::from(value)),
            }
        }

        /// The secret read from the environment variable `name`, the way
        /// `{{ secret.NAME }}` in a template reads it.
        pub fn from_env(name: &str) -> Result<Secret, SecretError> {
            match std::env::var(name) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(name, v)),
                Ok(_) => Err(SecretError::Empty(name.to_owned())),
                Err(std::env::VarError::NotPresent) => Err(SecretError::Unset(name.to_owned())),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(SecretError::NotUnicode(name.to_owned()))
                }
            }
        }

        /// The name it was created with (`""` for an unnamed secret).
        pub fn name(&self) -> &str {
            &self.name
        }

        /// The value, for the one place that must use it (a request).
        pub(crate) fn expose(&self) -> &str {
            self.value.expose_secret()
        }
    }

    impl From<String> for Secret {
        /// An unnamed secret.
        fn from(value: String) -> Self {
            Secret::unnamed(value)
        }
    }

    impl From<&str> for Secret {
        /// An unnamed secret.
        fn from(value: &str) -> Self {
            Secret::unnamed(value)
        }
    }

    impl fmt::Debug for Secret {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.name.is_empty() {
                f.write_str("Secret([redacted])")
            } else {
                write!(f, "Secret({})", self.name)
            }
        }
    }

    /// Why a secret could not be read. The message names the environment
    /// variable, never a value.
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[non_exhaustive]
    pub enum SecretError {
        /// The environment variable is not set.
        #[error("the environment variable `{0}` is not set")]
        Unset(String),
        /// It is set to the empty string.
        #[error("the environment variable `{0}` is empty")]
        Empty(String),
        /// Its value is not valid Unicode.
        #[error("the environment variable `{0}` is not valid Unicode")]
        NotUnicode(String),
    }

    impl SecretError {
        /// The environment variable's name.
        pub fn variable(&self) -> &str {
            match self {
                SecretError::Unset(n) | SecretError::Empty(n) | SecretError::NotUnicode(n) => n,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_secret_wins_and_json_form_is_caught() {
        register_named("UNIT_OUTER", "abc/def-unit-secret-long");
        register_named("UNIT_INNER", "def-unit-secret");
        assert_eq!(
            redact("x abc/def-unit-secret-long y def-unit-secret"),
            "x [secret UNIT_OUTER] y [secret UNIT_INNER]"
        );
        assert_eq!(
            redact(r#"{"u":"abc\/def-unit-secret-long"}"#),
            r#"{"u":"[secret UNIT_OUTER]"}"#
        );
        assert!(contains_secret("..def-unit-secret.."));
        assert!(!contains_secret("def-unit"));
    }

    #[test]
    fn escaped_forms_and_a_url_path_are_caught() {
        register_named("UNIT_MARKUP", "p4ss&w0rd<unit>");
        assert_eq!(
            redact("echo: p4ss&amp;w0rd&lt;unit&gt;"),
            "echo: [secret UNIT_MARKUP]"
        );
        register_named(
            "UNIT_URL",
            "https://hooks.example/services/T0/B0/unit-path-token",
        );
        assert_eq!(
            redact("Cannot POST /services/T0/B0/unit-path-token"),
            "Cannot POST [secret UNIT_URL]"
        );
        assert_eq!(
            redact(r#"{"path":"\/services\/T0\/B0\/unit-path-token"}"#),
            r#"{"path":"[secret UNIT_URL]"}"#
        );
        // A URL with no path worth the name adds no form.
        assert_eq!(url_path("https://h.example/"), None);
        assert_eq!(url_path("not a url"), None);
    }

    #[test]
    fn short_values_are_not_matched() {
        register("");
        register("plain");
        assert_eq!(redact("plain text"), "plain text");
        assert!(matches!(redact("plain text"), Cow::Borrowed(_)));
    }
}
