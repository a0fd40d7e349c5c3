//! Configuration files (feature `config`): attach registered hooks by name
//! and override retries, delays and timeouts from TOML or YAML, checked
//! against the program at load.
//!
//! ```
//! use hookflow::config::Config;
//!
//! #[hookflow::step(retries = 0)]
//! fn load() -> anyhow::Result<()> {
//!     anyhow::bail!("database unreachable")
//! }
//!
//! let config = Config::from_toml_str(
//!     "hookflow.toml",
//!     r#"
//!     [steps.load]
//!     retries = 2
//!     retry_delay = "1ms"
//!     "#,
//! )?;
//! config.install();
//! assert_eq!(load().unwrap_err().attempt(), 3);
//! hookflow::config::uninstall();
//! # Ok::<(), hookflow::config::ConfigError>(())
//! ```
//!
//! # The file
//!
//! ```toml
//! [steps.load]                  # a step by its name, or its path in quotes:
//! retries = 2                   # [steps."my_app::etl::load"]
//! retry_delay = "1s"
//! timeout = "30s"               # async steps only
//! on_failure = ["page_oncall", "crate::alerts::record"]
//! on_success = []               # an empty list switches the attribute's hooks off
//!
//! [pipelines.nightly]
//! on_failure = ["page_oncall"]  # the run's own hooks
//! durable = true
//!
//! [pipelines.nightly.steps]     # defaults for the steps of the run, as `steps(..)`
//! on_failure = ["log_failure", { alert = "ops", message = "{{ hook.step_name }} failed: {{ hook.error_message }}" }]
//!
//! [alerters.ops]
//! kind = "slack"                # "slack" | "discord" | "webhook"
//! url = "{{ secret.SLACK_WEBHOOK_URL }}"
//! # headers = { Authorization = "Bearer {{ secret.TOKEN }}" }   (webhook only)
//! ```
//!
//! The YAML form (`.yaml`, `.yml`) has the same keys and nesting. Every
//! `on_*` event ([`Event`](crate::Event)) is accepted; a single name stands for
//! a list of one. An entry `{ alert = "NAME", message = "TEMPLATE" }` posts
//! through the file's alerter `NAME` (the message is optional: the default
//! names the step or pipeline, status, error and run id); its template and
//! the alerter's `url` and `headers` (which may use `secret.NAME` only) are
//! compiled and checked at load, and the secrets read from the environment
//! then. An entry `{ suggest_fix = "NAME" }` (failure events only) asks a
//! model for a fix and posts it through the alerter `NAME` (see
//! `hookflow::hooks::suggest_fix`); the model's server, key and name come
//! from the environment when it fires. HTTP alerters and `suggest_fix`
//! need the `alerts` feature.
//!
//! # Names
//!
//! - A step or pipeline is named by its display name (`name = ".."` or the
//!   function's name), its full path (`my_app::etl::load`), or its
//!   crate-relative path (`crate::etl::load`).
//! - A hook is a function registered by name with `#[hook]` (or a built-in
//!   `hookflow::…` hook), named by its full path, by `crate::…`, or by its
//!   bare name when no other registered hook has it. `crate::` means the
//!   crate that declares the step or pipeline being configured.
//! - A hook's shape must fit its event: `fn(&StepError)` and
//!   `fn(&HookContext, &StepError)` hooks only on `on_failure`, `on_retry`
//!   and `on_crash`; an `async` hook only on `async` steps and pipelines
//!   (and in `[pipelines.NAME.steps]`, where a sync step hands it to
//!   hookflow's hook thread).
//!
//! # Precedence
//!
//! A configured list for an event **replaces** the attribute's list for that
//! event at the same level (step, pipeline, pipeline's `steps`), in file
//! order; then a step's own list (attribute or configuration) beats the
//! pipeline's default for that event, as without a file. `retries` and
//! `retry_delay` can be changed only for steps whose attribute has
//! `retries` (`retries = 0` is enough), because only those clone their
//! arguments for each attempt.
//!
//! # Errors
//!
//! Loading checks the whole file and reports **every** problem at once in a
//! [`ConfigError`], each with its file, line and column and, for a name
//! that finds nothing, the closest valid names; nothing is installed then.
//! Loading never panics.
//!
//! # Catching mistakes in CI
//!
//! Load the production file in a test of your crate, so that a renamed step
//! or hook fails `cargo test` rather than the deployment:
//!
//! ```no_run
//! #[test]
//! fn production_config_loads() {
//!     hookflow::config::load(concat!(env!("CARGO_MANIFEST_DIR"), "/hookflow.toml")).unwrap();
//! }
//! ```

