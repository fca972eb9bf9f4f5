//! The engine's promises that a scenario file cannot express: effects,
//! explanations, replay, serde round trips, and refusals that change nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::gate::{Effect, Hold, HoldChange, NotificationKind};
use approval_gate::{Action, Approve, Command, ErrorKind, Event, Gate, GateError, Outcome, Status};
use common::{apply, at, execute, native, open, start, user};

const TWO_RULES: &str = r#"{
    "name": "production",
    "message": "ship it?",
    "rules": [
        {"name": "sre", "required": 2, "approvers": [{"group": "sre"}]},
        {"name": "security", "required": 1, "approvers": [{"group": "sec"}]}
    ],
    "timeout": {"after": "2h"},
    "disallowed": [{"email": "Eve@Example.com"}]
}"#;

fn approve(id: &str, groups: &[&str]) -> Command {
    Command::Approve(Approve::by(user(id, groups)))
}

#[test]
fn opening_notifies_every_approver_and_asks_to_be_woken_at_the_timeout() {
    let (gate, opened) = start("g", native(TWO_RULES), "carol");
    let effects = opened.effects;
    let Effect::Notify(notification) = &effects[0] else { panic!("{effects:?}") };
    assert_eq!(notification.kind, NotificationKind::ApprovalRequired);
    assert_eq!(notification.key, "g/1/approval_required");
    assert_eq!(notification.recipients.len(), 2, "{:?}", notification.recipients);
    assert!(notification.text.contains("ship it?"));
    assert_eq!(effects[1], Effect::WakeAt { gate: gate.id().clone(), at: at(120) });
    assert_eq!(gate.next_deadline(), Some(at(120)));
}

#[test]
fn each_decision_and_the_outcome_notify_with_stable_keys() {
    let (mut gate, _) = start("g", native(TWO_RULES), "carol");
    let first = execute(&mut gate, &approve("ann", &["sre"]), at(1));
    let keys = |outcome: Outcome| -> Vec<String> {
        outcome
            .effects
            .into_iter()
            .filter_map(|e| match e {
                Effect::Notify(n) => Some(n.key),
                _ => None,
            })
            .collect()
    };
    assert_eq!(keys(first), ["g/2/approved"]);
    execute(&mut gate, &approve("bob", &["sre"]), at(2));
    let last = execute(&mut gate, &approve("sam", &["sec"]), at(3));
    assert_eq!(keys(last), ["g/4/approved", "g/5/ended"]);
    assert_eq!(gate.status(), Status::Approved);
}

