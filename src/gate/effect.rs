//! Effects: what the host should do because of new events. They are derived
//! from the events and returned by value; the engine carries out none.

use super::{Event, Gate, Status};
use crate::id::GateId;
use crate::policy::{Approver, Concurrency, Supersede};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something the host should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// Deliver a notification.
    Notify(Notification),
    /// Tick the gate at this instant (its timeout or auto-approval).
    WakeAt {
        /// The gate.
        gate: GateId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Reject older runs waiting under the same supersede key.
    RejectSuperseded(Supersession),
    /// Hold other deployments of the run's project and environment while
    /// the gate waits (Octopus "Block Deployments").
    Block {
        /// The gate.
        gate: GateId,
    },
    /// The gate ended: release what [`Effect::Block`] held.
    Unblock {
        /// The gate.
        gate: GateId,
    },
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// The gate opened and waits for approvers.
    ApprovalRequired,
    /// Someone approved.
    Approved,
    /// Someone rejected.
    Rejected,
    /// The gate ended.
    Ended,
    /// Not for people: the service's own follow-up, rejecting the older
    /// runs a newer one supersedes. [`Approvals`](crate::service::Approvals)
    /// writes it to the outbox with the approval, so that a crash between
    /// the two loses nothing, carries it out itself, and never hands it to
    /// the notifier.
    Supersede,
}

/// A message for the host's notifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable idempotency key: the gate, the version of the event it comes
    /// from, and its kind. Delivering twice under one key is the same
    /// delivery.
    pub key: String,
    /// The gate.
    pub gate: GateId,
    /// What it is about.
    pub kind: NotificationKind,
    /// Who should hear of it: the approver entries of every rule, and for
    /// decisions and endings the run's executor too.
    pub recipients: Vec<Approver>,
    /// One line of text.
    pub text: String,
    /// When the event happened.
    pub at: DateTime<Utc>,
    /// For [`NotificationKind::Supersede`], what to supersede.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Supersession>,
}

impl Notification {
    /// The outbox entry that has the service carry out `supersession`
    /// (kind [`NotificationKind::Supersede`], key
    /// `<newer gate>/<version>/supersede`).
    ///
    /// ```
    /// use approval_gate::gate::{Notification, NotificationKind, Supersession};
    /// use approval_gate::GateId;
    /// use chrono::{TimeZone, Utc};
    ///
    /// let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let newer = GateId::new("run-9")?;
    /// let supersession = Supersession { key: "deploy".into(), newer, opened_at: at, by: None, version: 3 };
    /// let job = Notification::supersede(supersession.clone(), at);
    /// assert_eq!((job.key.as_str(), job.kind), ("run-9/3/supersede", NotificationKind::Supersede));
    /// assert_eq!(job.supersedes, Some(supersession));
    /// # Ok::<(), approval_gate::IdError>(())
    /// ```
    pub fn supersede(supersession: Supersession, at: DateTime<Utc>) -> Self {
        let gate = supersession.newer.clone();
        Notification {
            key: supersession.outbox_key(),
            text: format!("reject runs waiting before `{gate}` at the same step"),
            gate,
            kind: NotificationKind::Supersede,
            recipients: Vec::new(),
            at,
            supersedes: Some(supersession),
        }
    }
}

impl Supersession {
    /// The key of its outbox entry: `<newer gate>/<version>/supersede`,
    /// beside the notifications of the same event.
    ///
    /// ```
    /// # use approval_gate::gate::Supersession;
    /// # use chrono::{TimeZone, Utc};
    /// # let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let newer = approval_gate::GateId::new("run-9")?;
    /// let supersession = Supersession { key: "deploy".into(), newer, opened_at: at, by: None, version: 3 };
    /// assert_eq!(supersession.outbox_key(), "run-9/3/supersede");
    /// # Ok::<(), approval_gate::IdError>(())
    /// ```
    pub fn outbox_key(&self) -> String {
        format!("{}/{}/supersede", self.newer, self.version)
    }
}

/// A request to reject older waiting runs under `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supersession {
    /// The supersede key (see [`Run::supersede_key`](super::Run::supersede_key)).
    pub key: String,
    /// The newer run's gate.
    pub newer: GateId,
    /// When the newer gate opened: only gates opened before it are older.
    pub opened_at: DateTime<Utc>,
    /// The approver, as whom the older runs are rejected; `None` for a
    /// scheduled auto-approval.
    pub by: Option<Principal>,
    /// The version of the newer gate's event that supersedes (its approval,
    /// or the ending of a scheduled auto-approval); 0 in effects serialized
    /// before it was recorded.
    #[serde(default)]
    pub version: u64,
}

