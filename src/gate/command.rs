//! Commands: what a host asks of a gate. A command may be refused.

use crate::id::GateId;
use crate::principal::Principal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An approval.
///
/// ```
/// use approval_gate::{Approve, Principal};
/// let approve = Approve::by(Principal::user("ann")?).comment("looks good").input("ticket", "CHG-7");
/// assert_eq!(approve.inputs["ticket"], "CHG-7");
/// # Ok::<(), approval_gate::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Approve {
    /// Who approves.
    pub by: Principal,
    /// Their comment.
    pub comment: Option<String>,
    /// Their approver-input values, by name.
    pub inputs: BTreeMap<String, String>,
    /// The rule they approve for, by name (GitLab `represented_as`).
    pub represented_as: Option<String>,
}

impl Approve {
    /// An approval by `by` with no comment, inputs or rule named.
    pub fn by(by: Principal) -> Self {
        Self { by, comment: None, inputs: BTreeMap::new(), represented_as: None }
    }

    /// Adds a comment.
    #[must_use]
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Adds an input value.
    #[must_use]
    pub fn input(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inputs.insert(name.into(), value.into());
        self
    }

    /// Names the rule the approval counts for.
    #[must_use]
    pub fn represented_as(mut self, rule: impl Into<String>) -> Self {
        self.represented_as = Some(rule.into());
        self
    }
}

/// What a host asks of an open gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// A principal approves.
    Approve(Approve),
    /// A principal rejects.
    Reject {
        /// Who rejects.
        by: Principal,
        /// Their comment.
        comment: Option<String>,
    },
    /// A principal takes responsibility (Octopus "assign to me").
    Assign {
        /// Who takes it.
        to: Principal,
    },
    /// The run was aborted.
    Cancel {
        /// Who aborted it, if known.
        by: Option<Principal>,
        /// Why.
        reason: Option<String>,
    },
    /// Time has reached `now`: a due timeout or auto-approval takes effect.
    Tick,
    /// A newer run with the same supersede key was approved by `by` (or
    /// auto-approved, when `by` is `None`): reject this older run.
    Supersede {
        /// The approver of the newer run; `None` for an auto-approval.
        by: Option<Principal>,
        /// The newer run's gate.
        newer: GateId,
    },
}
