//! Harness `HarnessApproval` step importer: one test per rule of the
//! Harness column of the design's semantics table, then every real-world
//! step in `shared/real-world/harness/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::compat::PolicyDocument;
use approval_gate::compat::harness::Step;
use approval_gate::policy::{
    AdminRule, Approver, Concurrency, Constraint, Counting, Disallowed, ExecutionHistory, ExecutorRule, InputError,
    InputMode, Origin, Outputs, Revote, Schedule, Span, Supersede, TimeoutOutcome,
};
use approval_gate::{Policy, PolicyError, Principal};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// A complete step as Harness's UI writes it.
fn base() -> Value {
    json!({
        "type": "HarnessApproval",
        "name": "Approve production",
        "identifier": "approve_production",
        "timeout": "1d",
        "spec": {
            "approvalMessage": "Please review and approve",
            "includePipelineExecutionHistory": true,
            "approvers": {
                "userGroups": ["account.sre", "org.ops", "_project_all_users"],
                "minimumCount": 2,
                "disallowPipelineExecutor": true
            },
            "approverInputs": [],
            "isAutoRejectEnabled": false
        }
    })
}

/// `value` with the member at the JSON pointer `at` set (its parent must
/// exist).
fn with(mut value: Value, at: &str, new: Value) -> Value {
    let (parent, key) = at.rsplit_once('/').unwrap();
    value.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.to_owned(), new);
    value
}

/// `value` without the member at the JSON pointer `at`.
fn without(mut value: Value, at: &str) -> Value {
    let (parent, key) = at.rsplit_once('/').unwrap();
    value.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
    value
}

fn import(value: Value) -> Result<Policy, PolicyError> {
    common::import("harness", value)
}

fn imported(value: Value) -> Policy {
    import(value).unwrap_or_else(|error| panic!("should import: {error}"))
}

fn refused(value: Value, field: &str, fragment: &str) -> PolicyError {
    common::refused("harness", value, field, fragment)
}

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

// Harness: one rule of the listed groups and service accounts, distinct
// principals once per gate, no revote, exact inputs, outputs the inputs.
#[test]
fn harness_step_imports_with_harness_settings() {
    let policy = imported(base());
    let spec = policy.spec();
    assert_eq!(spec.name, "Approve production");
    assert_eq!(spec.message, "Please review and approve");
    assert_eq!(policy.rules().len(), 1);
    assert_eq!(policy.rules()[0].required, 2);
    assert_eq!(
        policy.rules()[0].approvers,
        [
            Approver::Group("account.sre".into()),
            Approver::Group("org.ops".into()),
            Approver::Group("_project_all_users".into())
        ]
    );
    assert_eq!(spec.counting, Counting::OncePerGate);
    assert_eq!(spec.revote, Revote::Never);
    assert_eq!(spec.admins, AdminRule::Ordinary);
    assert_eq!(spec.input_mode, InputMode::Exact);
    assert_eq!(spec.outputs, Outputs::Inputs);
    assert_eq!(spec.executor, ExecutorRule::MayNotAct);
    assert_eq!(spec.supersede, Supersede::Off);
    assert_eq!(spec.execution_history, ExecutionHistory::Include);
    assert_eq!(spec.concurrency, Concurrency::Allow);
    assert_eq!(spec.origin, Origin::Harness);
    assert_eq!(spec.auto_approval, None);
    let timeout = spec.timeout.unwrap();
    assert_eq!(timeout.after.as_millis(), 86_400_000);
    assert_eq!(timeout.outcome, TimeoutOutcome::Expire);
}

// Harness: the scenario contract's `{"harness": {...}}` wrapper goes through
// the same importer.
#[test]
fn harness_policy_document_uses_the_importer() {
    let document: PolicyDocument = serde_json::from_value(json!({ "harness": base() })).unwrap();
    let policy = document.into_policy().unwrap();
    assert_eq!(policy.spec().origin, Origin::Harness);
    assert_eq!(policy.rules()[0].required, 2);
}

// Harness: step `timeout` defaults to 1d, reads Harness durations, is capped
// at 53 weeks, and an expression is refused.
#[test]
fn harness_timeout_defaults_parses_and_caps() {
    let after = |timeout: Value| imported(with(base(), "/timeout", timeout)).spec().timeout.unwrap().after;
    assert_eq!(imported(without(base(), "/timeout")).spec().timeout.unwrap().after.as_millis(), 86_400_000);
    assert_eq!(imported(with(base(), "/timeout", Value::Null)).spec().timeout.unwrap().after.as_millis(), 86_400_000);
    assert_eq!(after(json!("1w 2d 3h 30m 10s 100ms")).as_millis(), 790_210_100);
    assert_eq!(after(json!("24h")).as_millis(), 86_400_000);
    assert_eq!(after(json!("53w")), "53w".parse::<Span>().unwrap());
    refused(with(base(), "/timeout", json!("54w")), "timeout", "at most 53w");
    refused(with(base(), "/timeout", json!("2 days")), "timeout", "units are w, d, h, m, s and ms");
    refused(with(base(), "/timeout", json!(10)), "timeout", "Harness duration");
    let error = refused(with(base(), "/timeout", json!("<+input>")), "timeout", "<+input>");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
}

