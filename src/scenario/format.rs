//! The scenario file format (its reference is `docs/scenario-format.md` in
//! the repository), as serde types. The policy is a type parameter so that
//! a reader can keep it raw and load it separately: a policy that fails to
//! load is an expected outcome (`invalid_policy`), not a file that fails to
//! parse.

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scenario<P> {
    /// What the scenario checks.
    pub name: String,
    /// The policy, in one of the four formats.
    pub policy: P,
    /// The directory: principal id to what it knows of them.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// The actions, in order.
    pub steps: Vec<Step>,
    /// What must hold after the last step, per gate id.
    #[serde(default)]
    pub expect: BTreeMap<String, Expectation>,
    /// `invalid_policy` for a scenario whose policy must be refused.
    #[serde(default)]
    pub expect_error: Option<String>,
}

/// A directory entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct User {
    /// Groups or teams.
    #[serde(default)]
    pub groups: Vec<String>,
    /// GitLab access level.
    #[serde(default)]
    pub access_level: Option<u16>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// A service account rather than a person.
    #[serde(default)]
    pub service_account: bool,
    /// An instance administrator.
    #[serde(default)]
    pub admin: bool,
}

/// One timed action.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Step {
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub verb: Verb,
    /// What must hold right after it.
    pub expect: Option<StepExpectation>,
    /// The error kind it must fail with.
    pub expect_error: Option<String>,
}

/// A step's action.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verb {
    /// A run reaches the gate.
    Open(OpenStep),
    /// An approval.
    Approve(ApproveStep),
    /// A rejection.
    Reject(RejectStep),
    /// Taking responsibility.
    Assign(AssignStep),
    /// An aborted run.
    Cancel(CancelStep),
    /// Time passes.
    Tick,
}

impl Verb {
    /// The verb's name in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open(_) => "open",
            Self::Approve(_) => "approve",
            Self::Reject(_) => "reject",
            Self::Assign(_) => "assign",
            Self::Cancel(_) => "cancel",
            Self::Tick => "tick",
        }
    }

    /// The gate the verb names, if any.
    pub fn gate(&self) -> Option<&str> {
        match self {
            Self::Open(step) => Some(&step.gate),
            Self::Approve(step) => Some(&step.gate),
            Self::Reject(step) => Some(&step.gate),
            Self::Assign(step) => Some(&step.gate),
            Self::Cancel(step) => Some(&step.gate),
            Self::Tick => None,
        }
    }
}

/// `open`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[allow(missing_docs, reason = "fields are the contract's, documented there")]
pub struct OpenStep {
    pub gate: String,
    pub executor: String,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub pipeline: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
}

/// `approve`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[allow(missing_docs, reason = "fields are the contract's, documented there")]
pub struct ApproveStep {
    pub gate: String,
    pub by: String,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    #[serde(default)]
    pub represented_as: Option<String>,
}

/// `reject`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[allow(missing_docs, reason = "fields are the contract's, documented there")]
pub struct RejectStep {
    pub gate: String,
    pub by: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `assign`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[allow(missing_docs, reason = "fields are the contract's, documented there")]
pub struct AssignStep {
    pub gate: String,
    pub to: String,
}

/// `cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[allow(missing_docs, reason = "fields are the contract's, documented there")]
pub struct CancelStep {
    pub gate: String,
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What must hold for one gate. Absent fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
#[allow(missing_docs, reason = "fields are the contract's, documented there")]
pub struct Expectation {
    pub status: Option<String>,
    pub reason: Option<String>,
    pub approved_by: Option<Vec<String>>,
    pub rejected_by: Option<String>,
    pub approvals: Option<u64>,
    pub remaining: Option<u64>,
    pub outputs: Option<BTreeMap<String, String>>,
    pub assigned_to: Option<String>,
    /// An addition: whether the host was told to hold other deployments
    /// because of this gate (the last hold it got for the gate was a block).
    pub blocking: Option<bool>,
}

/// A step's expectation: a gate expectation plus the gate it is about when
/// the step names none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "RawStepExpectation")]
#[non_exhaustive]
pub struct StepExpectation {
    /// The gate, for steps that name none (`tick`).
    pub gate: Option<String>,
    /// The expectation.
    pub expect: Expectation,
}

/// The same fields written flat. Spelled out rather than `#[serde(flatten)]`,
/// under which serde would ignore a misspelt key instead of refusing it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStepExpectation {
    #[serde(default)]
    gate: Option<String>,
    status: Option<String>,
    reason: Option<String>,
    approved_by: Option<Vec<String>>,
    rejected_by: Option<String>,
    approvals: Option<u64>,
    remaining: Option<u64>,
    outputs: Option<BTreeMap<String, String>>,
    assigned_to: Option<String>,
    blocking: Option<bool>,
}

impl From<RawStepExpectation> for StepExpectation {
    fn from(raw: RawStepExpectation) -> Self {
        let expect = Expectation {
            status: raw.status,
            reason: raw.reason,
            approved_by: raw.approved_by,
            rejected_by: raw.rejected_by,
            approvals: raw.approvals,
            remaining: raw.remaining,
            outputs: raw.outputs,
            assigned_to: raw.assigned_to,
            blocking: raw.blocking,
        };
        StepExpectation { gate: raw.gate, expect }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: DateTime<Utc>,
    #[serde(default)]
    open: Option<OpenStep>,
    #[serde(default)]
    approve: Option<ApproveStep>,
    #[serde(default)]
    reject: Option<RejectStep>,
    #[serde(default)]
    assign: Option<AssignStep>,
    #[serde(default)]
    cancel: Option<CancelStep>,
    #[serde(default, deserialize_with = "present")]
    tick: Option<IgnoredAny>,
    #[serde(default)]
    expect: Option<StepExpectation>,
    #[serde(default)]
    expect_error: Option<String>,
}

/// `"tick": null` and `"tick": {}` both mean the verb is there.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IgnoredAny>, D::Error> {
    IgnoredAny::deserialize(deserializer).map(Some)
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawStep::deserialize(deserializer)?;
        let verbs = [
            raw.open.map(Verb::Open),
            raw.approve.map(Verb::Approve),
            raw.reject.map(Verb::Reject),
            raw.assign.map(Verb::Assign),
            raw.cancel.map(Verb::Cancel),
            raw.tick.map(|_| Verb::Tick),
        ];
        let mut verbs = verbs.into_iter().flatten();
        let (Some(verb), None) = (verbs.next(), verbs.next()) else {
            return Err(serde::de::Error::custom(
                "a step needs exactly one verb: open, approve, reject, assign, cancel or tick",
            ));
        };
        Ok(Step { at: raw.at, verb, expect: raw.expect, expect_error: raw.expect_error })
    }
}
