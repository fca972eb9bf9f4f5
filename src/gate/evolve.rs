//! `evolve`: how an event changes a gate. Total: it never fails.

use super::state::{Approval, Ending};
use super::{Event, Gate};

impl Gate {
    /// Applies one event. Total: it never fails, and an event that cannot
    /// apply (anything after the end, a second opening) only advances the
    /// version.
    pub fn evolve(&mut self, event: &Event) {
        let state = &mut self.state;
        // A forged snapshot at the last version stays there rather than
        // wrapping to 0 and posing as a new gate.
        state.version = state.version.saturating_add(1);
        state.last_at = state.last_at.max(event.at());
        if state.ending.is_some() {
            return;
        }
        match event {
            Event::Opened { .. } => {}
            Event::Approved { by, rules, rule, inputs, comment, at } => {
                state.approvals.push(Approval {
                    by: by.clone(),
                    rules: *rules,
                    rule: *rule,
                    inputs: inputs.clone(),
                    comment: comment.clone(),
                    at: *at,
                });
                let claim = self.claim(*rules, *rule);
                self.tally.push(self.state.policy.required(), claim);
            }
            Event::Rejected { by, comment, .. } => {
                // A changed vote (GitLab's upsert) withdraws the rejecter's
                // approvals: they no longer stand behind the run.
                state.approvals.retain(|a| a.by.id() != by.id());
                state.rejection = Some((by.id().clone(), comment.clone()));
                self.rematch();
            }
            Event::Assigned { to, .. } => state.assigned_to = Some(to.clone()),
            Event::Ended { status, reason, by, comment, at } => {
                state.ending = Some(Ending {
                    status: *status,
                    reason: *reason,
                    by: by.clone(),
                    comment: comment.clone(),
                    at: *at,
                });
            }
        }
    }
}
