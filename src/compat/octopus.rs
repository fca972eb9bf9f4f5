//! Octopus Deploy "Manual Intervention Required" steps.
//!
//! [`Step`] is the step's action as Octopus's deployment-process JSON writes
//! it (`ActionType: "Octopus.Manual"`, with its run conditions and
//! properties). [`Step::to_policy`] follows what Octopus does with it and
//! validates the result.
//!
//! ```
//! use approval_gate::compat::octopus::Step;
//! use approval_gate::policy::{Approver, Concurrency};
//! let step: Step = serde_json::from_str(r#"{
//!     "Name": "Approve production",
//!     "ActionType": "Octopus.Manual",
//!     "Environments": ["production"],
//!     "Properties": {
//!         "Octopus.Action.Manual.Instructions": "Check the release notes",
//!         "Octopus.Action.Manual.ResponsibleTeamIds": "Teams-1, Teams-2",
//!         "Octopus.Action.Manual.BlockConcurrentDeployments": "True"
//!     }
//! }"#)?;
//! let policy = step.to_policy()?;
//! assert_eq!(policy.rules()[0].approvers, [Approver::Group("Teams-1".into()), Approver::Group("Teams-2".into())]);
//! assert_eq!(policy.spec().concurrency, Concurrency::Block);
//! assert!(!policy.spec().environments.applies_to(Some("staging")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Fields read
//!
//! | field | becomes |
//! | --- | --- |
//! | `Name` | the policy's `name` |
//! | `ActionType` | must be `Octopus.Manual` when present |
//! | `Environments` | `environments.only` |
//! | `ExcludedEnvironments` | `environments.skip` |
//! | `Properties."Octopus.Action.Manual.Instructions"` | `message` |
//! | `Properties."Octopus.Action.Manual.ResponsibleTeamIds"` | the rule's approvers: one [`Approver::Group`] per team, or [`Approver::Anyone`] when there is none |
//! | `Properties."Octopus.Action.Manual.BlockConcurrentDeployments"` | `concurrency`: `True` is [`Concurrency::Block`], `False` or absent [`Concurrency::Allow`] |
//!
//! Every Octopus policy has one rule (no name, so explanations call it
//! `rule 1`) requiring one approval, and these fixed settings:
//! [`Counting::OncePerGate`], [`ExecutorRule::MayAct`] (Octopus has no
//! self-approval block on this step), [`Revote::Never`],
//! [`AdminRule::Ordinary`], [`Outputs::OctopusManual`],
//! [`Responsibility::RequiredToAct`] (acting needs responsibility: taken in
//! the same action when nobody holds it, taken over first with an assign
//! when someone else does), no timeout (Octopus
//! execution timeouts exclude this step), no auto-approval, no inputs, no
//! supersede, the default comment limit (the comment is Octopus's Notes),
//! and origin [`Origin::Octopus`].
//!
//! # Fields ignored
//!
//! Every other key of the action and every other property: `Id`, `Slug`,
//! `Notes`, `IsRequired`, `IsDisabled`, `Condition`, `Channels`,
//! `TenantTags`, `Octopus.Action.RunOnServer`, `Octopus.Action.TargetRoles`,
//! worker pools, and the like. Run conditions other than environments
//! (channels, tenant tags, the previous steps' status, variable conditions,
//! whether the step is disabled) are the host's deployment to evaluate: the
//! host opens a gate only when the step runs.
//!
//! # Refusals
//!
//! Every refusal is a [`PolicyError`] whose field is the step's own path
//! (`Environments[0]`,
//! `Properties.Octopus.Action.Manual.ResponsibleTeamIds`), also for the
//! checks [`Policy::new`] makes after the import. A team list, environment
//! name or block flag that holds a runtime expression (Octostache `#{...}`,
//! Terraform `${...}`, or `<+...>`) is refused with
//! [`PolicyError::Expression`]. An `Actions` key (a whole deployment step
//! passed instead of its action) is refused, naming where the importer
//! reads.
//!
//! # Choices where Octopus is silent
//!
//! - **Missing `ActionType`**: accepted; the object is read as a manual
//!   intervention.
//! - **No responsible team** (property absent, empty, or only commas and
//!   spaces) means [`Approver::Anyone`]: Octopus lets anyone with permission
//!   to deploy the project act, and the host's own permission check decides
//!   who that is.
//! - **Team ids** are split on `,`, each trimmed, empty entries dropped, and
//!   kept verbatim otherwise: `Teams-123` ids, config-as-code slugs
//!   (`global/octopus-managers`) and display names (`Octopus Managers`) alike;
//!   the host's directory must put principals in groups under the same
//!   names.
//! - **`BlockConcurrentDeployments`** accepts `True`/`False` in any letter
//!   case, surrounding spaces ignored (JSON booleans too); anything else is
//!   refused. Absent is `False`, Octopus's default, where a waiting
//!   deployment lets others of the same project and environment run.
//! - **Instructions keep their expressions.** The message is shown to people,
//!   so `#{...}` inside it is kept verbatim for the host to render, as
//!   Octopus substitutes it when the step runs.
//! - **Environments** are names or ids as written, compared exactly; null
//!   lists are empty lists. A step with both lists keeps both: it runs in
//!   the listed environments that are not excluded.

