//! The shell around the engine: load a gate, decide, append with the
//! expected version, deliver the outbox, carry out supersession.

mod supersede;

use crate::gate::{Approve, Command, Effect, Gate, GateError, Outcome, ReplayError, Run, Supersession};
use crate::id::GateId;
use crate::kind::ErrorKind;
use crate::outbox::{OutboxEntry, Pending, Unreadable};
use crate::policy::Policy;
use crate::ports::{Append, AppendError, GateIndex, Notifier, Store};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use supersede::Superseded;

/// How many times a conflicting append is retried by reloading and deciding
/// again before the service gives up.
pub const MAX_ATTEMPTS: u32 = 16;

/// How many gates one [`Approvals::tick`] ends at most; the rest wait for the
/// next tick.
pub const TICK_BATCH: usize = 10_000;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError<E> {
    /// The engine refused the command; nothing changed.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// No gate with that id has been opened.
    #[error("no gate `{0}` has been opened")]
    UnknownGate(GateId),
    /// A gate with that id is already open.
    #[error("gate `{0}` is already open")]
    DuplicateGate(GateId),
    /// The store failed.
    #[error("store failed: {0}")]
    Store(E),
    /// Others kept appending to the gate first.
    #[error("gate `{gate}` kept changing under {attempts} attempts to append")]
    Contention {
        /// The gate.
        gate: GateId,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The stored events do not make a gate.
    #[error("stored events of gate `{gate}` are corrupt: {source}")]
    Corrupt {
        /// The gate.
        gate: GateId,
        /// What is wrong.
        source: ReplayError,
    },
    /// The action was recorded, but the store failed while following it up
    /// (rejecting superseded runs, delivering the outbox). What was not done
    /// waits in the outbox for the next call, tick or process: do not repeat
    /// the action.
    #[error("gate `{}` recorded the action, but following it up failed: {source}", gate.id())]
    FollowUp {
        /// The gate after the recorded action.
        gate: Box<Gate>,
        /// The store's failure.
        source: E,
    },
}

impl<E> ServiceError<E> {
    /// The contract's kind of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Gate(error) => error.kind(),
            Self::UnknownGate(_) => ErrorKind::UnknownGate,
            Self::DuplicateGate(_) => ErrorKind::DuplicateGate,
            Self::Store(_) | Self::Contention { .. } | Self::Corrupt { .. } | Self::FollowUp { .. } => ErrorKind::Store,
        }
    }
}

/// Opens gates and takes actions on them through a [`Store`] and a
/// [`Notifier`].
///
/// Each call appends what it decided, with the notifications and
/// supersessions it causes in the store's outbox, then follows up: it
/// rejects superseded runs and delivers the outbox. A store failure during
/// the follow-up is [`ServiceError::FollowUp`]: the action stands, and what
/// was not done waits in the outbox for the next call, tick or process.
///
/// ```
/// use approval_gate::{Approve, GateId, Principal, PrincipalId, Run, Status};
/// use approval_gate::memory::{MemoryStore, RecordingNotifier};
/// use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
/// use approval_gate::service::Approvals;
/// use chrono::{TimeZone, Utc};
///
/// let approvals = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
/// let policy = Policy::new(PolicySpec::new([Rule::new(1, [Approver::Group("sre".into())])]))?;
/// let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
/// let gate = GateId::new("run-7")?;
/// approvals.open(gate.clone(), policy, Run::new(PrincipalId::new("carol")?), now)?;
/// let ann = Principal::user("ann")?.with_groups(["sre"]);
/// let after = approvals.approve(&gate, Approve::by(ann), now)?;
/// assert_eq!(after.status(), Status::Approved);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Approvals<S, N> {
    store: S,
    notifier: N,
}

type Result<T, S> = std::result::Result<T, ServiceError<<S as Store>::Error>>;

/// What one command left recorded.
struct Recorded {
    /// The gate after the appended events (a passed deadline's among them).
    gate: Gate,
    /// The supersessions those events call for, already in the outbox.
    supersessions: Vec<Supersession>,
    /// Why the command itself was refused, if it was.
    refusal: Option<GateError>,
}

/// What one delivery of the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// How many notifications and holds reached the notifier.
    pub delivered: usize,
    /// Entries this version could not read (of a kind a newer version
    /// wrote, or damaged): left in the outbox, and passed over so that the
    /// others go out.
    pub unreadable: Vec<Unreadable>,
}

