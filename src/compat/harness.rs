//! Harness `HarnessApproval` steps.
//!
//! [`Step`] is the step object as a pipeline's YAML writes it (the value of
//! `- step:`), in any serde format; JSON is the YAML converted as is.
//! [`Step::to_policy`] follows what Harness does with each field and
//! validates the result.
//!
//! ```
//! use approval_gate::compat::harness::Step;
//! use approval_gate::policy::{Approver, ExecutorRule};
//! let step: Step = serde_json::from_str(r#"{
//!     "type": "HarnessApproval", "name": "Approve prod", "identifier": "approve_prod",
//!     "timeout": "1d",
//!     "spec": {
//!         "approvalMessage": "Please review and approve",
//!         "includePipelineExecutionHistory": true,
//!         "approvers": {"userGroups": ["account.sre"], "minimumCount": 2, "disallowPipelineExecutor": true}
//!     }
//! }"#)?;
//! let policy = step.to_policy()?;
//! assert_eq!(policy.rules()[0].required, 2);
//! assert_eq!(policy.rules()[0].approvers, [Approver::Group("account.sre".into())]);
//! assert_eq!(policy.spec().executor, ExecutorRule::MayNotAct);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Fields read
//!
//! | field | becomes |
//! | --- | --- |
//! | `type` | must be `HarnessApproval` when present |
//! | `name` (else `identifier`) | the policy's `name` |
//! | `timeout` | `timeout`, outcome expire; `1d` when absent; at most 53 weeks |
//! | `spec.approvalMessage` | `message`; required and non-empty |
//! | `spec.includePipelineExecutionHistory` | `execution_history` |
//! | `spec.approvers.userGroups` | one [`Approver::Group`] each, id kept verbatim (`account.` / `org.` prefixes included), checked as a Harness user group reference |
//! | `spec.approvers.serviceAccounts` | one [`Approver::ServiceAccount`] each |
//! | `spec.approvers.minimumCount` | the one rule's `required` |
//! | `spec.approvers.disallowPipelineExecutor` | `executor`: `true` is [`ExecutorRule::MayNotAct`], else [`ExecutorRule::MayAct`] |
//! | `spec.approvers.disallowedUserEmails` | one [`Disallowed::Email`] each |
//! | `spec.approverInputs[]` | `inputs`: `name`, `defaultValue`, `required`, `description`, and one constraint of `allowedValues`, `selectOneFrom`, `regex` |
//! | `spec.isAutoRejectEnabled` | `supersede`: `true` is [`Supersede::RejectOlderWaiting`] |
//! | `spec.autoApproval` | `auto_approval` at `scheduledDeadline`, comment `comments`, minimum lead 15 minutes |
//!
//! Every Harness policy has one rule (no name, so explanations call it
//! `rule 1`) whose approvers are the user groups followed by the service
//! accounts, and these fixed settings: [`Counting::OncePerGate`],
//! [`Revote::Never`], [`AdminRule::Ordinary`], [`InputMode::Exact`],
//! [`Outputs::Inputs`], [`Concurrency::Allow`], no environment lists,
//! the default comment limit, and origin [`Origin::Harness`].
//!
//! # Fields ignored
//!
//! `identifier` (beyond naming a step that has no `name`: the host builds
//! Harness's `stage#step` supersede key from it), `spec.callbackId`
//! (it only selects a waiting step through Harness's API), `description`,
//! `when`, `failureStrategies`, `strategy`, `enforce` and every other key
//! that does not bear on approval: run conditions and failure strategies are
//! the host's pipeline to evaluate, and the host opens a gate only when the
//! step runs. Inside `approverInputs[]`, keys Harness does not define (such
//! as `type`) are ignored.
//!
//! # Refusals
//!
//! Every refusal is a [`PolicyError`] whose field is the step's own path
//! (`spec.approvers.minimumCount`, `spec.approverInputs[2].regex`), also for
//! the checks [`Policy::new`] makes after the import.
//!
//! - A value that must be concrete (a count, a flag, a group, service
//!   account or e-mail, an input's name, default or constraint, the
//!   timeout, the auto-approval fields) and holds a runtime expression is
//!   refused with [`PolicyError::Expression`]. Harness expressions `<+...>`,
//!   Terraform interpolations `${...}` (steps are often kept in Terraform
//!   heredocs) and Octopus `#{...}` are recognised anywhere in the value,
//!   except in `regex`, where only a whole value `<+...>` or `${...}`
//!   counts, since `<+` and `#{` are valid regular-expression text.
//! - Keys found one level off, as real pipelines have them, are refused
//!   naming the key and where it belongs rather than silently dropped:
//!   `spec.timeout` (belongs at the step level); `spec.userGroups`,
//!   `spec.serviceAccounts`, `spec.minimumCount`,
//!   `spec.disallowPipelineExecutor`, `spec.disallowedUserEmails` (belong
//!   under `spec.approvers`, typically because `approvers:` lost its
//!   indentation and parsed as null); `approvalMessage`, `approvers`,
//!   `approverInputs`, `includePipelineExecutionHistory`,
//!   `isAutoRejectEnabled`, `autoApproval` at the step level (belong under
//!   `spec`); `spec.approvers.approverInputs` (belongs in `spec`); and a
//!   `step` key, which means the `- step:` list item was passed instead of
//!   the step object inside it.
//! - `spec.approvers` absent or null is refused as missing.
//!
//! # Choices where Harness is silent
//!
//! - **Missing `type`**: accepted; the object is read as a
//!   `HarnessApproval` step (input-set overlays and templates omit it).
//! - **Display text keeps its expressions.** `name`, `approvalMessage`,
//!   input `description` and `autoApproval.comments` are shown to people,
//!   not computed with, so `<+...>` inside them is kept verbatim for the
//!   host to render; Harness resolves them when the step starts.
//! - **`approvalMessage`** is refused when absent, null or the empty string,
//!   as Harness's `@NotEmpty` does; a message of spaces passes, as it does
//!   there.
//! - **Booleans** (`includePipelineExecutionHistory`,
//!   `disallowPipelineExecutor`, `isAutoRejectEnabled`, an input's
//!   `required`) accept `true`/`false` and the strings `"true"`/`"false"` in
//!   any letter case, surrounding spaces ignored, as Harness's parameter
//!   fields do; anything else is refused. Absent or null is
//!   `false` (`includePipelineExecutionHistory` is required by Harness's
//!   schema but only informational, so its absence is not refused).
//! - **`minimumCount`** accepts a whole number or a string of ASCII digits
//!   (surrounding spaces ignored); fractions, signs and anything else are
//!   refused, as are 0 ("Minimum count should be > 0") and values above
//!   [`MAX_REQUIRED`](crate::policy::MAX_REQUIRED).
//! - **`userGroups`, `serviceAccounts`, `disallowedUserEmails`** must be
//!   lists; a plain string is refused ("should be a list", Harness's
//!   message), or with [`PolicyError::Expression`] when it is a list
//!   expression. Absent, null and `[]` are the same. Numbers in the list
//!   are read as their decimal text; a null element is refused as blank.
//! - **User group references** are read as Harness's `IdentifierRefHelper`
//!   reads them: a bare identifier is a project-scope group, `account.` and
//!   `org.` (exactly, in lower case) name account- and organisation-scope
//!   groups; any other prefix (`project.sre`, `Account.sre`,
//!   `invalid.xxx`) or a second dot is refused at
//!   `spec.approvers.userGroups[i]`, as Harness refuses it ("Invalid
//!   Identifier Reference used"). An empty identifier after the prefix
//!   (`org.`) is refused, and so is an identifier holding anything but
//!   ASCII letters, digits, `_` and `$` (`sre-team`, `sre team`), which no
//!   Harness identifier can hold. A leading digit is accepted (Harness's
//!   identifiers start with a letter or `_`, but numeric group ids written
//!   as numbers have always been read as their text here), and the length
//!   is left to the model's id limit. The reference is kept verbatim as the
//!   group id, prefix included: the host's directory must give principals
//!   the same string (`account.sre`) among their groups.
//! - **Timeout**: Harness's grammar (`1w 2d 3h 30m 10s 100ms`, through
//!   [`Span`]), at most 53 weeks (Harness's documented maximum), `1d` when
//!   absent or null. Harness does not say whether a timeout shorter than a
//!   scheduled auto-approval wins; both are kept, and whichever comes first
//!   ends the gate.
//! - **Approver inputs**: `approverInputs` absent, null and `[]` are the
//!   same (no inputs); a missing `defaultValue` is the empty string; a
//!   missing or empty `name` is refused; names are kept verbatim, spaces
//!   included (`release No`), since Harness accepts them. `allowedValues`
//!   and `selectOneFrom` are comma-separated strings split on `,` with each
//!   entry trimmed and empty entries dropped; a list of strings is accepted
//!   too, trimmed the same way. `allowedValues` becomes
//!   [`Constraint::MultiSelect`]: Harness
//!   (`ApprovalInstanceServiceImpl.validateApprovalInputConstraints`, test
//!   `testValidationPassedWhenAllOfApproverInputValueInAllowedValues`)
//!   splits the approver's value on commas, trims each part and checks every
//!   part, so `val1, val2` passes against `val1,val2`; an empty part (`val1,`)
//!   is refused, since no listed value is empty (the stricter reading: Java's
//!   `String.split` would drop a trailing empty part, and Harness's exact
//!   splitting is not documented). `selectOneFrom` becomes
//!   [`Constraint::SelectOneFrom`], checked against the whole value. A default that breaks its own constraint is
//!   accepted, as in Harness, which checks constraints on manual approvals
//!   only.
//! - **Scheduled auto-approval**: `action` is required and must be exactly
//!   `APPROVE` (the only value of Harness's enum). `scheduledDeadline.time`
//!   follows Harness's pattern `yyyy-MM-dd hh:mm a` strictly: a four-digit
//!   year, two-digit month, day, hour (01 to 12) and minute, single spaces,
//!   and `AM`/`PM` in any letter case; surrounding spaces are ignored. A day
//!   that does not exist (`2025-02-30`) is refused, where Java's default
//!   resolver would quietly move it to the month's last day.
//!   `scheduledDeadline.timeZone` accepts `UTC`, `GMT`, `UT`, `Z`,
//!   `Etc/UTC`, `Etc/GMT` and fixed offsets as Java writes them (`+05:30`,
//!   `-8`, `+0530`, `UTC+05:30`, `GMT-08:00`), up to 18 hours. With the
//!   crate's `tz` feature any IANA name (`Asia/Kolkata`) is resolved
//!   through `chrono-tz`; without it other names are refused with a message
//!   that says to enable the feature. A local time the zone skips (a
//!   daylight-saving gap) is refused naming the time; a local time the zone
//!   passes twice is taken at its earlier instant, as Java's
//!   `ZonedDateTime` does. An empty `comments` is no comment. The minimum
//!   lead of 15 minutes is Harness's check that the deadline is more than 15
//!   minutes after the step starts; the engine checks it when a gate opens.
//! - **A `minimumCount` no listed principal set can meet**: Harness accepts
//!   `serviceAccounts: [ci]` with `minimumCount: 2` and the step then waits
//!   until it times out; [`Policy::new`] refuses a rule that names fewer
//!   individual principals than it requires, so the import is refused at
//!   `spec.approvers.minimumCount`.