use super::lenient::{Stray, concrete, expression_error, indexed, is_expression, list_or_null, misplaced, renamed};
use crate::policy::{
    AdminRule, Approver, Concurrency, Counting, Environments, ExecutorRule, Origin, Outputs, Policy, PolicyError,
    PolicySpec, Responsibility, Revote, Rule, Supersede,
};
use serde::{Deserialize, Serialize};

const INSTRUCTIONS: &str = "Properties.Octopus.Action.Manual.Instructions";
const TEAMS: &str = "Properties.Octopus.Action.Manual.ResponsibleTeamIds";
const BLOCK: &str = "Properties.Octopus.Action.Manual.BlockConcurrentDeployments";

/// A Manual Intervention step's action, as Octopus's JSON writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Step {
    /// The step's name.
    #[serde(default, deserialize_with = "super::lenient::text", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Octopus.Manual`.
    #[serde(default, deserialize_with = "super::lenient::text", skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    /// Run only for these environments; empty means all.
    #[serde(default, deserialize_with = "list_or_null", skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// Skip these environments.
    #[serde(default, deserialize_with = "list_or_null", skip_serializing_if = "Vec::is_empty")]
    pub excluded_environments: Vec<String>,
    /// The step's properties; the importer reads three of them.
    #[serde(default, deserialize_with = "properties")]
    pub properties: Properties,
    #[serde(rename = "Actions", default, skip_serializing)]
    stray_actions: Option<Stray>,
}

/// The properties of a Manual Intervention step that bear on approval;
/// others are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Properties {
    /// `Octopus.Action.Manual.Instructions`: shown to approvers.
    #[serde(
        rename = "Octopus.Action.Manual.Instructions",
        default,
        deserialize_with = "super::lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub instructions: Option<String>,
    /// `Octopus.Action.Manual.ResponsibleTeamIds`: comma-separated team ids.
    #[serde(
        rename = "Octopus.Action.Manual.ResponsibleTeamIds",
        default,
        deserialize_with = "super::lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub responsible_team_ids: Option<String>,
    /// `Octopus.Action.Manual.BlockConcurrentDeployments`: `True` or
    /// `False`.
    #[serde(
        rename = "Octopus.Action.Manual.BlockConcurrentDeployments",
        default,
        deserialize_with = "super::lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub block_concurrent_deployments: Option<String>,
}

/// Reads `Properties`, where null stands for none.
fn properties<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Properties, D::Error> {
    Option::<Properties>::deserialize(deserializer).map(Option::unwrap_or_default)
}

