//! `config::load(path)`: the extension picks TOML or YAML; a file that
//! cannot be read, or whose extension names no format, is a clear error.
#![cfg(feature = "config")]

mod config_common;

use std::path::PathBuf;

use config_common::{exclusive, record, take};
use hookflow::config::{load, ConfigError};
use hookflow::{pipeline, step, HookContext};

#[hookflow::hook]
pub fn loaded_hook(ctx: &HookContext) {
    record(ctx, "loaded_hook");
}

#[step]
fn from_file() -> u32 {
    1
}

#[pipeline]
fn batch() -> anyhow::Result<()> {
    Ok(())
}

/// A file in a fresh temporary directory of this test.
fn write(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hookflow-config-load-{}-{}",
        std::process::id(),
        name.replace('.', "-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn only(err: &ConfigError) -> &hookflow::config::Problem {
    assert_eq!(err.problems().len(), 1, "{err}");
    &err.problems()[0]
}

#[test]
fn toml_yaml_and_yml_files_load_and_install() {
    let _g = exclusive();
    let files = [
        write(
            "hookflow.toml",
            b"[steps.from_file]\non_success = [\"loaded_hook\"]\n",
        ),
        write(
            "hookflow.yaml",
            b"steps:\n  from_file:\n    on_success: [loaded_hook]\n",
        ),
        write(
            "hookflow.yml",
            b"steps:\n  from_file:\n    on_success:\n      - loaded_hook\n",
        ),
    ];
    for path in files {
        let config = load(&path).unwrap();
        assert_eq!(config.file(), path.display().to_string());
        config.install();
        from_file().unwrap();
        assert_eq!(take("from_file"), ["loaded_hook"], "{}", path.display());
        hookflow::config::uninstall();
    }
}

#[test]
fn durable_is_read_and_shown() {
    let path = write("durable.toml", b"[pipelines.batch]\ndurable = true\n");
    let shown = format!("{:?}", load(path).unwrap());
    assert!(
        shown.contains("\"config_load::batch\": PipelineSummary { durable: Some(true)"),
        "{shown}"
    );
}

#[test]
fn an_empty_file_sets_nothing() {
    assert!(load(write("empty.toml", b"")).unwrap().is_empty());
    assert!(load(write("empty.yaml", b"")).unwrap().is_empty());
}

#[test]
fn an_unknown_extension_is_an_error_naming_the_formats() {
    let path = write("hookflow.json", b"{}");
    let err = load(&path).unwrap_err();
    let p = only(&err);
    assert_eq!((p.line(), p.column()), (0, 0));
    assert_eq!(p.file(), path.display().to_string());
    assert_eq!(p.message(), "unsupported configuration format `.json`");
    assert_eq!(
        p.help(),
        Some("name the file `*.toml`, `*.yaml` or `*.yml`")
    );
    assert!(err
        .to_string()
        .contains(&format!("{}: unsupported", path.display())));

    let err = load(write("hookflow", b"")).unwrap_err();
    assert!(only(&err).message().contains("needs an extension"), "{err}");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let err = load("/nonexistent-dir/hookflow.toml").unwrap_err();
    let p = only(&err);
    assert_eq!(p.file(), "/nonexistent-dir/hookflow.toml");
    assert!(p.message().starts_with("cannot read the file: "), "{p:?}");
}

#[test]
fn a_file_that_is_not_utf8_is_an_error() {
    let err = load(write("binary.toml", b"[steps.a]\n\xff\xfe")).unwrap_err();
    assert_eq!(
        only(&err).message(),
        "the file is not UTF-8 text (invalid byte at offset 10)"
    );
}

#[test]
fn problems_in_a_loaded_file_name_its_path() {
    let path = write("typo.yaml", b"steps:\n  from_fil: {}\n");
    let err = load(&path).unwrap_err();
    let p = only(&err);
    assert_eq!(p.file(), path.display().to_string());
    assert_eq!((p.line(), p.column()), (2, 3));
    assert_eq!(p.help(), Some("did you mean `from_file`?"));
}