impl Gate {
    /// The effects of `events`, which the gate (`self`) has just applied as
    /// its last events.
    ///
    /// ```
    /// # use approval_gate::{Effect, Gate, GateId, PrincipalId, Run};
    /// # use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
    /// # use chrono::{TimeZone, Utc};
    /// let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
    /// let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let events = Gate::open(GateId::new("g")?, policy, Run::new(PrincipalId::new("carol")?), now)?;
    /// let gate = Gate::replay(&events)?;
    /// let effects = gate.effects(&events);
    /// assert!(matches!(&effects[0], Effect::Notify(n) if n.key == "g/1/approval_required"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn effects(&self, events: &[Event]) -> Vec<Effect> {
        let first = self.version.saturating_sub(events.len() as u64) + 1;
        let mut effects = Vec::new();
        for (offset, event) in events.iter().enumerate() {
            self.effects_of(event, first + offset as u64, &mut effects);
        }
        effects
    }

    fn effects_of(&self, event: &Event, version: u64, effects: &mut Vec<Effect>) {
        let spec = self.policy.spec();
        let name = if spec.name.is_empty() { self.id.as_str() } else { spec.name.as_str() };
        match event {
            Event::Opened { at, .. } => {
                let ends_now = self.status() == Status::Skipped;
                if !ends_now {
                    let text = match spec.message.as_str() {
                        "" => format!("approval required for `{name}`"),
                        message => format!("approval required for `{name}`: {message}"),
                    };
                    effects.push(self.notify(version, super::NotificationKind::ApprovalRequired, text, *at));
                    if let Some(deadline) = self.deadline_from_open() {
                        effects.push(Effect::WakeAt { gate: self.id.clone(), at: deadline });
                    }
                    if spec.concurrency == Concurrency::Block {
                        effects.push(Effect::Block { gate: self.id.clone() });
                    }
                }
            }
            Event::Approved { by, at, .. } => {
                let text = format!("`{}` approved `{name}`", by.id());
                effects.push(self.notify(version, super::NotificationKind::Approved, text, *at));
                if spec.supersede == Supersede::RejectOlderWaiting {
                    effects.push(self.supersession(Some(by.clone()), version));
                }
            }
            Event::Rejected { by, at, .. } => {
                let text = format!("`{}` rejected `{name}`", by.id());
                effects.push(self.notify(version, super::NotificationKind::Rejected, text, *at));
            }
            Event::Assigned { .. } => {}
            Event::Ended { status, reason, at, .. } => {
                let text = format!("`{name}` is {status} ({reason})");
                effects.push(self.notify(version, super::NotificationKind::Ended, text, *at));
                let auto = *reason == super::Reason::AutoApproved;
                if auto && spec.supersede == Supersede::RejectOlderWaiting {
                    effects.push(self.supersession(None, version));
                }
                let was_blocking = *status != Status::Skipped && spec.concurrency == Concurrency::Block;
                if was_blocking {
                    effects.push(Effect::Unblock { gate: self.id.clone() });
                }
            }
        }
    }

    fn notify(&self, version: u64, kind: super::NotificationKind, text: String, at: DateTime<Utc>) -> Effect {
        let kind_name = match kind {
            super::NotificationKind::ApprovalRequired => "approval_required",
            super::NotificationKind::Approved => "approved",
            super::NotificationKind::Rejected => "rejected",
            super::NotificationKind::Ended => "ended",
            super::NotificationKind::Supersede => "supersede",
        };
        let mut recipients: Vec<Approver> = Vec::new();
        for approver in self.policy.rules().iter().flat_map(|rule| &rule.approvers) {
            if !recipients.contains(approver) {
                recipients.push(approver.clone());
            }
        }
        let executor = Approver::User(self.run.executor.to_string());
        if kind != super::NotificationKind::ApprovalRequired && !recipients.contains(&executor) {
            recipients.push(executor);
        }
        Effect::Notify(Notification {
            key: format!("{}/{version}/{kind_name}", self.id),
            gate: self.id.clone(),
            kind,
            recipients,
            text,
            at,
            supersedes: None,
        })
    }

    fn supersession(&self, by: Option<Principal>, version: u64) -> Effect {
        Effect::RejectSuperseded(Supersession {
            key: self.run.supersede_key(),
            newer: self.id.clone(),
            opened_at: self.opened_at,
            by,
            version,
        })
    }

    /// The deadline as it stood at opening, even if the gate has since
    /// ended within the same batch of events.
    fn deadline_from_open(&self) -> Option<DateTime<Utc>> {
        let mut fresh = self.clone();
        fresh.ending = None;
        fresh.deadline().map(|(at, _)| at)
    }
}
