//! The main job: a real gate, end to end, on the embedded default store.
//!
//! The Harness Approval step from Harness's own docs (with two approvers
//! required and the pipeline executor kept out) is imported, a gate opens
//! for a pipeline run, the executor's approval is refused with the reason,
//! two approvers approve with inputs, and the outputs for later steps are
//! printed. Then the same policy, written as a GitLab protected
//! environment, runs the same way.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use approval_gate::compat::{gitlab, harness};
use approval_gate::gate::{Hold, Notification};
use approval_gate::memory::MemoryStore;
use approval_gate::ports::{Notifier, NotifyError};
use approval_gate::service::Approvals;
use approval_gate::{Approve, GateId, Policy, Principal, PrincipalId, Run};
use chrono::{DateTime, TimeZone, Utc};
use std::error::Error;

/// The step from `shared/seeds/harness-approval-step.md`, as JSON, with
/// `minimumCount: 2` and `disallowPipelineExecutor: true`.
const HARNESS_STEP: &str = r#"{
  "type": "HarnessApproval",
  "name": "Harness Approval Step",
  "identifier": "Harness_Approval_Step",
  "timeout": "1d",
  "spec": {
    "approvalMessage": "Test",
    "includePipelineExecutionHistory": true,
    "approvers": {"userGroups": ["docs"], "minimumCount": 2, "disallowPipelineExecutor": true},
    "approverInputs": [{"name": "foo", "defaultValue": "bar"}],
    "isAutoRejectEnabled": false
  }
}"#;

/// The same rule as a GitLab protected environment: two approvals from
/// group 9899826, the triggerer may not approve.
const GITLAB_ENVIRONMENT: &str = r#"{
  "name": "production",
  "deploy_access_levels": [{"group_id": 9899826}],
  "approval_rules": [{"group_id": 9899826, "access_level_description": "docs", "required_approvals": 2}]
}"#;

/// Prints each notification and hold instead of carrying it out.
struct Console;

impl Notifier for Console {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        println!("  notify [{}] {}", notification.key, notification.text);
        Ok(())
    }

    fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
        println!("  {} other deployments [{}]", hold.change.as_str(), hold.key);
        Ok(())
    }
}

fn minute(m: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single().unwrap_or_default() + chrono::TimeDelta::minutes(m)
}

fn main() -> Result<(), Box<dyn Error>> {
    let step: harness::Step = serde_json::from_str(HARNESS_STEP)?;
    println!("Harness: {}", step_summary(&step.to_policy()?));
    run_gate(step.to_policy()?, "docs", Some("foo"))?;

    let environment: gitlab::ProtectedEnvironment = serde_json::from_str(GITLAB_ENVIRONMENT)?;
    println!("\nGitLab: {}", step_summary(&environment.to_policy()?));
    run_gate(environment.to_policy()?, "9899826", None)?;
    Ok(())
}

fn step_summary(policy: &Policy) -> String {
    let spec = policy.spec();
    format!("{} rule(s), executor: {:?}, counting: {:?}", spec.rules.len(), spec.executor, spec.counting)
}

fn run_gate(policy: Policy, group: &str, input: Option<&str>) -> Result<(), Box<dyn Error>> {
    let approvals = Approvals::new(MemoryStore::new(), Console);
    let gate = GateId::new("deploy-1842")?;
    let mut run = Run::new(PrincipalId::new("carol")?);
    run.pipeline = Some("deploy".into());
    run.environment = Some("production".into());

    println!("open gate `{gate}` for a run executed by carol");
    approvals.open(gate.clone(), policy, run, minute(0))?;

    let carol = Principal::user("carol")?.with_groups([group]);
    let with_input = |approve: Approve, value: &str| match input {
        Some(name) => approve.input(name, value),
        None => approve,
    };
    match approvals.approve(&gate, with_input(Approve::by(carol), "mine"), minute(1)) {
        Ok(_) => println!("carol approved her own run (unexpected)"),
        Err(refusal) => println!("carol is refused ({}): {refusal}", refusal.kind()),
    }

    let ann = Principal::user("ann")?.with_groups([group]);
    let state = approvals.approve(
        &gate,
        with_input(Approve::by(ann).comment("staging looks fine"), "staging-ok"),
        minute(5),
    )?;
    println!("{}", state.explain());

    let bob = Principal::user("bob")?.with_groups([group]);
    let state = approvals.approve(&gate, with_input(Approve::by(bob), "ship-it"), minute(9))?;
    println!("{}", state.explain());
    println!("outputs for later steps: {:?}", state.outputs());
    Ok(())
}
