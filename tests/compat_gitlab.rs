//! GitLab protected-environment importer: one test per rule of the GitLab
//! column of the design's semantics table, then the real-world API objects
//! in `shared/real-world/gitlab/` and the JSON transcriptions of the
//! Terraform and gitlabform files in `tests/fixtures/real-world/gitlab/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::compat::PolicyDocument;
use approval_gate::compat::gitlab::ProtectedEnvironment;
use approval_gate::policy::{
    AdminRule, Approver, Counting, ExecutorRule, Origin, Outputs, Revote, Rule, RuleNaming, RuleSet,
};
use approval_gate::{Policy, PolicyError, Principal};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn import(value: Value) -> Result<Policy, PolicyError> {
    common::import("gitlab", value)
}

fn imported(value: Value) -> Policy {
    import(value).unwrap_or_else(|error| panic!("should import: {error}"))
}

fn refused(value: Value, field: &str, fragment: &str) -> PolicyError {
    common::refused("gitlab", value, field, fragment)
}

fn rule(value: Value) -> Value {
    json!({ "name": "production", "deploy_access_levels": [{"access_level": 40}], "approval_rules": [value] })
}

fn names(policy: &Policy) -> Vec<String> {
    (0..policy.rules().len()).map(|index| policy.rule_name(index)).collect()
}

fn every_rule(policy: &Policy) -> RuleSet {
    (0..policy.rules().len()).collect()
}

// GitLab rules mode: one policy rule per approval rule, each with its own
// count, named by `access_level_description`; GitLab's fixed settings.
#[test]
fn gitlab_rules_mode_one_rule_per_approval_rule() {
    let policy = imported(json!({
        "name": "production",
        "deploy_access_levels": [{"access_level": 40, "access_level_description": "Maintainers"}],
        "required_approval_count": 0,
        "approval_rules": [
            {"id": 38, "user_id": 42, "group_id": null, "access_level": null,
             "access_level_description": "Ann Smith", "required_approvals": 1, "group_inheritance_type": 0},
            {"id": 39, "user_id": null, "group_id": 9899826, "access_level": null,
             "access_level_description": "qa-group", "required_approvals": 2, "group_inheritance_type": 1},
            {"access_level": 30, "required_approvals": 3}
        ]
    }));
    assert_eq!(names(&policy), ["Ann Smith", "qa-group", "Developers + Maintainers"]);
    assert_eq!(policy.rules()[0].approvers, [Approver::User("42".into())]);
    assert_eq!(policy.rules()[1].approvers, [Approver::Group("9899826".into())]);
    assert_eq!(policy.rules()[2].approvers, [Approver::MinAccessLevel(30)]);
    let required: Vec<u32> = policy.rules().iter().map(|rule| rule.required).collect();
    assert_eq!(required, [1, 2, 3]);

    let spec = policy.spec();
    assert_eq!(spec.name, "production");
    assert_eq!(spec.counting, Counting::OncePerRule);
    assert_eq!(spec.represented_as, RuleNaming::Contains);
    assert_eq!(spec.admins, AdminRule::MatchEveryRule);
    assert_eq!(spec.revote, Revote::WhileWaiting);
    assert_eq!(spec.executor, ExecutorRule::MayNotApprove);
    assert_eq!(spec.max_comment_bytes, 255);
    assert_eq!(spec.timeout, None);
    assert_eq!(spec.auto_approval, None);
    assert_eq!(spec.outputs, Outputs::Inputs);
    assert!(spec.inputs.is_empty());
    assert_eq!(spec.origin, Origin::Gitlab);
}

// GitLab: the scenario contract's `{"gitlab": {...}}` wrapper goes through
// the same importer.
#[test]
fn gitlab_policy_document_uses_the_importer() {
    let document: PolicyDocument = serde_json::from_value(json!({ "gitlab": rule(json!({"group_id": 7})) })).unwrap();
    let policy = document.into_policy().unwrap();
    assert_eq!(policy.spec().origin, Origin::Gitlab);
    assert_eq!(policy.rules()[0].approvers, [Approver::Group("7".into())]);
}

