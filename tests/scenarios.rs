//! The conformance scenarios under `cargo test`: every `*.json` file below
//! `tests/scenarios/` (recursively, in sorted order) is read and run through
//! [`approval_gate::scenario::run`], as the `approval-gate test` CLI runs
//! them (`examples/approval-gate.rs`; `.ci/run` runs the CLI too). The
//! format is `docs/scenario-format.md`.
//!
//! One test walks the whole folder and reports every failing file at once,
//! naming the file and what differed. It fails when it finds no scenario
//! file, so that a moved folder cannot make it pass silently.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};

/// The crate's own suite.
fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("scenarios")
}

/// Every `*.json` file below `dir`, recursively, in sorted order.
fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files);
        } else if entry.extension().is_some_and(|ext| ext == "json") {
            files.push(entry);
        }
    }
}

/// Reads a scenario, keeping its policy raw (as the CLI does), so that a
/// policy that fails to load is the scenario's outcome, not a parse error.
fn load(path: &Path) -> Result<Scenario<serde_json::Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|error| error.to_string())?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| format!("does not parse, at `{}`: {}", error.path(), error.inner()))
}

// Policy testing as code: every scenario of the crate's own suite (Harness,
// GitLab, Octopus and native rules, one file per rule) passes.
#[test]
fn every_scenario_under_tests_scenarios_passes() {
    let root = folder();
    let mut files = Vec::new();
    collect(&root, &mut files);
    assert!(!files.is_empty(), "no scenario files (*.json) found below {}", root.display());

    let mut failures = Vec::new();
    for path in &files {
        let shown = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path).display().to_string();
        match load(path) {
            Ok(scenario) => {
                let report = scenario::run(&scenario, common::scenario_policy(&scenario));
                if !report.passed() {
                    failures.push(format!("{shown} ({}): {}", report.name, report.failures.join("; ")));
                }
            }
            Err(error) => failures.push(format!("{shown}: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenario files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!("{} scenario files passed", files.len());
}

// The walk itself: it finds files in nested folders, in sorted order, and
// only `*.json` files; there is no `main.rs` below `tests/scenarios/`, which
// cargo would build as a second test target of the same name.
#[test]
fn the_walk_finds_every_scenario_file_and_nothing_else() {
    let root = folder();
    let mut files = Vec::new();
    collect(&root, &mut files);
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    for system in ["gitlab", "harness", "native", "octopus"] {
        assert!(files.iter().any(|file| file.starts_with(root.join(system))), "no scenario for {system}");
    }
    assert!(files.iter().all(|file| file.extension().is_some_and(|ext| ext == "json")));
    assert!(!root.join("main.rs").exists(), "tests/scenarios/main.rs would be a test target");
}