use super::deadline::{Zone, local_time};
use super::lenient::{Stray, concrete, expression_error, flag, indexed, misplaced, renamed, text, whole};
use crate::policy::{
    AdminRule, Approver, AutoApproval as NativeAutoApproval, Concurrency, Constraint, Counting, Disallowed,
    ExecutionHistory, ExecutorRule, Input, InputMode, Origin, Outputs, Pattern, Policy, PolicyError, PolicySpec,
    Revote, Rule, Schedule, Span, Supersede, Timeout, TimeoutOutcome,
};
use serde::{Deserialize, Serialize};

/// A `HarnessApproval` step: the value of a pipeline's `- step:` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Step {
    /// `type`: `HarnessApproval`.
    #[serde(rename = "type", default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
    /// The step's display name.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The step's identifier.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// How long the step waits, as a Harness duration (`1d`, `30m`,
    /// `1w 2d`); `1d` when absent.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The approval settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Spec>,
    #[serde(rename = "step", default, skip_serializing)]
    stray_step: Option<Stray>,
    #[serde(rename = "approvalMessage", default, skip_serializing)]
    stray_approval_message: Option<Stray>,
    #[serde(rename = "approvers", default, skip_serializing)]
    stray_approvers: Option<Stray>,
    #[serde(rename = "approverInputs", default, skip_serializing)]
    stray_approver_inputs: Option<Stray>,
    #[serde(rename = "includePipelineExecutionHistory", default, skip_serializing)]
    stray_history: Option<Stray>,
    #[serde(rename = "isAutoRejectEnabled", default, skip_serializing)]
    stray_auto_reject: Option<Stray>,
    #[serde(rename = "autoApproval", default, skip_serializing)]
    stray_auto_approval: Option<Stray>,
}

