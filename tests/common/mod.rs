//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test helpers fail loudly")]

use approval_gate::policy::{Policy, PolicySpec};
use approval_gate::{Event, Gate, GateId, Principal, PrincipalId, Run};
use chrono::{DateTime, TimeZone, Utc};

/// 2026-11-22 09:00 UTC plus `minutes`.
pub(crate) fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + chrono::TimeDelta::minutes(minutes)
}

pub(crate) fn native(json: &str) -> Policy {
    let spec: PolicySpec = serde_json::from_str(json).unwrap();
    Policy::new(spec).unwrap()
}

pub(crate) fn user(id: &str, groups: &[&str]) -> Principal {
    Principal::user(id).unwrap().with_groups(groups.iter().copied())
}

pub(crate) fn run(executor: &str) -> Run {
    Run::new(PrincipalId::new(executor).unwrap())
}

/// Opens gate `id` at minute 0 and returns it with its events.
pub(crate) fn open(id: &str, policy: Policy, executor: &str) -> (Gate, Vec<Event>) {
    let events = Gate::open(GateId::new(id).unwrap(), policy, run(executor), at(0)).unwrap();
    (Gate::replay(&events).unwrap(), events)
}

/// Decides and applies, returning the new events.
pub(crate) fn apply(gate: &mut Gate, command: &approval_gate::Command, now: DateTime<Utc>) -> Vec<Event> {
    let events = gate.decide(command, now).unwrap();
    for event in &events {
        gate.evolve(event);
    }
    events
}

/// Imports `value` as a policy in `format` (`harness`, `gitlab`, `octopus`,
/// `native`) through `PolicyDocument`, the path every importer shares.
pub(crate) fn import(format: &str, value: serde_json::Value) -> Result<Policy, approval_gate::PolicyError> {
    let document = serde_json::json!({ format: value });
    serde_json::from_value::<approval_gate::compat::PolicyDocument>(document).unwrap().into_policy()
}

/// Asserts that the policy is refused at `field` with a message holding
/// `fragment`.
pub(crate) fn refused(
    format: &str,
    value: serde_json::Value,
    field: &str,
    fragment: &str,
) -> approval_gate::PolicyError {
    let error = import(format, value).expect_err("should be refused");
    assert_eq!(error.field(), field, "{error}");
    assert!(error.to_string().contains(fragment), "`{error}` should contain `{fragment}`");
    error
}

/// The entries a store's outbox holds, every one readable.
pub(crate) fn outbox<S: approval_gate::ports::Store>(store: &S) -> Vec<approval_gate::outbox::OutboxEntry>
where
    S::Error: std::fmt::Debug,
{
    use approval_gate::outbox::Pending;
    let pending = store.pending(usize::MAX).unwrap();
    pending
        .into_iter()
        .map(|entry| match entry {
            Pending::Entry(entry) => entry,
            other => panic!("an unreadable outbox entry: {other:?}"),
        })
        .collect()
}

/// The keys of a store's outbox entries, oldest first.
pub(crate) fn outbox_keys<S: approval_gate::ports::Store>(store: &S) -> Vec<String>
where
    S::Error: std::fmt::Debug,
{
    outbox(store).iter().map(|entry| entry.key().into_owned()).collect()
}

/// Starts gate `id` at minute 0: the gate and its opening outcome.
pub(crate) fn start(id: &str, policy: Policy, executor: &str) -> (Gate, approval_gate::Outcome) {
    Gate::start(GateId::new(id).unwrap(), policy, run(executor), at(0)).unwrap()
}

/// Executes `command`, which must be accepted.
pub(crate) fn execute(gate: &mut Gate, command: &approval_gate::Command, now: DateTime<Utc>) -> approval_gate::Outcome {
    gate.execute(command, now).unwrap()
}

/// The folder of the real-world configurations for `system` (`harness`,
/// `gitlab`, `octopus`): `$APPROVAL_GATE_REAL_WORLD/<system>`, which `.ci/run`
/// sets, so that CI can never pass without reading them; without the
/// variable, `../shared/real-world/<system>` beside the checkout when it is
/// there (a developer's machine), else `None` with a note.
pub(crate) fn real_world(system: &str) -> Option<std::path::PathBuf> {
    if let Some(root) = std::env::var_os("APPROVAL_GATE_REAL_WORLD") {
        let folder = std::path::Path::new(&root).join(system);
        assert!(folder.is_dir(), "APPROVAL_GATE_REAL_WORLD is set, but {} is not a folder", folder.display());
        return Some(folder);
    }
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-world").join(system);
    if folder.is_dir() {
        return Some(folder);
    }
    println!(
        "note: APPROVAL_GATE_REAL_WORLD is not set and {} does not exist: real-world files not read",
        folder.display()
    );
    None
}

/// Loads a scenario's policy exactly as `examples/approval-gate.rs` does: a
/// policy that fails to load is the scenario's `invalid_policy` outcome, not
/// a file that fails to parse.
pub(crate) fn scenario_policy(
    scenario: &approval_gate::scenario::Scenario<serde_json::Value>,
) -> Result<Policy, approval_gate::PolicyError> {
    let document: approval_gate::compat::PolicyDocument = serde_path_to_error::deserialize(scenario.policy.clone())
        .map_err(|error| approval_gate::PolicyError::Malformed {
            path: format!("policy.{}", error.path()),
            message: error.inner().to_string(),
        })?;
    document.into_policy()
}
