//! The outbox: what an append hands on, written in the same append as the
//! events so that a crash between the two loses nothing. One entry kind per
//! job, so an entry cannot lack its payload.

use crate::gate::{Effect, Hold, Notification, Supersession};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One thing to do after an append, under a stable key.
///
/// Stored as JSON with an `entry` tag whose spelling never changes
/// (`notify`, `hold`, `supersede`); a store that meets a tag it does not
/// know (written by a newer version during a rolling upgrade) hands it back
/// as [`Pending::Unreadable`] rather than failing.
///
/// ```
/// use approval_gate::gate::{Notification, NotificationKind};
/// use approval_gate::outbox::OutboxEntry;
/// use chrono::{TimeZone, Utc};
///
/// let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
/// let note = Notification::new(approval_gate::GateId::new("g")?, 2, NotificationKind::Approved, "ok", at);
/// let entry = OutboxEntry::Notify(note);
/// assert_eq!(entry.key(), "g/2/approved");
/// let json = serde_json::to_value(&entry)?;
/// assert_eq!(json["entry"], "notify");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutboxEntry {
    /// A notification for people: [`Notifier::deliver`](crate::ports::Notifier::deliver).
    Notify(Notification),
    /// Other deployments held or released: [`Notifier::hold`](crate::ports::Notifier::hold).
    Hold(Hold),
    /// The service's own job: reject the older runs a newer one supersedes.
    /// No notifier ever sees it.
    Supersede(Supersession),
}

impl OutboxEntry {
    /// The entry's idempotency key: `<gate>/<version>/<what>`.
    pub fn key(&self) -> Cow<'_, str> {
        match self {
            Self::Notify(notification) => Cow::Borrowed(&notification.key),
            Self::Hold(hold) => Cow::Borrowed(&hold.key),
            Self::Supersede(supersession) => Cow::Owned(supersession.outbox_key()),
        }
    }

    /// The entry an effect leaves in the outbox: every effect that must
    /// survive a crash. A wake-up needs none: the store's due index is its
    /// durable form.
    pub fn of(effect: &Effect) -> Option<Self> {
        match effect {
            Effect::Notify(notification) => Some(Self::Notify(notification.clone())),
            Effect::Hold(hold) => Some(Self::Hold(hold.clone())),
            Effect::RejectSuperseded(supersession) => Some(Self::Supersede(supersession.clone())),
            Effect::WakeAt { .. } => None,
        }
    }
}

/// An outbox entry as a store read it back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pending {
    /// An entry this version knows.
    Entry(OutboxEntry),
    /// An entry this version cannot read. It stays in the outbox; the
    /// service reports it and goes on with the others.
    Unreadable(Unreadable),
}

/// An outbox entry left in place because it could not be read: of a kind a
/// newer version wrote, or damaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unreadable {
    /// The entry's key.
    pub key: String,
    /// Why it could not be read.
    pub reason: String,
}

impl Unreadable {
    /// An entry under `key` that could not be read, and why.
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { key: key.into(), reason: reason.into() }
    }
}