// GitLab: `required_approvals` is 1..5, 1 when absent (the API's default);
// numeric strings are accepted, expressions are not.
#[test]
fn gitlab_required_approvals_range_and_default() {
    let required = |body: Value| imported(rule(body)).rules()[0].required;
    assert_eq!(required(json!({"group_id": 1})), 1);
    assert_eq!(required(json!({"group_id": 1, "required_approvals": null})), 1);
    assert_eq!(required(json!({"group_id": 1, "required_approvals": "5"})), 5);
    let field = "approval_rules[0].required_approvals";
    refused(rule(json!({"group_id": 1, "required_approvals": 0})), field, "from 1 to 5");
    refused(rule(json!({"group_id": 1, "required_approvals": 6})), field, "from 1 to 5");
    refused(rule(json!({"group_id": 1, "required_approvals": 1.5})), field, "from 1 to 5");
    let error = refused(rule(json!({"group_id": 1, "required_approvals": "${var.approvals}"})), field, "");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
}

// GitLab: approval rules take precedence over `required_approval_count`.
#[test]
fn gitlab_rules_take_precedence_over_the_count() {
    let policy = imported(json!({
        "name": "production",
        "deploy_access_levels": [{"access_level": 30}],
        "required_approval_count": 3,
        "approval_rules": [{"group_id": 5}]
    }));
    assert_eq!(policy.rules().len(), 1);
    assert_eq!(policy.rules()[0].required, 1);
    assert_eq!(policy.rules()[0].approvers, [Approver::Group("5".into())]);
}

// GitLab unified mode: no rules and a count: one rule named after the
// environment whose approvers are the deployers.
#[test]
fn gitlab_unified_mode_uses_deploy_access_levels() {
    let policy = imported(json!({
        "name": "staging",
        "deploy_access_levels": [
            {"access_level": 30, "access_level_description": "Developers + Maintainers"},
            {"id": 12, "access_level": 40, "group_id": 9899826, "user_id": null, "access_level_description": "ops"},
            {"user_id": "789", "access_level": 40}
        ],
        "required_approval_count": 2
    }));
    assert_eq!(names(&policy), ["staging"]);
    assert_eq!(policy.rules()[0].required, 2);
    // A deploy access level follows GitLab's precedence: user, else group,
    // else access level (the API stores a level beside groups and users).
    assert_eq!(
        policy.rules()[0].approvers,
        [Approver::MinAccessLevel(30), Approver::Group("9899826".into()), Approver::User("789".into())]
    );
    let unnamed = imported(json!({"deploy_access_levels": [{"access_level": 40}], "required_approval_count": "1"}));
    assert_eq!(names(&unnamed), ["deployers"]);
    refused(
        json!({"name": "x", "deploy_access_levels": [], "required_approval_count": 1}),
        "deploy_access_levels",
        "none are listed",
    );
    refused(
        json!({"name": "x", "deploy_access_levels": [{"group_inheritance_type": 1}], "required_approval_count": 1}),
        "deploy_access_levels[0]",
        "names a `user_id`, a `group_id` or an `access_level`",
    );
    // The model refuses a rule its named users can never meet; GitLab would
    // accept it and wait forever.
    refused(
        json!({"name": "x", "deploy_access_levels": [{"user_id": 1}], "required_approval_count": 2}),
        "required_approval_count",
        "could never be met",
    );
}

