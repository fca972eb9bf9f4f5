//! The fuzz targets' inputs as ordinary tests, so CI exercises them without
//! a fuzzer (see the README's Fuzzing section).
//!
//! - The committed seed corpus of the four policy targets
//!   (`fuzz/seeds/policy_*/`) goes through the importers: a typed error or a
//!   valid policy that round-trips through serde_json and opens a gate,
//!   never a panic.
//! - Every crash the fuzzer found, minimised, under
//!   `tests/fuzz-regressions/<target>/`: raw bytes for the policy targets,
//!   and for `commands` the structured case as JSON (`*.json`; the raw
//!   libFuzzer input sits beside it as `*.bin` for `cargo fuzz run`).
//!
//! Both run the fuzz crate's own checking code (`fuzz/src/policies.rs` and
//! `fuzz/src/commands.rs`, included here by path).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
// `fuzz/src/commands.rs` derives `Arbitrary` under the fuzz crate's
// `arbitrary` feature, which this crate does not have: it is off here.
#![allow(unexpected_cfgs, reason = "a feature of the fuzz crate, off here")]

#[allow(dead_code, unreachable_pub, reason = "shared with the fuzz crate, which uses all of it")]
#[path = "../fuzz/src/policies.rs"]
mod policies;

#[allow(dead_code, unreachable_pub, reason = "shared with the fuzz crate, which uses all of it")]
#[path = "../fuzz/src/commands.rs"]
mod commands;

use policies::Format;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files of a folder, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

/// Replays one file the way its target does.
fn replay(target: &str, path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    if target == "commands" {
        if path.extension().is_some_and(|ext| ext == "json") {
            let case: commands::Case = serde_json::from_slice(&bytes)
                .unwrap_or_else(|error| panic!("{}: not a case: {error}", path.display()));
            commands::run(&case);
        }
        return;
    }
    let format = Format::ALL
        .into_iter()
        .find(|format| format.target() == target)
        .unwrap_or_else(|| panic!("{}: no fuzz target `{target}`", path.display()));
    policies::check_bytes(format, &bytes);
}

/// Replays each file, then fails naming every file that panicked.
fn replay_all(inputs: &[(String, PathBuf)]) {
    let mut failures = Vec::new();
    for (target, path) in inputs {
        if catch_unwind(AssertUnwindSafe(|| replay(target, path))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(failures.is_empty(), "{} input(s) panicked:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn policy_seed_corpus_replays() {
    let mut inputs = Vec::new();
    for format in Format::ALL {
        let dir = root().join("fuzz/seeds").join(format.target());
        let found = files(&dir);
        assert!(!found.is_empty(), "{}: no seeds", dir.display());
        inputs.extend(found.into_iter().map(|path| (format.target().to_owned(), path)));
    }
    replay_all(&inputs);
}

#[test]
fn every_crash_regression_replays() {
    let base = root().join("tests/fuzz-regressions");
    let mut inputs = Vec::new();
    for target in ["policy_native", "policy_harness", "policy_gitlab", "policy_octopus", "commands"] {
        inputs.extend(files(&base.join(target)).into_iter().map(|path| (target.to_owned(), path)));
    }
    assert!(!inputs.is_empty(), "{}: no regressions", base.display());
    replay_all(&inputs);
}
