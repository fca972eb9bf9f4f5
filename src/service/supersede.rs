//! Superseding across gates (Harness `isAutoRejectEnabled`): an approval of
//! a newer run rejects the older runs waiting at the same step. It travels
//! through the outbox as a job of the service's own, written with the
//! approval, so a crash between the two loses nothing.

use super::{Approvals, MAX_ATTEMPTS, Recorded, ServiceError};
use crate::gate::{Command, GateError, Supersession};
use crate::id::GateId;
use crate::outbox::{OutboxEntry, Pending};
use crate::ports::{Notifier, Store};
use chrono::{DateTime, Utc};

/// How far a supersession got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Superseded {
    /// Every older waiting run was rejected, or cannot be.
    Done,
    /// An older run kept changing under the rejection: try again later.
    Interrupted,
}

impl<S: Store, N: Notifier> Approvals<S, N> {
    /// Carries out the supersede jobs among `pending`, each as of the event
    /// that caused it, and removes the ones that finished. Returns the first
    /// store failure met while superseding, which holds back nothing else.
    ///
    /// # Errors
    ///
    /// The store's failure to remove a finished job.
    pub(super) fn supersede_pending(&self, pending: &[Pending]) -> Result<Option<S::Error>, ServiceError<S::Error>> {
        let mut failed = None;
        for entry in pending {
            let Pending::Entry(OutboxEntry::Supersede(supersession)) = entry else { continue };
            match self.supersede(supersession, supersession.at) {
                Ok(Superseded::Done) => {
                    self.store.delivered(&supersession.outbox_key()).map_err(ServiceError::Store)?;
                }
                Ok(Superseded::Interrupted) => {}
                Err(error) => failed = failed.or(Some(error)),
            }
        }
        Ok(failed)
    }

    /// Rejects the older runs waiting under the supersession's key. A run
    /// the approver may not act on is left waiting (Harness skips it), as is
    /// one whose events no longer make a gate. Done twice, it rejects nothing
    /// more: a rejected run no longer waits.
    pub(super) fn supersede(&self, supersession: &Supersession, now: DateTime<Utc>) -> Result<Superseded, S::Error> {
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
    fn reject_superseded(&self, older: &GateId, command: &Command, now: DateTime<Utc>) -> Result<Superseded, S::Error> {
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