// GitLab: an environment with no rules and no count requires no approvals;
// the importer refuses it rather than build a gate that approves itself.
#[test]
fn gitlab_no_approvals_is_refused() {
    refused(
        json!({"name": "dev", "deploy_access_levels": [{"access_level": 30}]}),
        "approval_rules",
        "`dev` requires no approvals",
    );
    refused(
        json!({"name": "dev", "deploy_access_levels": [{"access_level": 30}], "required_approval_count": 0, "approval_rules": []}),
        "required_approval_count",
        "`dev` requires no approvals",
    );
    refused(
        json!({"name": "dev", "approval_rules": [{"id": 3, "group_id": 1, "_destroy": true}]}),
        "approval_rules",
        "requires no approvals",
    );
    refused(json!({"name": "dev", "required_approval_count": 6}), "required_approval_count", "from 0 to 5");
    let error = refused(
        json!({"name": "dev", "required_approval_count": "${local.count}", "approval_rules": [{"group_id": 1}]}),
        "required_approval_count",
        "${local.count}",
    );
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
}

// GitLab: access levels 20, 30, 40 and 60 (GitLab's code), as numbers.
#[test]
fn gitlab_access_levels_allowed() {
    for level in [20, 30, 40, 60] {
        assert_eq!(
            imported(rule(json!({"access_level": level}))).rules()[0].approvers,
            [Approver::MinAccessLevel(level)]
        );
    }
    assert_eq!(imported(rule(json!({"access_level": "40"}))).rules()[0].approvers, [Approver::MinAccessLevel(40)]);
    for bad in [json!(50), json!(5), json!(0), json!("developer"), json!(40.5)] {
        refused(rule(json!({"access_level": bad})), "approval_rules[0].access_level", "30 (Developer)");
    }
    let maintainers = imported(rule(json!({"access_level": 40})));
    let owner = Principal::user("olga").unwrap().with_access_level(50);
    let developer = Principal::user("dev").unwrap().with_access_level(30);
    assert!(maintainers.matching_rules(&owner).contains(0));
    assert!(!maintainers.matching_rules(&developer).contains(0));
}

// GitLab: numeric ids, as numbers or numeric strings, become their decimal
// text.
#[test]
fn gitlab_ids_become_decimal_strings() {
    let approver = |body: Value| imported(rule(body)).rules()[0].approvers[0].clone();
    assert_eq!(approver(json!({"user_id": 42})), Approver::User("42".into()));
    assert_eq!(approver(json!({"user_id": " 042 "})), Approver::User("42".into()));
    assert_eq!(approver(json!({"group_id": "9899826"})), Approver::Group("9899826".into()));
    for bad in [json!(0), json!(-1), json!(1.5), json!("ann"), json!(true)] {
        refused(rule(json!({"user_id": bad})), "approval_rules[0].user_id", "numeric GitLab id");
    }
    let error = refused(rule(json!({"group_id": "${gitlab_group.qa.id}"})), "approval_rules[0].group_id", "");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    let ann = Principal::user("42").unwrap();
    assert!(imported(rule(json!({"user_id": 42}))).matching_rules(&ann).contains(0));
}

// GitLab: an approval rule names exactly one principal.
#[test]
fn gitlab_approval_rule_names_one_principal() {
    refused(
        rule(json!({"group_id": 135, "access_level": 30})),
        "approval_rules[0]",
        "`group_id and access_level`: an approval rule names exactly one",
    );
    refused(rule(json!({"user_id": 1, "group_id": 2})), "approval_rules[0]", "exactly one");
    refused(rule(json!({"required_approvals": 1})), "approval_rules[0]", "is missing");
    // Keys the API returns as null do not count.
    assert!(import(rule(json!({"user_id": null, "group_id": 2, "access_level": null}))).is_ok());
}

