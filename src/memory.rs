//! [`MemoryStore`]: the embedded default store, as strict as a database.

use crate::gate::{Event, Hold, Notification};
use crate::id::GateId;
use crate::outbox::{OutboxEntry, Pending};
use crate::ports::{Append, AppendError, Conflict, GateIndex, Notifier, NotifyError, Store};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

/// Keeps every gate's events in memory, with indexes for due time and
/// supersede key so that neither query scans every gate. Appends check the
/// expected version exactly and write events, outbox and indexes together.
///
/// ```
/// use approval_gate::memory::MemoryStore;
/// use approval_gate::ports::Store;
/// let store = MemoryStore::new();
/// assert!(store.load(&approval_gate::GateId::new("g")?)?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    streams: HashMap<GateId, Stream>,
    due: BTreeSet<(DateTime<Utc>, GateId)>,
    by_key: HashMap<String, BTreeSet<(DateTime<Utc>, GateId)>>,
    outbox: BTreeMap<u64, OutboxEntry>,
    outbox_seq: HashMap<String, u64>,
    next_seq: u64,
}

/// One gate: its events, and its index while the index puts it in a query
/// (kept to find its old entries when the next append moves them).
#[derive(Debug)]
struct Stream {
    events: Vec<Event>,
    index: Option<GateIndex>,
}

/// A [`MemoryStore`] whose lock was poisoned by a panicking thread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("memory store lock poisoned by a panicking thread")]
pub struct Poisoned;

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, Poisoned> {
        self.inner.lock().map_err(|_| Poisoned)
    }

    /// How many gates the store holds.
    ///
    /// # Errors
    ///
    /// [`Poisoned`].
    pub fn gate_count(&self) -> Result<usize, Poisoned> {
        Ok(self.lock()?.streams.len())
    }
}

impl Inner {
    fn reindex(&mut self, gate: &GateId, old: Option<GateIndex>, index: &GateIndex) {
        if let Some(old) = old {
            if let Some(at) = old.deadline {
                self.due.remove(&(at, gate.clone()));
            }
            if let Some(key) = &old.supersede_key {
                if let Some(set) = self.by_key.get_mut(key) {
                    set.remove(&(old.opened_at, gate.clone()));
                    if set.is_empty() {
                        self.by_key.remove(key);
                    }
                }
            }
        }
        if let Some(at) = index.deadline {
            self.due.insert((at, gate.clone()));
        }
        if let Some(key) = &index.supersede_key {
            self.by_key.entry(key.clone()).or_default().insert((index.opened_at, gate.clone()));
        }
    }
}

impl Store for MemoryStore {
    type Error = Poisoned;

    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Poisoned> {
        Ok(self.lock()?.streams.get(gate).map(|stream| stream.events.clone()).unwrap_or_default())
    }

    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Poisoned>> {
        let mut inner = self.lock().map_err(AppendError::Store)?;
        let actual = inner.streams.get(append.gate).map_or(0, |stream| stream.events.len() as u64);
        if actual != append.expected {
            let conflict = Conflict { gate: append.gate.clone(), expected: append.expected, actual };
            return Err(AppendError::Conflict(conflict));
        }
        let queried = append.index.deadline.is_some() || append.index.supersede_key.is_some();
        let index = queried.then(|| append.index.clone());
        // A new stream is allocated to fit: most gates stop at a few events,
        // and a million waiting gates each hold only their opening.
        let stream = inner
            .streams
            .entry(append.gate.clone())
            .and_modify(|stream| stream.events.extend_from_slice(append.events))
            .or_insert_with(|| Stream { events: append.events.to_vec(), index: None });
        let version = stream.events.len() as u64;
        let old = std::mem::replace(&mut stream.index, index);
        inner.reindex(append.gate, old, append.index);
        for entry in append.outbox {
            // A key names one entry: a repeat is the same one again.
            let key = entry.key();
            if inner.outbox_seq.contains_key(key.as_ref()) {
                continue;
            }
            let seq = inner.next_seq;
            inner.next_seq += 1;
            inner.outbox_seq.insert(key.into_owned(), seq);
            inner.outbox.insert(seq, entry.clone());
        }
        Ok(version)
    }

    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Poisoned> {
        let inner = self.lock()?;
        let gates = inner.by_key.get(key).map(|set| set.iter().map(|(at, gate)| (gate.clone(), *at)).collect());
        Ok(gates.unwrap_or_default())
    }

    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Poisoned> {
        let inner = self.lock()?;
        Ok(inner.due.iter().take_while(|(deadline, _)| *deadline <= at).take(limit).map(|(_, g)| g.clone()).collect())
    }

    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Poisoned> {
        Ok(self.lock()?.outbox.values().take(limit).cloned().map(Pending::Entry).collect())
    }

    fn delivered(&self, key: &str) -> Result<(), Poisoned> {
        let mut inner = self.lock()?;
        if let Some(seq) = inner.outbox_seq.remove(key) {
            inner.outbox.remove(&seq);
        }
        Ok(())
    }
}

/// A notifier that keeps what it is given, for tests and examples.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    delivered: Mutex<Vec<Notification>>,
    holds: Mutex<Vec<Hold>>,
}

impl RecordingNotifier {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything delivered so far, in order.
    pub fn delivered(&self) -> Vec<Notification> {
        self.delivered.lock().map(|list| list.clone()).unwrap_or_default()
    }

    /// Every hold and release carried out so far, in order.
    pub fn holds(&self) -> Vec<Hold> {
        self.holds.lock().map(|list| list.clone()).unwrap_or_default()
    }
}

impl Notifier for RecordingNotifier {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        let mut list = self
            .delivered
            .lock()
            .map_err(|_| NotifyError { key: notification.key.clone(), reason: "recorder lock poisoned".into() })?;
        list.push(notification.clone());
        Ok(())
    }

    fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
        let poisoned = || NotifyError { key: hold.key.clone(), reason: "recorder lock poisoned".into() };
        self.holds.lock().map_err(|_| poisoned())?.push(hold.clone());
        Ok(())
    }
}
