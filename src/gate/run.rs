//! The pipeline run that reached a gate, and the words for where a gate
//! stands.

use crate::id::PrincipalId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The pipeline run waiting at the gate: who started it and where it runs.
///
/// ```
/// use approval_gate::{PrincipalId, Run};
/// let mut run = Run::new(PrincipalId::new("carol")?);
/// run.environment = Some("production".into());
/// run.pipeline = Some("deploy".into());
/// assert_eq!(run.executor.as_str(), "carol");
/// # Ok::<(), approval_gate::IdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Run {
    /// Who executed (triggered) the run.
    pub executor: PrincipalId,
    /// The environment deployed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// The stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The approval step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The service deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl Run {
    /// A run executed by `executor`, with nothing else known.
    pub fn new(executor: PrincipalId) -> Self {
        Self { executor, environment: None, project: None, pipeline: None, stage: None, step: None, service: None }
    }

    /// The key under which runs supersede each other: project, pipeline,
    /// stage, step and service (Harness: same pipeline, same
    /// `stage#step` approval key, same service).
    pub fn supersede_key(&self) -> String {
        let parts = [&self.project, &self.pipeline, &self.stage, &self.step, &self.service];
        let mut key = String::new();
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                key.push('\u{1f}');
            }
            // Escape the separator so that no two runs share a key by accident.
            key.extend(part.as_deref().unwrap_or("").chars().flat_map(|c| match c {
                '\u{1f}' | '\\' => vec!['\\', c],
                c => vec![c],
            }));
        }
        key
    }
}

/// Where a gate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for approvals.
    Waiting,
    /// Approved: the run may go on.
    Approved,
    /// Rejected: the run stops.
    Rejected,
    /// Its timeout passed (Harness's Expired).
    Expired,
    /// The policy does not apply to the run's environment.
    Skipped,
    /// The run was aborted.
    Cancelled,
}

impl Status {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a gate ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Every rule had its approvals.
    Quorum,
    /// An approver rejected.
    Rejected,
    /// A newer run at the same step was approved.
    Superseded,
    /// The timeout passed.
    Timeout,
    /// The scheduled auto-approval came.
    AutoApproved,
    /// The run was aborted.
    Cancelled,
    /// The policy does not apply to the run's environment (an addition to
    /// the contract, for `skipped`).
    NotApplicable,
}

impl Reason {
    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quorum => "quorum",
            Self::Rejected => "rejected",
            Self::Superseded => "superseded",
            Self::Timeout => "timeout",
            Self::AutoApproved => "auto_approved",
            Self::Cancelled => "cancelled",
            Self::NotApplicable => "not_applicable",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a principal may try to do on a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
    /// Take responsibility.
    Assign,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approve => "approving",
            Self::Reject => "rejecting",
            Self::Assign => "taking responsibility",
        })
    }
}

/// A principal's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// They approved.
    Approved,
    /// They rejected.
    Rejected,
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        })
    }
}
