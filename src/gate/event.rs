//! Events: facts about a gate, in the past tense. A gate is the fold of its
//! events, so these are what a store keeps.

use super::run::{Reason, Run, Status};
use crate::id::{GateId, PrincipalId};
use crate::policy::{Policy, RuleSet};
use crate::principal::Principal;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A fact about a gate. Stored as JSON with a `type` tag whose spelling
/// ([`Event::name`]) never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A run reached the gate; the policy is snapshotted here, so later
    /// edits do not move a running gate.
    Opened {
        /// The gate.
        gate: GateId,
        /// The policy, as it was when the gate opened.
        policy: Policy,
        /// The run.
        run: Run,
        /// When.
        at: DateTime<Utc>,
    },
    /// A principal approved.
    Approved {
        /// Who, as the directory described them then.
        by: Principal,
        /// The rules they matched.
        rules: RuleSet,
        /// The rule the approval is pinned to, if any (`represented_as`, or
        /// the rule chosen under once-per-rule counting).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<u8>,
        /// The approver-input values, defaults filled in.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        inputs: BTreeMap<String, String>,
        /// Their comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A principal rejected.
    Rejected {
        /// Who.
        by: Principal,
        /// The rule the rejection is for, under once-per-rule counting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<u8>,
        /// Their comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A principal took responsibility.
    Assigned {
        /// Who.
        to: PrincipalId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The gate ended. Nothing changes a gate after this.
    Ended {
        /// How it ended.
        status: Status,
        /// Why.
        reason: Reason,
        /// Who ended it, where a principal did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<PrincipalId>,
        /// A comment or reason text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
}

impl Event {
    /// When the event happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Opened { at, .. }
            | Self::Approved { at, .. }
            | Self::Rejected { at, .. }
            | Self::Assigned { at, .. }
            | Self::Ended { at, .. } => *at,
        }
    }

    /// The stable wire name of the event's type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opened { .. } => "opened",
            Self::Approved { .. } => "approved",
            Self::Rejected { .. } => "rejected",
            Self::Assigned { .. } => "assigned",
            Self::Ended { .. } => "ended",
        }
    }
}