impl Step {
    /// Imports the step as a [`Policy`].
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] naming the step's field
    /// (`Properties.Octopus.Action.Manual.BlockConcurrentDeployments`) and
    /// the value, as the module documentation lists.
    pub fn to_policy(&self) -> Result<Policy, PolicyError> {
        let spec = self.policy_spec()?;
        Policy::new(spec).map_err(|error| renamed(error, source_field))
    }

    fn policy_spec(&self) -> Result<PolicySpec, PolicyError> {
        if let Some(actions) = &self.stray_actions {
            return Err(misplaced(
                "Actions",
                actions,
                "this is a whole deployment step; pass its `Octopus.Manual` action (the object in `Actions`)",
            ));
        }
        if let Some(kind) = &self.action_type {
            if kind != "Octopus.Manual" {
                return Err(PolicyError::invalid("ActionType", kind, "must be `Octopus.Manual`"));
            }
        }
        for (list, names) in
            [("Environments", &self.environments), ("ExcludedEnvironments", &self.excluded_environments)]
        {
            for (index, name) in names.iter().enumerate() {
                concrete(&format!("{list}[{index}]"), name)?;
            }
        }
        let properties = &self.properties;
        let approvers = teams(properties.responsible_team_ids.as_deref())?;
        let concurrency = block(properties.block_concurrent_deployments.as_deref())?;

        let mut spec = PolicySpec::new([Rule::new(1, approvers)]);
        spec.name = self.name.clone().unwrap_or_default();
        spec.message = properties.instructions.clone().unwrap_or_default();
        spec.counting = Counting::OncePerGate;
        spec.executor = ExecutorRule::MayAct;
        spec.admins = AdminRule::Ordinary;
        spec.revote = Revote::Never;
        spec.outputs = Outputs::OctopusManual;
        spec.timeout = None;
        spec.auto_approval = None;
        spec.supersede = Supersede::Off;
        let mut environments = Environments::default();
        environments.only = self.environments.clone();
        environments.skip = self.excluded_environments.clone();
        spec.environments = environments;
        spec.concurrency = concurrency;
        spec.responsibility = Responsibility::RequiredToAct;
        spec.origin = Origin::Octopus;
        Ok(spec)
    }
}

/// One group per responsible team, or anyone when there is none.
fn teams(value: Option<&str>) -> Result<Vec<Approver>, PolicyError> {
    let Some(value) = value else { return Ok(vec![Approver::Anyone]) };
    if is_expression(value) {
        return Err(expression_error(TEAMS, value));
    }
    let teams: Vec<Approver> = value
        .split(',')
        .map(str::trim)
        .filter(|team| !team.is_empty())
        .map(|team| Approver::Group(team.to_owned()))
        .collect();
    Ok(if teams.is_empty() { vec![Approver::Anyone] } else { teams })
}

fn block(value: Option<&str>) -> Result<Concurrency, PolicyError> {
    let Some(value) = value else { return Ok(Concurrency::Allow) };
    concrete(BLOCK, value)?;
    if value.trim().eq_ignore_ascii_case("true") {
        Ok(Concurrency::Block)
    } else if value.trim().eq_ignore_ascii_case("false") {
        Ok(Concurrency::Allow)
    } else {
        Err(PolicyError::invalid(BLOCK, value, "must be `True` or `False`"))
    }
}

/// The step's field for a native field [`Policy::new`] refused.
fn source_field(native: &str) -> Option<String> {
    let mapped = match native {
        "name" => "Name".to_owned(),
        "message" => INSTRUCTIONS.to_owned(),
        "rules" | "rules[0].approvers" => TEAMS.to_owned(),
        "environments.only" => "Environments".to_owned(),
        "environments.skip" => "ExcludedEnvironments".to_owned(),
        _ => {
            if indexed(native, "rules[0].approvers[").is_some() {
                return Some(TEAMS.to_owned());
            }
            if let Some((index, rest)) = indexed(native, "environments.only[") {
                return Some(format!("Environments[{index}]{rest}"));
            }
            let (index, rest) = indexed(native, "environments.skip[")?;
            format!("ExcludedEnvironments[{index}]{rest}")
        }
    };
    Some(mapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_native_fields_back_to_the_step() {
        assert_eq!(source_field("environments.only[2]").as_deref(), Some("Environments[2]"));
        assert_eq!(source_field("environments.skip[0]").as_deref(), Some("ExcludedEnvironments[0]"));
        assert_eq!(source_field("rules[0].approvers[3]").as_deref(), Some(TEAMS));
        assert_eq!(source_field("message").as_deref(), Some(INSTRUCTIONS));
    }

    #[test]
    fn splits_teams_and_falls_back_to_anyone() {
        assert_eq!(teams(Some(" , ,")), Ok(vec![Approver::Anyone]));
        assert_eq!(teams(None), Ok(vec![Approver::Anyone]));
        assert_eq!(
            teams(Some("dbas, global/octopus-managers,")),
            Ok(vec![Approver::Group("dbas".into()), Approver::Group("global/octopus-managers".into())])
        );
    }
}