// Harness: only `type: HarnessApproval` steps; a missing type is accepted.
#[test]
fn harness_type_must_be_harness_approval() {
    refused(with(base(), "/type", json!("JiraApproval")), "type", "must be `HarnessApproval`");
    assert_eq!(imported(without(base(), "/type")).rules()[0].required, 2);
}

// Harness: `approvalMessage` is @NotEmpty; missing, null and "" are refused.
#[test]
fn harness_approval_message_is_required() {
    refused(without(base(), "/spec/approvalMessage"), "spec.approvalMessage", "non-empty");
    refused(with(base(), "/spec/approvalMessage", Value::Null), "spec.approvalMessage", "@NotEmpty");
    refused(with(base(), "/spec/approvalMessage", json!("")), "spec.approvalMessage", "is missing");
    assert_eq!(imported(with(base(), "/spec/approvalMessage", json!(" "))).spec().message, " ");
    // Display text keeps its expressions for the host to render.
    let message = "Deploy <+pipeline.sequenceId> to <+env.name>?";
    assert_eq!(imported(with(base(), "/spec/approvalMessage", json!(message))).spec().message, message);
}

// Harness user group references (`IdentifierRefHelper`): a bare identifier
// is a project-scope group, `account.` and `org.` name account- and
// organisation-scope groups; each is kept verbatim as the group id and
// matches principals whose directory groups hold the same string.
#[test]
fn harness_user_group_scope_prefixes_account_and_org_are_accepted() {
    let groups = "/spec/approvers/userGroups";
    let policy = imported(with(base(), groups, json!(["account.sre", "org.ops", "_project_all_users", "a$b", "1234"])));
    assert_eq!(
        policy.rules()[0].approvers,
        ["account.sre", "org.ops", "_project_all_users", "a$b", "1234"].map(|id| Approver::Group(id.to_owned()))
    );
    let account = Principal::user("ann").unwrap().with_groups(["account.sre"]);
    let org = Principal::user("oz").unwrap().with_groups(["org.ops"]);
    let bare = Principal::user("bo").unwrap().with_groups(["sre"]);
    assert!(!policy.matching_rules(&account).is_empty());
    assert!(!policy.matching_rules(&org).is_empty());
    // A project-scope `sre` is another group than the account's `account.sre`.
    assert!(policy.matching_rules(&bare).is_empty());
}

// Harness `IdentifierRefHelper`: any scope prefix other than `account.` and
// `org.` (case-sensitive), or more than one dot, is "Invalid Identifier
// Reference"; an empty identifier after the prefix, or one holding
// characters a Harness identifier cannot (`^[a-zA-Z_][0-9a-zA-Z_$]*`), is
// refused too, naming the field path and the value.
#[test]
fn harness_user_group_other_scope_prefixes_are_refused() {
    let groups = "/spec/approvers/userGroups";
    let prefix = "prefixed `account.` or `org.`";
    for (group, fragment) in [
        ("invalid.xxx", prefix),
        ("project.sre", prefix),
        ("Account.sre", prefix),
        ("ORG.sre", prefix),
        (".sre", prefix),
        ("account.org.sre", prefix),
        ("a.b.c", prefix),
        ("org.", "after the scope prefix is empty"),
        ("account.", "after the scope prefix is empty"),
        ("sre-team", "holds `-`, which a Harness identifier cannot"),
        ("account.sre team", "holds ` `"),
        (" sre", "holds ` `"),
    ] {
        let error = refused(with(base(), groups, json!(["docs", group])), "spec.approvers.userGroups[1]", fragment);
        assert!(
            error.to_string().starts_with(&format!("`spec.approvers.userGroups[1]` is `{group}`:")),
            "{group}: {error}"
        );
    }
    // Long values are shortened in the message.
    let long = format!("{}.sre", "x".repeat(10_000));
    let error = refused(with(base(), groups, json!([long])), "spec.approvers.userGroups[0]", prefix);
    assert!(error.to_string().len() < 400, "{error}");
}