// GitLab: generated names for rules without a description, with duplicates
// told apart.
#[test]
fn gitlab_rule_names_generated_and_unique() {
    let policy = imported(json!({
        "name": "production",
        "approval_rules": [
            {"access_level": 20}, {"access_level": 30}, {"access_level": 40}, {"access_level": 60},
            {"user_id": 7}, {"group_id": 8, "access_level_description": ""},
            {"group_id": 9, "access_level_description": "qa"}, {"group_id": 10, "access_level_description": "qa"},
            {"access_level": 40, "access_level_description": "Maintainers"}
        ]
    }));
    assert_eq!(
        names(&policy),
        [
            "Reporters",
            "Developers + Maintainers",
            "Maintainers",
            "Administrators",
            "user 7",
            "group 8",
            "qa",
            "qa (2)",
            "Maintainers (2)"
        ]
    );
}

// GitLab: `represented_as` is matched as a substring of the rule's name.
#[test]
fn gitlab_represented_as_matches_a_substring() {
    let policy = imported(json!({
        "name": "production",
        "approval_rules": [
            {"group_id": 1, "access_level_description": "qa-group"},
            {"group_id": 2, "access_level_description": "security-group"},
            {"access_level": 40}
        ]
    }));
    assert_eq!(policy.rules_named("qa", every_rule(&policy)).iter().collect::<Vec<_>>(), [0]);
    assert_eq!(policy.rules_named("group", every_rule(&policy)).iter().collect::<Vec<_>>(), [0, 1]);
    assert_eq!(policy.rules_named("Maintainers", every_rule(&policy)).iter().collect::<Vec<_>>(), [2]);
}

// GitLab: administrators match every rule.
#[test]
fn gitlab_admins_match_every_rule() {
    let policy = imported(json!({
        "name": "production",
        "approval_rules": [{"group_id": 1}, {"user_id": 2}, {"access_level": 60}]
    }));
    let admin = Principal::user("root").unwrap().as_admin();
    assert_eq!(policy.matching_rules(&admin), every_rule(&policy));
    assert!(policy.matching_rules(&Principal::user("nobody").unwrap()).is_empty());
}

// GitLab: the pipeline triggerer may reject but not approve, unless the
// project allows it.
#[test]
fn gitlab_pipeline_trigger_approval_setting() {
    let setting = |value: Value| {
        let mut environment = rule(json!({"group_id": 1}));
        environment["allow_pipeline_trigger_approve_deployment"] = value;
        environment
    };
    assert_eq!(imported(rule(json!({"group_id": 1}))).spec().executor, ExecutorRule::MayNotApprove);
    assert_eq!(imported(setting(json!(false))).spec().executor, ExecutorRule::MayNotApprove);
    assert_eq!(imported(setting(json!(null))).spec().executor, ExecutorRule::MayNotApprove);
    assert_eq!(imported(setting(json!(true))).spec().executor, ExecutorRule::MayAct);
    assert_eq!(imported(setting(json!("True"))).spec().executor, ExecutorRule::MayAct);
    refused(setting(json!("sometimes")), "allow_pipeline_trigger_approve_deployment", "true or false");
}

// GitLab EE model validation (`ProtectedEnvironments::ApprovalRule` and
// `ProtectedEnvironments::DeployAccessLevel`, `validates
// :group_inheritance_type, inclusion: { in: GROUP_INHERITANCE_TYPE.values }`):
// 0 (direct) and 1 (all inherited) are accepted, as numbers or digit strings
// like the importer's other numbers, and absent or null too; once checked the
// value changes nothing (the host's directory decides group membership).
// `id` is informational.
#[test]
fn gitlab_group_inheritance_type_zero_or_one_is_accepted_and_ignored() {
    let direct = imported(rule(json!({"id": 1, "group_id": 5, "group_inheritance_type": 0})));
    let inherited = imported(rule(json!({"id": 2, "group_id": 5, "group_inheritance_type": 1})));
    assert_eq!(direct, inherited);
    assert_eq!(direct.rules(), [Rule::new(1, [Approver::Group("5".into())]).named("group 5")]);
    for value in [json!("0"), json!(" 1 "), json!(null)] {
        assert_eq!(imported(rule(json!({"group_id": 5, "group_inheritance_type": value}))), direct, "{value}");
    }
    assert_eq!(imported(rule(json!({"group_id": 5}))), direct);
    let unified =
        |level: Value| json!({"name": "staging", "deploy_access_levels": [level], "required_approval_count": 1});
    let levels =
        [json!({"group_id": 5, "group_inheritance_type": 0}), json!({"group_id": 5, "group_inheritance_type": 1})];
    assert_eq!(imported(unified(levels[0].clone())), imported(unified(levels[1].clone())));
}

