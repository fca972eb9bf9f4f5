//! Octopus Manual Intervention importer: one test per rule of the Octopus
//! column of the design's semantics table, then the JSON transcriptions of
//! the real-world OCL and Terraform files in
//! `tests/fixtures/real-world/octopus/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::compat::PolicyDocument;
use approval_gate::compat::octopus::Step;
use approval_gate::policy::{
    AdminRule, Approver, Concurrency, Counting, ExecutorRule, InputMode, Origin, Outputs, Revote, Supersede,
};
use approval_gate::{Policy, PolicyError, Principal};
use serde_json::{Value, json};
use std::path::Path;

const TEAMS: &str = "Octopus.Action.Manual.ResponsibleTeamIds";
const BLOCK: &str = "Octopus.Action.Manual.BlockConcurrentDeployments";
const INSTRUCTIONS: &str = "Octopus.Action.Manual.Instructions";

fn base() -> Value {
    json!({
        "Id": "Action-1",
        "Name": "Approve production",
        "ActionType": "Octopus.Manual",
        "Environments": ["Environments-3"],
        "ExcludedEnvironments": [],
        "Channels": [],
        "TenantTags": [],
        "IsDisabled": false,
        "IsRequired": true,
        "Properties": {
            INSTRUCTIONS: "Check the release notes, then proceed.",
            TEAMS: "Teams-1,Teams-42",
            BLOCK: "True",
            "Octopus.Action.RunOnServer": "true"
        }
    })
}

fn with_property(name: &str, value: Value) -> Value {
    let mut step = base();
    step["Properties"][name] = value;
    step
}

fn without_property(name: &str) -> Value {
    let mut step = base();
    step["Properties"].as_object_mut().unwrap().remove(name);
    step
}

fn import(value: Value) -> Result<Policy, PolicyError> {
    common::import("octopus", value)
}

fn imported(value: Value) -> Policy {
    import(value).unwrap_or_else(|error| panic!("should import: {error}"))
}

fn refused(value: Value, field: &str, fragment: &str) -> PolicyError {
    common::refused("octopus", value, field, fragment)
}

// Octopus: one person decides; responsible teams are the approvers; no
// self-approval block, no revote, Octopus's output variables.
#[test]
fn octopus_step_imports_with_octopus_settings() {
    let policy = imported(base());
    let spec = policy.spec();
    assert_eq!(spec.name, "Approve production");
    assert_eq!(spec.message, "Check the release notes, then proceed.");
    assert_eq!(policy.rules().len(), 1);
    assert_eq!(policy.rules()[0].required, 1);
    assert_eq!(policy.rules()[0].approvers, [Approver::Group("Teams-1".into()), Approver::Group("Teams-42".into())]);
    assert_eq!(spec.counting, Counting::OncePerGate);
    assert_eq!(spec.executor, ExecutorRule::MayAct);
    assert_eq!(spec.revote, Revote::Never);
    assert_eq!(spec.admins, AdminRule::Ordinary);
    assert_eq!(spec.outputs, Outputs::OctopusManual);
    assert_eq!(spec.input_mode, InputMode::default());
    assert!(spec.inputs.is_empty());
    assert_eq!(spec.timeout, None);
    assert_eq!(spec.auto_approval, None);
    assert_eq!(spec.supersede, Supersede::Off);
    assert_eq!(spec.concurrency, Concurrency::Block);
    assert_eq!(spec.environments.only, ["Environments-3"]);
    assert!(spec.environments.skip.is_empty());
    assert_eq!(spec.origin, Origin::Octopus);
}

// Octopus: the scenario contract's `{"octopus": {...}}` wrapper goes through
// the same importer.
#[test]
fn octopus_policy_document_uses_the_importer() {
    let document: PolicyDocument = serde_json::from_value(json!({ "octopus": base() })).unwrap();
    assert_eq!(document.into_policy().unwrap().spec().origin, Origin::Octopus);
}

// Octopus: comma-separated team ids, trimmed, empty entries dropped; no team
// means anyone may act.
#[test]
fn octopus_responsible_teams_or_anyone() {
    let approvers = |teams: Value| imported(with_property(TEAMS, teams)).rules()[0].approvers.clone();
    assert_eq!(
        approvers(json!(" dbas , global/octopus-managers,, ")),
        [Approver::Group("dbas".into()), Approver::Group("global/octopus-managers".into())]
    );
    assert_eq!(approvers(json!("")), [Approver::Anyone]);
    assert_eq!(approvers(json!(" , ")), [Approver::Anyone]);
    assert_eq!(approvers(json!(null)), [Approver::Anyone]);
    let open = imported(without_property(TEAMS));
    assert_eq!(open.rules()[0].approvers, [Approver::Anyone]);
    assert!(open.matching_rules(&Principal::user("anybody").unwrap()).contains(0));
    let team = imported(base());
    assert!(team.matching_rules(&Principal::user("dba").unwrap().with_groups(["Teams-42"])).contains(0));
    assert!(!team.matching_rules(&Principal::user("dev").unwrap().with_groups(["Teams-7"])).contains(0));
}

