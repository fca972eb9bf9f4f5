//! Policy testing as code: run a conformance scenario through the service
//! and the [`MemoryStore`], and report what differed.
//!
//! The scenario format's reference (the contract, restated in full, and
//! everything this crate adds: fields, verbs, expectations, error kinds,
//! how steps run) is `docs/scenario-format.md` in the repository.
//! `tests/scenarios.rs` runs the crate's own suite, `tests/scenarios/`,
//! under `cargo test`.
//!
//! Reading files is the caller's business (the `approval-gate` example does
//! it with serde_json); this module takes the parsed [`Scenario`] and the
//! result of loading its policy.
//!
//! ```
//! use approval_gate::compat::PolicyDocument;
//! use approval_gate::scenario::{self, Scenario};
//! let scenario: Scenario<PolicyDocument> = serde_json::from_str(r#"{
//!   "name": "one approval is enough",
//!   "policy": {"native": {"rules": [{"required": 1, "approvers": [{"group": "sre"}]}]}},
//!   "users": {"ann": {"groups": ["sre"]}},
//!   "steps": [
//!     {"at": "2026-11-22T09:00:00Z", "open": {"gate": "g", "executor": "carol"}},
//!     {"at": "2026-11-22T09:05:00Z", "approve": {"gate": "g", "by": "ann"},
//!      "expect": {"status": "approved", "reason": "quorum", "approved_by": ["ann"]}}
//!   ]
//! }"#)?;
//! let policy = scenario.policy.clone().into_policy();
//! let report = scenario::run(&scenario, policy);
//! assert!(report.passed(), "{:?}", report.failures);
//! # Ok::<(), serde_json::Error>(())
//! ```

mod format;

pub use format::{
    ApproveStep, AssignStep, CancelStep, Expectation, OpenStep, RejectStep, Scenario, Step, StepExpectation, User, Verb,
};

use crate::gate::{Approve, Explanation, Gate, HoldChange, Run};
use crate::id::{GateId, IdError, PrincipalId};
use crate::kind::ErrorKind;
use crate::memory::{MemoryStore, RecordingNotifier};
use crate::policy::{Policy, PolicyError};
use crate::principal::{Principal, PrincipalKind};
use crate::service::{Approvals, ServiceError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What running a scenario gave.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The scenario's name.
    pub name: String,
    /// What differed, each naming the step; empty when it passed.
    pub failures: Vec<String>,
    /// Every gate's state after the last step, in the order opened.
    pub gates: Vec<Explanation>,
}

impl Report {
    /// Whether everything held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs `scenario` under `policy` (the result of loading its policy).
pub fn run<P>(scenario: &Scenario<P>, policy: Result<Policy, PolicyError>) -> Report {
    let mut report = Report { name: scenario.name.clone(), failures: Vec::new(), gates: Vec::new() };
    let policy = match (policy, scenario.expect_error.as_deref()) {
        (Err(_), Some("invalid_policy")) => return report,
        (Err(error), _) => {
            report.failures.push(format!("the policy was refused: {error}"));
            return report;
        }
        (Ok(_), Some("invalid_policy")) => {
            report.failures.push("expected the policy to be refused (invalid_policy), but it loaded".into());
            return report;
        }
        (Ok(_), Some(other)) => {
            report.failures.push(format!("top-level expect_error may only be `invalid_policy`, not `{other}`"));
            return report;
        }
        (Ok(policy), None) => policy,
    };
    let mut runner = Runner::new(scenario, policy);
    for (index, step) in scenario.steps.iter().enumerate() {
        runner.step(index + 1, step, &mut report.failures);
    }
    for (gate, expectation) in &scenario.expect {
        runner.check(gate, expectation, "at the end", &mut report.failures);
    }
    report.gates = runner.explanations();
    report
}

struct Runner<'a, P> {
    scenario: &'a Scenario<P>,
    policy: Policy,
    service: Approvals<MemoryStore, RecordingNotifier>,
    last_at: Option<DateTime<Utc>>,
    opened: Vec<GateId>,
}

/// Why a step was refused, as a contract kind and a message.
struct Refusal {
    kind: ErrorKind,
    message: String,
}

impl<E: std::fmt::Display> From<ServiceError<E>> for Refusal {
    fn from(error: ServiceError<E>) -> Self {
        Refusal { kind: error.kind(), message: error.to_string() }
    }
}

impl From<IdError> for Refusal {
    fn from(error: IdError) -> Self {
        Refusal { kind: error.kind(), message: error.to_string() }
    }
}

impl<'a, P> Runner<'a, P> {
    fn new(scenario: &'a Scenario<P>, policy: Policy) -> Self {
        let service = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
        Self { scenario, policy, service, last_at: None, opened: Vec::new() }
    }

    fn step(&mut self, number: usize, step: &Step, failures: &mut Vec<String>) {
        let label = format!("step {number} ({})", step.verb.name());
        let outcome = self.act(step);
        match (outcome, step.expect_error.as_deref()) {
            (Ok(()), Some(kind)) => failures.push(format!("{label}: expected error `{kind}`, but it succeeded")),
            (Err(refusal), None) => {
                failures.push(format!("{label}: refused with `{}`: {}", refusal.kind, refusal.message));
            }
            (Err(refusal), Some(kind)) if refusal.kind.as_str() != kind => {
                failures.push(format!("{label}: expected error `{kind}`, got `{}`: {}", refusal.kind, refusal.message))
            }
            _ => {}
        }
        if let Some(expectation) = &step.expect {
            match expectation.gate.as_deref().or(step.verb.gate()) {
                Some(gate) => self.check(gate, &expectation.expect, &label, failures),
                None => failures.push(format!("{label}: `expect` needs a `gate` key on a step that names no gate")),
            }
        }
    }

