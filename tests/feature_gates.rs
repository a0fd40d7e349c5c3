//! Compile-time errors that depend on which of hookflow's features a user
//! crate enables. The UI suite (`tests/ui.rs`) builds its cases with the
//! features of this test run (every feature in CI), so these cases build a
//! small crate of their own with hookflow's default features only, and read
//! what the compiler says.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A user crate depending on hookflow with `features` only, with `main_rs`
/// as its `src/main.rs`, checked by cargo; returns whether it compiled and
/// what cargo printed.
fn check_user_crate(dir_name: &str, main_rs: &str) -> (bool, String) {
    cargo_in_user_crate(dir_name, &[], main_rs, "check")
}

/// Runs `cargo SUBCOMMAND` (`check` or `run`) in a user crate depending on
/// hookflow with `features` only; returns whether it succeeded and what
/// cargo and the program printed.
fn cargo_in_user_crate(
    dir_name: &str,
    features: &[&str],
    main_rs: &str,
    subcommand: &str,
) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = root.join("target").join("tests").join("feature-gates");
    let dir = base.join(dir_name);
    std::fs::create_dir_all(dir.join("src")).expect("the fixture's directory");
    let manifest = format!(
        "[package]\nname = \"{dir_name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nhookflow = {{ path = {root:?}, features = {features:?} }}\n\n\
         # Not a member of the hookflow workspace it sits in.\n[workspace]\n",
        root = root.display().to_string(),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("the fixture's manifest");
    std::fs::write(dir.join("src").join("main.rs"), main_rs).expect("the fixture's main.rs");
    // The workspace's lock file: the same dependency versions, no network.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("the lock file");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&dir)
        .args([subcommand, "--offline", "--quiet", "--message-format=short"])
        // One target directory for every fixture here: hookflow and its
        // dependencies are checked once.
        .env("CARGO_TARGET_DIR", base.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

const DURABLE: &str = r#"#[hookflow::pipeline(durable)]
fn nightly() {}

fn main() {
    let _ = nightly();
}
"#;

#[test]
fn a_durable_pipeline_without_the_journal_feature_is_an_error_at_its_name() {
    let (ok, text) = check_user_crate("durable-without-journal", DURABLE);
    assert!(
        !ok,
        "a durable pipeline compiled without `journal`:\n{text}"
    );
    // The error names the fix and points at the pipeline's name (line 2,
    // column 4 of main.rs).
    let expected = "`#[pipeline(durable)]` needs hookflow's `journal` feature: \
                    add `features = [\"journal\"]` to hookflow in Cargo.toml";
    let line = text
        .lines()
        .find(|l| l.contains(expected))
        .unwrap_or_else(|| panic!("no error naming the `journal` feature in:\n{text}"));
    let at = PathBuf::from("src").join("main.rs");
    assert!(
        line.starts_with(&format!("{}:2:4: error", at.display())),
        "the error is not at the pipeline's name: {line}"
    );
    // Only this error: nothing else about the generated code.
    let errors = text.lines().filter(|l| l.contains(": error")).count();
    assert_eq!(errors, 1, "one error expected:\n{text}");
}

#[test]
fn the_same_pipeline_without_durable_compiles_with_default_features() {
    let plain = DURABLE.replace("(durable)", "");
    let (ok, text) = check_user_crate("plain-without-journal", &plain);
    assert!(ok, "a plain pipeline failed with default features:\n{text}");
}

/// A fixture's function that loads a TOML configuration and prints each
/// problem as `problem FILE:LINE:COLUMN: MESSAGE | help: HELP`, or `loaded`.
const PRINT_PROBLEMS: &str = r#"
fn print_problems(file: &str, text: &str) {
    match hookflow::config::Config::from_toml_str(file, text) {
        Ok(_) => println!("loaded"),
        Err(e) => {
            for p in e.problems() {
                let help = p.help().unwrap_or("-");
                println!("problem {}:{}:{}: {} | help: {help}", p.file(), p.line(), p.column(), p.message());
            }
        }
    }
}
"#;

#[test]
fn durable_in_a_configuration_file_without_the_journal_feature_is_a_problem_at_load() {
    let main_rs = r#"#[hookflow::pipeline]
fn nightly() {}

fn main() {
    let _ = nightly();
    let text = "[pipelines.nightly]\n# the nightly batch\ndurable = true\n";
    print_problems("hookflow.toml", text);
    let off = "[pipelines.nightly]\ndurable = false\n";
    match hookflow::config::Config::from_toml_str("off.toml", off) {
        Ok(_) => println!("durable = false loaded"),
        Err(e) => println!("durable = false refused: {e}"),
    }
}
"#;
    let main_rs = format!("{main_rs}{PRINT_PROBLEMS}");
    let (ok, text) = cargo_in_user_crate(
        "durable-config-without-journal",
        &["config"],
        &main_rs,
        "run",
    );
    assert!(ok, "the fixture did not run:\n{text}");
    let problems: Vec<&str> = text.lines().filter(|l| l.starts_with("problem ")).collect();
    assert!(
        problems.contains(
            &"problem hookflow.toml:3:11: `durable = true` needs hookflow's `journal` feature, \
              which this program was built without | help: add `features = [\"journal\"]` to hookflow in Cargo.toml"
        ),
        "no problem at `durable = true`'s value:\n{text}"
    );
    // `durable = false` asks for nothing the build lacks.
    assert!(text.contains("durable = false loaded"), "{text}");
}

#[test]
fn alerters_and_suggest_fix_without_the_alerts_feature_are_problems_at_load() {
    let main_rs = r#"#[hookflow::step]
fn load() -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {
    let _ = load();
    let text = "[alerters.ops]\nkind = \"slack\"\nurl = \"http://127.0.0.1:9/hook\"\n\n[steps.load]\non_failure = [{ suggest_fix = \"ops\" }]\n";
    print_problems("hookflow.toml", text);
}
"#;
    let main_rs = format!("{main_rs}{PRINT_PROBLEMS}");
    let (ok, text) = cargo_in_user_crate("alerts-without-feature", &["config"], &main_rs, "run");
    assert!(ok, "the fixture did not run:\n{text}");
    let problems: Vec<&str> = text.lines().filter(|l| l.starts_with("problem ")).collect();
    let help = "help: add `features = [\"alerts\"]` to hookflow in Cargo.toml";
    // At the alerter's `kind` (line 2, column 8), and at the hook entry's
    // alerter name (line 6, column 31); nothing else.
    assert_eq!(
        problems,
        [
            format!(
                "problem hookflow.toml:2:8: HTTP alerters need hookflow's `alerts` feature, \
                 which this program was built without | {help}"
            ),
            format!(
                "problem hookflow.toml:6:31: `suggest_fix` needs hookflow's `alerts` feature, \
                 which this program was built without | {help}"
            ),
        ],
        "{text}"
    );
}
