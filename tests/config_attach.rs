//! Attaching registered hooks by name from TOML and YAML: bare names, full
//! paths and `crate::` paths, in file order, replacing the attribute's list.
#![cfg(feature = "config")]

mod config_common;

use config_common::{exclusive, record, take};
use hookflow::config::Config;
use hookflow::{step, HookContext, StepError};

fn attr_success(ctx: &HookContext) {
    record(ctx, "attr_success");
}
fn attr_finish(ctx: &HookContext) {
    record(ctx, "attr_finish");
}

#[hookflow::hook]
pub fn unique_hook(ctx: &HookContext) {
    record(ctx, "unique_hook");
}

pub mod alerts {
    use super::*;

    #[hookflow::hook]
    pub fn page(ctx: &HookContext) {
        record(ctx, "alerts::page");
    }

    #[hookflow::hook]
    pub fn on_error(ctx: &HookContext, err: &StepError) {
        record(ctx, &format!("alerts::on_error:{}", err.message()));
    }

    #[hookflow::hook]
    pub async fn notify(ctx: &HookContext) {
        tokio::task::yield_now().await;
        record(ctx, "alerts::notify");
    }
}

pub mod audit {
    use super::*;

    #[hookflow::hook]
    pub fn page(ctx: &HookContext) {
        record(ctx, "audit::page");
    }
}

#[step(on_success = attr_success, on_finish = attr_finish)]
fn ingest(fail: bool) -> anyhow::Result<u32> {
    anyhow::ensure!(!fail, "ingest broke");
    Ok(7)
}

#[step(on_success = attr_success)]
fn ingest_yaml() -> anyhow::Result<u32> {
    Ok(1)
}

#[step(name = "renamed", on_success = attr_success)]
fn with_display_name() -> u32 {
    2
}

#[step(on_success = attr_success)]
async fn fetch() -> anyhow::Result<u32> {
    Ok(3)
}

#[test]
fn toml_attaches_by_bare_name_full_path_and_crate_path_in_file_order() {
    let _g = exclusive();
    Config::from_toml_str(
        "hookflow.toml",
        r#"
        [steps.ingest]
        on_success = ["unique_hook", "config_attach::alerts::page", "crate::audit::page"]
        on_failure = ["on_error"]
        "#,
    )
    .unwrap()
    .install();

    assert_eq!(ingest(false).unwrap(), 7);
    // The configured list replaced the attribute's `on_success`; the
    // attribute's `on_finish`, which the file does not name, still fires.
    assert_eq!(
        take("ingest"),
        ["unique_hook", "alerts::page", "audit::page", "attr_finish"]
    );

    ingest(true).unwrap_err();
    assert_eq!(
        take("ingest"),
        ["alerts::on_error:ingest broke", "attr_finish"]
    );
}

#[test]
fn yaml_attaches_by_bare_name_full_path_and_crate_path_in_file_order() {
    let _g = exclusive();
    Config::from_yaml_str(
        "hookflow.yaml",
        "steps:\n  ingest_yaml:\n    on_success:\n      - crate::audit::page\n      - unique_hook\n      - config_attach::alerts::page\n",
    )
    .unwrap()
    .install();

    ingest_yaml().unwrap();
    assert_eq!(
        take("ingest_yaml"),
        ["audit::page", "unique_hook", "alerts::page"]
    );
}

#[test]
fn a_step_is_found_by_display_name_function_name_and_paths() {
    let _g = exclusive();
    for name in [
        "renamed",
        "with_display_name",
        "config_attach::with_display_name",
        "crate::with_display_name",
    ] {
        Config::from_toml_str(
            "hookflow.toml",
            &format!("[steps.\"{name}\"]\non_success = [\"unique_hook\"]\n"),
        )
        .unwrap()
        .install();
        with_display_name().unwrap();
        assert_eq!(take("renamed"), ["unique_hook"], "configured as {name}");
    }
}

#[test]
fn a_single_name_is_a_list_of_one_and_an_empty_list_switches_off() {
    let _g = exclusive();
    Config::from_toml_str(
        "hookflow.toml",
        "[steps.ingest]\non_success = \"unique_hook\"\non_finish = []\n",
    )
    .unwrap()
    .install();
    ingest(false).unwrap();
    assert_eq!(take("ingest"), ["unique_hook"]);
}

#[tokio::test]
async fn an_async_hook_attaches_to_an_async_step_and_is_awaited() {
    let _g = exclusive();
    Config::from_toml_str(
        "hookflow.toml",
        "[steps.fetch]\non_success = [\"notify\", \"unique_hook\"]\n",
    )
    .unwrap()
    .install();
    assert_eq!(fetch().await.unwrap(), 3);
    assert_eq!(take("fetch"), ["alerts::notify", "unique_hook"]);
}

#[test]
fn only_calls_after_install_and_before_uninstall_use_the_file() {
    let _g = exclusive();
    let config = Config::from_toml_str(
        "hookflow.toml",
        "[steps.ingest]\non_success = [\"unique_hook\"]\n",
    )
    .unwrap();

    ingest(false).unwrap();
    assert_eq!(
        take("ingest"),
        ["attr_success", "attr_finish"],
        "loaded, not installed"
    );

    config.install();
    ingest(false).unwrap();
    assert_eq!(take("ingest"), ["unique_hook", "attr_finish"]);

    hookflow::config::uninstall();
    ingest(false).unwrap();
    assert_eq!(take("ingest"), ["attr_success", "attr_finish"]);
}

#[test]
fn debug_shows_what_is_configured_by_full_paths() {
    let config = Config::from_toml_str(
        "hookflow.toml",
        "[steps.ingest]\non_success = [\"unique_hook\", \"crate::audit::page\"]\n",
    )
    .unwrap();
    let shown = format!("{config:?}");
    assert!(shown.contains("\"config_attach::ingest\""), "{shown}");
    assert!(
        shown.contains(
            "\"on_success\": [\"config_attach::unique_hook\", \"config_attach::audit::page\"]"
        ),
        "{shown}"
    );
    assert_eq!(config.file(), "hookflow.toml");
    assert!(!config.is_empty());
}
