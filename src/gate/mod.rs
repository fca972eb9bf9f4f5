//! The deterministic engine: a gate's state, the commands it takes, the
//! events it emits, the effects the host carries out, and explanations.
//!
//! A gate is the fold of its events. [`Gate::open`] and [`Gate::decide`] are
//! pure: they read the gate, the command and the time they are given, and
//! return events or a typed refusal that changes nothing. [`Gate::evolve`]
//! applies an event and never fails. Nothing here reads a clock, draws a
//! random number or performs I/O.
//!
//! ```
//! use approval_gate::{Approve, Command, Gate, GateId, Principal, PrincipalId, Run, Status};
//! use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
//! use chrono::{TimeZone, Utc};
//!
//! let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
//! let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
//! let run = Run::new(PrincipalId::new("carol")?);
//! let opened = Gate::open(GateId::new("run-1")?, policy, run, now)?;
//! let mut gate = Gate::replay(&opened)?;
//!
//! let ann = Principal::user("ann")?.with_groups(["sre"]);
//! for event in gate.decide(&Command::Approve(Approve::by(ann)), now)? {
//!     gate.evolve(&event);
//! }
//! assert_eq!(gate.status(), Status::Approved);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod command;
mod decide;
mod effect;
mod event;
mod explain;
mod run;
mod tally;

pub use command::{Approve, Command};
pub use effect::{Effect, Notification, NotificationKind, Supersession};
pub use event::Event;
pub use explain::{Eligibility, Explanation, RuleProgress};
pub use run::{Action, Reason, Run, Status, Vote};

use crate::id::{GateId, PrincipalId};
use crate::policy::{Counting, Outputs, Policy, Revote, RuleSet, Schedule};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tally::{Claim, Tally};

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

/// The state of one gate: the fold of its events.
///
/// It serializes without its derived matching, which deserializing
/// rebuilds from the approvals, so a stored snapshot cannot claim progress
/// its approvals do not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Snapshot")]
pub struct Gate {
    id: GateId,
    policy: Policy,
    run: Run,
    opened_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    version: u64,
    approvals: Vec<Approval>,
    rejection: Option<(PrincipalId, Option<String>)>,
    assigned_to: Option<PrincipalId>,
    ending: Option<Ending>,
    /// Derived: a maximum matching of approvals to rules, extended by
    /// `evolve` one approval at a time so reading a gate's progress costs
    /// next to nothing.
    #[serde(skip_serializing)]
    tally: Tally,
}

/// A gate as it deserializes: every field but the derived matching.
#[derive(Deserialize)]
struct Snapshot {
    id: GateId,
    policy: Policy,
    run: Run,
    opened_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    version: u64,
    approvals: Vec<Approval>,
    rejection: Option<(PrincipalId, Option<String>)>,
    assigned_to: Option<PrincipalId>,
    ending: Option<Ending>,
}

impl From<Snapshot> for Gate {
    fn from(snapshot: Snapshot) -> Self {
        let Snapshot { id, policy, run, opened_at, last_at, version, approvals, rejection, assigned_to, ending } =
            snapshot;
        let mut gate = Gate {
            id,
            policy,
            run,
            opened_at,
            last_at,
            version,
            approvals,
            rejection,
            assigned_to,
            ending,
            tally: Tally::default(),
        };
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
    /// Opens a gate for `run` under `policy` at `now`: the events of a gate
    /// that waits, or that is skipped at once where the policy does not
    /// apply to the run's environment.
    ///
    /// # Errors
    ///
    /// [`GateError::AutoApprovalTooSoon`](crate::GateError::AutoApprovalTooSoon)
    /// when the policy's auto-approval is not far enough after `now`.
    pub fn open(id: GateId, policy: Policy, run: Run, now: DateTime<Utc>) -> Result<Vec<Event>, crate::GateError> {
        decide::open(id, policy, run, now)
    }

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
        gate.approvals.reserve(room);
        gate.tally.reserve(room);
        for event in events {
            gate.evolve(event);
        }
        Ok(gate)
    }

    fn opened(id: &GateId, policy: &Policy, run: &Run, at: DateTime<Utc>) -> Gate {
        Gate {
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
            tally: Tally::default(),
        }
    }

