//! `execute`: decide, apply and derive effects in one call, so the effects
//! always belong to the events that were just applied, at their versions.

use super::{Command, Effect, Event, Gate, GateError, Run, decide};
use crate::id::GateId;
use crate::policy::Policy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a command did: the events to store, in order, and the effects they
/// cause, each carrying the version of the event it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The new events, already applied to the gate.
    pub events: Vec<Event>,
    /// Their effects.
    pub effects: Vec<Effect>,
}

impl Outcome {
    /// Whether the command changed nothing.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds what a later command on the same gate did.
    pub fn extend(&mut self, later: Outcome) {
        self.events.extend(later.events);
        self.effects.extend(later.effects);
    }
}

impl Gate {
    /// Opens a gate for `run` under `policy` at `now`: the gate, and the
    /// events and effects of its opening (it waits, or is skipped at once
    /// where the policy does not apply to the run's environment).
    ///
    /// ```
    /// use approval_gate::{Effect, Gate, GateId, PrincipalId, Run, Status};
    /// use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
    /// use chrono::{TimeZone, Utc};
    ///
    /// let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
    /// let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let (gate, opened) = Gate::start(GateId::new("g")?, policy, Run::new(PrincipalId::new("carol")?), now)?;
    /// assert_eq!((gate.status(), gate.version(), opened.events.len()), (Status::Waiting, 1, 1));
    /// assert!(matches!(&opened.effects[0], Effect::Notify(n) if n.key == "g/1/approval_required"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GateError::AutoApprovalTooSoon`] when the policy's auto-approval is
    /// not far enough after `now`.
    pub fn start(id: GateId, policy: Policy, run: Run, now: DateTime<Utc>) -> Result<(Gate, Outcome), GateError> {
        let mut gate = Gate::opened(&id, &policy, &run, now);
        let events = decide::open(id, policy, run, now)?;
        for event in events.iter().skip(1) {
            gate.evolve(event);
        }
        let effects = gate.effects(&events);
        Ok((gate, Outcome { events, effects }))
    }

    /// Opens a gate: only the events of [`Gate::start`], for hosts that
    /// store events themselves and rebuild the gate with [`Gate::replay`].
    ///
    /// # Errors
    ///
    /// As for [`Gate::start`].
    pub fn open(id: GateId, policy: Policy, run: Run, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
        decide::open(id, policy, run, now)
    }

    /// Decides `command` at `now`, applies its events and returns them with
    /// their effects. A refused command changes nothing.
    ///
    /// ```
    /// use approval_gate::{Approve, Command, Effect, Gate, GateId, Principal, PrincipalId, Run, Status};
    /// use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
    /// use chrono::{TimeZone, Utc};
    ///
    /// let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
    /// let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let (mut gate, _) = Gate::start(GateId::new("g")?, policy, Run::new(PrincipalId::new("carol")?), now)?;
    /// let ann = Principal::user("ann")?.with_groups(["sre"]);
    /// let outcome = gate.execute(&Command::Approve(Approve::by(ann)), now)?;
    /// assert_eq!(gate.status(), Status::Approved);
    /// let keys: Vec<&str> = outcome.effects.iter().filter_map(|e| match e {
    ///     Effect::Notify(n) => Some(n.key.as_str()),
    ///     _ => None,
    /// }).collect();
    /// assert_eq!(keys, ["g/2/approved", "g/3/ended"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`Gate::decide`].
    pub fn execute(&mut self, command: &Command, now: DateTime<Utc>) -> Result<Outcome, GateError> {
        let events = decide::decide(self, command, now)?;
        for event in &events {
            self.evolve(event);
        }
        let effects = self.effects(&events);
        Ok(Outcome { events, effects })
    }

    /// Decides `command` at `now`: the events it causes, or why it is
    /// refused. The gate is not changed; apply the events with
    /// [`Gate::evolve`], or use [`Gate::execute`] to do both and get their
    /// effects.
    ///
    /// # Errors
    ///
    /// A [`GateError`] whose [`kind`](GateError::kind) is one of the
    /// contract's refusal kinds.
    pub fn decide(&self, command: &Command, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
        decide::decide(self, command, now)
    }
}