// Harness: `userGroups` must be a list ("should be a list"); a list
// expression is refused as an expression; scope prefixes are kept.
#[test]
fn harness_user_groups_must_be_a_list() {
    let groups = "/spec/approvers/userGroups";
    refused(with(base(), groups, json!("sre")), "spec.approvers.userGroups", "should be a list");
    let error = refused(with(base(), groups, json!("<+pipeline.variables.groups>")), "spec.approvers.userGroups", "");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    refused(with(base(), groups, json!(["sre", "<+input>"])), "spec.approvers.userGroups[1]", "runtime expression");
    refused(with(base(), groups, json!(["sre", ""])), "spec.approvers.userGroups[1]", "must name a principal or group");
    let numbers = imported(with(base(), groups, json!([1234])));
    assert_eq!(numbers.rules()[0].approvers, [Approver::Group("1234".into())]);
}

// Harness: at least one user group or service account ("Both cannot be
// empty"); service accounts become service-account approvers.
#[test]
fn harness_needs_groups_or_service_accounts() {
    let none = without(base(), "/spec/approvers/userGroups");
    refused(none.clone(), "spec.approvers.userGroups", "Both cannot be empty");
    refused(with(none.clone(), "/spec/approvers/userGroups", json!([])), "spec.approvers.userGroups", "both be empty");
    let accounts = with(base(), "/spec/approvers/serviceAccounts", json!(["ci-bot", "account.deployer"]));
    let policy = imported(accounts);
    assert_eq!(
        policy.rules()[0].approvers[3..],
        [Approver::ServiceAccount("ci-bot".into()), Approver::ServiceAccount("account.deployer".into())]
    );
    let only_accounts = with(
        with(none, "/spec/approvers/serviceAccounts", json!(["ci-bot"])),
        "/spec/approvers/minimumCount",
        json!(1),
    );
    let policy = imported(only_accounts);
    assert!(policy.matching_rules(&Principal::service_account("ci-bot").unwrap()).contains(0));
    assert!(!policy.matching_rules(&Principal::user("ci-bot").unwrap()).contains(0));
}

// Harness: `minimumCount` is an integer >= 1; numeric strings are accepted,
// expressions and fractions are not.
#[test]
fn harness_minimum_count_rules() {
    let count = "/spec/approvers/minimumCount";
    let field = "spec.approvers.minimumCount";
    assert_eq!(imported(with(base(), count, json!("3"))).rules()[0].required, 3);
    assert_eq!(imported(with(base(), count, json!(" 1 "))).rules()[0].required, 1);
    let error = refused(with(base(), count, json!("<+input>")), field, "<+input>");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    refused(with(base(), count, json!(0)), field, "Minimum count should be > 0");
    refused(with(base(), count, json!("0")), field, "Minimum count should be > 0");
    refused(with(base(), count, json!(1.5)), field, "whole number");
    refused(with(base(), count, json!(-1)), field, "whole number");
    refused(with(base(), count, json!("two")), field, "whole number");
    refused(with(base(), count, json!(true)), field, "whole number");
    refused(without(base(), count), field, "is missing");
    refused(with(base(), count, Value::Null), field, "is missing");
    // Checks the model makes after the import still name the step's field.
    refused(with(base(), count, json!(1001)), field, "must be from 1 to 1000");
    let accounts_only =
        with(without(base(), "/spec/approvers/userGroups"), "/spec/approvers/serviceAccounts", json!(["ci-bot"]));
    refused(accounts_only, field, "could never be met");
}

// Harness: `disallowPipelineExecutor: true` keeps the executor from approving
// and rejecting; false or absent lets them act.
#[test]
fn harness_disallow_pipeline_executor() {
    let flag = "/spec/approvers/disallowPipelineExecutor";
    assert_eq!(imported(base()).spec().executor, ExecutorRule::MayNotAct);
    assert_eq!(imported(with(base(), flag, json!("TRUE"))).spec().executor, ExecutorRule::MayNotAct);
    assert_eq!(imported(with(base(), flag, json!(false))).spec().executor, ExecutorRule::MayAct);
    assert_eq!(imported(with(base(), flag, json!("false"))).spec().executor, ExecutorRule::MayAct);
    assert_eq!(imported(without(base(), flag)).spec().executor, ExecutorRule::MayAct);
    let error = refused(with(base(), flag, json!("<+input>")), "spec.approvers.disallowPipelineExecutor", "");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    refused(with(base(), flag, json!("yes")), "spec.approvers.disallowPipelineExecutor", "true or false");
}

