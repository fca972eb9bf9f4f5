//! Explanations: where a gate stands and why, in words and as data; and
//! whether a principal may act, and if not, exactly why.

use super::GateError;
use super::{Action, Gate, Reason, Status};
use crate::id::{GateId, PrincipalId};
#[cfg(doc)]
use crate::policy::Policy;
use crate::policy::RuleSet;
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A gate's state, rule by rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Explanation {
    /// The gate.
    pub gate: GateId,
    /// Its status.
    pub status: Status,
    /// Why it ended, if it has.
    pub reason: Option<Reason>,
    /// Each rule's progress.
    pub rules: Vec<RuleProgress>,
    /// Approvals still needed, summed over the rules.
    pub remaining: u64,
    /// Who rejected, if anyone.
    pub rejected_by: Option<PrincipalId>,
    /// Who has taken responsibility.
    pub assigned_to: Option<PrincipalId>,
    /// When the gate ends by itself, if it waits and has a deadline.
    pub next_deadline: Option<DateTime<Utc>>,
    /// The values handed on to later steps.
    pub outputs: BTreeMap<String, String>,
}

/// One rule's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RuleProgress {
    /// The rule's name.
    pub name: String,
    /// How many approvals it needs.
    pub required: u32,
    /// Who counts for it, in the order they approved.
    pub counted: Vec<PrincipalId>,
    /// How many it still needs.
    pub remaining: u32,
}

/// What a principal may do: the action and the rules they act under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Eligibility {
    /// The action.
    pub action: Action,
    /// The rules the principal matches (names: [`Policy::rule_name`]).
    pub rules: RuleSet,
}

impl Gate {
    /// Where the gate stands, rule by rule.
    ///
    /// ```
    /// # use approval_gate::{Gate, GateId, PrincipalId, Run};
    /// # use approval_gate::policy::{Approver, Policy, PolicySpec, Rule};
    /// # use chrono::{TimeZone, Utc};
    /// let rule = Rule::new(2, [Approver::Group("sre".into())]).named("sre");
    /// let policy = Policy::new(PolicySpec::new([rule]))?;
    /// let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let gate = Gate::replay(&Gate::open(GateId::new("g")?, policy, Run::new(PrincipalId::new("c")?), now)?)?;
    /// let explanation = gate.explain();
    /// assert_eq!(explanation.remaining, 2);
    /// assert_eq!(explanation.to_string().lines().nth(1), Some("  rule `sre`: 0 of 2 approvals, 2 more needed"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain(&self) -> Explanation {
        let assignment = self.best_assignment();
        let rules = self
            .state
            .policy
            .rules()
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let counted: Vec<PrincipalId> = self
                    .state
                    .approvals
                    .iter()
                    .zip(&assignment)
                    .filter(|(_, r)| **r == Some(index))
                    .map(|(a, _)| a.by.id().clone())
                    .collect();
                let count = u32::try_from(counted.len()).unwrap_or(u32::MAX);
                RuleProgress {
                    name: self.state.policy.rule_name(index),
                    required: rule.required,
                    remaining: rule.required.saturating_sub(count),
                    counted,
                }
            })
            .collect();
        Explanation {
            gate: self.state.id.clone(),
            status: self.status(),
            reason: self.reason(),
            rules,
            remaining: self.remaining(),
            rejected_by: self.rejected_by().cloned(),
            assigned_to: self.state.assigned_to.clone(),
            next_deadline: self.next_deadline(),
            outputs: self.outputs(),
        }
    }

    /// Whether `principal` may take `action` at `now`, and under which rules;
    /// if not, the refusal `decide` would give, which says exactly why (not
    /// an approver, the executor, disallowed, already decided, not
    /// responsible, gate ended). It is the check `decide` makes for the
    /// action with no rule named (`represented_as`), no comment and inputs
    /// that fit, so the two agree: under once-per-rule counting an approver
    /// who already approved for their first rule is `already_decided` here,
    /// though naming another rule of theirs may still be accepted. For the
    /// same vote again, which a policy with `revote: while_waiting` accepts
    /// as a no-op, the rules are those the principal matches now (possibly
    /// none).
    ///
    /// # Errors
    ///
    /// The [`GateError`] that [`Gate::decide`] would return for the action.
    pub fn may(&self, principal: &Principal, action: Action, now: DateTime<Utc>) -> Result<Eligibility, GateError> {
        let admission = super::decide::admit(self, principal, action, None, now)?;
        Ok(Eligibility { action, rules: admission.rules })
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gate `{}` is {}", self.gate, self.status)?;
        match (&self.reason, &self.rejected_by) {
            (Some(Reason::Rejected | Reason::Superseded), Some(by)) => {
                write!(f, " ({}, by `{by}`)", self.reason_text())?
            }
            (Some(_), _) => write!(f, " ({})", self.reason_text())?,
            (None, _) if self.remaining > 0 => write!(f, ": {} more approval(s) needed", self.remaining)?,
            (None, _) => {}
        }
        for rule in &self.rules {
            write!(f, "\n  rule `{}`: {} of {} approvals", rule.name, rule.counted.len(), rule.required)?;
            if !rule.counted.is_empty() {
                let names: Vec<String> = rule.counted.iter().map(|id| format!("`{id}`")).collect();
                write!(f, " ({})", names.join(", "))?;
            }
            match rule.remaining {
                0 => write!(f, ", met")?,
                more => write!(f, ", {more} more needed")?,
            }
        }
        if let Some(by) = &self.assigned_to {
            write!(f, "\n  responsibility taken by `{by}`")?;
        }
        if let Some(at) = self.next_deadline {
            write!(f, "\n  ends by itself at {}", at.to_rfc3339())?;
        }
        for (name, value) in &self.outputs {
            write!(f, "\n  output {name} = {value:?}")?;
        }
        Ok(())
    }
}

impl Explanation {
    fn reason_text(&self) -> &'static str {
        match self.reason {
            Some(Reason::Quorum) => "every rule has its approvals",
            Some(Reason::Rejected) => "an approver rejected",
            Some(Reason::Superseded) => "a newer run at the same step was approved",
            Some(Reason::Timeout) => "its timeout passed",
            Some(Reason::AutoApproved) => "scheduled auto-approval",
            Some(Reason::Cancelled) => "the run was cancelled",
            Some(Reason::NotApplicable) => "the policy does not apply to this environment",
            None => "waiting",
        }
    }
}
