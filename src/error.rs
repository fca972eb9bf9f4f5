//! The refusal kinds of the scenario contract, and the engine's refusals.

use crate::gate::{Action, Status, Vote};
use crate::id::{GateId, PrincipalId};
use crate::policy::InputError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a refusal, spelled as the scenario contract spells it
/// (`not_eligible`, `executor_not_allowed`, ...). Every error of the crate
/// maps to exactly one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The actor is not an approver of the gate.
    NotEligible,
    /// The policy keeps the run's executor from this action.
    ExecutorNotAllowed,
    /// The actor is on the policy's disallowed list.
    UserDisallowed,
    /// The actor has already acted in a way the policy does not let them
    /// repeat or change.
    AlreadyDecided,
    /// The gate has already ended, or its deadline has passed.
    NotWaiting,
    /// The approver inputs do not match the policy.
    InvalidInputs,
    /// `represented_as` names no rule the actor matches.
    NoMatchingRule,
    /// No gate with that id has been opened.
    UnknownGate,
    /// A gate with that id is already open.
    DuplicateGate,
    /// The action's time is earlier than the gate's last event.
    TimeWentBackwards,
    /// The policy was refused when it was loaded.
    InvalidPolicy,
    /// A comment is longer than the policy allows (an addition to the
    /// contract).
    CommentTooLong,
    /// A scheduled auto-approval is too close to, or before, the opening of
    /// the gate (an addition: Harness needs 15 minutes).
    InvalidSchedule,
    /// An id is empty, too long or holds a control character (an addition).
    InvalidId,
    /// The gate does not take part in auto-rejection of superseded runs (an
    /// addition).
    NotSupersedable,
    /// The store failed or kept conflicting (an addition).
    Store,
}

impl ErrorKind {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotEligible => "not_eligible",
            Self::ExecutorNotAllowed => "executor_not_allowed",
            Self::UserDisallowed => "user_disallowed",
            Self::AlreadyDecided => "already_decided",
            Self::NotWaiting => "not_waiting",
            Self::InvalidInputs => "invalid_inputs",
            Self::NoMatchingRule => "no_matching_rule",
            Self::UnknownGate => "unknown_gate",
            Self::DuplicateGate => "duplicate_gate",
            Self::TimeWentBackwards => "time_went_backwards",
            Self::InvalidPolicy => "invalid_policy",
            Self::CommentTooLong => "comment_too_long",
            Self::InvalidSchedule => "invalid_schedule",
            Self::InvalidId => "invalid_id",
            Self::NotSupersedable => "not_supersedable",
            Self::Store => "store",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(text))
            .map_err(|_| format!("unknown error kind `{text}`"))
    }
}

/// Why the engine refused a command. A refused command changes nothing.
///
/// ```
/// use approval_gate::{ErrorKind, GateError};
/// let err = GateError::CommentTooLong { len: 70_000, limit: 65_536 };
/// assert_eq!(err.kind(), ErrorKind::CommentTooLong);
/// assert_eq!(err.to_string(), "comment is 70000 bytes, more than the policy's limit of 65536");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The principal matches no rule of the gate.
    #[error(
        "`{principal}` is not an approver of gate `{gate}`: in no approver group, team, user list, access level or service-account list of its policy"
    )]
    NotEligible {
        /// The gate.
        gate: GateId,
        /// Who tried.
        principal: PrincipalId,
    },
    /// The principal executed the run and the policy keeps the executor from
    /// this action.
    #[error("`{principal}` executed the run of gate `{gate}`, and its policy keeps the executor from {action}")]
    ExecutorNotAllowed {
        /// The gate.
        gate: GateId,
        /// The executor.
        principal: PrincipalId,
        /// What they tried.
        action: Action,
    },
    /// The principal is on the policy's disallowed list.
    #[error("`{principal}` is on the disallowed list of gate `{gate}` as `{entry}`")]
    UserDisallowed {
        /// The gate.
        gate: GateId,
        /// Who tried.
        principal: PrincipalId,
        /// The entry that matched.
        entry: String,
    },
    /// The principal already voted and the policy does not let them act
    /// again.
    #[error(
        "`{principal}` has already {previous} gate `{gate}`, and its policy does not let a vote be repeated or changed"
    )]
    AlreadyDecided {
        /// The gate.
        gate: GateId,
        /// Who tried.
        principal: PrincipalId,
        /// Their earlier vote.
        previous: Vote,
    },
    /// The gate has ended.
    #[error("gate `{gate}` is not waiting: it is {status}")]
    NotWaiting {
        /// The gate.
        gate: GateId,
        /// Its status.
        status: Status,
    },
    /// The gate's deadline has passed; a tick must end it first.
    #[error("gate `{gate}` is not waiting: its deadline passed at {deadline}")]
    DeadlinePassed {
        /// The gate.
        gate: GateId,
        /// The deadline.
        deadline: DateTime<Utc>,
    },
    /// The approval's inputs do not match the policy.
    #[error(transparent)]
    InvalidInputs(#[from] InputError),
    /// `represented_as` names no rule the principal matches.
    #[error("`{principal}` matches no rule of gate `{gate}` named `{represented_as}`")]
    NoMatchingRule {
        /// The gate.
        gate: GateId,
        /// Who tried.
        principal: PrincipalId,
        /// The name given.
        represented_as: String,
    },
    /// The command's time is before the gate's last event.
    #[error("time went backwards: {now} is before {last}, the time of the last event")]
    TimeWentBackwards {
        /// The last event's time.
        last: DateTime<Utc>,
        /// The command's time.
        now: DateTime<Utc>,
    },
    /// The comment is longer than the policy allows.
    #[error("comment is {len} bytes, more than the policy's limit of {limit}")]
    CommentTooLong {
        /// Its length in bytes.
        len: usize,
        /// The policy's limit.
        limit: usize,
    },
    /// The scheduled auto-approval is too close to the opening.
    #[error("auto-approval at {at} is too soon: the policy needs it after {earliest}")]
    AutoApprovalTooSoon {
        /// The auto-approval time.
        at: DateTime<Utc>,
        /// The earliest instant the policy accepts.
        earliest: DateTime<Utc>,
    },
    /// The gate's policy does not take part in superseding.
    #[error("gate `{gate}` does not reject superseded runs: its policy has supersede off")]
    NotSupersedable {
        /// The gate.
        gate: GateId,
    },
}

impl GateError {
    /// The contract's kind of this refusal.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotEligible { .. } => ErrorKind::NotEligible,
            Self::ExecutorNotAllowed { .. } => ErrorKind::ExecutorNotAllowed,
            Self::UserDisallowed { .. } => ErrorKind::UserDisallowed,
            Self::AlreadyDecided { .. } => ErrorKind::AlreadyDecided,
            Self::NotWaiting { .. } | Self::DeadlinePassed { .. } => ErrorKind::NotWaiting,
            Self::InvalidInputs(_) => ErrorKind::InvalidInputs,
            Self::NoMatchingRule { .. } => ErrorKind::NoMatchingRule,
            Self::TimeWentBackwards { .. } => ErrorKind::TimeWentBackwards,
            Self::CommentTooLong { .. } => ErrorKind::CommentTooLong,
            Self::AutoApprovalTooSoon { .. } => ErrorKind::InvalidSchedule,
            Self::NotSupersedable { .. } => ErrorKind::NotSupersedable,
        }
    }
}

impl crate::IdError {
    /// The contract's kind: `invalid_id`.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidId
    }
}