// Harness: `disallowedUserEmails` keeps those users from acting, compared
// without regard to case.
#[test]
fn harness_disallowed_user_emails() {
    let policy = imported(with(base(), "/spec/approvers/disallowedUserEmails", json!(["Release.Bot@Example.com"])));
    assert_eq!(policy.spec().disallowed, [Disallowed::Email("Release.Bot@Example.com".into())]);
    let bot = Principal::user("bot").unwrap().with_groups(["account.sre"]).with_email("release.bot@example.COM");
    assert!(policy.disallowed_entry(&bot).is_some());
    refused(
        with(base(), "/spec/approvers/disallowedUserEmails", json!("a@example.com")),
        "spec.approvers.disallowedUserEmails",
        "should be a list",
    );
    refused(
        with(base(), "/spec/approvers/disallowedUserEmails", json!(["a@example.com", " "])),
        "spec.approvers.disallowedUserEmails[1]",
        "must not be blank",
    );
}

// Harness: approver inputs with defaults and one constraint each;
// comma-separated lists are split and trimmed; approvals carry exactly the
// declared names.
#[test]
fn harness_approver_inputs_and_constraints() {
    let inputs = json!([
        {"name": "ticket", "defaultValue": "CHG-0", "required": true, "regex": "CHG-\\d+", "description": "change"},
        {"name": "region", "defaultValue": "eu", "allowedValues": "eu, us,, apac "},
        {"name": "flag", "selectOneFrom": ["a", " b "]},
        {"name": "notes", "type": "String", "description": "not in the schema: ignored"}
    ]);
    let policy = imported(with(base(), "/spec/approverInputs", inputs));
    let declared = &policy.spec().inputs;
    assert_eq!(declared.len(), 4);
    assert_eq!(declared[0].name, "ticket");
    assert_eq!(declared[0].default, "CHG-0");
    assert!(declared[0].required);
    assert_eq!(declared[0].description.as_deref(), Some("change"));
    assert!(matches!(&declared[0].constraint, Some(Constraint::Pattern(pattern)) if pattern.as_str() == "CHG-\\d+"));
    // allowedValues is a multi-select (ApprovalInstanceServiceImpl.validateApprovalInputConstraints).
    assert_eq!(declared[1].constraint, Some(Constraint::MultiSelect(vec!["eu".into(), "us".into(), "apac".into()])));
    assert_eq!(declared[2].constraint, Some(Constraint::SelectOneFrom(vec!["a".into(), "b".into()])));
    assert_eq!(declared[3].default, "", "a missing defaultValue is empty");
    assert_eq!(declared[3].constraint, None);

    let given = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    };
    let all = [("ticket", "CHG-12"), ("region", "us"), ("flag", "b"), ("notes", "")];
    assert!(policy.resolve_inputs(&given(&all)).is_ok());
    assert!(matches!(
        policy.resolve_inputs(&given(&all[..3])),
        Err(InputError::Missing { name }) if name == "notes"
    ));
    let bad_ticket = [("ticket", "see CHG-12"), ("region", "us"), ("flag", "b"), ("notes", "")];
    assert!(matches!(policy.resolve_inputs(&given(&bad_ticket)), Err(InputError::NoMatch { .. })));

    // Harness testValidationPassedWhenAllOfApproverInputValueInAllowedValues:
    // every comma-separated part of an allowedValues input, trimmed, is
    // checked; selectOneFrom checks the whole value.
    let regions = [("ticket", "CHG-12"), ("region", "us, apac"), ("flag", "b"), ("notes", "")];
    assert!(policy.resolve_inputs(&given(&regions)).is_ok());
    for region in ["us, asia", "us,"] {
        let bad_region = [("ticket", "CHG-12"), ("region", region), ("flag", "b"), ("notes", "")];
        assert!(
            matches!(policy.resolve_inputs(&given(&bad_region)), Err(InputError::PartNotAllowed { .. })),
            "{region}"
        );
    }
    let two_flags = [("ticket", "CHG-12"), ("region", "us"), ("flag", "a, b"), ("notes", "")];
    assert!(matches!(policy.resolve_inputs(&given(&two_flags)), Err(InputError::NotAllowed { .. })));
}

