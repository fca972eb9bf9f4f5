//! The refusal kinds of the scenario contract: a leaf that depends on
//! nothing else in the crate, so every layer can name a kind.

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
    /// The policy requires the actor to hold responsibility for the gate
    /// (Octopus) and someone else holds it (an addition).
    NotResponsible,
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
            Self::NotResponsible => "not_responsible",
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