/// The step's `spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Spec {
    /// Shown to approvers; required and non-empty.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub approval_message: Option<String>,
    /// Whether approvers see the pipeline's execution history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_pipeline_execution_history: Option<Scalar>,
    /// Who may approve, and how many must.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvers: Option<Approvers>,
    /// Values approvers fill in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver_inputs: Option<Vec<ApproverInput>>,
    /// Whether approving a newer execution rejects older waiting ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_auto_reject_enabled: Option<Scalar>,
    /// A scheduled auto-approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approval: Option<AutoApproval>,
    /// Selects this step through Harness's API; informational.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    #[serde(rename = "timeout", default, skip_serializing)]
    stray_timeout: Option<Stray>,
    #[serde(rename = "userGroups", default, skip_serializing)]
    stray_user_groups: Option<Stray>,
    #[serde(rename = "serviceAccounts", default, skip_serializing)]
    stray_service_accounts: Option<Stray>,
    #[serde(rename = "minimumCount", default, skip_serializing)]
    stray_minimum_count: Option<Stray>,
    #[serde(rename = "disallowPipelineExecutor", default, skip_serializing)]
    stray_disallow_executor: Option<Stray>,
    #[serde(rename = "disallowedUserEmails", default, skip_serializing)]
    stray_disallowed_emails: Option<Stray>,
}