// Harness: @OneOfField: an input takes at most one constraint; constraint
// values must be concrete; a regex the crate cannot read as Java would
// (look-around, inline flags) is refused with the pattern error.
#[test]
fn harness_approver_input_refusals() {
    let input = |body: Value| with(base(), "/spec/approverInputs", json!([body]));
    refused(
        input(json!({"name": "x", "allowedValues": "a", "regex": "a"})),
        "spec.approverInputs[0]",
        "at most one of",
    );
    let error = refused(
        input(json!({"name": "x", "selectOneFrom": "<+pipeline.variables.flags>"})),
        "spec.approverInputs[0].selectOneFrom",
        "<+pipeline.variables.flags>",
    );
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    refused(input(json!({"name": "x", "regex": "(?<=v)1"})), "spec.approverInputs[0].regex", "look-around");
    // Java's `(?i)` flag differs from the regex crate's: refused by name.
    refused(input(json!({"name": "x", "regex": "(?i)chg"})), "spec.approverInputs[0].regex", "inline flags");
    refused(input(json!({"name": "x", "regex": "<+input>"})), "spec.approverInputs[0].regex", "runtime expression");
    assert!(import(input(json!({"name": "x", "regex": "#{2}"}))).is_ok(), "`#{{2}}` is a regex, not Octostache");
    refused(
        input(json!({"name": "x", "allowedValues": " , "})),
        "spec.approverInputs[0].allowedValues",
        "not be empty",
    );
    refused(input(json!({"defaultValue": "a"})), "spec.approverInputs[0].name", "needs a name");
    refused(input(json!({"name": "x", "defaultValue": "<+input>"})), "spec.approverInputs[0].defaultValue", "<+input>");
    refused(input(json!({"name": "x", "required": "maybe"})), "spec.approverInputs[0].required", "true or false");
    let twice = with(base(), "/spec/approverInputs", json!([{"name": "x"}, {"name": "x"}]));
    refused(twice, "spec.approverInputs[1].name", "another input has this name");
    // Harness does not check a default against its own constraint.
    assert!(import(input(json!({"name": "x", "defaultValue": "zz", "allowedValues": "a,b"}))).is_ok());
}

// Harness: `isAutoRejectEnabled` rejects older waiting executions;
// `includePipelineExecutionHistory` is informational.
#[test]
fn harness_auto_reject_and_history() {
    let policy = imported(with(base(), "/spec/isAutoRejectEnabled", json!(true)));
    assert_eq!(policy.spec().supersede, Supersede::RejectOlderWaiting);
    assert_eq!(imported(without(base(), "/spec/isAutoRejectEnabled")).spec().supersede, Supersede::Off);
    refused(with(base(), "/spec/isAutoRejectEnabled", json!("<+input>")), "spec.isAutoRejectEnabled", "<+input>");
    let omit = imported(with(base(), "/spec/includePipelineExecutionHistory", json!(false)));
    assert_eq!(omit.spec().execution_history, ExecutionHistory::Omit);
    let absent = imported(without(base(), "/spec/includePipelineExecutionHistory"));
    assert_eq!(absent.spec().execution_history, ExecutionHistory::Omit);
}

fn auto_approval(zone: &str, time: &str) -> Value {
    with(
        base(),
        "/spec/autoApproval",
        json!({
            "action": "APPROVE",
            "scheduledDeadline": {"timeZone": zone, "time": time},
            "comments": "approved by schedule"
        }),
    )
}

fn deadline(policy: &Policy) -> DateTime<Utc> {
    match policy.spec().auto_approval.as_ref().unwrap().at {
        Schedule::At(at) => at,
        other => panic!("expected a fixed instant, got {other:?}"),
    }
}

// Harness: scheduled auto-approval at `yyyy-MM-dd hh:mm a` in an IANA zone
// (the `tz` feature is on for tests), with its comment and Harness's
// 15-minute minimum lead.
#[test]
fn harness_auto_approval_in_iana_zones() {
    let policy = imported(auto_approval("Asia/Kolkata", "2025-01-15 09:30 AM"));
    assert_eq!(deadline(&policy), instant("2025-01-15T04:00:00Z"));
    let auto = policy.spec().auto_approval.as_ref().unwrap();
    assert_eq!(auto.comment.as_deref(), Some("approved by schedule"));
    assert_eq!(auto.min_lead, Some("15m".parse().unwrap()));
    assert_eq!(
        deadline(&imported(auto_approval("America/New_York", "2025-07-04 05:00 pm"))),
        instant("2025-07-04T21:00:00Z")
    );
    assert_eq!(
        deadline(&imported(auto_approval("America/New_York", "2025-01-04 12:00 AM"))),
        instant("2025-01-04T05:00:00Z")
    );
}

// Harness (Java's ZonedDateTime): a local time the zone skips is refused; one
// it passes twice is taken at its earlier instant.
#[test]
fn harness_auto_approval_across_daylight_saving() {
    let field = "spec.autoApproval.scheduledDeadline.time";
    refused(auto_approval("America/New_York", "2025-03-09 02:30 AM"), field, "does not exist in `America/New_York`");
    let fall_back = imported(auto_approval("America/New_York", "2025-11-02 01:30 AM"));
    assert_eq!(deadline(&fall_back), instant("2025-11-02T05:30:00Z"), "01:30 EDT, the earlier of the two");
}

