//! The engine's refusals.

use super::{Action, Status, Vote};
use crate::id::{GateId, PrincipalId};
use crate::kind::ErrorKind;
use crate::policy::InputError;
use chrono::{DateTime, Utc};

/// Why the engine refused a command. A refused command changes nothing.
///
/// ```
/// use approval_gate::{ErrorKind, GateError};
/// let err = GateError::CommentTooLong { len: 70_000, limit: 65_536 };
/// assert_eq!(err.kind(), ErrorKind::CommentTooLong);
/// assert_eq!(err.to_string(), "comment is 70000 bytes, more than the policy's limit of 65536");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// The policy requires responsibility to act, and someone else holds it.
    #[error(
        "`{principal}` does not hold responsibility for gate `{gate}`: `{holder}` does, and its policy requires taking it over first"
    )]
    NotResponsible {
        /// The gate.
        gate: GateId,
        /// Who tried.
        principal: PrincipalId,
        /// Who holds responsibility.
        holder: PrincipalId,
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
            Self::NotResponsible { .. } => ErrorKind::NotResponsible,
        }
    }
}