// GitLab EE model validation (as above): any other `group_inheritance_type`
// is refused at load, naming the field's path and the value, on approval
// rules and on deploy access levels (in rules mode too, where GitLab still
// validates them).
#[test]
fn gitlab_group_inheritance_type_other_values_are_refused() {
    let expected = "must be 0 (direct members only) or 1 (inherited members too)";
    let field = "approval_rules[0].group_inheritance_type";
    for (value, shown) in [
        (json!(2), "`2`"),
        (json!(-1), "`-1`"),
        (json!("2"), "`2`"),
        (json!("x"), "`x`"),
        (json!(1.5), "`1.5`"),
        (json!(true), "`true`"),
        (json!("1x"), "`1x`"),
        (json!(""), "``"),
    ] {
        let error = refused(rule(json!({"group_id": 5, "group_inheritance_type": value})), field, expected);
        assert!(error.to_string().starts_with(&format!("`{field}` is {shown}:")), "{value}: {error}");
    }
    let error = refused(rule(json!({"group_id": 5, "group_inheritance_type": "${var.inheritance}"})), field, "");
    assert!(matches!(error, PolicyError::Expression { .. }), "{error:?}");
    // The second rule, and a deploy access level in unified mode.
    refused(
        json!({"name": "p", "approval_rules": [{"group_id": 5}, {"group_id": 6, "group_inheritance_type": 2}]}),
        "approval_rules[1].group_inheritance_type",
        "`2`",
    );
    refused(
        json!({"name": "p", "deploy_access_levels": [{"group_id": 5, "group_inheritance_type": 2}], "required_approval_count": 1}),
        "deploy_access_levels[0].group_inheritance_type",
        "`2`",
    );
    // Rules mode: the deploy access levels only say who may deploy, but GitLab
    // validates them all the same.
    refused(
        json!({"name": "p", "deploy_access_levels": [{"access_level": 40, "group_inheritance_type": -1}],
               "approval_rules": [{"group_id": 5}]}),
        "deploy_access_levels[0].group_inheritance_type",
        "`-1`",
    );
    // A rule GitLab removes (`_destroy: true`) is not validated.
    imported(json!({"name": "p", "approval_rules": [
        {"group_id": 5, "_destroy": true, "group_inheritance_type": 2}, {"group_id": 6}
    ]}));
}

// GitLab: a rule GitLab would remove (`_destroy: true`) is left out; a
// `required_approvals` key where GitLab does not read it is refused.
#[test]
fn gitlab_destroyed_rules_and_misplaced_counts() {
    let policy = imported(json!({
        "name": "production",
        "approval_rules": [{"id": 1, "group_id": 5, "_destroy": true}, {"group_id": 6, "required_approvals": 2}]
    }));
    assert_eq!(policy.rules()[0].approvers, [Approver::Group("6".into())]);
    // Errors the model raises name the source rule, not the policy's index.
    refused(
        json!({"name": "p", "approval_rules": [{"group_id": 5, "_destroy": true}, {"user_id": 6, "required_approvals": 2}]}),
        "approval_rules[1].required_approvals",
        "could never be met",
    );
    refused(
        json!({"name": "p", "required_approvals": 2, "approval_rules": [{"group_id": 5}]}),
        "required_approvals",
        "belongs in an approval rule",
    );
}

