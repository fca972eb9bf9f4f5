//! The scenario CLI: `approval-gate test PATH...` runs conformance scenarios
//! (format reference: `docs/scenario-format.md`); `approval-gate explain
//! PATH...` also prints each gate's state and rule progress in words.
//!
//! ```text
//! cargo run --quiet --example approval-gate -- test tests/scenarios
//! ```

use approval_gate::PolicyError;
use approval_gate::compat::PolicyDocument;
use approval_gate::scenario::{self, Report, Scenario};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: approval-gate test PATH...\n       approval-gate explain PATH...";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let explain = match args.next().as_deref() {
        Some("test") => false,
        Some("explain") => true,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    let mut unreadable = 0;
    let mut walked = HashSet::new();
    for path in &paths {
        if let Err(error) = collect(path, &mut files, &mut walked) {
            eprintln!("error: {}: {error}", path.display());
            unreadable += 1;
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        match load(file) {
            Ok(scenario) => {
                let policy = policy_of(&scenario);
                let report = scenario::run(&scenario, policy);
                print_report(&report, explain);
                if report.passed() { passed += 1 } else { failed += 1 }
            }
            Err(error) => {
                eprintln!("error: {}: {error}", file.display());
                unreadable += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    match (unreadable, failed, passed) {
        // A run that checked nothing must not pass for one that checked
        // everything (the contract's addition).
        (0, 0, 0) => {
            eprintln!("error: no scenario ran: no *.json file under the paths given");
            ExitCode::from(1)
        }
        (0, 0, _) => ExitCode::SUCCESS,
        (0, _, _) => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

/// Every `*.json` file below `path`, recursively, in sorted order. Each
/// real directory is walked once (`walked` holds their canonical paths), so
/// links back up the tree (`a -> .`) neither loop nor run a scenario twice.
fn collect(path: &Path, files: &mut Vec<PathBuf>, walked: &mut HashSet<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        files.push(path.to_path_buf());
        return Ok(());
    }
    if !walked.insert(std::fs::canonicalize(path)?) {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(path)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files, walked)?;
        } else if entry.extension().is_some_and(|ext| ext == "json") {
            files.push(entry);
        }
    }
    Ok(())
}

/// Reads a scenario, keeping its policy raw so that a bad policy is an
/// outcome of the scenario rather than a file that does not parse.
fn load(file: &Path) -> Result<Scenario<serde_json::Value>, String> {
    let text = std::fs::read_to_string(file).map_err(|error| error.to_string())?;
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| format!("at `{}`: {}", error.path(), error.inner()))
}

fn policy_of(scenario: &Scenario<serde_json::Value>) -> Result<approval_gate::Policy, PolicyError> {
    let document: PolicyDocument = serde_path_to_error::deserialize(scenario.policy.clone()).map_err(|error| {
        PolicyError::Malformed { path: format!("policy.{}", error.path()), message: error.inner().to_string() }
    })?;
    document.into_policy()
}

fn print_report(report: &Report, explain: bool) {
    if report.passed() {
        println!("PASS {}", report.name);
    } else {
        println!("FAIL {}: {}", report.name, report.failures.join("; "));
    }
    if explain {
        for gate in &report.gates {
            println!("{gate}");
        }
    }
}
