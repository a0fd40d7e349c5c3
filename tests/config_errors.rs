//! Every mistake in a configuration file is reported at load, all at once,
//! each with its file, line, column and the closest valid names; a failed
//! load installs nothing.
#![cfg(feature = "config")]

mod config_common;

use config_common::{exclusive, record, take};
use hookflow::config::{Config, ConfigError, Problem};
use hookflow::{pipeline, step, HookContext, StepError};

#[hookflow::hook]
pub fn page_oncall(ctx: &HookContext) {
    record(ctx, "page_oncall");
}

#[hookflow::hook]
pub fn on_error(err: &StepError) {
    let _ = err;
}

#[hookflow::hook]
pub async fn notify() {}

pub mod slack {
    #[hookflow::hook]
    pub fn page() {}
}
pub mod email {
    #[hookflow::hook]
    pub fn page() {}
}

fn attr_hook(ctx: &HookContext) {
    record(ctx, "attr_hook");
}

#[step(retries = 0, on_success = attr_hook)]
fn load() -> anyhow::Result<()> {
    Ok(())
}

#[step]
fn transform() -> anyhow::Result<()> {
    Ok(())
}

#[step]
async fn fetch() -> anyhow::Result<()> {
    Ok(())
}

#[pipeline]
fn nightly() -> anyhow::Result<()> {
    Ok(())
}

fn toml_err(text: &str) -> ConfigError {
    Config::from_toml_str("hookflow.toml", text).unwrap_err()
}

fn yaml_err(text: &str) -> ConfigError {
    Config::from_yaml_str("hookflow.yaml", text).unwrap_err()
}

/// The only problem of `err`.
fn single(err: &ConfigError) -> &Problem {
    assert_eq!(err.problems().len(), 1, "{err}");
    &err.problems()[0]
}

fn at(p: &Problem) -> (&str, usize, usize) {
    (p.file(), p.line(), p.column())
}

#[test]
fn unknown_step_names_the_closest_step() {
    let err = toml_err("[steps.lod]\nretries = 1\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 1, 8));
    assert_eq!(p.message(), "unknown step `lod`");
    assert_eq!(p.help(), Some("did you mean `load`?"));

    let err = toml_err("[steps.\"config_errors::lod\"]\nretries = 1\n");
    assert_eq!(
        single(&err).help(),
        Some("did you mean `config_errors::load`?")
    );
}

#[test]
fn unknown_step_far_from_every_name_lists_the_steps() {
    let err = toml_err("[steps.zzzzzzzz]\n");
    let help = single(&err).help().unwrap();
    assert!(help.starts_with("the steps of this program are"), "{help}");
    assert!(
        help.contains("`load`") && help.contains("`fetch`"),
        "{help}"
    );
}

#[test]
fn unknown_pipeline_names_the_closest_pipeline() {
    let err = yaml_err("pipelines:\n  nighty:\n    durable: true\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.yaml", 2, 3));
    assert_eq!(p.message(), "unknown pipeline `nighty`");
    assert_eq!(p.help(), Some("did you mean `nightly`?"));
}

#[test]
fn unknown_hook_suggests_and_says_how_to_force_link() {
    let err = toml_err("[steps.load]\non_success = [\"page_oncal\"]\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 2, 15));
    assert_eq!(p.message(), "unknown hook `page_oncal`");
    assert_eq!(p.help(), Some("did you mean `config_errors::page_oncall`?"));
    assert!(p.note().unwrap().contains("use that_crate as _;"), "{p:?}");
}

#[test]
fn unknown_keys_name_the_closest_key_at_every_level() {
    let err = toml_err(
        "[stepz.load]\n\
         [steps.load]\n\
         retrys = 2\n\
         on_failur = []\n\
         [pipelines.nightly]\n\
         durabel = true\n\
         [pipelines.nightly.steps]\n\
         on_sucess = []\n",
    );
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.line(), p.message(), p.help().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "unknown key `stepz`", "did you mean `steps`?"),
            (3, "unknown key `retrys`", "did you mean `retries`?"),
            (4, "unknown key `on_failur`", "did you mean `on_failure`?"),
            (6, "unknown key `durabel`", "did you mean `durable`?"),
            (8, "unknown key `on_sucess`", "did you mean `on_success`?"),
        ]
    );
}