#[test]
fn superseding_policies_ask_the_host_to_reject_older_runs_on_each_approval() {
    let policy =
        native(r#"{"rules": [{"required": 2, "approvers": [{"group": "sre"}]}], "supersede": "reject_older_waiting"}"#);
    let (mut gate, _) = start("new", policy, "carol");
    let supersession = execute(&mut gate, &approve("ann", &["sre"]), at(1))
        .effects
        .into_iter()
        .find_map(|e| match e {
            Effect::RejectSuperseded(s) => Some(s),
            _ => None,
        })
        .expect("an approval that does not reach quorum still supersedes (Harness rejectPreviousExecutions)");
    assert_eq!(supersession.newer.as_str(), "new");
    assert_eq!((supersession.version, supersession.at), (2, at(1)), "as of the approval, event 2");
    assert_eq!(supersession.by.unwrap().id().as_str(), "ann");
}

#[test]
fn blocking_policies_hold_and_release_other_deployments() {
    let policy = native(r#"{"rules": [{"required": 1, "approvers": ["anyone"]}], "concurrency": "block"}"#);
    let mut run = common::run("carol");
    run.project = Some("web".into());
    run.environment = Some("production".into());
    let (mut gate, opened) = Gate::start(approval_gate::GateId::new("g").unwrap(), policy, run, at(0)).unwrap();
    let holds = |outcome: Outcome| -> Vec<Hold> {
        outcome
            .effects
            .into_iter()
            .filter_map(|e| match e {
                Effect::Hold(hold) => Some(hold),
                _ => None,
            })
            .collect()
    };
    let block = holds(opened);
    assert_eq!(block.len(), 1, "{block:?}");
    assert_eq!((block[0].key.as_str(), block[0].change), ("g/1/block", HoldChange::Block));
    assert_eq!((block[0].project.as_deref(), block[0].environment.as_deref()), (Some("web"), Some("production")));
    let release = holds(execute(&mut gate, &approve("ann", &[]), at(1)));
    assert_eq!(release.len(), 1, "{release:?}");
    assert_eq!(
        (release[0].key.as_str(), release[0].change, release[0].at),
        ("g/3/unblock", HoldChange::Unblock, at(1))
    );
}

#[test]
fn a_gate_skipped_at_its_opening_asks_nobody_wakes_nobody_and_holds_nothing() {
    let policy = native(
        r#"{"rules": [{"required": 1, "approvers": ["anyone"]}], "concurrency": "block",
            "timeout": {"after": "1h"}, "environments": {"only": ["production"]}}"#,
    );
    let mut run = common::run("carol");
    run.environment = Some("staging".into());
    let (gate, opened) = Gate::start(approval_gate::GateId::new("g").unwrap(), policy, run, at(0)).unwrap();
    assert_eq!((gate.status(), gate.version(), opened.events.len()), (Status::Skipped, 2, 2));
    let kinds: Vec<String> = opened
        .effects
        .iter()
        .map(|e| match e {
            Effect::Notify(n) => n.key.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["g/2/ended"], "only the ending is told: no approval asked, no wake-up, no hold");
}

#[test]
fn execute_returns_the_events_decide_would_and_applies_them() {
    let (mut gate, opened) = start("g", native(TWO_RULES), "carol");
    let (replayed, _) = open("g", native(TWO_RULES), "carol");
    assert_eq!((&gate, opened.events.len()), (&replayed, 1));
    let command = approve("ann", &["sre"]);
    let decided = gate.decide(&command, at(1)).unwrap();
    let mut by_hand = gate.clone();
    apply(&mut by_hand, &command, at(1));
    let outcome = execute(&mut gate, &command, at(1));
    assert_eq!(outcome.events, decided);
    assert_eq!(gate, by_hand);
    let refused = gate.clone();
    let error = gate.execute(&approve("ann", &["sre"]), at(2)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AlreadyDecided);
    assert_eq!(gate, refused, "a refused command changes nothing");
}

#[test]
fn explanation_gives_each_rule_its_count_and_who_counted() {
    let (mut gate, _) = open("g", native(TWO_RULES), "carol");
    apply(&mut gate, &approve("ann", &["sre", "sec"]), at(1));
    apply(&mut gate, &approve("bob", &["sre"]), at(2));
    let explanation = gate.explain();
    assert_eq!(explanation.status, Status::Waiting);
    // Either placement meets one rule; the matching fills rules in
    // declaration order, so sre holds both.
    let counted: Vec<(&str, Vec<&str>, u32)> = explanation
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.counted.iter().map(|id| id.as_str()).collect(), r.remaining))
        .collect();
    assert_eq!(counted, [("sre", vec!["ann", "bob"], 0), ("security", vec![], 1)]);
    assert_eq!(explanation.remaining, 1);
    let text = explanation.to_string();
    assert!(text.starts_with("gate `g` is waiting: 1 more approval(s) needed"), "{text}");
    assert!(text.contains("ends by itself at 2026-11-22T11:00:00+00:00"), "{text}");
}

#[test]
fn may_says_exactly_why_a_principal_may_not_act() {
    let (mut gate, _) = open("g", native(TWO_RULES), "carol");
    let kind = |gate: &Gate, who, action| gate.may(&who, action, at(5)).unwrap_err().kind();
    assert_eq!(kind(&gate, user("zed", &["web"]), Action::Approve), ErrorKind::NotEligible);
    assert_eq!(kind(&gate, user("carol", &["sre"]), Action::Approve), ErrorKind::ExecutorNotAllowed);
    let eve = user("eve", &["sre"]).with_email("eve@example.COM");
    assert_eq!(kind(&gate, eve, Action::Reject), ErrorKind::UserDisallowed);
    apply(&mut gate, &approve("ann", &["sre"]), at(1));
    assert_eq!(kind(&gate, user("ann", &["sre"]), Action::Reject), ErrorKind::AlreadyDecided);
    let ok = gate.may(&user("sam", &["sec"]), Action::Approve, at(5)).unwrap();
    let names: Vec<String> = ok.rules.iter().map(|index| gate.policy().rule_name(index)).collect();
    assert_eq!(names, ["security"]);
    // The executor may still reject under the native default.
    assert!(gate.may(&user("carol", &["sre"]), Action::Reject, at(5)).is_ok());
    apply(&mut gate, &Command::Reject { by: user("sam", &["sec"]), comment: None }, at(5));
    assert_eq!(kind(&gate, user("bob", &["sre"]), Action::Approve), ErrorKind::NotWaiting);
}

#[test]
fn replaying_the_events_rebuilds_the_live_gate() {
    let (mut gate, mut log) = open("g", native(TWO_RULES), "carol");
    for (minute, command) in [
        (1, approve("ann", &["sre", "sec"])),
        (2, Command::Assign { to: user("bob", &["sre"]) }),
        (3, approve("bob", &["sre"])),
        (4, approve("sam", &["sec"])),
    ] {
        log.extend(apply(&mut gate, &command, at(minute)));
    }
    assert_eq!(gate.status(), Status::Approved);
    assert_eq!(Gate::replay(&log).unwrap(), gate);
}