/// `spec.approvers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Approvers {
    /// User-group identifiers, `account.` / `org.` prefixed for higher
    /// scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_groups: Option<Strings>,
    /// Service-account identifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_accounts: Option<Strings>,
    /// How many distinct principals must approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_count: Option<Scalar>,
    /// Whether the pipeline's executor is kept from approving and rejecting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disallow_pipeline_executor: Option<Scalar>,
    /// E-mail addresses kept from approving and rejecting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disallowed_user_emails: Option<Strings>,
    #[serde(rename = "approverInputs", default, skip_serializing)]
    stray_approver_inputs: Option<Stray>,
}

/// One of `spec.approverInputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApproverInput {
    /// The input's name.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value used when an approver leaves it as it is.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Whether an approval must give a non-empty value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Scalar>,
    /// Allowed values, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<Strings>,
    /// Values offered as a choice, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_one_from: Option<Strings>,
    /// A pattern the whole value must match.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Shown to approvers.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `spec.autoApproval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AutoApproval {
    /// `APPROVE`, the only action.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_deadline: Option<ScheduledDeadline>,
    /// The comment recorded with the auto-approval.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

/// `spec.autoApproval.scheduledDeadline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScheduledDeadline {
    /// An IANA time zone or fixed offset.
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// A local time, `yyyy-MM-dd hh:mm a` (`2025-01-15 09:30 AM`).
    #[serde(default, deserialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

pub use super::lenient::{Scalar, Strings};

/// Harness's longest step timeout: 53 weeks.
const MAX_TIMEOUT_MILLIS: i64 = 53 * 7 * 24 * 3_600_000;

/// Harness requires a scheduled auto-approval more than 15 minutes ahead.
const AUTO_APPROVAL_LEAD_MILLIS: i64 = 15 * 60_000;

/// Native fields that came from one source field each, to name the source
/// field in errors [`Policy::new`] raises.
struct Origins {
    groups: usize,
    /// Per input, the constraint key it used.
    constraints: Vec<&'static str>,
}

impl Origins {
    fn source(&self, native: &str) -> Option<String> {
        let approvers = "spec.approvers";
        let mapped = match native {
            "name" => "name".to_owned(),
            "message" => "spec.approvalMessage".to_owned(),
            "rules" | "rules[0].approvers" => approvers.to_owned(),
            "rules[0].required" => format!("{approvers}.minimumCount"),
            "disallowed" => format!("{approvers}.disallowedUserEmails"),
            "inputs" => "spec.approverInputs".to_owned(),
            "auto_approval.comment" => "spec.autoApproval.comments".to_owned(),
            _ => {
                if let Some((index, rest)) = indexed(native, "rules[0].approvers[") {
                    return Some(match index.checked_sub(self.groups) {
                        None => format!("{approvers}.userGroups[{index}]{rest}"),
                        Some(account) => format!("{approvers}.serviceAccounts[{account}]{rest}"),
                    });
                }
                if let Some((index, rest)) = indexed(native, "disallowed[") {
                    return Some(format!("{approvers}.disallowedUserEmails[{index}]{rest}"));
                }
                let (index, rest) = indexed(native, "inputs[")?;
                let key = match rest {
                    ".name" => "name",
                    ".default" => "defaultValue",
                    ".constraint" => self.constraints.get(index).copied().unwrap_or("regex"),
                    _ => return Some(format!("spec.approverInputs[{index}]{rest}")),
                };
                format!("spec.approverInputs[{index}].{key}")
            }
        };
        Some(mapped)
    }
}

