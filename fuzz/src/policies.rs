//! What the four policy targets do with one input, shared with
//! `tests/fuzz_regressions.rs` (which includes this file by path), so a
//! regression replays exactly the code the fuzzer ran.
//!
//! Arbitrary bytes go in; the importer must give a typed error or a valid
//! policy, never panic. A policy it accepts must be usable: it round-trips
//! through serde_json to an equal policy, and a gate opens under it, ticks
//! to its deadline and explains itself without panicking.

use approval_gate::compat::{PolicyDocument, gitlab, harness, octopus};
use approval_gate::policy::{Policy, PolicySpec};
use approval_gate::{Command, ErrorKind, Gate, GateId, PrincipalId, Run};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The formats, one fuzz target each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `policy_native`: `Policy` (and `PolicyDocument`, any tag).
    Native,
    /// `policy_harness`: `compat::harness::Step`.
    Harness,
    /// `policy_gitlab`: `compat::gitlab::ProtectedEnvironment`.
    Gitlab,
    /// `policy_octopus`: `compat::octopus::Step`.
    Octopus,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Native, Format::Harness, Format::Gitlab, Format::Octopus];

    /// The fuzz target's name, which is also its seed and regression
    /// folder's name.
    pub fn target(self) -> &'static str {
        match self {
            Format::Native => "policy_native",
            Format::Harness => "policy_harness",
            Format::Gitlab => "policy_gitlab",
            Format::Octopus => "policy_octopus",
        }
    }
}

/// The instant gates open at in these checks.
pub fn opening_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single().unwrap_or_default()
}

/// The body of the fuzz target for `format`.
pub fn check_bytes(format: Format, data: &[u8]) {
    match format {
        Format::Native => native(data),
        Format::Harness => imported(data, harness::Step::to_policy),
        Format::Gitlab => imported(data, gitlab::ProtectedEnvironment::to_policy),
        Format::Octopus => imported(data, octopus::Step::to_policy),
    }
}

/// The native format, read three ways that must agree: straight into a
/// `Policy`, into a `PolicySpec` then `Policy::new`, and as a tagged
/// `PolicyDocument` (which reaches every importer through its tag).
fn native(data: &[u8]) {
    let direct = serde_json::from_slice::<Policy>(data);
    let spec = serde_json::from_slice::<PolicySpec>(data);
    match (&direct, spec) {
        (Ok(policy), Ok(spec)) => {
            assert_eq!(Policy::new(spec).as_ref(), Ok(policy), "`Policy` and `PolicySpec` + `Policy::new` disagree");
        }
        (Err(_), Ok(spec)) => {
            let validated = Policy::new(spec);
            assert!(validated.is_err(), "`Policy::new` accepts what deserializing `Policy` refuses: {validated:?}");
        }
        (Ok(policy), Err(error)) => {
            panic!("`Policy` deserialized ({policy:?}) but `PolicySpec` did not: {error}")
        }
        (Err(_), Err(_)) => {}
    }
    if let Ok(policy) = direct {
        valid_policy(&policy);
    }
    if let Ok(document) = serde_json::from_slice::<PolicyDocument>(data) {
        if let Ok(policy) = document.into_policy() {
            valid_policy(&policy);
        }
    }
}

/// An importer: the source type from JSON, then `to_policy`. An accepted
/// source must also import the same way after a serde round trip of the
/// source type itself.
fn imported<T, F>(data: &[u8], to_policy: F)
where
    T: DeserializeOwned + Serialize + std::fmt::Debug,
    F: Fn(&T) -> Result<Policy, approval_gate::PolicyError>,
{
    let Ok(source) = serde_json::from_slice::<T>(data) else { return };
    let Ok(policy) = to_policy(&source) else { return };
    valid_policy(&policy);
    let value = serde_json::to_value(&source).expect("an accepted source serializes");
    let again: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|error| panic!("the source type does not read back its own JSON {value}: {error}"));
    assert_eq!(to_policy(&again).as_ref(), Ok(&policy), "the re-read source {value} imports differently");
}

/// A valid policy round-trips exactly through serde_json, and a gate can
/// open under it, reach its deadline, and explain itself.
pub fn valid_policy(policy: &Policy) {
    let json = serde_json::to_string(policy).expect("a policy serializes");
    let back: Policy = serde_json::from_str(&json)
        .unwrap_or_else(|error| panic!("a valid policy does not read back: {error}\n{json}"));
    assert_eq!(&back, policy, "the policy changed in a serde round trip through {json}");

    let executor = PrincipalId::new("carol").expect("a valid id");
    for environment in [None, Some("production")] {
        let mut run = Run::new(executor.clone());
        run.environment = environment.map(str::to_owned);
        open_and_tick(policy, run);
    }
}

fn open_and_tick(policy: &Policy, run: Run) {
    let now = opening_time();
    let id = GateId::new("fuzz-gate").expect("a valid id");
    let mut events = match Gate::open(id, policy.clone(), run, now) {
        Ok(events) => events,
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::InvalidSchedule, "opening refused: {error}");
            return;
        }
    };
    let mut gate = Gate::replay(&events).expect("opened events replay");
    let (started, _) = Gate::start(gate.id().clone(), policy.clone(), gate.run().clone(), now).expect("opens again");
    assert_eq!(started, gate, "start differs from open and replay");
    let _ = gate.explain().to_string();
    if let Some(deadline) = gate.next_deadline() {
        assert!(deadline >= now, "a deadline {deadline} before the opening {now}");
        let ticked = gate.execute(&Command::Tick, deadline).expect("a tick at the deadline is never refused");
        events.extend(ticked.events.iter().cloned());
        assert!(!gate.is_waiting(), "the gate still waits after a tick at its deadline");
        assert_eq!(Gate::replay(&events).as_ref(), Ok(&gate), "replay differs from the live gate");
        let _ = gate.explain().to_string();
    }
}