// Harness: fixed offsets and UTC need no time-zone database.
#[test]
fn harness_auto_approval_fixed_offsets() {
    for (zone, at) in [
        ("UTC", "2025-01-15T09:30:00Z"),
        ("Etc/UTC", "2025-01-15T09:30:00Z"),
        ("Z", "2025-01-15T09:30:00Z"),
        ("+05:30", "2025-01-15T04:00:00Z"),
        ("UTC+05:30", "2025-01-15T04:00:00Z"),
        ("GMT-8", "2025-01-15T17:30:00Z"),
    ] {
        assert_eq!(deadline(&imported(auto_approval(zone, "2025-01-15 09:30 am"))), instant(at), "{zone}");
    }
}

// Harness: the auto-approval action is APPROVE only; deadline fields are
// required, concrete and in Harness's pattern.
#[test]
fn harness_auto_approval_refusals() {
    let zone = "spec.autoApproval.scheduledDeadline.timeZone";
    let time = "spec.autoApproval.scheduledDeadline.time";
    let reject = with(auto_approval("UTC", "2025-01-15 09:30 AM"), "/spec/autoApproval/action", json!("REJECT"));
    refused(reject, "spec.autoApproval.action", "must be `APPROVE`");
    refused(
        without(auto_approval("UTC", "2025-01-15 09:30 AM"), "/spec/autoApproval/action"),
        "spec.autoApproval.action",
        "missing",
    );
    refused(auto_approval("UTC", "2025-01-15 13:30 PM"), time, "yyyy-MM-dd hh:mm a");
    refused(auto_approval("UTC", "15/01/2025 09:30"), time, "yyyy-MM-dd hh:mm a");
    refused(auto_approval("UTC", "2025-02-30 09:30 AM"), time, "yyyy-MM-dd hh:mm a");
    refused(auto_approval("UTC", "<+pipeline.variables.when>"), time, "runtime expression");
    refused(auto_approval("Mars/Olympus", "2025-01-15 09:30 AM"), zone, "IANA time zone");
    refused(auto_approval("", "2025-01-15 09:30 AM"), zone, "missing");
    let no_deadline = without(auto_approval("UTC", "2025-01-15 09:30 AM"), "/spec/autoApproval/scheduledDeadline");
    refused(no_deadline, "spec.autoApproval.scheduledDeadline", "missing");
}

// Harness: keys one level off, as real pipelines have them, are refused
// naming where they belong; `approvers: null` is refused as missing.
#[test]
fn harness_misplaced_keys_are_named() {
    let timeout_in_spec = with(without(base(), "/timeout"), "/spec/timeout", json!("1h"));
    refused(timeout_in_spec, "spec.timeout", "belongs at the step level");
    let flattened = with(
        with(with(base(), "/spec/approvers", Value::Null), "/spec/userGroups", json!(["sre"])),
        "/spec/minimumCount",
        json!(1),
    );
    refused(flattened, "spec.userGroups", "check the indentation under `approvers:`");
    refused(with(base(), "/approvalMessage", json!("hi")), "approvalMessage", "belongs under `spec`");
    refused(
        with(base(), "/spec/approvers/approverInputs", json!([])),
        "spec.approvers.approverInputs",
        "belongs in `spec`",
    );
    refused(json!({ "step": base() }), "step", "list item");
    refused(with(base(), "/spec/approvers", Value::Null), "spec.approvers", "is missing");
    refused(without(base(), "/spec"), "spec", "is missing");
}

// Harness: keys that do not bear on approval are ignored, and the name falls
// back to the identifier.
#[test]
fn harness_ignores_other_keys_and_names_from_identifier() {
    let busy = with(
        with(with(base(), "/when", json!({"stageStatus": "Success"})), "/failureStrategies", json!([])),
        "/spec/callbackId",
        json!("cb-1"),
    );
    assert_eq!(imported(busy).spec().name, "Approve production");
    assert_eq!(imported(without(base(), "/name")).spec().name, "approve_production");
}

// Harness: the step types serialize back to the shape they were read from.
#[test]
fn harness_step_round_trips() {
    let value =
        with(base(), "/spec/approverInputs", json!([{"name": "x", "defaultValue": "1", "allowedValues": "1,2"}]));
    let step: Step = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&step).unwrap(), value);
}

/// What a real-world file must give.
enum Expect {
    /// Imported: these groups, this count, this executor rule, this
    /// supersede setting, this many inputs.
    Imported {
        groups: &'static [&'static str],
        required: u32,
        executor: ExecutorRule,
        supersede: Supersede,
        inputs: usize,
    },
    /// Refused at this field, with this fragment in the message.
    Refused { field: &'static str, fragment: &'static str },
}

fn ok(groups: &'static [&'static str]) -> Expect {
    Expect::Imported { groups, required: 1, executor: ExecutorRule::MayAct, supersede: Supersede::Off, inputs: 0 }
}