impl Step {
    /// Imports the step as a [`Policy`].
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] naming the step's field (`spec.approvers.minimumCount`)
    /// and the value, as the module documentation lists.
    pub fn to_policy(&self) -> Result<Policy, PolicyError> {
        let mut origins = Origins { groups: 0, constraints: Vec::new() };
        let spec = self.policy_spec(&mut origins)?;
        Policy::new(spec).map_err(|error| renamed(error, |field| origins.source(field)))
    }

    fn policy_spec(&self, origins: &mut Origins) -> Result<PolicySpec, PolicyError> {
        if let Some(item) = &self.stray_step {
            return Err(misplaced(
                "step",
                item,
                "this is the `- step:` list item; pass the step object under `step` instead",
            ));
        }
        if let Some(kind) = &self.step_type {
            if kind != "HarnessApproval" {
                return Err(PolicyError::invalid("type", kind, "must be `HarnessApproval`"));
            }
        }
        let step_level = [
            ("approvalMessage", &self.stray_approval_message),
            ("approvers", &self.stray_approvers),
            ("approverInputs", &self.stray_approver_inputs),
            ("includePipelineExecutionHistory", &self.stray_history),
            ("isAutoRejectEnabled", &self.stray_auto_reject),
            ("autoApproval", &self.stray_auto_approval),
        ];
        for (key, stray) in step_level {
            if let Some(value) = stray {
                return Err(misplaced(
                    key,
                    value,
                    &format!("belongs under `spec` (`spec.{key}`), not at the step level"),
                ));
            }
        }
        let timeout = timeout(self.timeout.as_deref())?;
        let Some(spec) = &self.spec else {
            return Err(PolicyError::missing("spec", "a HarnessApproval step needs its `spec`"));
        };
        spec.check_misplaced()?;
        let message = match spec.approval_message.as_deref() {
            None | Some("") => {
                return Err(PolicyError::missing(
                    "spec.approvalMessage",
                    "Harness requires a non-empty approval message (@NotEmpty)",
                ));
            }
            Some(message) => message.to_owned(),
        };
        let history = flag("spec.includePipelineExecutionHistory", spec.include_pipeline_execution_history.as_ref())?;
        let Some(approvers) = &spec.approvers else {
            return Err(PolicyError::missing(
                "spec.approvers",
                "who may approve: `userGroups` and/or `serviceAccounts`, and `minimumCount`",
            ));
        };
        let (rule, executor, disallowed) = approvers.rule(origins)?;
        let inputs = match &spec.approver_inputs {
            None => Vec::new(),
            Some(inputs) => inputs
                .iter()
                .enumerate()
                .map(|(index, input)| input.to_input(index, origins))
                .collect::<Result<_, _>>()?,
        };
        let supersede = flag("spec.isAutoRejectEnabled", spec.is_auto_reject_enabled.as_ref())?;
        let auto_approval = spec.auto_approval.as_ref().map(AutoApproval::to_native).transpose()?;

        let mut policy = PolicySpec::new([rule]);
        policy.name = self.name.clone().or_else(|| self.identifier.clone()).unwrap_or_default();
        policy.message = message;
        policy.counting = Counting::OncePerGate;
        policy.executor = executor;
        policy.disallowed = disallowed;
        policy.admins = AdminRule::Ordinary;
        policy.revote = Revote::Never;
        policy.inputs = inputs;
        policy.input_mode = InputMode::Exact;
        policy.outputs = Outputs::Inputs;
        policy.timeout = Some(Timeout::new(timeout, TimeoutOutcome::Expire));
        policy.auto_approval = auto_approval;
        policy.supersede = if supersede { Supersede::RejectOlderWaiting } else { Supersede::Off };
        policy.concurrency = Concurrency::Allow;
        policy.execution_history = if history { ExecutionHistory::Include } else { ExecutionHistory::Omit };
        policy.origin = Origin::Harness;
        Ok(policy)
    }
}

fn timeout(value: Option<&str>) -> Result<Span, PolicyError> {
    let Some(text) = value else {
        return Span::from_millis(24 * 3_600_000).ok_or_else(|| PolicyError::missing("timeout", "a duration"));
    };
    concrete("timeout", text)?;
    let span: Span = text.parse().map_err(|error: crate::policy::SpanError| {
        PolicyError::invalid("timeout", text, format!("must be a Harness duration: {error}"))
    })?;
    if span.as_millis() > MAX_TIMEOUT_MILLIS {
        return Err(PolicyError::invalid("timeout", text, "must be at most 53w, Harness's longest timeout"));
    }
    Ok(span)
}

impl Spec {
    fn check_misplaced(&self) -> Result<(), PolicyError> {
        if let Some(value) = &self.stray_timeout {
            return Err(misplaced(
                "spec.timeout",
                value,
                "belongs at the step level (`timeout`, beside `spec`), where Harness reads it",
            ));
        }
        let approvers = [
            ("userGroups", &self.stray_user_groups),
            ("serviceAccounts", &self.stray_service_accounts),
            ("minimumCount", &self.stray_minimum_count),
            ("disallowPipelineExecutor", &self.stray_disallow_executor),
            ("disallowedUserEmails", &self.stray_disallowed_emails),
        ];
        for (key, stray) in approvers {
            if let Some(value) = stray {
                let hint = if self.approvers.is_none() {
                    " (`spec.approvers` is empty: check the indentation under `approvers:`)"
                } else {
                    ""
                };
                return Err(misplaced(
                    &format!("spec.{key}"),
                    value,
                    &format!("belongs under `spec.approvers` (`spec.approvers.{key}`){hint}"),
                ));
            }
        }
        Ok(())
    }
}