// Octopus: a team list that is an expression is refused; the instructions
// keep theirs for the host to render.
#[test]
fn octopus_expressions() {
    let field = "Properties.Octopus.Action.Manual.ResponsibleTeamIds";
    let error = refused(with_property(TEAMS, json!("#{Approvers}")), field, "#{Approvers}");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    refused(with_property(TEAMS, json!("Teams-1,${octopusdeploy_team.qa.id}")), field, "runtime expression");
    let text = "Plan:\n#{Octopus.Action[Plan].Output.TerraformPlanOutput}";
    assert_eq!(imported(with_property(INSTRUCTIONS, json!(text))).spec().message, text);
    assert_eq!(imported(without_property(INSTRUCTIONS)).spec().message, "");
}

// Octopus: "Block Deployments" is `True`/`False` in any case; absent allows
// other deployments.
#[test]
fn octopus_block_concurrent_deployments() {
    let concurrency = |value: Value| imported(with_property(BLOCK, value)).spec().concurrency;
    assert_eq!(concurrency(json!("True")), Concurrency::Block);
    assert_eq!(concurrency(json!("TRUE")), Concurrency::Block);
    assert_eq!(concurrency(json!(true)), Concurrency::Block);
    assert_eq!(concurrency(json!("False")), Concurrency::Allow);
    assert_eq!(concurrency(json!(" false ")), Concurrency::Allow);
    assert_eq!(imported(without_property(BLOCK)).spec().concurrency, Concurrency::Allow);
    let field = "Properties.Octopus.Action.Manual.BlockConcurrentDeployments";
    refused(with_property(BLOCK, json!("Yes")), field, "must be `True` or `False`");
    let error = refused(with_property(BLOCK, json!("#{BlockDeploys}")), field, "#{BlockDeploys}");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
}

// Octopus: run only for / skip environments; the gate is skipped elsewhere.
#[test]
fn octopus_environments_only_and_skip() {
    let mut step = base();
    step["Environments"] = json!([]);
    step["ExcludedEnvironments"] = json!(["dev", "test"]);
    let policy = imported(step);
    assert!(policy.spec().environments.only.is_empty());
    assert_eq!(policy.spec().environments.skip, ["dev", "test"]);
    assert!(policy.spec().environments.applies_to(Some("production")));
    assert!(!policy.spec().environments.applies_to(Some("dev")));
    let only = imported(base());
    assert!(only.spec().environments.applies_to(Some("Environments-3")));
    assert!(!only.spec().environments.applies_to(Some("Environments-4")));

    let mut nulls = base();
    nulls["Environments"] = Value::Null;
    nulls["ExcludedEnvironments"] = Value::Null;
    assert!(imported(nulls).spec().environments.only.is_empty());

    let mut expression = base();
    expression["ExcludedEnvironments"] = json!(["dev", "#{Octopus.Environment.Id}"]);
    refused(expression, "ExcludedEnvironments[1]", "runtime expression");
    let mut blank = base();
    blank["Environments"] = json!(["production", " "]);
    refused(blank, "Environments[1]", "must not be blank");
}

// Octopus: only `Octopus.Manual` actions; a whole deployment step is refused
// with a pointer to its action.
#[test]
fn octopus_action_type_and_wrapper() {
    let mut script = base();
    script["ActionType"] = json!("Octopus.Script");
    refused(script, "ActionType", "must be `Octopus.Manual`");
    let mut untyped = base();
    untyped.as_object_mut().unwrap().remove("ActionType");
    assert!(import(untyped).is_ok());
    let wrapped = json!({"Id": "Step-1", "Name": "Approve", "Actions": [base()]});
    refused(wrapped, "Actions", "pass its `Octopus.Manual` action");
}

// Octopus: properties that do not bear on approval are ignored whatever
// their shape (a sensitive value is an object), and null properties are
// none.
#[test]
fn octopus_other_properties_are_ignored() {
    let sensitive = with_property("Octopus.Action.Secret", json!({"HasValue": true, "NewValue": null}));
    assert!(import(sensitive).is_ok());
    let mut none = base();
    none["Properties"] = Value::Null;
    let policy = imported(none);
    assert_eq!(policy.rules()[0].approvers, [Approver::Anyone]);
    assert_eq!(policy.spec().concurrency, Concurrency::Allow);
}

// Octopus: the step types serialize back to the properties they read.
#[test]
fn octopus_step_round_trips_its_read_fields() {
    let step: Step = serde_json::from_value(base()).unwrap();
    let again: Step = serde_json::from_value(serde_json::to_value(&step).unwrap()).unwrap();
    assert_eq!(again, step);
    assert_eq!(again.properties.responsible_team_ids.as_deref(), Some("Teams-1,Teams-42"));
}

/// What a transcription must give: its approvers, environments and block
/// setting, or a refusal at a field.
enum Expect {
    Imported { teams: &'static [&'static str], only: &'static [&'static str], block: bool },
    Refused { field: &'static str, fragment: &'static str },
}