    /// Decides `command` at `now`: the events it causes, or why it is
    /// refused. The gate is not changed; apply the events with
    /// [`Gate::evolve`].
    ///
    /// # Errors
    ///
    /// A [`GateError`](crate::GateError) whose [`kind`](crate::GateError::kind)
    /// is one of the contract's refusal kinds.
    pub fn decide(&self, command: &Command, now: DateTime<Utc>) -> Result<Vec<Event>, crate::GateError> {
        decide::decide(self, command, now)
    }

    /// Applies one event. Total: it never fails, and an event that cannot
    /// apply (anything after the end, a second opening) only advances the
    /// version.
    pub fn evolve(&mut self, event: &Event) {
        self.version += 1;
        self.last_at = self.last_at.max(event.at());
        if self.ending.is_some() {
            return;
        }
        match event {
            Event::Opened { .. } => {}
            Event::Approved { by, rules, rule, inputs, comment, at } => {
                self.approvals.push(Approval {
                    by: by.clone(),
                    rules: *rules,
                    rule: *rule,
                    inputs: inputs.clone(),
                    comment: comment.clone(),
                    at: *at,
                });
                let claim = self.claim(*rules, *rule);
                self.tally.push(self.policy.required(), claim);
            }
            Event::Rejected { by, comment, .. } => {
                // A changed vote (GitLab's upsert) withdraws the rejecter's
                // approvals: they no longer stand behind the run.
                self.approvals.retain(|a| a.by.id() != by.id());
                self.rejection = Some((by.id().clone(), comment.clone()));
                self.rematch();
            }
            Event::Assigned { to, .. } => self.assigned_to = Some(to.clone()),
            Event::Ended { status, reason, by, comment, at } => {
                self.ending = Some(Ending {
                    status: *status,
                    reason: *reason,
                    by: by.clone(),
                    comment: comment.clone(),
                    at: *at,
                });
            }
        }
    }

    /// Rebuilds the matching from scratch: after an approval was withdrawn,
    /// or from a snapshot.
    fn rematch(&mut self) {
        let claims = self.approvals.iter().map(|a| self.claim(a.rules, a.rule));
        self.tally = Tally::of(self.policy.required(), claims);
    }

    fn claim(&self, rules: RuleSet, rule: Option<u8>) -> Claim {
        let pinned = rule.map(usize::from);
        match self.policy.spec().counting {
            // Each approval already names its rule.
            Counting::OncePerRule => Claim { rules: pinned.into_iter().collect(), pinned },
            _ => Claim { rules, pinned },
        }
    }

    /// Whether one more approval, `extra`, would meet every rule.
    fn would_be_met(&self, extra: Claim) -> bool {
        self.tally.would_meet_all(self.policy.required(), extra)
    }

    /// The rule each approval counts for, placed so that the most rules are
    /// met; for explanations.
    fn best_assignment(&self) -> Vec<Option<usize>> {
        self.tally.assignment(self.policy.required())
    }

    /// The gate's id.
    pub fn id(&self) -> &GateId {
        &self.id
    }

    /// The policy snapshotted when the gate opened.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The run.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// When the gate opened.
    pub fn opened_at(&self) -> DateTime<Utc> {
        self.opened_at
    }

    /// The time of the last event.
    pub fn last_at(&self) -> DateTime<Utc> {
        self.last_at
    }

    /// How many events the gate has applied: the version a store appends
    /// after.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Where the gate stands.
    pub fn status(&self) -> Status {
        self.ending.as_ref().map_or(Status::Waiting, |ending| ending.status)
    }

    /// Whether the gate still waits.
    pub fn is_waiting(&self) -> bool {
        self.ending.is_none()
    }

    /// How the gate ended, if it has.
    pub fn ending(&self) -> Option<&Ending> {
        self.ending.as_ref()
    }

    /// Why the gate ended, if it has.
    pub fn reason(&self) -> Option<Reason> {
        self.ending.as_ref().map(|ending| ending.reason)
    }