/// The entries of a list field, refusing a single string as Harness does.
fn list<'a>(field: &str, value: Option<&'a Strings>) -> Result<&'a [String], PolicyError> {
    match value {
        None => Ok(&[]),
        Some(Strings::List(items)) => {
            for (index, item) in items.iter().enumerate() {
                concrete(&format!("{field}[{index}]"), item)?;
            }
            Ok(items)
        }
        Some(Strings::Text(text)) => {
            concrete(field, text)?;
            Err(PolicyError::invalid(field, text, "should be a list"))
        }
    }
}

impl Approvers {
    fn rule(&self, origins: &mut Origins) -> Result<(Rule, ExecutorRule, Vec<Disallowed>), PolicyError> {
        if let Some(value) = &self.stray_approver_inputs {
            return Err(misplaced(
                "spec.approvers.approverInputs",
                value,
                "belongs in `spec` (`spec.approverInputs`), beside `approvers`",
            ));
        }
        let groups = list("spec.approvers.userGroups", self.user_groups.as_ref())?;
        for (index, group) in groups.iter().enumerate() {
            user_group_reference(&format!("spec.approvers.userGroups[{index}]"), group)?;
        }
        let accounts = list("spec.approvers.serviceAccounts", self.service_accounts.as_ref())?;
        if groups.is_empty() && accounts.is_empty() {
            return Err(PolicyError::missing(
                "spec.approvers.userGroups",
                "userGroups and serviceAccounts cannot both be empty (Harness: \"Both cannot be empty\")",
            ));
        }
        origins.groups = groups.len();
        let count_field = "spec.approvers.minimumCount";
        let Some(count) = &self.minimum_count else {
            return Err(PolicyError::missing(count_field, "how many distinct principals must approve (at least 1)"));
        };
        let required = whole(count_field, count, "must be a whole number of at least 1")?;
        if required == 0 {
            return Err(PolicyError::invalid(count_field, count, "Minimum count should be > 0"));
        }
        let required = u32::try_from(required).map_err(|_| {
            PolicyError::invalid(count_field, count, format!("must be at most {}", crate::policy::MAX_REQUIRED))
        })?;
        let approvers = groups
            .iter()
            .map(|group| Approver::Group(group.clone()))
            .chain(accounts.iter().map(|account| Approver::ServiceAccount(account.clone())))
            .collect::<Vec<_>>();
        let executor = if flag("spec.approvers.disallowPipelineExecutor", self.disallow_pipeline_executor.as_ref())? {
            ExecutorRule::MayNotAct
        } else {
            ExecutorRule::MayAct
        };
        let emails = list("spec.approvers.disallowedUserEmails", self.disallowed_user_emails.as_ref())?;
        let disallowed = emails.iter().map(|email| Disallowed::Email(email.clone())).collect();
        Ok((Rule::new(required, approvers).named("approvers"), executor, disallowed))
    }
}

/// Checks a user group reference as Harness's `IdentifierRefHelper` reads
/// one: a bare identifier (project scope), or `account.` or `org.` (exactly,
/// in lower case) and an identifier; any other prefix, or more than one dot,
/// is "Invalid Identifier Reference". The identifier must not be empty and
/// holds only what a Harness identifier may: ASCII letters, digits, `_` and
/// `$`. An empty reference is left to [`Policy::new`], which refuses it as
/// blank.
fn user_group_reference(field: &str, group: &str) -> Result<(), PolicyError> {
    if group.is_empty() {
        return Ok(());
    }
    let identifier = match group.split_once('.') {
        None => group,
        Some(("account" | "org", identifier)) if !identifier.contains('.') => identifier,
        Some(_) => {
            return Err(PolicyError::invalid(
                field,
                group,
                "a user group reference is an identifier (project scope) or one prefixed `account.` or `org.`; \
                 Harness refuses any other scope prefix (\"Invalid Identifier Reference\")",
            ));
        }
    };
    if identifier.is_empty() {
        return Err(PolicyError::invalid(field, group, "the user group identifier after the scope prefix is empty"));
    }
    if let Some(bad) = identifier.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '$')) {
        return Err(PolicyError::invalid(
            field,
            group,
            format!(
                "holds `{}`, which a Harness identifier cannot: only ASCII letters, digits, `_` and `$`, \
                 after an optional `account.` or `org.` prefix",
                bad.escape_debug()
            ),
        ));
    }
    Ok(())
}

