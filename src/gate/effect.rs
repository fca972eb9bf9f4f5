//! Effects: what the host should do because of new events. They are derived
//! from the events as [`Gate::execute`] applies them, and returned by value;
//! the engine carries out none.

use super::{Event, Gate, Reason, Status};
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
    /// the gate waits, or release them when it ends (Octopus "Block
    /// Deployments").
    Hold(Hold),
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
}

impl NotificationKind {
    /// The kind's spelling in keys and JSON: `approval_required`,
    /// `approved`, `rejected`, `ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApprovalRequired => "approval_required",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Ended => "ended",
        }
    }
}

/// A message for the host's notifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
}

impl Notification {
    /// A notification of `kind` about `gate`, from the event at `version`:
    /// its key is `<gate>/<version>/<kind>`.
    ///
    /// ```
    /// use approval_gate::gate::{Notification, NotificationKind};
    /// use approval_gate::GateId;
    /// use chrono::{TimeZone, Utc};
    ///
    /// let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let note = Notification::new(GateId::new("run-9")?, 3, NotificationKind::Approved, "`ann` approved", at);
    /// assert_eq!(note.key, "run-9/3/approved");
    /// # Ok::<(), approval_gate::IdError>(())
    /// ```
    pub fn new(gate: GateId, version: u64, kind: NotificationKind, text: impl Into<String>, at: DateTime<Utc>) -> Self {
        let key = format!("{gate}/{version}/{}", kind.as_str());
        Notification { key, gate, kind, recipients: Vec::new(), text: text.into(), at }
    }

    /// The same notification for `recipients`.
    #[must_use]
    pub fn to(mut self, recipients: Vec<Approver>) -> Self {
        self.recipients = recipients;
        self
    }
}

/// Whether a [`Hold`] starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HoldChange {
    /// Other deployments of the run's project and environment wait.
    Block,
    /// The gate ended: what the block held may go on.
    Unblock,
}

impl HoldChange {
    /// The change's spelling in keys: `block`, `unblock`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::Unblock => "unblock",
        }
    }
}

/// Other deployments held, or released, because a gate waits (Octopus
/// "Block Deployments": the host enforces it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hold {
    /// Stable idempotency key: `<gate>/<version>/block` or
    /// `<gate>/<version>/unblock`.
    pub key: String,
    /// The gate that holds.
    pub gate: GateId,
    /// Whether the hold starts or ends.
    pub change: HoldChange,
    /// The version of the gate's event it comes from: a host that receives
    /// holds out of order keeps the one of the highest version.
    pub version: u64,
    /// The run's project, whose deployments are held.
    pub project: Option<String>,
    /// The run's environment, whose deployments are held.
    pub environment: Option<String>,
    /// When the event happened.
    pub at: DateTime<Utc>,
}

/// A request to reject older runs waiting under `key`.
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
    /// or the ending of a scheduled auto-approval); 0 in entries written
    /// before it was recorded.
    #[serde(default)]
    pub version: u64,
    /// When that event happened: the older runs are rejected as of then (or
    /// of their own last event, if later).
    pub at: DateTime<Utc>,
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
    /// let supersession = Supersession { key: "deploy".into(), newer, opened_at: at, by: None, version: 3, at };
    /// assert_eq!(supersession.outbox_key(), "run-9/3/supersede");
    /// # Ok::<(), approval_gate::IdError>(())
    /// ```
    pub fn outbox_key(&self) -> String {
        format!("{}/{}/supersede", self.newer, self.version)
    }
}

impl Gate {
    /// The effects of `events`, which the gate has just applied as its last
    /// events (so the first of them is at version `self.version() -
    /// events.len() + 1`). Only [`Gate::execute`] and [`Gate::start`] call
    /// it, on the events they have just applied.
    pub(super) fn effects(&self, events: &[Event]) -> Vec<Effect> {
        let first = self.state.version.saturating_sub(events.len() as u64).saturating_add(1);
        let mut effects = Vec::new();
        for (version, event) in (first..).zip(events) {
            self.effects_of(event, version, &mut effects);
        }
        effects
    }

    fn effects_of(&self, event: &Event, version: u64, effects: &mut Vec<Effect>) {
        let spec = self.state.policy.spec();
        let id = &self.state.id;
        let name = if spec.name.is_empty() { id.as_str() } else { spec.name.as_str() };
        let blocks = spec.concurrency == Concurrency::Block;
        match event {
            // A gate skipped at its opening asks nobody and holds nothing.
            Event::Opened { at, .. } if self.status() != Status::Skipped => {
                let text = match spec.message.as_str() {
                    "" => format!("approval required for `{name}`"),
                    message => format!("approval required for `{name}`: {message}"),
                };
                effects.push(self.notify(version, NotificationKind::ApprovalRequired, text, *at));
                if let Some((deadline, _)) = self.scheduled() {
                    effects.push(Effect::WakeAt { gate: id.clone(), at: deadline });
                }
                if blocks {
                    effects.push(self.hold(version, super::HoldChange::Block, *at));
                }
            }
            Event::Opened { .. } | Event::Assigned { .. } => {}
            Event::Approved { by, at, .. } => {
                let text = format!("`{}` approved `{name}`", by.id());
                effects.push(self.notify(version, NotificationKind::Approved, text, *at));
                if spec.supersede == Supersede::RejectOlderWaiting {
                    effects.push(self.supersession(Some(by.clone()), version, *at));
                }
            }
            Event::Rejected { by, at, .. } => {
                let text = format!("`{}` rejected `{name}`", by.id());
                effects.push(self.notify(version, NotificationKind::Rejected, text, *at));
            }
            Event::Ended { status, reason, at, .. } => {
                let text = format!("`{name}` is {status} ({reason})");
                effects.push(self.notify(version, NotificationKind::Ended, text, *at));
                if *reason == Reason::AutoApproved && spec.supersede == Supersede::RejectOlderWaiting {
                    effects.push(self.supersession(None, version, *at));
                }
                if blocks && *status != Status::Skipped {
                    effects.push(self.hold(version, super::HoldChange::Unblock, *at));
                }
            }
        }
    }

    fn notify(&self, version: u64, kind: NotificationKind, text: String, at: DateTime<Utc>) -> Effect {
        let mut recipients: Vec<Approver> = Vec::new();
        for approver in self.state.policy.rules().iter().flat_map(|rule| &rule.approvers) {
            if !recipients.contains(approver) {
                recipients.push(approver.clone());
            }
        }
        let executor = Approver::User(self.state.run.executor.to_string());
        if kind != NotificationKind::ApprovalRequired && !recipients.contains(&executor) {
            recipients.push(executor);
        }
        Effect::Notify(Notification::new(self.state.id.clone(), version, kind, text, at).to(recipients))
    }

    fn hold(&self, version: u64, change: super::HoldChange, at: DateTime<Utc>) -> Effect {
        let id = &self.state.id;
        Effect::Hold(Hold {
            key: format!("{id}/{version}/{}", change.as_str()),
            gate: id.clone(),
            change,
            version,
            project: self.state.run.project.clone(),
            environment: self.state.run.environment.clone(),
            at,
        })
    }

    fn supersession(&self, by: Option<Principal>, version: u64, at: DateTime<Utc>) -> Effect {
        Effect::RejectSuperseded(Supersession {
            key: self.state.run.supersede_key(),
            newer: self.state.id.clone(),
            opened_at: self.state.opened_at,
            by,
            version,
            at,
        })
    }
}
