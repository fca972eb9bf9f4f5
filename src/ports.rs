//! The traits a host implements: where events are kept ([`Store`]) and how
//! notifications leave ([`Notifier`]). Only [`crate::service`] calls them;
//! the engine never does.

use crate::gate::{Event, Hold, Notification};
use crate::id::GateId;
use crate::outbox::{OutboxEntry, Pending};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What a store indexes about a gate after an append, so that it can answer
/// "which gates are due" and "which gates wait under this supersede key"
/// without reading every stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GateIndex {
    /// The gate's next deadline, while it waits.
    pub deadline: Option<DateTime<Utc>>,
    /// The gate's supersede key, while it waits and takes part in
    /// superseding.
    pub supersede_key: Option<String>,
    /// When the gate opened.
    pub opened_at: DateTime<Utc>,
}

impl GateIndex {
    /// The index of a gate.
    pub fn of(gate: &crate::Gate) -> Self {
        let supersedes = gate.policy().spec().supersede == crate::policy::Supersede::RejectOlderWaiting;
        Self {
            deadline: gate.next_deadline(),
            supersede_key: (gate.is_waiting() && supersedes).then(|| gate.run().supersede_key()),
            opened_at: gate.opened_at(),
        }
    }
}

/// An append: new events for one gate after the version the writer read,
/// and the outbox entries they cause, written together or not at all.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Append<'a> {
    /// The gate.
    pub gate: &'a GateId,
    /// The version the writer read: the number of events it saw (0 for a
    /// new gate).
    pub expected: u64,
    /// The new events.
    pub events: &'a [Event],
    /// The outbox entries (notifications, holds, the service's own jobs).
    pub outbox: &'a [OutboxEntry],
    /// The gate's index after these events.
    pub index: &'a GateIndex,
}

impl<'a> Append<'a> {
    /// An append of `events` after version `expected`.
    pub fn new(
        gate: &'a GateId,
        expected: u64,
        events: &'a [Event],
        outbox: &'a [OutboxEntry],
        index: &'a GateIndex,
    ) -> Self {
        Self { gate, expected, events, outbox, index }
    }
}

/// An append that found another version than the one expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("version conflict on gate `{gate}`: expected version {expected}, found {actual}")]
pub struct Conflict {
    /// The gate.
    pub gate: GateId,
    /// The version the writer read.
    pub expected: u64,
    /// The version the store holds.
    pub actual: u64,
}

/// Why an append failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError<E> {
    /// Someone else appended first: reload and decide again.
    #[error(transparent)]
    Conflict(Conflict),
    /// The store itself failed.
    #[error("store failed: {0}")]
    Store(E),
}

/// Where gates' events live. Implementations must make [`Store::append`]
/// atomic and check the expected version exactly, as a database
/// transaction with optimistic concurrency would.
pub trait Store {
    /// The store's own failure.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The gate's events in order; empty for a gate never opened.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Self::Error>;

    /// Appends events and their outbox entries atomically, if the gate is at
    /// `append.expected`. Returns the new version.
    ///
    /// # Errors
    ///
    /// [`AppendError::Conflict`] naming both versions when the gate has moved
    /// on; [`AppendError::Store`] when the store fails.
    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Self::Error>>;

    /// Gates still waiting under `key`, with when each opened.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Self::Error>;

    /// Up to `limit` waiting gates whose deadline is at or before `at`,
    /// earliest first.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Self::Error>;

    /// Up to `limit` outbox entries not yet carried out, oldest first. An
    /// entry the store cannot read (of a kind a newer version wrote, or
    /// damaged) comes back as [`Pending::Unreadable`], never as an error for
    /// the whole call.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Self::Error>;

    /// Removes a carried-out entry from the outbox, by its key.
    ///
    /// # Errors
    ///
    /// The store's failure.
    fn delivered(&self, key: &str) -> Result<(), Self::Error>;
}

/// A notification that could not be delivered now; the service keeps it in
/// the outbox and tries again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notification `{key}` not delivered: {reason}")]
pub struct NotifyError {
    /// The notification's key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// Tells the host what it must hear of: notifications for people, and holds
/// on other deployments. Delivery is at least once: an item may arrive again
/// under the same key, which a receiver uses to drop repeats. The service's
/// own outbox jobs never reach it.
pub trait Notifier {
    /// Delivers one notification.
    ///
    /// # Errors
    ///
    /// [`NotifyError`] when it could not be delivered now.
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError>;

    /// Holds, or releases, other deployments of a run's project and
    /// environment while its gate waits (Octopus "Block Deployments"). Only
    /// policies with [`Concurrency::Block`](crate::policy::Concurrency::Block)
    /// cause holds; a host that has none may answer `Ok(())`.
    ///
    /// # Errors
    ///
    /// [`NotifyError`] when it could not be carried out now.
    fn hold(&self, hold: &Hold) -> Result<(), NotifyError>;
}

macro_rules! forward_store {
    ($($wrapper:ty),*) => {$(
        impl<S: Store + ?Sized> Store for $wrapper {
            type Error = S::Error;
            fn load(&self, gate: &GateId) -> Result<Vec<Event>, Self::Error> {
                (**self).load(gate)
            }
            fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Self::Error>> {
                (**self).append(append)
            }
            fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Self::Error> {
                (**self).waiting_with_key(key)
            }
            fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Self::Error> {
                (**self).due(at, limit)
            }
            fn pending(&self, limit: usize) -> Result<Vec<Pending>, Self::Error> {
                (**self).pending(limit)
            }
            fn delivered(&self, key: &str) -> Result<(), Self::Error> {
                (**self).delivered(key)
            }
        }
    )*};
}

forward_store!(&S, Arc<S>);

macro_rules! forward_notifier {
    ($($wrapper:ty),*) => {$(
        impl<N: Notifier + ?Sized> Notifier for $wrapper {
            fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
                (**self).deliver(notification)
            }
            fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
                (**self).hold(hold)
            }
        }
    )*};
}

forward_notifier!(&N, Arc<N>);
