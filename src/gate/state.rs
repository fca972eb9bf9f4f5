//! A gate's state: what its events have established, kept in one
//! serializable struct, and the matching derived from it.

use super::tally::{Claim, Tally};
use super::{Event, Reason, Run, Status};
use crate::id::{GateId, PrincipalId};
use crate::policy::{Counting, Policy, RuleSet};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One approval the gate holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Who approved.
    pub by: Principal,
    /// The rules they matched.
    pub rules: RuleSet,
    /// The rule it is pinned to, if any.
    pub rule: Option<u8>,
    /// The input values.
    pub inputs: BTreeMap<String, String>,
    /// The comment.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// How a gate ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    /// The final status.
    pub status: Status,
    /// Why.
    pub reason: Reason,
    /// Who ended it, where a principal did.
    pub by: Option<PrincipalId>,
    /// The comment or reason text.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Everything a gate's events establish. A new field is added here once:
/// the gate, its snapshots and its replay all go through this struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) id: GateId,
    pub(super) policy: Policy,
    pub(super) run: Run,
    pub(super) opened_at: DateTime<Utc>,
    pub(super) last_at: DateTime<Utc>,
    pub(super) version: u64,
    pub(super) approvals: Vec<Approval>,
    pub(super) rejection: Option<(PrincipalId, Option<String>)>,
    pub(super) assigned_to: Option<PrincipalId>,
    pub(super) ending: Option<Ending>,
}

/// The state of one gate: the fold of its events.
///
/// It serializes as its state without the derived matching, which
/// deserializing rebuilds from the approvals, so a stored snapshot cannot
/// claim progress its approvals do not make.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "State")]
pub struct Gate {
    pub(super) state: State,
    /// Derived: a maximum matching of approvals to rules, extended by
    /// `evolve` one approval at a time so reading a gate's progress costs
    /// next to nothing.
    pub(super) tally: Tally,
}

impl Serialize for Gate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

impl From<State> for Gate {
    fn from(state: State) -> Self {
        let mut gate = Gate { state, tally: Tally::default() };
        gate.rematch();
        gate
    }
}

/// A list of events that does not start with [`Event::Opened`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a gate's events must start with `opened`, not `{first}`")]
pub struct ReplayError {
    first: &'static str,
}

impl Gate {
    /// Rebuilds a gate from its events.
    ///
    /// # Errors
    ///
    /// [`ReplayError`] when the first event is not `opened` (or there is
    /// none).
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Gate, ReplayError> {
        let mut events = events.into_iter();
        let mut gate = match events.next() {
            Some(Event::Opened { gate, policy, run, at }) => Gate::opened(gate, policy, run, *at),
            Some(other) => return Err(ReplayError { first: other.name() }),
            None => return Err(ReplayError { first: "nothing" }),
        };
        // Most events of a long stream are approvals: room for them, and for
        // the decision that usually follows a replay, at once rather than
        // growing one doubling at a time.
        let room = events.size_hint().0.saturating_add(1);
        gate.state.approvals.reserve(room);
        gate.tally.reserve(room);
        for event in events {
            gate.evolve(event);
        }
        Ok(gate)
    }

    /// The gate its opening event makes, version 1.
    pub(super) fn opened(id: &GateId, policy: &Policy, run: &Run, at: DateTime<Utc>) -> Gate {
        let state = State {
            id: id.clone(),
            policy: policy.clone(),
            run: run.clone(),
            opened_at: at,
            last_at: at,
            version: 1,
            approvals: Vec::new(),
            rejection: None,
            assigned_to: None,
            ending: None,
        };
        Gate { state, tally: Tally::default() }
    }

    /// Rebuilds the matching from scratch: after an approval was withdrawn,
    /// or from a snapshot.
    pub(super) fn rematch(&mut self) {
        let claims = self.state.approvals.iter().map(|a| self.claim(a.rules, a.rule));
        self.tally = Tally::of(self.state.policy.required(), claims);
    }

    pub(super) fn claim(&self, rules: RuleSet, rule: Option<u8>) -> Claim {
        let pinned = rule.map(usize::from);
        match self.state.policy.spec().counting {
            // Each approval already names its rule.
            Counting::OncePerRule => Claim { rules: pinned.into_iter().collect(), pinned },
            _ => Claim { rules, pinned },
        }
    }

    /// Whether one more approval, `extra`, would meet every rule.
    pub(super) fn would_be_met(&self, extra: Claim) -> bool {
        self.tally.would_meet_all(self.state.policy.required(), extra)
    }

    /// The rule each approval counts for, placed so that the most rules are
    /// met; for explanations.
    pub(super) fn best_assignment(&self) -> Vec<Option<usize>> {
        self.tally.assignment(self.state.policy.required())
    }

    /// The gate's id.
    pub fn id(&self) -> &GateId {
        &self.state.id
    }

    /// The policy snapshotted when the gate opened.
    pub fn policy(&self) -> &Policy {
        &self.state.policy
    }

    /// The run.
    pub fn run(&self) -> &Run {
        &self.state.run
    }

    /// When the gate opened.
    pub fn opened_at(&self) -> DateTime<Utc> {
        self.state.opened_at
    }

    /// The time of the last event.
    pub fn last_at(&self) -> DateTime<Utc> {
        self.state.last_at
    }

    /// How many events the gate has applied: the version a store appends
    /// after.
    pub fn version(&self) -> u64 {
        self.state.version
    }

    /// Where the gate stands.
    pub fn status(&self) -> Status {
        self.state.ending.as_ref().map_or(Status::Waiting, |ending| ending.status)
    }

    /// Whether the gate still waits.
    pub fn is_waiting(&self) -> bool {
        self.state.ending.is_none()
    }

    /// How the gate ended, if it has.
    pub fn ending(&self) -> Option<&Ending> {
        self.state.ending.as_ref()
    }

    /// Why the gate ended, if it has.
    pub fn reason(&self) -> Option<Reason> {
        self.state.ending.as_ref().map(|ending| ending.reason)
    }

    /// Every approval held, in the order given.
    pub fn approvals(&self) -> &[Approval] {
        &self.state.approvals
    }

    /// The approvals that count, in the order given.
    pub fn approved_by(&self) -> Vec<&PrincipalId> {
        // Every approval that matches a rule counts (surplus ones included),
        // whatever rule the assignment gives it.
        self.state
            .approvals
            .iter()
            .filter(|a| !self.claim(a.rules, a.rule).rules.is_empty() || a.rule.is_some())
            .map(|a| a.by.id())
            .collect()
    }

    /// Who rejected: the rejecting approver, or for a superseded run the
    /// approver of the newer run.
    pub fn rejected_by(&self) -> Option<&PrincipalId> {
        match &self.state.ending {
            Some(Ending { status: Status::Rejected, by: Some(by), .. }) => Some(by),
            _ => self.state.rejection.as_ref().map(|(by, _)| by),
        }
    }

    /// Who has taken responsibility.
    pub fn assigned_to(&self) -> Option<&PrincipalId> {
        self.state.assigned_to.as_ref()
    }

    /// Approvals still needed, summed over the rules (0 once every rule is
    /// met).
    pub fn remaining(&self) -> u64 {
        self.tally.unmet(self.state.policy.required())
    }
}
