//! The settings of a policy other than its rules and inputs: each an enum,
//! named after what it decides, defaulting to the safer choice.

use super::span::Span;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How one person's approval counts when they match several rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Counting {
    /// One approval per principal per gate; it counts for one rule, and the
    /// engine assigns approvals to rules so that the most rules are met
    /// (native default). `represented_as` pins an approval to a rule.
    #[default]
    OncePerGate,
    /// One approval per principal per rule; each approval counts for the rule
    /// `represented_as` names, else the first rule the principal matches
    /// (GitLab).
    OncePerRule,
}

/// How `represented_as` is matched against rule names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RuleNaming {
    /// The name must be equal (native default).
    #[default]
    Exact,
    /// The rule's name must contain the text (GitLab matches against the
    /// rule's `access_level_description`).
    Contains,
}

/// What the executor of the pipeline run (who triggered it) may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecutorRule {
    /// The executor acts like anyone else (Octopus; Harness with
    /// `disallowPipelineExecutor: false`; GitLab with
    /// `allow_pipeline_trigger_approve_deployment`).
    MayAct,
    /// The executor may reject but not approve (GitLab; native default).
    #[default]
    MayNotApprove,
    /// The executor may neither approve nor reject (Harness
    /// `disallowPipelineExecutor: true`).
    MayNotAct,
}

/// Whether instance administrators match every rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AdminRule {
    /// Administrators match only the rules that name them (native default).
    #[default]
    Ordinary,
    /// Administrators match every rule (GitLab).
    MatchEveryRule,
}

/// Whether a principal may change their vote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Revote {
    /// A second action by the same principal is refused (Harness; native
    /// default).
    #[default]
    Never,
    /// While the gate waits, an approval may be turned into a rejection; the
    /// same vote again is accepted and changes nothing (GitLab's upsert).
    WhileWaiting,
}

/// A principal kept from acting on the gate, whatever rules they match.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Disallowed {
    /// A principal id.
    Principal(String),
    /// An e-mail address, compared without regard to case (Harness
    /// `disallowedUserEmails`).
    Email(String),
}

/// How a gate ends when its timeout passes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimeoutOutcome {
    /// Status `expired` (Harness).
    #[default]
    Expire,
    /// Status `rejected`.
    Reject,
    /// Status `approved`.
    Approve,
}

/// A deadline after which the gate ends by itself.
///
/// ```
/// use approval_gate::policy::{Timeout, TimeoutOutcome};
/// let timeout: Timeout = serde_json::from_str(r#"{"after": "1d"}"#)?;
/// assert_eq!(timeout.outcome, TimeoutOutcome::Expire);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Timeout {
    /// How long after the gate opens.
    pub after: Span,
    /// What happens then.
    #[serde(default)]
    pub outcome: TimeoutOutcome,
}

impl Timeout {
    /// A timeout after `after` with the given outcome.
    pub fn new(after: Span, outcome: TimeoutOutcome) -> Self {
        Self { after, outcome }
    }
}

/// When a scheduled auto-approval happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Schedule {
    /// At a fixed instant (Harness `scheduledDeadline`).
    At(DateTime<Utc>),
    /// This long after the gate opens.
    After(Span),
}

/// A scheduled auto-approval: at the deadline the gate is approved as the
/// system, whatever approvals it has (Harness `autoApproval`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AutoApproval {
    /// When.
    pub at: Schedule,
    /// The comment recorded with the approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// A gate may not open closer than this to its auto-approval (Harness:
    /// 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_lead: Option<Span>,
}

impl AutoApproval {
    /// An auto-approval on `at` with no comment and no minimum lead.
    pub fn new(at: Schedule) -> Self {
        Self { at, comment: None, min_lead: None }
    }
}

/// Whether approving a newer run rejects older runs waiting at the same step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Supersede {
    /// Older runs keep waiting (native default).
    #[default]
    Off,
    /// Each approval of a newer run rejects older waiting runs with the same
    /// supersede key whose own policy also says this, as that approver,
    /// where the approver may act on them (Harness `isAutoRejectEnabled`).
    RejectOlderWaiting,
}

/// Environments the gate applies to; elsewhere it is skipped (Octopus run
/// conditions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Environments {
    /// Apply only in these; empty means every environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only: Vec<String>,
    /// Never apply in these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<String>,
}

impl Environments {
    /// Whether a run in `environment` must pass the gate. A run that names
    /// no environment must pass it: the gate fails closed.
    pub fn applies_to(&self, environment: Option<&str>) -> bool {
        let Some(environment) = environment else { return true };
        let listed = |list: &[String]| list.iter().any(|name| name == environment);
        (self.only.is_empty() || listed(&self.only)) && !listed(&self.skip)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.only.is_empty() && self.skip.is_empty()
    }
}

/// Whether other deployments wait while the gate waits (Octopus "Block
/// Deployments"). The engine reports it in effects; the host enforces it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Concurrency {
    /// Other deployments may run.
    #[default]
    Allow,
    /// Other deployments of the same project and environment wait.
    Block,
}

/// Whether acting on a gate needs responsibility for it (Octopus "assign to
/// me").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Responsibility {
    /// Taking responsibility is recorded and shown, but any eligible
    /// principal acts whoever holds it (native default).
    #[default]
    Informational,
    /// Approving or rejecting needs responsibility (Octopus). When nobody
    /// holds it, the actor takes it in the same action, as Octopus's form
    /// ("assign to me", then proceed or abort) and its API examples (`PUT
    /// .../responsible`, then `POST .../submit`) do; when someone else holds
    /// it, the actor must take it over first with an assign, and an approval
    /// or rejection without that is refused as `not_responsible`.
    RequiredToAct,
}

/// Whether approvers are shown the pipeline's execution history
/// (informational, Harness `includePipelineExecutionHistory`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecutionHistory {
    /// Not shown.
    #[default]
    Omit,
    /// Shown, and summarised in notifications.
    Include,
}

/// What a gate hands on to later steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outputs {
    /// The approver inputs of the last approval (Harness).
    #[default]
    Inputs,
    /// Octopus's `Manual.Notes`, `Manual.Approved` and
    /// `Manual.ResponsibleUser.*`, set when the gate ends by a decision.
    OctopusManual,
}

/// Which format a policy was written in (informational).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Origin {
    /// The crate's own format.
    #[default]
    Native,
    /// A Harness `HarnessApproval` step.
    Harness,
    /// A GitLab protected environment.
    Gitlab,
    /// An Octopus Manual Intervention step.
    Octopus,
}