    /// Every approval held, in the order given.
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }

    /// The approvals that count, in the order given.
    pub fn approved_by(&self) -> Vec<&PrincipalId> {
        // Every approval that matches a rule counts (surplus ones included),
        // whatever rule the assignment gives it.
        self.approvals
            .iter()
            .filter(|a| !self.claim(a.rules, a.rule).rules.is_empty() || a.rule.is_some())
            .map(|a| a.by.id())
            .collect()
    }

    /// Who rejected: the rejecting approver, or for a superseded run the
    /// approver of the newer run.
    pub fn rejected_by(&self) -> Option<&PrincipalId> {
        match &self.ending {
            Some(Ending { status: crate::Status::Rejected, by: Some(by), .. }) => Some(by),
            _ => self.rejection.as_ref().map(|(by, _)| by),
        }
    }

    /// Who has taken responsibility.
    pub fn assigned_to(&self) -> Option<&PrincipalId> {
        self.assigned_to.as_ref()
    }

    /// Approvals still needed, summed over the rules (0 once every rule is
    /// met).
    pub fn remaining(&self) -> u64 {
        self.tally.unmet(self.policy.required())
    }

    /// The values handed on to later steps.
    ///
    /// With [`Outputs::Inputs`]: the inputs of the last approval; before
    /// any approval (and for a gate auto-approved with none), the declared
    /// defaults. With [`Outputs::OctopusManual`], once the gate has ended by
    /// a decision: `Manual.Notes`, `Manual.Approved` and
    /// `Manual.ResponsibleUser.Id` / `.EmailAddress`.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        match self.policy.spec().outputs {
            Outputs::OctopusManual => self.octopus_outputs(),
            _ => match self.approvals.last() {
                Some(last) => last.inputs.clone(),
                None => crate::policy::input_defaults(&self.policy.spec().inputs),
            },
        }
    }

    fn octopus_outputs(&self) -> BTreeMap<String, String> {
        let mut outputs = BTreeMap::new();
        let Some(ending) = &self.ending else { return outputs };
        let approved = match ending.status {
            Status::Approved => "True",
            Status::Rejected => "False",
            _ => return outputs,
        };
        let decider = self.approvals.last().map(|a| &a.by).filter(|_| ending.status == Status::Approved);
        let user = decider.map(|p| p.id()).or(ending.by.as_ref());
        let notes = ending.comment.clone().or_else(|| decider.and_then(|_| self.approvals.last()?.comment.clone()));
        outputs.insert("Manual.Notes".into(), notes.unwrap_or_default());
        outputs.insert("Manual.Approved".into(), approved.into());
        if let Some(user) = user {
            outputs.insert("Manual.ResponsibleUser.Id".into(), user.to_string());
            outputs.insert("Manual.ResponsibleUser.Username".into(), user.to_string());
        }
        if let Some(email) = decider.and_then(Principal::email) {
            outputs.insert("Manual.ResponsibleUser.EmailAddress".into(), email.into());
        }
        outputs
    }

    /// The next instant at which the gate ends by itself (timeout or
    /// scheduled auto-approval), if it waits.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.deadline().map(|(at, _)| at)
    }

    /// The next deadline and what happens then. On a tie the auto-approval
    /// wins: Harness implements it as the step's own timeout.
    fn deadline(&self) -> Option<(DateTime<Utc>, Deadline)> {
        if !self.is_waiting() {
            return None;
        }
        let spec = self.policy.spec();
        // A deadline beyond the last representable instant never comes.
        let timeout = spec.timeout.and_then(|t| Some((t.after.after(self.opened_at)?, Deadline::Timeout)));
        let auto = spec.auto_approval.as_ref().and_then(|auto| {
            let at = match auto.at {
                Schedule::At(at) => at,
                Schedule::After(span) => span.after(self.opened_at)?,
            };
            Some((at, Deadline::AutoApproval))
        });
        match (timeout, auto) {
            (Some(t), Some(a)) => Some(if a.0 <= t.0 { a } else { t }),
            (t, a) => t.or(a),
        }
    }

    /// Whether a principal's earlier vote blocks a new one.
    fn earlier_vote(&self, principal: &PrincipalId) -> Option<Vote> {
        if self.rejection.as_ref().is_some_and(|(by, _)| by == principal) {
            return Some(Vote::Rejected);
        }
        self.approvals.iter().any(|a| a.by.id() == principal).then_some(Vote::Approved)
    }

    fn revote(&self) -> Revote {
        self.policy.spec().revote
    }
}

/// What a deadline does when it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Timeout,
    AutoApproval,
}