#[test]
fn events_policies_and_gates_survive_a_json_round_trip() {
    let (mut gate, mut log) = open("g", native(TWO_RULES), "carol");
    log.extend(apply(&mut gate, &approve("ann", &["sre"]), at(1)));
    let json = serde_json::to_string(&log).unwrap();
    let back: Vec<Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, log);
    let gate_json = serde_json::to_string(&gate).unwrap();
    assert_eq!(serde_json::from_str::<Gate>(&gate_json).unwrap(), gate);
    let policy = gate.policy().clone();
    let policy_json = serde_json::to_string(&policy).unwrap();
    assert_eq!(serde_json::from_str::<approval_gate::Policy>(&policy_json).unwrap(), policy);
}

#[test]
fn the_gate_keeps_the_policy_it_opened_with() {
    let (gate, events) = open("g", native(TWO_RULES), "carol");
    let Event::Opened { policy, .. } = &events[0] else { panic!() };
    assert_eq!(*policy, *gate.policy(), "the policy is snapshotted into the opening event");
}

#[test]
fn a_deadline_that_passed_refuses_actions_until_ticked() {
    let (mut gate, _) = open("g", native(TWO_RULES), "carol");
    let late = gate.decide(&approve("ann", &["sre"]), at(121)).unwrap_err();
    assert_eq!(late.kind(), ErrorKind::NotWaiting);
    let events = apply(&mut gate, &Command::Tick, at(121));
    assert_eq!(events.len(), 1);
    assert_eq!(gate.status(), Status::Expired);
    assert_eq!(gate.ending().unwrap().at, at(120), "the gate ended at its deadline, not at the tick");
    assert!(gate.decide(&Command::Tick, at(200)).unwrap().is_empty(), "an ended gate never changes");
}

#[test]
fn refusals_name_the_value_and_change_nothing() {
    let (mut gate, _) = open("g", native(TWO_RULES), "carol");
    let before = gate.clone();
    let long = Command::Approve(Approve::by(user("ann", &["sre"])).comment("x".repeat(65_537)));
    let error = gate.decide(&long, at(1)).unwrap_err();
    assert_eq!(error, GateError::CommentTooLong { len: 65_537, limit: 65_536 });
    apply(&mut gate, &approve("ann", &["sre"]), at(5));
    let backwards = gate.decide(&approve("bob", &["sre"]), at(4)).unwrap_err();
    assert_eq!(backwards.kind(), ErrorKind::TimeWentBackwards);
    assert!(backwards.to_string().contains("2026-11-22 09:04:00 UTC is before 2026-11-22 09:05:00 UTC"));
    assert_ne!(gate, before);
    let refused = gate.clone();
    let _ = gate.decide(&approve("ann", &["sre"]), at(6));
    assert_eq!(gate, refused);
}

#[test]
fn unknown_fields_and_bad_values_in_the_native_format_are_refused_by_name() {
    let unknown = serde_json::from_str::<approval_gate::policy::PolicySpec>(
        r#"{"rules": [{"required": 1, "approvers": ["anyone"]}], "minimum": 2}"#,
    );
    assert!(unknown.unwrap_err().to_string().contains("unknown field `minimum`"));
    let zero =
        serde_json::from_str::<approval_gate::Policy>(r#"{"rules": [{"required": 0, "approvers": ["anyone"]}]}"#);
    let message = zero.unwrap_err().to_string();
    assert!(message.contains("`rules[0].required` is `0`: must be from 1 to 1000"), "{message}");
}

#[test]
fn a_gate_snapshot_rebuilds_its_progress_from_its_approvals() {
    // Two sre approvals and one sec approval are what TWO_RULES needs; the
    // snapshot keeps the approvals, not the derived matching, so editing
    // one out of the JSON cannot leave the progress it made behind.
    let (mut gate, _) = open("g", native(TWO_RULES), "carol");
    apply(&mut gate, &approve("ann", &["sre"]), at(1));
    apply(&mut gate, &approve("sam", &["sec"]), at(2));
    let mut json = serde_json::to_value(&gate).unwrap();
    assert!(json.get("tally").is_none(), "{json}");
    assert_eq!(serde_json::from_value::<Gate>(json.clone()).unwrap(), gate);
    json["approvals"].as_array_mut().unwrap().remove(1);
    let edited: Gate = serde_json::from_value(json).unwrap();
    assert_eq!((gate.remaining(), edited.remaining()), (1, 2));
    let bob = approve("bob", &["sre"]);
    assert_eq!(gate.decide(&bob, at(3)).unwrap().len(), 2, "bob meets every rule of the gate");
    assert_eq!(edited.decide(&bob, at(3)).unwrap().len(), 1, "but not of the edited snapshot");
}