impl<S: Store, N: Notifier> Approvals<S, N> {
    /// A service over `store` and `notifier`.
    pub fn new(store: S, notifier: N) -> Self {
        Self { store, notifier }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The notifier.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// Opens gate `id` for `run` under `policy` at `now`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::DuplicateGate`] when `id` is taken; a refusal of the
    /// engine; the store's failure.
    pub fn open(&self, id: GateId, policy: Policy, run: Run, now: DateTime<Utc>) -> Result<Gate, S> {
        if !self.store.load(&id).map_err(ServiceError::Store)?.is_empty() {
            return Err(ServiceError::DuplicateGate(id));
        }
        let (gate, opened) = Gate::start(id.clone(), policy, run, now)?;
        let supersessions = match self.commit(&gate, 0, &opened) {
            Err(ServiceError::Contention { .. }) => Err(ServiceError::DuplicateGate(id)),
            other => other,
        }?;
        self.finish(Recorded { gate, supersessions, refusal: None })
    }

    /// Records an approval.
    ///
    /// # Errors
    ///
    /// The engine's refusal, [`ServiceError::UnknownGate`], or the store's
    /// failure.
    pub fn approve(&self, id: &GateId, approve: Approve, now: DateTime<Utc>) -> Result<Gate, S> {
        self.execute(id, &Command::Approve(approve), now)
    }

    /// Records a rejection.
    ///
    /// # Errors
    ///
    /// As for [`Approvals::approve`].
    pub fn reject(&self, id: &GateId, by: Principal, comment: Option<String>, now: DateTime<Utc>) -> Result<Gate, S> {
        self.execute(id, &Command::Reject { by, comment }, now)
    }

    /// Records that `to` took responsibility.
    ///
    /// # Errors
    ///
    /// As for [`Approvals::approve`].
    pub fn assign(&self, id: &GateId, to: Principal, now: DateTime<Utc>) -> Result<Gate, S> {
        self.execute(id, &Command::Assign { to }, now)
    }

    /// Cancels the gate: its run was aborted.
    ///
    /// # Errors
    ///
    /// As for [`Approvals::approve`].
    pub fn cancel(
        &self,
        id: &GateId,
        by: Option<Principal>,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Gate, S> {
        self.execute(id, &Command::Cancel { by, reason }, now)
    }

    /// Ends every gate whose deadline has passed by `now` (up to
    /// [`TICK_BATCH`]), and retries undelivered notifications. Returns the
    /// gates it ended.
    ///
    /// # Errors
    ///
    /// The store's failure. A gate that ended but could not be followed up
    /// does not stop the tick; the last delivery of the outbox reports the
    /// store if it still fails.
    pub fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Gate>, S> {
        let due = self.store.due(now, TICK_BATCH).map_err(ServiceError::Store)?;
        let mut ended = Vec::with_capacity(due.len());
        for id in due {
            match self.execute(&id, &Command::Tick, now) {
                Ok(gate) => ended.push(gate),
                Err(ServiceError::FollowUp { gate, .. }) => ended.push(*gate),
                Err(other) => return Err(other),
            }
        }
        self.deliver_pending()?;
        Ok(ended)
    }

    /// The gate as its stored events make it.
    ///
    /// # Errors
    ///
    /// [`ServiceError::UnknownGate`], a corrupt stream, or the store's
    /// failure.
    pub fn gate(&self, id: &GateId) -> Result<Gate, S> {
        let events = self.store.load(id).map_err(ServiceError::Store)?;
        if events.is_empty() {
            return Err(ServiceError::UnknownGate(id.clone()));
        }
        Gate::replay(&events).map_err(|source| ServiceError::Corrupt { gate: id.clone(), source })
    }

    /// Carries out what waits in the outbox: notifications and holds go to
    /// the notifier, each gate's in the order written; one that fails stays
    /// there for the next call, and so do the later entries of its gate. A
    /// supersession left there by a service that stopped after its append is
    /// carried out first, as of the event that caused it. An entry this
    /// version cannot read stays in place and is reported in
    /// [`Delivery::unreadable`]; it holds back nothing.
    ///
    /// # Errors
    ///
    /// The store's failure (a notifier's failure is not an error here). A
    /// supersession that fails on the store does not hold back the
    /// notifications: they are delivered, then the failure is returned.
    pub fn deliver_pending(&self) -> Result<Delivery, S> {
        let mut pending = self.store.pending(TICK_BATCH).map_err(ServiceError::Store)?;
        let mut failed = None;
        if pending.iter().any(|entry| matches!(entry, Pending::Entry(OutboxEntry::Supersede(_)))) {
            failed = self.supersede_pending(&pending)?;
            // The rejections just recorded have notifications of their own.
            pending = self.store.pending(TICK_BATCH).map_err(ServiceError::Store)?;
        }
        let mut delivery = Delivery::default();
        // A gate whose entry failed gets no later entry in this pass, so the
        // host hears of each gate in order: a release never overtakes the
        // block it releases.
        let mut held_back: HashSet<GateId> = HashSet::new();
        for entry in pending {
            let entry = match entry {
                Pending::Entry(entry) => entry,
                Pending::Unreadable(unreadable) => {
                    delivery.unreadable.push(unreadable);
                    continue;
                }
            };
            let (gate, sent) = match &entry {
                OutboxEntry::Notify(note) if !held_back.contains(&note.gate) => {
                    (&note.gate, self.notifier.deliver(note))
                }
                OutboxEntry::Hold(hold) if !held_back.contains(&hold.gate) => (&hold.gate, self.notifier.hold(hold)),
                // Behind an earlier failure of its gate; or the service's
                // own job, carried out above.
                OutboxEntry::Notify(_) | OutboxEntry::Hold(_) | OutboxEntry::Supersede(_) => continue,
            };
            match sent {
                Ok(()) => {
                    self.store.delivered(&entry.key()).map_err(ServiceError::Store)?;
                    delivery.delivered += 1;
                }
                Err(_) => {
                    held_back.insert(gate.clone());
                }
            }
        }
        match failed {
            Some(error) => Err(ServiceError::Store(error)),
            None => Ok(delivery),
        }
    }

    /// Records `command` and follows up.
    fn execute(&self, id: &GateId, command: &Command, now: DateTime<Utc>) -> Result<Gate, S> {
        let recorded = self.record(id, command, now)?;
        self.finish(recorded)
    }

    /// Follows up what was recorded: superseded runs at once (not behind a
    /// backlog of notifications), as of the event that supersedes them, then
    /// the outbox. Returns the gate, or the command's refusal.
    fn finish(&self, recorded: Recorded) -> Result<Gate, S> {
        let Recorded { gate, supersessions, refusal } = recorded;
        let followed = self.follow_up(&supersessions);
        match (refusal, followed) {
            (Some(refusal), _) => Err(refusal.into()),
            (None, Ok(())) => Ok(gate),
            (None, Err(source)) => Err(ServiceError::FollowUp { gate: Box::new(gate), source }),
        }
    }

    fn follow_up(&self, supersessions: &[Supersession]) -> std::result::Result<(), S::Error> {
        let mut failed = None;
        for supersession in supersessions {
            match self.supersede(supersession, supersession.at) {
                Ok(Superseded::Done) => self.store.delivered(&supersession.outbox_key())?,
                Ok(Superseded::Interrupted) => {}
                Err(error) => failed = failed.or(Some(error)),
            }
        }
        // Delivered even when superseding failed: notifications do not wait
        // on other gates.
        let delivered = self.deliver_pending();
        match (failed, delivered) {
            (Some(error), _) | (None, Err(ServiceError::Store(error))) => Err(error),
            (None, _) => Ok(()),
        }
    }

    /// Loads, lets a passed deadline take effect first, decides, appends;
    /// on a conflict, reloads and decides again. No follow-up: what the
    /// append calls for waits in the outbox.
    fn record(&self, id: &GateId, command: &Command, now: DateTime<Utc>) -> Result<Recorded, S> {
        for _ in 0..MAX_ATTEMPTS {
            let mut gate = self.gate(id)?;
            let expected = gate.version();
            let mut outcome = match gate.execute(&Command::Tick, now) {
                Ok(outcome) => outcome,
                Err(refusal) => return Ok(Recorded { gate, supersessions: Vec::new(), refusal: Some(refusal) }),
            };
            // A deadline that passed is recorded even when the command it
            // came before is refused.
            let refusal = match command {
                Command::Tick => None,
                _ => gate.execute(command, now).map(|more| outcome.extend(more)).err(),
            };
            match self.commit(&gate, expected, &outcome) {
                Err(ServiceError::Contention { .. }) => continue,
                Err(other) => return Err(other),
                Ok(supersessions) => return Ok(Recorded { gate, supersessions, refusal }),
            }
        }
        Err(ServiceError::Contention { gate: id.clone(), attempts: MAX_ATTEMPTS })
    }

    /// Appends the outcome's events (already applied to `gate`) with every
    /// effect that must survive a crash as an outbox entry: notifications,
    /// holds, and the supersessions the service carries out itself. Returns
    /// the supersessions. A conflict comes back as `Contention` for the
    /// caller to retry.
    fn commit(&self, gate: &Gate, expected: u64, outcome: &Outcome) -> Result<Vec<Supersession>, S> {
        if outcome.is_empty() {
            return Ok(Vec::new());
        }
        let outbox: Vec<OutboxEntry> = outcome.effects.iter().filter_map(OutboxEntry::of).collect();
        let supersessions = outcome
            .effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::RejectSuperseded(supersession) => Some(supersession.clone()),
                _ => None,
            })
            .collect();
        let index = GateIndex::of(gate);
        match self.store.append(Append::new(gate.id(), expected, &outcome.events, &outbox, &index)) {
            Ok(_) => Ok(supersessions),
            Err(AppendError::Conflict(_)) => Err(ServiceError::Contention { gate: gate.id().clone(), attempts: 1 }),
            Err(AppendError::Store(error)) => Err(ServiceError::Store(error)),
        }
    }
}
