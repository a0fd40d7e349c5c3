//! Replacement rules: a configured list for an event replaces the
//! attribute's list at the same level (step, pipeline, pipeline `steps`);
//! then a step's own list beats its pipeline's default, as without a file.
#![cfg(feature = "config")]

mod config_common;

use config_common::{exclusive, record, take};
use hookflow::config::Config;
use hookflow::{pipeline, step, HookContext};

#[hookflow::hook]
pub fn cfg_a(ctx: &HookContext) {
    record(ctx, "cfg_a");
}

#[hookflow::hook]
pub fn cfg_b(ctx: &HookContext) {
    record(ctx, "cfg_b");
}

fn attr_step_fail(ctx: &HookContext) {
    record(ctx, "attr_step_fail");
}
fn attr_default_fail(ctx: &HookContext) {
    record(ctx, "attr_default_fail");
}
fn attr_pipe_fail(ctx: &HookContext) {
    record(ctx, "attr_pipe_fail");
}
fn attr_pipe_finish(ctx: &HookContext) {
    record(ctx, "attr_pipe_finish");
}

#[step]
fn plain_step() -> anyhow::Result<()> {
    anyhow::bail!("plain broke")
}

#[step(on_failure = attr_step_fail)]
fn own_step() -> anyhow::Result<()> {
    anyhow::bail!("own broke")
}

#[pipeline(
    on_failure = attr_pipe_fail,
    on_finish = attr_pipe_finish,
    steps(on_failure = attr_default_fail)
)]
fn nightly() -> anyhow::Result<()> {
    let _ = plain_step();
    let _ = own_step();
    anyhow::bail!("run failed")
}

/// Runs the pipeline and gives what fired for each step and for the run.
fn run() -> [Vec<String>; 3] {
    nightly().unwrap_err();
    [take("plain_step"), take("own_step"), take("nightly")]
}

fn install(text: &str) {
    Config::from_toml_str("hookflow.toml", text)
        .unwrap()
        .install();
}

#[test]
fn without_a_file_the_attributes_decide() {
    let _g = exclusive();
    assert_eq!(
        run(),
        [
            vec!["attr_default_fail"],
            vec!["attr_step_fail"],
            vec!["attr_pipe_fail", "attr_pipe_finish"],
        ]
    );
}

#[test]
fn pipeline_steps_level_replaces_the_steps_default_but_not_a_step_own_list() {
    let _g = exclusive();
    install("[pipelines.nightly.steps]\non_failure = [\"cfg_a\", \"cfg_b\"]\n");
    assert_eq!(
        run(),
        [
            vec!["cfg_a", "cfg_b"],
            vec!["attr_step_fail"],
            vec!["attr_pipe_fail", "attr_pipe_finish"],
        ]
    );
    // Outside the pipeline, the step has no defaults to inherit.
    plain_step().unwrap_err();
    assert!(take("plain_step").is_empty());
}

#[test]
fn pipeline_level_replaces_the_run_own_list_for_that_event_only() {
    let _g = exclusive();
    install("[pipelines.nightly]\non_failure = [\"cfg_b\"]\n");
    assert_eq!(
        run(),
        [
            vec!["attr_default_fail"],
            vec!["attr_step_fail"],
            vec!["cfg_b", "attr_pipe_finish"],
        ]
    );
}

#[test]
fn step_level_replaces_the_step_list_and_beats_the_pipeline_default() {
    let _g = exclusive();
    install(
        "[steps.plain_step]\non_failure = [\"cfg_b\"]\n\
         [steps.own_step]\non_failure = []\n\
         [pipelines.nightly.steps]\non_failure = [\"cfg_a\"]\n",
    );
    assert_eq!(
        run(),
        [
            vec!["cfg_b"],
            // An empty list names the event: no attribute hook, no default.
            vec![],
            vec!["attr_pipe_fail", "attr_pipe_finish"],
        ]
    );
}

#[test]
fn an_empty_list_switches_off_every_level() {
    let _g = exclusive();
    install(
        "[pipelines.nightly]\non_failure = []\non_finish = []\n\
         [pipelines.nightly.steps]\non_failure = []\n",
    );
    assert_eq!(
        run(),
        [vec![], vec!["attr_step_fail"], vec![]] as [Vec<&str>; 3]
    );
}

#[test]
fn yaml_sets_every_level_the_same_way() {
    let _g = exclusive();
    Config::from_yaml_str(
        "hookflow.yaml",
        "pipelines:\n  nightly:\n    on_failure: [cfg_b]\n    steps:\n      on_failure: [cfg_a]\nsteps:\n  own_step:\n    on_failure: [cfg_b, cfg_a]\n",
    )
    .unwrap()
    .install();
    assert_eq!(
        run(),
        [
            vec!["cfg_a"],
            vec!["cfg_b", "cfg_a"],
            vec!["cfg_b", "attr_pipe_finish"],
        ]
    );
}