fn expected(file: &str) -> Expect {
    use Expect::Refused;
    let project_users = &["_project_all_users"][..];
    let account_users = &["account._account_all_users"][..];
    match file {
        "01-gitops-workshop-tf-heredoc.yaml" => ok(project_users),
        "02-devdays-lab-template.yaml" => ok(&["Production_Approvers"]),
        "03-ff-cleanup-selectOneFrom-input.yaml" => Refused {
            field: "spec.approverInputs[0].selectOneFrom",
            fragment: "is the runtime expression `<+pipeline.stages.FFCleanupStage",
        },
        "04-canary-input-usergroup-misplaced-timeout.yaml" => {
            Refused { field: "spec.timeout", fragment: "`spec.timeout` is `1h`: belongs at the step level" }
        }
        "05-broken-indentation-approvers-null.yaml" => Refused {
            field: "spec.userGroups",
            fragment: "belongs under `spec.approvers` (`spec.approvers.userGroups`) (`spec.approvers` is empty",
        },
        "06-terraform-interpolated-usergroup.yaml" => Refused {
            field: "spec.approvers.userGroups[0]",
            fragment: "runtime expression `${harness_platform_usergroup.release_manager.id}`",
        },
        "07-terraform-bucket-stepgroup.yaml" => ok(&["account.Admins"]),
        "08-sixteen-approver-inputs-autoreject.yaml" => Expect::Imported {
            groups: account_users,
            required: 2,
            executor: ExecutorRule::MayAct,
            supersede: Supersede::RejectOlderWaiting,
            inputs: 15,
        },
        "09-canary-k8s-tf-module.yaml" => ok(account_users),
        "10-provider-acceptance-test.yaml" => ok(&["account.testmv"]),
        "11-docker-ci-repo-history.yaml" => ok(account_users),
        "12-stage-template-prod-only-condition.yaml" => ok(account_users),
        "13-automation-sample.yaml" => ok(project_users),
        "14-templatefile-approver-ref.yaml" => {
            Refused { field: "spec.approvers.userGroups[0]", fragment: "runtime expression `${approver_ref}`" }
        }
        "15-conditional-on-policy-outputs.yaml" => ok(&["account.SE_Admin"]),
        "16-skip-on-cron-trigger.yaml" => ok(account_users),
        "17-golden-pipeline-template-md.yaml" => ok(account_users),
        "18-input-set-partial-step.yaml" => Refused { field: "spec.approvalMessage", fragment: "@NotEmpty" },
        "19-flow-style-usergroups.yaml" => Expect::Imported {
            groups: &["prod_approvers"],
            required: 1,
            executor: ExecutorRule::MayNotAct,
            supersede: Supersede::Off,
            inputs: 0,
        },
        "20-timeout-24h-no-executor-flag.yaml" => ok(&["production_approvers"]),
        "21-runtime-inputs-everywhere.yaml" => Refused { field: "timeout", fragment: "runtime expression `<+input>`" },
        "22-input-default-in-list.yaml" => Refused {
            field: "spec.approvers.userGroups[0]",
            fragment: "runtime expression `<+input>.default(tech_leads)`",
        },
        "23-inputs-with-type-failure-timeout.yaml" => Expect::Imported {
            groups: &["production_approvers", "devops_team"],
            required: 2,
            executor: ExecutorRule::MayAct,
            supersede: Supersede::Off,
            inputs: 2,
        },
        "24-execution-input-message.yaml" => Refused {
            field: "spec.approvers.userGroups[0]",
            fragment: "runtime expression `<+input>.default(security_team)`",
        },
        "25-trigger-payload-message.yaml" => ok(account_users),
        "26-input-name-with-space.yaml" => Expect::Imported {
            groups: &["pravin", "org._organization_all_users"],
            required: 1,
            executor: ExecutorRule::MayAct,
            supersede: Supersede::Off,
            inputs: 1,
        },
        "27-autoreject-true-reverted.yaml" => Expect::Imported {
            groups: account_users,
            required: 1,
            executor: ExecutorRule::MayAct,
            supersede: Supersede::RejectOlderWaiting,
            inputs: 0,
        },
        "28-tf-pipeline-group-approvers.yaml" => ok(&["approvers"]),
        "29-docs-trailing-spaces.yaml" => ok(&["docs"]).with_inputs(1),
        other => panic!("{other}: a new real-world Harness file; add its expected outcome here"),
    }
}

impl Expect {
    fn with_inputs(self, count: usize) -> Expect {
        match self {
            Expect::Imported { groups, required, executor, supersede, .. } => {
                Expect::Imported { groups, required, executor, supersede, inputs: count }
            }
            refused => refused,
        }
    }
}