// Floors, lowest first: `report` and `suggest`, then `source` (files to a
// spanned tree), `schema` (tree to sections), `resolve` (names to the
// registries); each imports only from floors below it.
mod report;
mod resolve;
mod schema;
mod source;
mod suggest;

use std::fmt;
use std::path::Path;

use crate::settings::{self, Overrides};

use report::Problems;
pub use report::{ConfigError, Problem};
use source::Format;

/// A configuration file, checked against the program and ready to
/// [`install`](Config::install).
///
/// Its `Debug` output shows what it sets, by the full paths of the steps,
/// pipelines and hooks.
pub struct Config {
    file: String,
    overrides: Overrides,
    summary: resolve::Summary,
}

/// Reads and checks the configuration file at `path`: TOML for `.toml`,
/// YAML for `.yaml` and `.yml`.
///
/// # Errors
///
/// A [`ConfigError`] listing every problem: the file cannot be read or its
/// extension names no format, a syntax error, an unknown key, step,
/// pipeline or hook, a value of the wrong type, a malformed duration, a
/// setting that the step cannot take.
pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let Some(format) = Format::from_extension(ext) else {
        return Err(ConfigError::whole(
            &file,
            if ext.is_empty() {
                "a configuration file needs an extension that names its format".to_owned()
            } else {
                format!("unsupported configuration format `.{ext}`")
            },
            Some("name the file `*.toml`, `*.yaml` or `*.yml`".to_owned()),
        ));
    };
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::whole(&file, format!("cannot read the file: {e}"), None))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ConfigError::whole(
            &file,
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            None,
        )
    })?;
    parse(&file, &text, format)
}

/// Makes no configuration active: step calls and pipeline runs that start
/// from now on use their attributes only.
pub fn uninstall() {
    settings::uninstall();
}

impl Config {
    /// Checks `text` as a TOML configuration; `name` stands for the file in
    /// problems.
    ///
    /// # Errors
    ///
    /// As [`load`].
    pub fn from_toml_str(name: &str, text: &str) -> Result<Config, ConfigError> {
        parse(name, text, Format::Toml)
    }

    /// Checks `text` as a YAML configuration; `name` stands for the file in
    /// problems.
    ///
    /// # Errors
    ///
    /// As [`load`].
    pub fn from_yaml_str(name: &str, text: &str) -> Result<Config, ConfigError> {
        parse(name, text, Format::Yaml)
    }

    /// Makes this the process's active configuration: every step call and
    /// pipeline run that starts from now on uses it (calls already running
    /// keep the one they started with). It replaces any configuration
    /// installed before.
    pub fn install(self) {
        settings::install(self.overrides);
    }

    /// The file it was read from, as named to the loader.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// `true` when it sets nothing.
    pub fn is_empty(&self) -> bool {
        self.summary.steps.is_empty() && self.summary.pipelines.is_empty()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Through the redaction pass, like everything that leaves hookflow.
        let text = format!(
            "Config {{ file: {:?}, steps: {:?}, pipelines: {:?} }}",
            self.file, self.summary.steps, self.summary.pipelines
        );
        f.write_str(&crate::secret::redact(&text))
    }
}

fn parse(file: &str, text: &str, format: Format) -> Result<Config, ConfigError> {
    // A byte-order mark is no part of the text: positions are counted
    // without it, as editors show them.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Problems::new(file, text);
    let Some(root) = source::read(text, format, &mut out) else {
        out.finish()?;
        // A file that could not be read reports at least one problem.
        return Err(ConfigError::whole(
            file,
            "the file could not be read".to_owned(),
            None,
        ));
    };
    let doc = schema::read(&root, &mut out);
    let (overrides, summary) = resolve::resolve(&doc, &mut out);
    out.finish()?;
    Ok(Config {
        file: file.to_owned(),
        overrides,
        summary,
    })
}