#[test]
fn malformed_duration_says_what_a_duration_looks_like() {
    let err = toml_err("[steps.load]\nretry_delay = \"ten seconds\"\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 2, 15));
    assert!(
        p.message()
            .starts_with("malformed duration \"ten seconds\" for `retry_delay`"),
        "{p:?}"
    );
    assert!(p.help().unwrap().contains("\"500ms\""), "{p:?}");

    let err = yaml_err("steps:\n  fetch:\n    timeout: 30\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.yaml", 3, 14));
    assert_eq!(
        p.message(),
        "`timeout` must be a duration string, found an integer"
    );
}

#[test]
fn timeout_on_a_sync_step_is_refused() {
    let err = toml_err("[steps.load]\ntimeout = \"1s\"\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 2, 11));
    assert!(
        p.message().contains("sync step `config_errors::load`"),
        "{p:?}"
    );
    assert!(p.help().unwrap().contains("async fn"), "{p:?}");
}

#[test]
fn a_hook_whose_shape_does_not_fit_the_event_is_refused() {
    let err = toml_err("[steps.load]\non_success = [\"on_error\"]\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 2, 15));
    assert_eq!(
        p.message(),
        "hook `config_errors::on_error` takes the error (`fn(&StepError)`), but `on_success` has no error to give"
    );
    assert!(p.help().unwrap().contains("on_failure"), "{p:?}");
    // The same hook fits a failure event.
    Config::from_toml_str(
        "hookflow.toml",
        "[steps.load]\non_failure = [\"on_error\"]\n",
    )
    .unwrap();
}

#[test]
fn an_ambiguous_bare_name_lists_every_full_path() {
    let err = toml_err("[steps.load]\non_failure = [\"page\"]\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 2, 15));
    assert_eq!(
        p.message(),
        "hook name `page` is ambiguous: 2 hooks have it"
    );
    let help = p.help().unwrap();
    assert!(
        help.contains("`config_errors::slack::page`")
            && help.contains("`config_errors::email::page`"),
        "{help}"
    );
}

#[test]
fn toml_syntax_errors_are_reported_with_their_own_positions() {
    let err = toml_err("[steps.load]\nretries = \n[steps.fetch\n");
    assert!(err.problems().len() >= 2, "{err}");
    for p in err.problems() {
        assert!(p.message().starts_with("invalid TOML: "), "{p:?}");
    }
    assert_eq!(err.problems()[0].line(), 2, "{err}");
    assert_eq!(err.problems().last().unwrap().line(), 3, "{err}");
}

#[test]
fn yaml_syntax_errors_are_reported_with_their_position() {
    let err = yaml_err("steps:\n  load:\n    retries: [1, 2\n");
    let p = &err.problems()[0];
    assert!(p.message().starts_with("invalid YAML: "), "{p:?}");
    assert_eq!(p.file(), "hookflow.yaml");
    assert!(p.line() >= 3, "{p:?}");

    let err = yaml_err("steps:\n  load: {}\n  load: {}\n");
    let p = single(&err);
    assert_eq!(p.message(), "invalid YAML: duplicate key `load`");
    assert_eq!(p.line(), 3, "{p:?}");
}

#[test]
fn values_of_the_wrong_type_are_refused() {
    let err = toml_err(
        "[steps.load]\n\
         retries = \"two\"\n\
         on_failure = 3\n\
         on_success = [1]\n\
         [pipelines.nightly]\n\
         durable = \"yes\"\n\
         [steps.fetch]\n\
         on_start = \"\"\n",
    );
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.line(), p.message()))
        .collect();
    assert_eq!(
        got,
        [
            (
                2,
                "`retries` must be a whole number of extra attempts, found a string"
            ),
            (
                3,
                "`on_failure` must be a list of hook names, found an integer"
            ),
            (
                4,
                "a hook in `on_success` is named by a string, found an integer"
            ),
            (6, "`durable` must be `true` or `false`, found a string"),
            (8, "empty hook name in `on_start`"),
        ]
    );
    let err = toml_err("[steps.load]\nretries = -1\n");
    assert!(single(&err)
        .message()
        .starts_with("`retries` must be between 0 and"));
    let err = toml_err("steps = 3\n");
    assert_eq!(
        single(&err).message(),
        "`steps` must be a table, found an integer"
    );
}

#[test]
fn retries_on_a_step_without_retries_in_its_attribute_says_to_add_retries_0() {
    let err = toml_err("[steps.transform]\nretries = 2\nretry_delay = \"1s\"\n");
    assert_eq!(err.problems().len(), 2, "{err}");
    let p = &err.problems()[0];
    assert_eq!(at(p), ("hookflow.toml", 2, 11));
    assert_eq!(
        p.message(),
        "`retries` for step `config_errors::transform`, whose attribute has no `retries`"
    );
    assert!(p
        .help()
        .unwrap()
        .starts_with("add `retries = 0` to its `#[step(..)]` attribute"));
    assert!(p.help().unwrap().contains("config_errors.rs:"), "{p:?}");
}

#[test]
fn an_async_hook_on_a_sync_step_is_refused() {
    let err = toml_err("[steps.load]\non_success = [\"notify\"]\n");
    let p = single(&err);
    assert_eq!(
        p.message(),
        "`config_errors::notify` is an async hook; a sync step or pipeline cannot await it"
    );
    Config::from_toml_str(
        "hookflow.toml",
        "[steps.fetch]\non_success = [\"notify\"]\n",
    )
    .unwrap();
}

#[test]
fn alert_entries_and_alerters_are_checked_at_load() {
    let err = toml_err(
        "[steps.load]\n\
         on_failure = [{ alert = \"opz\" }, { alert = \"ops\", message = \"{{ hook.stpe_name }} failed\" }]\n\
         on_success = [{ suggest_fix = \"ops\" }]\n\
         on_crash = [{ suggest_fix = \"ops\", model = \"gpt\" }, { alert = \"ops\", colour = \"red\" }]\n\
         [alerters.ops]\n\
         kind = \"webhook\"\n\
         url = \"http://127.0.0.1:9/hook\"\n\
         [alerters.chat]\n\
         url = \"{{ secret.HOOKFLOW_CONFIG_TEST_NEVER_SET }}\"\n",
    );
    let got: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.line(), p.message(), p.help()))
        .collect();
    assert_eq!(got.len(), 7, "{err}");
    assert_eq!(got[0].0, 2);
    assert_eq!(got[0].1, "unknown alerter `opz`");
    assert_eq!(got[0].2, Some("did you mean `ops`?"));
    assert_eq!(got[1].0, 2);
    assert!(got[1].1.starts_with("in `message`: "), "{err}");
    assert!(got[1].1.contains("stpe_name"), "{err}");
    assert_eq!(got[1].2, Some("did you mean `hook.step_name`?"), "{err}");
    assert_eq!(got[2].0, 3);
    assert_eq!(
        got[2].1,
        "`suggest_fix` on `on_success`: there is no failure to fix"
    );
    assert_eq!((got[3].0, got[3].1), (4, "unknown key `model`"));
    assert_eq!((got[4].0, got[4].1), (4, "unknown key `colour`"));
    assert_eq!((got[5].0, got[5].1), (8, "alerter `chat` has no `kind`"));
    assert_eq!(got[6].0, 9);
    assert!(got[6].1.starts_with("in url: "), "{err}");
    assert!(got[6].1.contains("HOOKFLOW_CONFIG_TEST_NEVER_SET"), "{err}");
}