/// Extracts the step object from a real-world file.
///
/// Each file holds one `- step:` list item cut verbatim from its source,
/// with its original indentation (the ones from Terraform heredocs are cut
/// inside the heredoc, so `${...}` interpolations are plain YAML scalars
/// here). YAML lets an indented block sequence be the document's root, so
/// the whole file parses as a one-element list whose element is a mapping
/// with the single key `step`; its value is the step object. The step is
/// read twice: from the JSON form of the YAML (the form the importer's
/// contract names) and straight from YAML, and both must agree.
fn step_of(path: &Path) -> Step {
    #[derive(serde::Deserialize)]
    struct Item {
        step: Step,
    }
    let text = std::fs::read_to_string(path).unwrap();
    let json: Value = yaml_serde::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let items = json.as_array().unwrap_or_else(|| panic!("{}: not a `- step:` list item", path.display()));
    assert_eq!(items.len(), 1, "{}: one step per file", path.display());
    let object = items[0].get("step").unwrap_or_else(|| panic!("{}: no `step` key", path.display()));
    let from_json: Step = serde_json::from_value(object.clone()).unwrap();
    let from_yaml: Vec<Item> = yaml_serde::from_str(&text).unwrap();
    assert_eq!(from_yaml.into_iter().next().unwrap().step, from_json, "{}", path.display());
    from_json
}

// Harness: every real-world step in shared/real-world/harness imports with
// the expected settings, or is refused at the expected field.
#[test]
fn harness_real_world_files() {
    let Some(folder) = common::real_world("harness") else { return };
    let mut files: Vec<_> = std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 29, "expected the 29 real-world Harness files, found {}", files.len());
    for path in files {
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let result = step_of(&path).to_policy();
        match (expected(&file), result) {
            (Expect::Imported { groups, required, executor, supersede, inputs }, Ok(policy)) => {
                let rule = &policy.rules()[0];
                let want: Vec<Approver> = groups.iter().map(|group| Approver::Group((*group).to_owned())).collect();
                assert_eq!(rule.approvers, want, "{file}");
                assert_eq!(rule.required, required, "{file}");
                assert_eq!(policy.spec().executor, executor, "{file}");
                assert_eq!(policy.spec().supersede, supersede, "{file}");
                assert_eq!(policy.spec().inputs.len(), inputs, "{file}");
                assert_eq!(policy.spec().origin, Origin::Harness, "{file}");
                assert!(!policy.spec().message.is_empty(), "{file}");
                assert_eq!(policy.spec().timeout.unwrap().outcome, TimeoutOutcome::Expire, "{file}");
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

// Harness: details of a few real-world files beyond the table: block
// scalars, a 24h timeout, inputs with spaces and defaults.
#[test]
fn harness_real_world_details() {
    let Some(folder) = common::real_world("harness") else { return };
    let policy = |file: &str| step_of(&folder.join(file)).to_policy().unwrap();

    let workshop = policy("01-gitops-workshop-tf-heredoc.yaml");
    assert_eq!(workshop.spec().name, "Approve Promotion to Prod");
    assert_eq!(
        workshop.spec().message,
        "Please review the following information\nand approve the pipeline progression"
    );
    assert_eq!(workshop.spec().execution_history, ExecutionHistory::Include);

    let sixteen = policy("08-sixteen-approver-inputs-autoreject.yaml");
    assert!(sixteen.spec().message.ends_with("dsfsdgfg\n"), "`|` keeps the final newline");
    assert_eq!(sixteen.spec().inputs[0].name, "kjkj");
    assert_eq!(sixteen.spec().inputs[0].default, "mnm");
    assert!(sixteen.spec().inputs[1..].iter().all(|input| input.default.is_empty()));

    let condition = policy("12-stage-template-prod-only-condition.yaml");
    assert_eq!(condition.spec().message, "Please review and approve deployment to <+stage.variables.environment>");

    let hours = policy("20-timeout-24h-no-executor-flag.yaml");
    assert_eq!(hours.spec().timeout.unwrap().after.as_millis(), 86_400_000);

    let typed = policy("23-inputs-with-type-failure-timeout.yaml");
    let names: Vec<_> = typed.spec().inputs.iter().map(|input| input.name.as_str()).collect();
    assert_eq!(names, ["deployment_notes", "rollback_plan"]);
    assert_eq!(typed.spec().inputs[1].description.as_deref(), Some("Describe rollback procedure"));

    let spaced = policy("26-input-name-with-space.yaml");
    assert_eq!(spaced.spec().inputs[0].name, "release No");
    assert_eq!(spaced.spec().name, "UAT approval");

    let docs = policy("29-docs-trailing-spaces.yaml");
    assert_eq!(docs.spec().message, "Test");
    assert_eq!(docs.spec().inputs[0].default, "bar");
}
