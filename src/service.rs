//! The shell around the engine: load a gate, decide, append with the
//! expected version, deliver the outbox, carry out supersession.

use crate::error::{ErrorKind, GateError};
use crate::gate::{Approve, Command, Effect, Event, Gate, Notification, ReplayError, Run, Supersession};
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
}

impl<E> ServiceError<E> {
    /// The contract's kind of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Gate(error) => error.kind(),
            Self::UnknownGate(_) => ErrorKind::UnknownGate,
            Self::DuplicateGate(_) => ErrorKind::DuplicateGate,
            Self::Store(_) | Self::Contention { .. } | Self::Corrupt { .. } => ErrorKind::Store,
        }
    }
}

/// Opens gates and takes actions on them through a [`Store`] and a
/// [`Notifier`].
///
/// Each call appends what it decided, with the notifications and
/// supersessions it causes in the store's outbox, then follows up: it
/// rejects superseded runs and delivers the outbox. A store failure during
/// the follow-up is returned, but the action stands: what was not done
/// waits in the outbox for the next call, tick or process.
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
    /// The gate after the appended events.
    gate: Gate,
    /// The events appended (a passed deadline's among them).
    events: Vec<Event>,
    /// Why the command itself was refused, if it was.
    refusal: Option<GateError>,
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
        match self.commit(&gate, 0, &events) {
            Err(ServiceError::Contention { .. }) => Err(ServiceError::DuplicateGate(id)),
            other => other,
        }?;
        self.follow_up(&gate, &events)?;
        Ok(gate)
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
    /// The store's failure.
    pub fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Gate>, S> {
        let due = self.store.due(now, TICK_BATCH).map_err(ServiceError::Store)?;
        let mut ended = Vec::with_capacity(due.len());
        for id in due {
            ended.push(self.execute(&id, &Command::Tick, now)?);
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
    /// stopped after its append is carried out now, as of the approval that
    /// caused it. Returns how many notifications were delivered.
    ///
    /// # Errors
    ///
    /// The store's failure (a notifier's failure is not an error here).
    pub fn deliver_pending(&self) -> Result<usize, S> {
        let mut pending = self.store.pending(TICK_BATCH).map_err(ServiceError::Store)?;
        if pending.iter().any(|entry| entry.supersedes.is_some()) {
            for (entry, supersession) in pending.iter().filter_map(|entry| Some((entry, entry.supersedes.as_ref()?))) {
                self.supersede(supersession, entry.at)?;
                self.store.delivered(&entry.key).map_err(ServiceError::Store)?;
            }
            // The rejections just recorded have notifications of their own.
            pending = self.store.pending(TICK_BATCH).map_err(ServiceError::Store)?;
        }
        let mut delivered = 0;
        for notification in pending.iter().filter(|entry| entry.supersedes.is_none()) {
            if self.notifier.deliver(notification).is_ok() {
                self.store.delivered(&notification.key).map_err(ServiceError::Store)?;
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Records `command` and follows up: superseded runs, the outbox.
    fn execute(&self, id: &GateId, command: &Command, now: DateTime<Utc>) -> Result<Gate, S> {
        let recorded = self.record(id, command, now)?;
        self.follow_up(&recorded.gate, &recorded.events)?;
        match recorded.refusal {
            Some(error) => Err(error.into()),
            None => Ok(recorded.gate),
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
                Err(refusal) => return Ok(Recorded { gate, events: Vec::new(), refusal: Some(refusal) }),
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
                Ok(()) => return Ok(Recorded { gate, events, refusal }),
            }
        }
        Err(ServiceError::Contention { gate: id.clone(), attempts: MAX_ATTEMPTS })
    }

    /// Appends `events` (already applied to `gate`) with their
    /// notifications, and the supersessions they cause as outbox entries of
    /// the service's own, so that stopping after the append loses neither.
    /// A conflict comes back as `Contention` for the caller to retry.
    fn commit(&self, gate: &Gate, expected: u64, events: &[Event]) -> Result<(), S> {
        if events.is_empty() {
            return Ok(());
        }
        let outbox: Vec<_> = gate
            .effects(events)
            .into_iter()
            .filter_map(|effect| match effect {
                Effect::Notify(notification) => Some(notification),
                Effect::RejectSuperseded(supersession) => Some(Notification::supersede(supersession, gate.last_at())),
                _ => None,
            })
            .collect();
        let index = GateIndex::of(gate);
        match self.store.append(Append::new(gate.id(), expected, events, &outbox, &index)) {
            Ok(_) => Ok(()),
            Err(AppendError::Conflict(_)) => Err(ServiceError::Contention { gate: gate.id().clone(), attempts: 1 }),
            Err(AppendError::Store(error)) => Err(ServiceError::Store(error)),
        }
    }

    /// After an append: reject superseded runs at once (not behind a
    /// backlog of notifications), as of the event that supersedes them,
    /// then deliver the outbox.
    fn follow_up(&self, gate: &Gate, events: &[Event]) -> Result<(), S> {
        for effect in gate.effects(events) {
            if let Effect::RejectSuperseded(supersession) = effect {
                self.supersede(&supersession, gate.last_at())?;
                self.store.delivered(&supersession.outbox_key()).map_err(ServiceError::Store)?;
            }
        }
        self.deliver_pending()?;
        Ok(())
    }

    /// Rejects the older runs waiting under the supersession's key. A run
    /// the approver may not act on is left waiting (Harness skips it). Done
    /// twice, it rejects nothing more: a rejected run no longer waits.
    fn supersede(&self, supersession: &Supersession, now: DateTime<Utc>) -> Result<(), S> {
        let waiting = self.store.waiting_with_key(&supersession.key).map_err(ServiceError::Store)?;
        for (older, opened_at) in waiting {
            if opened_at >= supersession.opened_at || older == supersession.newer {
                continue;
            }
            let command = Command::Supersede { by: supersession.by.clone(), newer: supersession.newer.clone() };
            let mut at = now;
            // Carried out late (after a restart), the rejection follows
            // whatever the older gate recorded meanwhile.
            while let Some(GateError::TimeWentBackwards { last, .. }) = self.record(&older, &command, at)?.refusal {
                at = last;
            }
        }
        Ok(())
    }
}
