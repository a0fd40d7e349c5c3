//! The loader on arbitrary input: random text, random bytes, and valid
//! files with random edits. It never panics, and every problem it reports
//! has a position inside the file and renders.
#![cfg(feature = "config")]

mod config_common;

use hookflow::config::{Config, ConfigError};
use hookflow::{pipeline, step, HookContext, StepError};
use proptest::prelude::*;

#[hookflow::hook]
pub fn page(ctx: &HookContext) {
    let _ = ctx;
}

#[hookflow::hook]
pub fn report(err: &StepError) {
    let _ = err;
}

#[step(retries = 1)]
fn load() -> anyhow::Result<()> {
    Ok(())
}

#[step]
async fn fetch() -> anyhow::Result<()> {
    Ok(())
}

#[pipeline(steps(on_failure = report))]
fn nightly() -> anyhow::Result<()> {
    Ok(())
}

const VALID_TOML: &str = r#"
[steps.load]
retries = 2
retry_delay = "1s"
on_failure = ["report", "crate::page"]
on_success = []

[steps.fetch]
timeout = "30s"
on_start = ["page"]

[pipelines.nightly]
durable = true
on_failure = ["page"]

[pipelines.nightly.steps]
on_failure = ["config_fuzz::report"]
"#;

const VALID_YAML: &str = r#"
steps:
  load:
    retries: 2
    retry_delay: 1s
    on_failure: [report, "crate::page"]
    on_success: []
  fetch:
    timeout: 30s
    on_start:
      - page
pipelines:
  nightly:
    durable: true
    on_failure: [page]
    steps:
      on_failure: [config_fuzz::report]
"#;

/// What must hold for any result: a problem lies inside the file, the
/// parsers did not fail internally, and the error renders.
fn check(text: &str, result: Result<Config, ConfigError>) {
    let Err(err) = result else { return };
    let lines = text.split('\n').count();
    assert!(!err.problems().is_empty());
    for p in err.problems() {
        assert!(
            p.line() >= 1 && p.line() <= lines,
            "{p:?} outside {lines} lines"
        );
        assert!(p.column() >= 1, "{p:?}");
        assert!(!p.message().contains("parser failed"), "{p:?}");
    }
    let shown = err.to_string();
    assert!(shown.contains("problem"), "{shown}");
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just("\n".to_owned()),
        Just(": ".to_owned()),
        Just(" = ".to_owned()),
        Just("{".to_owned()),
        Just("- ".to_owned()),
        Just("&a *a ".to_owned()),
        Just("\t".to_owned()),
        Just("é".to_owned()),
        "[a-z_:.]{1,12}",
        any::<String>(),
    ];
    prop_oneof![
        (any::<usize>(), piece).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), 1usize..8).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

/// `text` with `edits` applied at char positions (wrapping around its length).
fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match e {
            Edit::Insert(at, s) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Edit::Replace(at, c) => {
                if !chars.is_empty() {
                    let at = at % chars.len();
                    chars[at] = *c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn the_valid_files_load() {
    Config::from_toml_str("hookflow.toml", VALID_TOML).unwrap();
    Config::from_yaml_str("hookflow.yaml", VALID_YAML).unwrap();
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = 20_000;
    let text = format!("x = {}{}", "[".repeat(deep), "]".repeat(deep));
    check(&text, Config::from_toml_str("f.toml", &text));
    let text = format!("[{}]\n", vec!["a"; deep].join("."));
    check(&text, Config::from_toml_str("f.toml", &text));
    let text = format!("x = {}{}", "{ a = ".repeat(deep), "}".repeat(deep));
    check(&text, Config::from_toml_str("f.toml", &text));
    let text = format!("{}{}", "[".repeat(deep), "]".repeat(deep));
    check(&text, Config::from_yaml_str("f.yaml", &text));
    let text = (0..200)
        .map(|i| format!("{}a:\n", " ".repeat(i)))
        .collect::<String>();
    let err = Config::from_yaml_str("f.yaml", &text).unwrap_err();
    assert_eq!(
        err.problems()[0].message(),
        "invalid YAML: values nest deeper than 16 levels"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text, Config::from_toml_str("f.toml", &text));
        check(&text, Config::from_yaml_str("f.yaml", &text));
    }

    #[test]
    fn edited_toml_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let text = apply(VALID_TOML, &edits);
        check(&text, Config::from_toml_str("f.toml", &text));
    }

    #[test]
    fn edited_yaml_never_panics(edits in prop::collection::vec(edit(), 1..6)) {
        let text = apply(VALID_YAML, &edits);
        check(&text, Config::from_yaml_str("f.yaml", &text));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_in_a_file_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let dir = std::env::temp_dir().join(format!("hookflow-config-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["f.toml", "f.yaml"] {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            let result = hookflow::config::load(&path);
            if let Ok(text) = std::str::from_utf8(&bytes) {
                check(text, result);
            } else {
                let err = result.unwrap_err();
                prop_assert!(err.problems()[0].message().contains("not UTF-8"));
            }
        }
    }
}
