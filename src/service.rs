//! The shell around the engine: load a gate, decide, append with the
//! expected version, deliver the outbox, carry out supersession.

use crate::error::{ErrorKind, GateError};
use crate::gate::{
    Approve, Command, Effect, Event, Gate, Notification, NotificationKind, ReplayError, Run, Supersession,
};
use crate::id::GateId;
use crate::policy::Policy;
use crate::ports::{Append, AppendError, GateIndex, Notifier, Store};
use crate::principal::Principal;
use chrono::{DateTime, Utc};

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

/// How far a supersession got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Superseded {
    /// Every older waiting run was rejected, or cannot be.
    Done,
    /// An older run kept changing under the rejection: try again later.
    Interrupted,
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
        let events = Gate::open(id.clone(), policy, run, now)?;
        let gate = Gate::replay(&events).map_err(|source| ServiceError::Corrupt { gate: id.clone(), source })?;
        let supersessions = match self.commit(&gate, 0, &events) {
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

    /// Delivers what waits in the outbox; a notification that fails stays
    /// there for the next call. A supersession left there by a service that
    /// stopped after its append is carried out first, as of the event that
    /// caused it. Returns how many notifications were delivered.
    ///
    /// # Errors
    ///
    /// The store's failure (a notifier's failure is not an error here). A
    /// supersession that fails on the store does not hold back the
    /// notifications: they are delivered, then the failure is returned.
    pub fn deliver_pending(&self) -> Result<usize, S> {
        let mut pending = self.store.pending(TICK_BATCH).map_err(ServiceError::Store)?;
        let mut failed = None;
        if pending.iter().any(is_job) {
            for job in pending.iter().filter(|entry| is_job(entry)) {
                // A job whose payload the store lost cannot be carried out;
                // it stays in the outbox for the host to see.
                let Some(supersession) = &job.supersedes else { continue };
                match self.supersede(supersession, job.at) {
                    Ok(Superseded::Done) => self.store.delivered(&job.key).map_err(ServiceError::Store)?,
                    Ok(Superseded::Interrupted) => {}
                    Err(error) => failed = failed.or(Some(error)),
                }
            }
            // The rejections just recorded have notifications of their own.
            pending = self.store.pending(TICK_BATCH).map_err(ServiceError::Store)?;
        }
        let mut delivered = 0;
        for notification in pending.iter().filter(|entry| !is_job(entry)) {
            if self.notifier.deliver(notification).is_ok() {
                self.store.delivered(&notification.key).map_err(ServiceError::Store)?;
                delivered += 1;
            }
        }
        match failed {
            Some(error) => Err(ServiceError::Store(error)),
            None => Ok(delivered),
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
        let followed = self.follow_up(&gate, &supersessions);
        match (refusal, followed) {
            (Some(refusal), _) => Err(refusal.into()),
            (None, Ok(())) => Ok(gate),
            (None, Err(source)) => Err(ServiceError::FollowUp { gate: Box::new(gate), source }),
        }
    }

    fn follow_up(&self, gate: &Gate, supersessions: &[Supersession]) -> std::result::Result<(), S::Error> {
        let mut failed = None;
        for supersession in supersessions {
            match self.supersede(supersession, gate.last_at()) {
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
            let mut events = match gate.decide(&Command::Tick, now) {
                Ok(events) => events,
                Err(refusal) => return Ok(Recorded { gate, supersessions: Vec::new(), refusal: Some(refusal) }),
            };
            for event in &events {
                gate.evolve(event);
            }
            let decided = match command {
                Command::Tick => Ok(Vec::new()),
                _ => gate.decide(command, now),
            };
            // A deadline that passed is recorded even when the command it
            // came before is refused.
            let refusal = match decided {
                Ok(more) => {
                    for event in &more {
                        gate.evolve(event);
                    }
                    events.extend(more);
                    None
                }
                Err(error) => Some(error),
            };
            match self.commit(&gate, expected, &events) {
                Err(ServiceError::Contention { .. }) => continue,
                Err(other) => return Err(other),
                Ok(supersessions) => return Ok(Recorded { gate, supersessions, refusal }),
            }
        }
        Err(ServiceError::Contention { gate: id.clone(), attempts: MAX_ATTEMPTS })
    }

    /// Appends `events` (already applied to `gate`) with their
    /// notifications, and the supersessions they cause as outbox entries of
    /// the service's own, so that stopping after the append loses neither.
    /// Returns the supersessions. A conflict comes back as `Contention` for
    /// the caller to retry.
    fn commit(&self, gate: &Gate, expected: u64, events: &[Event]) -> Result<Vec<Supersession>, S> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut supersessions = Vec::new();
        let mut outbox = Vec::new();
        for effect in gate.effects(events) {
            match effect {
                Effect::Notify(notification) => outbox.push(notification),
                Effect::RejectSuperseded(supersession) => {
                    outbox.push(Notification::supersede(supersession.clone(), gate.last_at()));
                    supersessions.push(supersession);
                }
                _ => {}
            }
        }
        let index = GateIndex::of(gate);
        match self.store.append(Append::new(gate.id(), expected, events, &outbox, &index)) {
            Ok(_) => Ok(supersessions),
            Err(AppendError::Conflict(_)) => Err(ServiceError::Contention { gate: gate.id().clone(), attempts: 1 }),
            Err(AppendError::Store(error)) => Err(ServiceError::Store(error)),
        }
    }

    /// Rejects the older runs waiting under the supersession's key. A run
    /// the approver may not act on is left waiting (Harness skips it), as is
    /// one whose events no longer make a gate. Done twice, it rejects nothing
    /// more: a rejected run no longer waits.
    fn supersede(&self, supersession: &Supersession, now: DateTime<Utc>) -> std::result::Result<Superseded, S::Error> {
        let waiting = self.store.waiting_with_key(&supersession.key)?;
        let command = Command::Supersede { by: supersession.by.clone(), newer: supersession.newer.clone() };
        let mut outcome = Superseded::Done;
        for (older, opened_at) in waiting {
            if opened_at >= supersession.opened_at || older == supersession.newer {
                continue;
            }
            if self.reject_superseded(&older, &command, now)? == Superseded::Interrupted {
                outcome = Superseded::Interrupted;
            }
        }
        Ok(outcome)
    }

    /// Rejects one older run as superseded, if it still waits and the
    /// approver may act on it.
    fn reject_superseded(
        &self,
        older: &GateId,
        command: &Command,
        now: DateTime<Utc>,
    ) -> std::result::Result<Superseded, S::Error> {
        let mut at = now;
        for _ in 0..MAX_ATTEMPTS {
            match self.record(older, command, at) {
                // Carried out late (after a restart), the rejection follows
                // whatever the older gate recorded meanwhile.
                Ok(Recorded { refusal: Some(GateError::TimeWentBackwards { last, .. }), .. }) => at = last,
                Err(ServiceError::Store(error)) => return Err(error),
                Err(ServiceError::Contention { .. }) => return Ok(Superseded::Interrupted),
                // Refused (`record` returns refusals as data), or a gate
                // that no longer makes one: nothing more to do there.
                Ok(_)
                | Err(
                    ServiceError::UnknownGate(_)
                    | ServiceError::Corrupt { .. }
                    | ServiceError::Gate(_)
                    | ServiceError::DuplicateGate(_)
                    | ServiceError::FollowUp { .. },
                ) => return Ok(Superseded::Done),
            }
        }
        Ok(Superseded::Interrupted)
    }
}

/// Whether an outbox entry is the service's own work rather than a
/// notification for people.
fn is_job(entry: &Notification) -> bool {
    entry.kind == NotificationKind::Supersede
}