fn expected(file: &str) -> Expect {
    use Expect::{Imported, Refused};
    let managers = &["global/octopus-managers"][..];
    match file {
        "01-two-teams-dba-approval.json" => {
            Imported { teams: &["dbas", "global/octopus-managers"], only: &[], block: false }
        }
        "02-german-no-team-prod.json" => Imported { teams: &[], only: &["production"], block: false },
        "03-legacy-name-as-label-team-by-name.json" => {
            Imported { teams: &["Octopus Managers"], only: &[], block: false }
        }
        "04-heredoc-plan-output.json" => Imported { teams: &[], only: &["development"], block: false },
        "05-minimal-no-team.json" => Imported { teams: &[], only: &[], block: false },
        "06-variable-condition-staging.json" => Imported { teams: managers, only: &["staging"], block: false },
        "07-prod-admins.json" => {
            Imported { teams: &["global/octopus-administrators"], only: &["production"], block: false }
        }
        "08-condition-always.json" => Imported { teams: managers, only: &["production"], block: false },
        "09-legacy-team-slug-like-name.json" => Imported { teams: &["TZ64-DevOps"], only: &[], block: false },
        "10-manager-approval.json" => Imported { teams: managers, only: &[], block: false },
        "11-legacy-deployment-process-action.json" => Imported { teams: &[], only: &[], block: false },
        "12-process-step-variable-condition.json" => Imported { teams: &[], only: &[], block: false },
        "13-process-step-env-expression.json" => Refused {
            field: "Environments[0]",
            fragment: "runtime expression `${length(data.octopusdeploy_environments",
        },
        "14-manual-intervention-action-block.json" => Imported { teams: &["A Team"], only: &[], block: true },
        "15-process-step-required-team-ref.json" => Refused {
            field: "Environments[0]",
            fragment: "runtime expression `${module.standard.environments.production}`",
        },
        "16-manual-parent-with-target-roles.json" => Imported { teams: &["teams-managers"], only: &[], block: true },
        other => panic!("{other}: a new transcription; add its expected outcome here"),
    }
}

// Octopus real world: every JSON transcription of the OCL and Terraform
// files gives its expected outcome (the `_source` and `_transcription` keys
// are ignored by the importer).
#[test]
fn octopus_real_world_transcriptions() {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/octopus"));
    let mut files: Vec<_> = std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 16);
    for path in files {
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(value["_source"].as_str().unwrap().starts_with("shared/real-world/octopus/"), "{file}");
        match (expected(&file), import(value)) {
            (Expect::Imported { teams, only, block }, Ok(policy)) => {
                let want: Vec<Approver> = if teams.is_empty() {
                    vec![Approver::Anyone]
                } else {
                    teams.iter().map(|team| Approver::Group((*team).to_owned())).collect()
                };
                assert_eq!(policy.rules()[0].approvers, want, "{file}");
                assert_eq!(policy.rules()[0].required, 1, "{file}");
                assert_eq!(policy.spec().environments.only, only, "{file}");
                let concurrency = if block { Concurrency::Block } else { Concurrency::Allow };
                assert_eq!(policy.spec().concurrency, concurrency, "{file}");
                assert_eq!(policy.spec().outputs, Outputs::OctopusManual, "{file}");
                assert!(!policy.spec().message.is_empty(), "{file}");
            }
            (Expect::Refused { field, fragment }, Err(error)) => {
                assert_eq!(error.field(), field, "{file}: {error}");
                assert!(error.to_string().contains(fragment), "{file}: `{error}` should contain `{fragment}`");
            }
            (Expect::Imported { .. }, Err(error)) => panic!("{file} should import: {error}"),
            (Expect::Refused { field, .. }, Ok(_)) => panic!("{file} should be refused at {field}"),
        }
    }
}

// Octopus real world: details beyond the table: non-English instructions,
// a heredoc with an output variable kept verbatim.
#[test]
fn octopus_real_world_details() {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/octopus"));
    let policy = |file: &str| {
        let value: Value = serde_json::from_str(&std::fs::read_to_string(folder.join(file)).unwrap()).unwrap();
        import(value).unwrap()
    };
    let german = policy("02-german-no-team-prod.json");
    assert_eq!(german.spec().message, "Bitte den Output des pulumi preview prüfen und freigeben");
    assert_eq!(german.spec().name, "Manual Approval For Prod Deployment");
    let heredoc = policy("04-heredoc-plan-output.json");
    assert_eq!(heredoc.spec().message, "```\n#{Octopus.Action[Terraform Plan].Output.TerraformPlanOutput}\n```\n");
    // The team reference of file 15 is refused too once its environment is
    // resolved.
    let mut team_ref: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("15-process-step-required-team-ref.json")).unwrap())
            .unwrap();
    team_ref["Environments"] = json!(["production"]);
    refused(
        team_ref,
        "Properties.Octopus.Action.Manual.ResponsibleTeamIds",
        "runtime expression `${octopusdeploy_team.approvers.id}`",
    );
}