    /// Carries out one step: deadlines that passed by its time first, then
    /// its verb.
    fn act(&mut self, step: &Step) -> Result<(), Refusal> {
        if let Some(last) = self.last_at.filter(|last| step.at < *last) {
            return Err(Refusal {
                kind: ErrorKind::TimeWentBackwards,
                message: format!("time went backwards: {} is before {}, the previous step", step.at, last),
            });
        }
        self.last_at = Some(step.at);
        self.service.tick(step.at)?;
        let now = step.at;
        match &step.verb {
            Verb::Open(open) => {
                let id = GateId::new(open.gate.clone())?;
                let mut run = Run::new(PrincipalId::new(open.executor.clone())?);
                run.environment.clone_from(&open.environment);
                run.project.clone_from(&open.project);
                run.pipeline.clone_from(&open.pipeline);
                run.stage.clone_from(&open.stage);
                run.step.clone_from(&open.step);
                run.service.clone_from(&open.service);
                self.service.open(id.clone(), self.policy.clone(), run, now)?;
                self.opened.push(id);
            }
            Verb::Approve(approve) => {
                let mut command = Approve::by(self.principal(&approve.by)?);
                command.comment.clone_from(&approve.comment);
                command.inputs.clone_from(&approve.inputs);
                command.represented_as.clone_from(&approve.represented_as);
                self.service.approve(&GateId::new(approve.gate.clone())?, command, now)?;
            }
            Verb::Reject(reject) => {
                let by = self.principal(&reject.by)?;
                self.service.reject(&GateId::new(reject.gate.clone())?, by, reject.comment.clone(), now)?;
            }
            Verb::Assign(assign) => {
                let to = self.principal(&assign.to)?;
                self.service.assign(&GateId::new(assign.gate.clone())?, to, now)?;
            }
            Verb::Cancel(cancel) => {
                let by = cancel.by.as_deref().map(|by| self.principal(by)).transpose()?;
                self.service.cancel(&GateId::new(cancel.gate.clone())?, by, cancel.reason.clone(), now)?;
            }
            Verb::Tick => {}
        }
        Ok(())
    }

    /// The principal the directory describes; an unlisted one has no groups.
    fn principal(&self, id: &str) -> Result<Principal, IdError> {
        let user = self.scenario.users.get(id).cloned().unwrap_or_default();
        let kind = if user.service_account { PrincipalKind::ServiceAccount } else { PrincipalKind::User };
        let mut principal = Principal::new(PrincipalId::new(id)?, kind).with_groups(user.groups);
        if let Some(level) = user.access_level {
            principal = principal.with_access_level(level);
        }
        if let Some(email) = user.email {
            principal = principal.with_email(email);
        }
        if user.admin {
            principal = principal.as_admin();
        }
        Ok(principal)
    }

    fn check(&self, gate: &str, expectation: &Expectation, label: &str, failures: &mut Vec<String>) {
        let gate_state = GateId::new(gate).ok().and_then(|id| self.service.gate(&id).ok());
        let Some(state) = gate_state else {
            failures.push(format!("{label}: gate `{gate}` was never opened"));
            return;
        };
        let blocking = self
            .service
            .notifier()
            .holds()
            .iter()
            .rev()
            .find(|hold| hold.gate == *state.id())
            .is_some_and(|hold| hold.change == HoldChange::Block);
        for difference in differences(&state, blocking, expectation) {
            failures.push(format!("{label}: gate `{gate}`: {difference}"));
        }
    }

    fn explanations(&self) -> Vec<Explanation> {
        self.opened.iter().filter_map(|id| self.service.gate(id).ok()).map(|gate| gate.explain()).collect()
    }
}

/// Each field of `expectation` that `gate` does not meet, in words;
/// `blocking` is whether the host holds other deployments for it.
fn differences(gate: &Gate, blocking: bool, expectation: &Expectation) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |field: &str, expected: String, actual: String| {
        if expected != actual {
            out.push(format!("{field} expected {expected}, got {actual}"));
        }
    };
    let quoted = |value: Option<&str>| value.map_or_else(|| "none".to_owned(), |value| format!("`{value}`"));
    if let Some(status) = &expectation.status {
        compare("status", quoted(Some(status)), quoted(Some(gate.status().as_str())));
    }
    if let Some(reason) = &expectation.reason {
        compare("reason", quoted(Some(reason)), quoted(gate.reason().map(|r| r.as_str())));
    }
    if let Some(approved_by) = &expectation.approved_by {
        let actual: Vec<&str> = gate.approved_by().into_iter().map(PrincipalId::as_str).collect();
        compare("approved_by", format!("{approved_by:?}"), format!("{actual:?}"));
    }
    if let Some(rejected_by) = &expectation.rejected_by {
        compare("rejected_by", quoted(Some(rejected_by)), quoted(gate.rejected_by().map(PrincipalId::as_str)));
    }
    if let Some(approvals) = expectation.approvals {
        compare("approvals", approvals.to_string(), gate.approved_by().len().to_string());
    }
    if let Some(remaining) = expectation.remaining {
        compare("remaining", remaining.to_string(), gate.remaining().to_string());
    }
    if let Some(outputs) = &expectation.outputs {
        let actual: BTreeMap<String, String> = gate.outputs();
        compare("outputs", format!("{outputs:?}"), format!("{actual:?}"));
    }
    if let Some(assigned_to) = &expectation.assigned_to {
        compare("assigned_to", quoted(Some(assigned_to)), quoted(gate.assigned_to().map(PrincipalId::as_str)));
    }
    if let Some(expected) = expectation.blocking {
        compare("blocking", expected.to_string(), blocking.to_string());
    }
    out
}