fn shared(file: &str) -> Option<PathBuf> {
    common::real_world("gitlab").map(|folder| folder.join(file))
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

// GitLab real world (go-gitlab list fixture): the first environment's second
// rule sets both `group_id` and `access_level`; the wildcard environment
// has no approval settings at all.
#[test]
fn gitlab_real_world_list_response_each_element() {
    let Some(path) = shared("10-go-gitlab-list-response.json") else { return };
    let environments: Vec<ProtectedEnvironment> = serde_json::from_value(read(&path)).unwrap();
    assert_eq!(environments.len(), 2);
    let first = environments[0].to_policy().unwrap_err();
    assert_eq!(first.field(), "approval_rules[1]");
    assert!(first.to_string().contains("`group_id and access_level`"), "{first}");
    let second = environments[1].to_policy().unwrap_err();
    assert_eq!(second.field(), "approval_rules");
    assert!(second.to_string().contains("`*-release` requires no approvals"), "{second}");

    // With the stray access level removed, the first imports as GitLab
    // would read it: the rules, not `required_approval_count: 1`.
    let mut fixed = read(&path);
    fixed[0]["approval_rules"][1]["access_level"] = Value::Null;
    let policy = serde_json::from_value::<ProtectedEnvironment>(fixed[0].clone()).unwrap().to_policy().unwrap();
    assert_eq!(names(&policy), ["qa-group", "security-group"]);
    assert_eq!(policy.rules()[0].approvers, [Approver::User("42".into())]);
    assert_eq!(policy.rules()[1].approvers, [Approver::Group("135".into())]);
    assert_eq!(policy.rules()[1].required, 2);
}

// GitLab real world (go-gitlab get fixture): a rule with a group and access
// level 5 (not a GitLab level) and `required_approvals: 0`.
#[test]
fn gitlab_real_world_access_level_5() {
    let Some(path) = shared("11-go-gitlab-get-access-level-5.json") else { return };
    let error = import(read(&path)).unwrap_err();
    assert_eq!(error.field(), "approval_rules[0]");
    assert!(error.to_string().contains("`group_id and access_level`"), "{error}");
    let mut group_only = read(&path);
    group_only["approval_rules"][0]["group_id"] = Value::Null;
    refused(group_only, "approval_rules[0].access_level", "`5`");
    let mut level_fixed = read(&path);
    level_fixed["approval_rules"][0]["access_level"] = Value::Null;
    refused(level_fixed, "approval_rules[0].required_approvals", "`0`: must be a whole number from 1 to 5");
}

// GitLab real world (API docs request body): the first rule leaves
// `required_approvals` to the server's default of 1.
#[test]
fn gitlab_real_world_post_body() {
    let Some(path) = shared("12-api-post-body-rules.json") else { return };
    let policy = import(read(&path)).unwrap();
    assert_eq!(policy.spec().name, "production");
    assert_eq!(names(&policy), ["group 134", "group 135"]);
    assert_eq!(policy.rules().iter().map(|rule| rule.required).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(policy.rules()[1].approvers, [Approver::Group("135".into())]);
}

// GitLab real world (API docs request body, malformed as documented): the
// parser names where the JSON breaks.
#[test]
fn gitlab_real_world_malformed_body() {
    let Some(path) = shared("13-api-put-body-malformed.json") else { return };
    let text = std::fs::read_to_string(path).unwrap();
    let error = serde_json::from_str::<ProtectedEnvironment>(&text).unwrap_err();
    assert!(error.is_syntax(), "{error}");
    assert_eq!((error.line(), error.column()), (1, 49), "{error}");
    assert!(error.to_string().contains("key must be a string"), "{error}");
    let document = serde_json::from_str::<PolicyDocument>(&format!("{{\"gitlab\": {text}}}")).unwrap_err();
    assert!(document.to_string().contains("key must be a string"), "{document}");
}

// GitLab real world (API docs response): rules mode although the count is
// 0; the deploy access level with both a level and a group is not read.
#[test]
fn gitlab_real_world_response_count_and_rules() {
    let Some(path) = shared("14-api-response-count-and-rules.json") else { return };
    let policy = import(read(&path)).unwrap();
    assert_eq!(names(&policy), ["qa-group", "security-group"]);
    assert_eq!(policy.rules()[0].approvers, [Approver::Group("134".into())]);
    assert_eq!(policy.rules()[1].approvers, [Approver::Group("135".into())]);
    assert_eq!(policy.rules().iter().map(|rule| rule.required).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(policy.spec().executor, ExecutorRule::MayNotApprove);
}

// GitLab real world: every JSON transcription of the Terraform and
// gitlabform files gives its expected outcome (the `_source` and
// `_transcription` keys are ignored by the importer).
#[test]
fn gitlab_real_world_transcriptions() {
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/gitlab"));
    let mut files: Vec<_> = std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 10);
    for path in files {
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        let value = read(&path);
        assert!(value["_source"].as_str().unwrap().starts_with("shared/real-world/gitlab/"), "{file}");
        let result = import(value);
        let error = |field: &str, fragment: &str| {
            let error = result.clone().expect_err(&file);
            assert_eq!(error.field(), field, "{file}: {error}");
            assert!(error.to_string().contains(fragment), "{file}: `{error}` should contain `{fragment}`");
        };
        match file.as_str() {
            "01-provider-docs-multiple-rules.json" => {
                let policy = result.unwrap();
                assert_eq!(names(&policy), ["user 789", "Developers + Maintainers", "group 456"]);
                assert_eq!(policy.rules().iter().map(|rule| rule.required).collect::<Vec<_>>(), [1, 2, 1]);
                assert_eq!(policy.rules()[0].approvers, [Approver::User("789".into())]);
                assert_eq!(policy.rules()[1].approvers, [Approver::MinAccessLevel(30)]);
                assert_eq!(policy.rules()[2].approvers, [Approver::Group("456".into())]);
                assert_eq!(policy.spec().name, "${gitlab_project_environment.this.name}");
            }
            "02-group-docs-required-in-deploy-level.json" => {
                error("deploy_access_levels[0].required_approvals", "belongs in an approval rule")
            }
            "03-provider-docs-2023-count-plus-rules.json" => {
                let policy = result.unwrap();
                assert_eq!(names(&policy), ["user 789", "Developers + Maintainers", "group 456"]);
                assert!(policy.rules().iter().all(|rule| rule.required == 1), "rules win over the count of 2");
            }
            "04-provider-example-2022-unified-count.json" => {
                let policy = result.unwrap();
                assert_eq!(names(&policy), ["${gitlab_project_environment.this.name}"]);
                assert_eq!(policy.rules()[0].required, 2);
                assert_eq!(
                    policy.rules()[0].approvers,
                    [Approver::MinAccessLevel(30), Approver::Group("456".into()), Approver::User("789".into())]
                );
            }
            "05-locals-per-env-defaults.development.json" => {
                error("required_approval_count", "`development` requires no approvals")
            }
            "05-locals-per-env-defaults.staging.json" => {
                let policy = result.unwrap();
                assert_eq!(policy.rules(), [Rule::new(2, [Approver::MinAccessLevel(30)]).named("staging")]);
            }
            "05-locals-per-env-defaults.production.json" => {
                let policy = result.unwrap();
                assert_eq!(policy.rules(), [Rule::new(2, [Approver::MinAccessLevel(40)]).named("production")]);
            }
            "06-dynamic-deploy-levels.json" => error(
                "required_approval_count",
                "runtime expression `${local.deploy_access_levels_production.required_approval_count}`",
            ),
            "09-gitlabform-anchors.env_1.json" => error("approval_rules", "`env_1` requires no approvals"),
            "09-gitlabform-anchors.env_2.json" => error("approval_rules", "`env_2` requires no approvals"),
            other => panic!("{other}: a new transcription; add its expected outcome here"),
        }
    }
}