/// Splits a comma-separated list, or trims a given list, dropping empties.
fn values(field: &str, value: &Strings) -> Result<Vec<String>, PolicyError> {
    let items: Vec<&str> = match value {
        Strings::Text(text) => {
            concrete(field, text)?;
            text.split(',').collect()
        }
        Strings::List(items) => {
            for (index, item) in items.iter().enumerate() {
                concrete(&format!("{field}[{index}]"), item)?;
            }
            items.iter().map(String::as_str).collect()
        }
    };
    Ok(items.into_iter().map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect())
}

/// Whether a whole `regex` value is an expression (`<+input>`, `${var}`);
/// inside a pattern `<+` and `#{` are ordinary syntax (`#{2}` matches `##`).
fn whole_expression(value: &str) -> bool {
    let value = value.trim();
    (value.starts_with("<+") && value.ends_with('>')) || (value.starts_with("${") && value.ends_with('}'))
}

impl ApproverInput {
    fn to_input(&self, index: usize, origins: &mut Origins) -> Result<Input, PolicyError> {
        let at = format!("spec.approverInputs[{index}]");
        let name = match self.name.as_deref() {
            None | Some("") => {
                return Err(PolicyError::missing(format!("{at}.name"), "every approver input needs a name"));
            }
            Some(name) => name,
        };
        concrete(&format!("{at}.name"), name)?;
        let default = self.default_value.clone().unwrap_or_default();
        concrete(&format!("{at}.defaultValue"), &default)?;
        let mut input = Input::new(name).with_default(default);
        if flag(&format!("{at}.required"), self.required.as_ref())? {
            input = input.required();
        }
        input.description = self.description.clone();

        let given: Vec<&'static str> = [
            ("allowedValues", self.allowed_values.is_some()),
            ("selectOneFrom", self.select_one_from.is_some()),
            ("regex", self.regex.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        if given.len() > 1 {
            return Err(PolicyError::invalid(
                at,
                given.join(", "),
                "an input takes at most one of `allowedValues`, `selectOneFrom` and `regex` (Harness @OneOfField)",
            ));
        }
        let constraint = if let Some(list) = &self.allowed_values {
            // Harness checks `allowedValues` as a multi-select: every
            // comma-separated part of the value, trimmed, must be listed.
            Some(Constraint::MultiSelect(values(&format!("{at}.allowedValues"), list)?))
        } else if let Some(list) = &self.select_one_from {
            Some(Constraint::SelectOneFrom(values(&format!("{at}.selectOneFrom"), list)?))
        } else if let Some(regex) = &self.regex {
            let field = format!("{at}.regex");
            if whole_expression(regex) {
                return Err(expression_error(field, regex));
            }
            let pattern =
                Pattern::new(regex).map_err(|error| PolicyError::invalid(&field, regex, error.to_string()))?;
            Some(Constraint::Pattern(pattern))
        } else {
            None
        };
        origins.constraints.push(given.first().copied().unwrap_or("regex"));
        input.constraint = constraint;
        Ok(input)
    }
}

impl AutoApproval {
    fn to_native(&self) -> Result<NativeAutoApproval, PolicyError> {
        let at = "spec.autoApproval";
        match self.action.as_deref() {
            Some("APPROVE") => {}
            Some(other) => {
                concrete(&format!("{at}.action"), other)?;
                return Err(PolicyError::invalid(format!("{at}.action"), other, "must be `APPROVE`, the only action"));
            }
            None => return Err(PolicyError::missing(format!("{at}.action"), "must be `APPROVE`")),
        }
        let Some(deadline) = &self.scheduled_deadline else {
            return Err(PolicyError::missing(format!("{at}.scheduledDeadline"), "`timeZone` and `time`"));
        };
        let zone_field = format!("{at}.scheduledDeadline.timeZone");
        let time_field = format!("{at}.scheduledDeadline.time");
        let zone_name = deadline
            .time_zone
            .as_deref()
            .filter(|zone| !zone.trim().is_empty())
            .ok_or_else(|| PolicyError::missing(&zone_field, "a time zone such as `Asia/Kolkata` or `UTC`"))?;
        let time = deadline
            .time
            .as_deref()
            .filter(|time| !time.trim().is_empty())
            .ok_or_else(|| PolicyError::missing(&time_field, "a local time such as `2025-01-15 09:30 AM`"))?;
        concrete(&zone_field, zone_name)?;
        concrete(&time_field, time)?;
        let local = local_time(time).ok_or_else(|| {
            PolicyError::invalid(
                &time_field,
                time,
                "must be a date and time in the pattern `yyyy-MM-dd hh:mm a`, such as `2025-01-15 09:30 AM`",
            )
        })?;
        let instant = Zone::parse(&zone_field, zone_name)?.to_utc(&time_field, time, zone_name, &local)?;
        Ok(NativeAutoApproval {
            at: Schedule::At(instant),
            comment: self.comments.clone().filter(|comment| !comment.is_empty()),
            min_lead: Span::from_millis(AUTO_APPROVAL_LEAD_MILLIS),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::deadline::fixed_offset;
    use crate::compat::lenient::is_expression;

    #[test]
    fn reads_harness_deadline_pattern() {
        let at = |text| local_time(text).map(|time| time.to_string());
        assert_eq!(at("2025-01-15 09:30 AM").as_deref(), Some("2025-01-15 09:30:00"));
        assert_eq!(at("2025-01-15 12:00 am").as_deref(), Some("2025-01-15 00:00:00"));
        assert_eq!(at("2025-01-15 12:05 PM").as_deref(), Some("2025-01-15 12:05:00"));
        assert_eq!(at(" 2025-01-15 11:59 pM ").as_deref(), Some("2025-01-15 23:59:00"));
        for bad in [
            "2025-01-15 13:00 PM",
            "2025-01-15 00:30 AM",
            "2025-01-15 9:30 AM",
            "2025-01-15 09:30AM",
            "2025-01-15  09:30 AM",
            "2025-02-30 09:30 AM",
            "2025-1-15 09:30 AM",
            "2025-01-15 09:30",
            "2025-01-15T09:30 AM",
            "2025-01-15 09:30 NOON",
        ] {
            assert_eq!(at(bad), None, "{bad} should be refused");
        }
    }

    #[test]
    fn reads_java_fixed_offsets() {
        let secs = |name| fixed_offset(name).map(|offset| offset.local_minus_utc());
        assert_eq!(secs("UTC"), Some(0));
        assert_eq!(secs("Z"), Some(0));
        assert_eq!(secs("GMT"), Some(0));
        assert_eq!(secs("Etc/UTC"), Some(0));
        assert_eq!(secs("+05:30"), Some(19_800));
        assert_eq!(secs("UTC+05:30"), Some(19_800));
        assert_eq!(secs("GMT-8"), Some(-28_800));
        assert_eq!(secs("-0800"), Some(-28_800));
        assert_eq!(secs("+18:00"), Some(64_800));
        for bad in ["+18:30", "+5:30", "+05:60", "UTX", "utc", "Asia/Kolkata", "+", "Etc/GMT+5", "+123"] {
            assert_eq!(secs(bad), None, "{bad} should not be a fixed offset");
        }
    }

    #[test]
    fn recognises_expressions() {
        assert!(is_expression("<+input>"));
        assert!(is_expression("team-<+env.name>"));
        assert!(is_expression("${approver_ref}"));
        assert!(is_expression("#{Octopus.Environment.Name}"));
        assert!(!is_expression("account.sre"));
        assert!(whole_expression(" <+input> "));
        assert!(!whole_expression("^<+>$"));
        assert!(!whole_expression("#{2}"));
    }

    #[test]
    fn maps_native_fields_back_to_the_step() {
        let origins = Origins { groups: 2, constraints: vec!["allowedValues", "regex"] };
        let source = |native| origins.source(native);
        assert_eq!(source("rules[0].approvers[1]").as_deref(), Some("spec.approvers.userGroups[1]"));
        assert_eq!(source("rules[0].approvers[3]").as_deref(), Some("spec.approvers.serviceAccounts[1]"));
        assert_eq!(source("rules[0].required").as_deref(), Some("spec.approvers.minimumCount"));
        assert_eq!(source("inputs[0].constraint").as_deref(), Some("spec.approverInputs[0].allowedValues"));
        assert_eq!(source("inputs[1].default").as_deref(), Some("spec.approverInputs[1].defaultValue"));
        assert_eq!(source("disallowed[4]").as_deref(), Some("spec.approvers.disallowedUserEmails[4]"));
        assert_eq!(source("message").as_deref(), Some("spec.approvalMessage"));
    }

    #[cfg(not(feature = "tz"))]
    #[test]
    fn without_tz_names_are_refused_with_a_pointer_to_the_feature() {
        let Err(error) = Zone::parse("spec.autoApproval.scheduledDeadline.timeZone", "Asia/Kolkata") else {
            panic!("an IANA name needs the tz feature");
        };
        assert!(error.to_string().contains("enable the `tz` feature"), "{error}");
    }

    #[cfg(feature = "tz")]
    #[test]
    fn with_tz_names_resolve() {
        assert!(Zone::parse("f", "Asia/Kolkata").is_ok());
        assert!(Zone::parse("f", "Mars/Olympus").is_err());
    }
}
