//! When a gate ends by itself: its timeout or its scheduled auto-approval.

use super::Gate;
use crate::policy::Schedule;
use chrono::{DateTime, Utc};

/// What a deadline does when it passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deadline {
    Timeout,
    AutoApproval,
}

impl Gate {
    /// The next instant at which the gate ends by itself (timeout or
    /// scheduled auto-approval), if it waits.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.deadline().map(|(at, _)| at)
    }

    /// The next deadline and what happens then, while the gate waits.
    pub(super) fn deadline(&self) -> Option<(DateTime<Utc>, Deadline)> {
        if self.is_waiting() { self.scheduled() } else { None }
    }

    /// The deadline the policy set when the gate opened, whether or not the
    /// gate still waits. On a tie the auto-approval wins: Harness implements
    /// it as the step's own timeout.
    pub(super) fn scheduled(&self) -> Option<(DateTime<Utc>, Deadline)> {
        let spec = self.state.policy.spec();
        let opened_at = self.state.opened_at;
        // A deadline beyond the last representable instant never comes.
        let timeout = spec.timeout.and_then(|t| Some((t.after.after(opened_at)?, Deadline::Timeout)));
        let auto = spec.auto_approval.as_ref().and_then(|auto| {
            let at = match auto.at {
                Schedule::At(at) => at,
                Schedule::After(span) => span.after(opened_at)?,
            };
            Some((at, Deadline::AutoApproval))
        });
        match (timeout, auto) {
            (Some(t), Some(a)) => Some(if a.0 <= t.0 { a } else { t }),
            (t, a) => t.or(a),
        }
    }
}