#[cfg(feature = "alerts")]
#[test]
fn an_unknown_alerter_kind_names_the_closest_kind() {
    let err = toml_err("[alerters.ops]\nkind = \"slak\"\nurl = \"http://127.0.0.1:9/\"\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 2, 8));
    assert_eq!(p.message(), "unknown alerter kind `slak`");
    assert_eq!(p.help(), Some("did you mean `slack`?"));
}

#[test]
fn a_step_configured_twice_under_two_names_is_refused() {
    let err = toml_err("[steps.load]\nretries = 1\n[steps.\"crate::load\"]\nretries = 2\n");
    let p = single(&err);
    assert_eq!(p.line(), 3);
    assert_eq!(
        p.message(),
        "step `config_errors::load` is configured twice"
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order_and_rendered() {
    let text = "[steps.lod]\n\
                on_success = [\"page_oncal\"]\n\
                [steps.load]\n\
                timeout = \"1s\"\n\
                retry_delay = \"soon\"\n\
                on_success = [\"on_error\"]\n";
    let err = toml_err(text);
    let lines: Vec<_> = err.problems().iter().map(Problem::line).collect();
    assert_eq!(lines, [1, 2, 4, 5, 6], "{err}");

    let shown = err.to_string();
    assert!(
        shown.starts_with("hookflow.toml: 5 problems in the configuration; nothing was applied")
    );
    for p in err.problems() {
        let head = format!("hookflow.toml:{}:{}: {}", p.line(), p.column(), p.message());
        assert!(shown.contains(&head), "missing {head:?} in\n{shown}");
    }
    // A snippet of the line with a caret under the name, and the help.
    assert!(shown.contains("1 | [steps.lod]\n  |        ^^^"), "{shown}");
    assert!(shown.contains("= help: did you mean `load`?"), "{shown}");
}

#[test]
fn a_failed_load_changes_nothing() {
    let _g = exclusive();
    // Nothing installed: a failed load leaves the attributes in charge.
    let bad = "[steps.load]\non_success = [\"page_oncall\"]\n[steps.nope]\n";
    toml_err(bad);
    load().unwrap();
    assert_eq!(take("load"), ["attr_hook"]);

    // An installed configuration stays in charge after a failed load.
    Config::from_toml_str("hookflow.toml", "[steps.load]\non_success = []\n")
        .unwrap()
        .install();
    toml_err(bad);
    yaml_err("steps:\n  load:\n    on_success: [page_oncall]\n    retries: x\n");
    load().unwrap();
    assert_eq!(take("load"), Vec::<String>::new());
}

pub mod fitting {
    #[hookflow::hook]
    pub fn on_errors(ctx: &hookflow::HookContext) {
        let _ = ctx;
    }
}

#[test]
fn an_unknown_hook_suggests_hooks_that_fit_the_event_first() {
    // `on_error` (takes the error) and `on_errors` (takes the context) are
    // both close to `on_eror`; only the second fits `on_success`.
    let err = toml_err("[steps.load]\non_success = [\"on_eror\"]\n");
    assert_eq!(
        single(&err).help(),
        Some("did you mean `config_errors::fitting::on_errors`?")
    );
    let err = toml_err("[steps.load]\non_failure = [\"on_eror\"]\n");
    let help = single(&err).help().unwrap();
    assert!(help.contains("`config_errors::on_error`"), "{help}");
}

pub mod east {
    #[hookflow::step]
    pub fn sync_region() {}
}
pub mod west {
    #[hookflow::step]
    pub fn sync_region() {}
}

#[test]
fn an_ambiguous_step_name_lists_every_full_path() {
    let err = toml_err("[steps.sync_region]\non_success = []\n");
    let p = single(&err);
    assert_eq!(at(p), ("hookflow.toml", 1, 8));
    assert_eq!(p.message(), "`sync_region` names 2 steps");
    let help = p.help().unwrap();
    assert!(
        help.contains("`config_errors::east::sync_region`")
            && help.contains("`config_errors::west::sync_region`"),
        "{help}"
    );
    // Either path names one.
    Config::from_toml_str(
        "hookflow.toml",
        "[steps.\"crate::east::sync_region\"]\non_success = []\n",
    )
    .unwrap();
}

#[test]
fn a_byte_order_mark_does_not_shift_positions() {
    // `retrys` at line 3, column 5 (YAML) and line 2, column 1 (TOML), as
    // an editor shows them; the mark is invisible there.
    let err = yaml_err("\u{feff}steps:\n  load:\n    retrys: 1\n");
    assert_eq!(at(single(&err)), ("hookflow.yaml", 3, 5), "{err}");
    let err = yaml_err("\u{feff}steps:\n  lod:\n    retries: 1\n");
    assert_eq!(at(single(&err)), ("hookflow.yaml", 2, 3), "{err}");
    let err = toml_err("\u{feff}[steps.lod]\nretries = 1\n");
    assert_eq!(at(single(&err)), ("hookflow.toml", 1, 8), "{err}");
    // The snippet shows the line without the mark.
    assert!(!err.to_string().contains('\u{feff}'), "{err}");
}

#[test]
fn a_problem_read_twice_through_a_yaml_merge_key_is_reported_once() {
    let err = yaml_err("steps:\n  load: &d\n    retrys: 1\n  transform: {<<: *d}\n");
    let retrys: Vec<_> = err
        .problems()
        .iter()
        .filter(|p| p.message().contains("retrys"))
        .collect();
    assert_eq!(retrys.len(), 1, "{err}");
}

/// Line and column of the template problem in `err` (the one about
/// `hook.stpe`), and the text from there (the problem is at `stpe`).
fn template_at(err: &ConfigError, text: &str) -> (usize, usize, String) {
    let p = err
        .problems()
        .iter()
        .find(|p| p.message().contains("stpe"))
        .unwrap_or_else(|| panic!("no template problem: {err}"));
    let line = text.lines().nth(p.line() - 1).unwrap();
    let under: String = line.chars().skip(p.column() - 1).take(4).collect();
    (p.line(), p.column(), under)
}

#[test]
fn a_template_problem_is_at_its_place_in_multi_line_and_escaped_strings() {
    let alerter = "[alerters.ops]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n";
    // A multi-line TOML string, and one with escapes before the mistake
    // (and the word `stpe` before it, not the mistake).
    for message in [
        "\"\"\"\nstpe failed:\n{{ hook.stpe }}\"\"\"",
        "\"\\u00e9\\t {{ hook.stpe }}\"",
    ] {
        let text = format!(
            "[steps.load]\non_failure = [{{ alert = \"ops\", message = {message} }}]\n{alerter}"
        );
        let err = toml_err(&text);
        let (_, _, under) = template_at(&err, &text);
        assert_eq!(under, "stpe", "{err}");
    }
    // A YAML block scalar.
    let text = "steps:\n  load:\n    on_failure:\n      - alert: ops\n        message: |\n          failed:\n          {{ hook.stpe }} now\nalerters:\n  ops:\n    kind: webhook\n    url: http://127.0.0.1:9/hook\n";
    let err = yaml_err(text);
    assert_eq!(template_at(&err, text), (7, 19, "stpe".to_owned()), "{err}");
}

#[test]
fn an_integer_too_large_is_out_of_range_in_yaml_as_in_toml() {
    let err = yaml_err("steps:\n  load:\n    retries: 18446744073709551616\n");
    assert!(
        single(&err).message().contains("an integer out of range"),
        "{err}"
    );
    let err = toml_err("[steps.load]\nretries = 18446744073709551616\n");
    assert!(err.to_string().contains("out of range"), "{err}");
    // A real float is still a float.
    let err = yaml_err("steps:\n  load:\n    retries: 1.5\n");
    assert!(single(&err).message().contains("float"), "{err}");
}
