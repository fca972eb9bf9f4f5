//! One benchmark group per budget row of `shared/design.md`. Inputs are
//! built outside the timed loop; results pass through `black_box`.
//!
//! ```text
//! cargo bench --bench budgets
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benches fail loudly"
)]

use approval_gate::compat::PolicyDocument;
use approval_gate::policy::{Approver, Pattern, PatternError, Policy, PolicySpec, Rule};
use approval_gate::scenario::{self, Scenario};
use approval_gate::{Action, Approve, Command, Event, Gate, GateId, Principal, PrincipalId, Run};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + TimeDelta::seconds(seconds)
}

fn open(policy: Policy) -> (Gate, Vec<Event>) {
    let events =
        Gate::open(GateId::new("g").unwrap(), policy, Run::new(PrincipalId::new("carol").unwrap()), at(0)).unwrap();
    (Gate::replay(&events).unwrap(), events)
}

/// A policy of one rule listing `groups` approver groups (`team-0` ...).
fn groups_policy(groups: usize) -> Policy {
    let approvers = (0..groups).map(|g| Approver::Group(format!("team-{g}")));
    Policy::new(PolicySpec::new([Rule::new(2, approvers)])).unwrap()
}

fn eligibility(c: &mut Criterion) {
    let mut group = c.benchmark_group("may this principal approve");
    for groups in [3, 20] {
        let (gate, _) = open(groups_policy(groups));
        // The host's directory: 50 members in each approver group, each also
        // in four groups the policy does not name. Membership travels with
        // the principal, so the engine sees a member's own groups, not the
        // roster; the loop still walks every member so that no single id or
        // group stays hot in the cache.
        let member = |g: usize, m: usize| {
            let groups = ["web", "db", "ops", "qa"].into_iter().map(String::from).chain([format!("team-{g}")]);
            Principal::user(format!("m{g}-{m}")).unwrap().with_groups(groups)
        };
        let members: Vec<Principal> = (0..groups).flat_map(|g| (0..50).map(move |m| member(g, m))).collect();
        let outsiders: Vec<Principal> = (0..members.len())
            .map(|m| Principal::user(format!("x{m}")).unwrap().with_groups(["web", "db", "ops", "qa", "support"]))
            .collect();
        let now = at(1);
        for (verdict, principals, expected) in [("allowed", &members, true), ("refused", &outsiders, false)] {
            let mut next = principals.iter().cycle();
            group.bench_function(format!("{groups} groups, {verdict}"), |b| {
                b.iter(|| {
                    let principal = next.next().unwrap();
                    let allowed = gate.may(black_box(principal), Action::Approve, black_box(now)).is_ok();
                    assert_eq!(allowed, expected);
                    black_box(allowed)
                })
            });
        }
    }
    group.finish();
}

/// Five overlapping rules, each needing more than 100 approvals can give, so
/// the gate still waits after 100 decisions and every one needs assigning.
fn five_rules() -> Policy {
    let rules = (0..5).map(|r| {
        Rule::new(30, [Approver::Group(format!("g{r}")), Approver::Group(format!("g{}", (r + 1) % 5))])
            .named(format!("rule {r}"))
    });
    Policy::new(PolicySpec::new(rules)).unwrap()
}

fn hundred_decisions() -> Vec<Event> {
    let (mut gate, mut events) = open(five_rules());
    for i in 0..100 {
        let who = Principal::user(format!("u{i}")).unwrap().with_groups([format!("g{}", i % 5)]);
        let new = gate.decide(&Command::Approve(Approve::by(who)), at(i + 1)).unwrap();
        for event in &new {
            gate.evolve(event);
        }
        events.extend(new);
    }
    assert!(gate.is_waiting());
    events
}

fn status_after_decisions(c: &mut Criterion) {
    let events = hundred_decisions();
    let gate = Gate::replay(&events).unwrap();
    c.bench_function("gate status from 100 recorded decisions, 5 rules", |b| {
        b.iter(|| {
            let gate = black_box(&gate);
            black_box((gate.status(), gate.remaining()))
        })
    });
    c.bench_function("gate explained from 100 recorded decisions, 5 rules (assignment of every approval)", |b| {
        b.iter(|| black_box(black_box(&gate).explain()))
    });
    c.bench_function("gate rebuilt from 100 recorded decisions, 5 rules", |b| {
        b.iter(|| black_box(Gate::replay(black_box(&events)).unwrap().remaining()))
    });
}

fn decide_and_evolve(c: &mut Criterion) {
    let policy = Policy::new(PolicySpec::new([Rule::new(2, [Approver::Group("sre".into())])])).unwrap();
    let (_, fresh) = open(policy);
    let ann = Command::Approve(Approve::by(Principal::user("ann").unwrap().with_groups(["sre"])));
    // The 101st decision on the gate of the status bench: the executor,
    // vote and eligibility checks, the look-ahead for quorum and one
    // augmenting path all run against 100 approvals.
    let busy = hundred_decisions();
    let late = Command::Approve(Approve::by(Principal::user("late").unwrap().with_groups(["g0"])));
    for (name, events, command) in [
        ("decide + evolve of one approval", &fresh, &ann),
        ("decide + evolve of one approval, after 100 decisions, 5 rules", &busy, &late),
    ] {
        let now = at(1_000);
        c.bench_function(name, |b| {
            b.iter_batched_ref(
                // The gate as the service holds it: replayed from its events.
                || Gate::replay(events).unwrap(),
                |gate| {
                    for event in gate.decide(black_box(command), black_box(now)).unwrap() {
                        gate.evolve(&event);
                    }
                },
                BatchSize::SmallInput,
            )
        });
    }
}

fn replay_million(c: &mut Criterion) {
    // 200,000 gates of 5 events each: opened, three approvals, ended.
    let policy = Policy::new(PolicySpec::new([Rule::new(3, [Approver::Group("sre".into())])])).unwrap();
    let (template, opened) = open(policy);
    let mut gate = template;
    let mut stream = opened;
    for name in ["ann", "bob", "cy"] {
        let who = Principal::user(name).unwrap().with_groups(["sre"]);
        let new = gate.decide(&Command::Approve(Approve::by(who)), at(1)).unwrap();
        for event in &new {
            gate.evolve(event);
        }
        stream.extend(new);
    }
    assert_eq!(stream.len(), 5);
    let streams: Vec<Vec<Event>> = vec![stream; 200_000];
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.bench_function("1,000,000 events from memory", |b| {
        b.iter(|| {
            let mut approved = 0usize;
            for stream in black_box(&streams) {
                approved += usize::from(!Gate::replay(stream).unwrap().is_waiting());
            }
            black_box(approved)
        })
    });
    group.finish();
}

const HARNESS: &str = r#"{"harness": {"type": "HarnessApproval", "name": "Approve", "identifier": "approve", "timeout": "1d",
  "spec": {"approvalMessage": "Please review", "includePipelineExecutionHistory": true,
    "approvers": {"userGroups": ["docs", "account.sre"], "minimumCount": 2, "disallowPipelineExecutor": true},
    "approverInputs": [{"name": "ticket", "defaultValue": "", "regex": "CHG-[0-9]+"}, {"name": "region", "defaultValue": "eu", "allowedValues": "eu,us"}],
    "isAutoRejectEnabled": true}}}"#;
const GITLAB: &str = r#"{"gitlab": {"name": "production", "deploy_access_levels": [{"access_level": 40}], "required_approval_count": 0,
  "approval_rules": [{"group_id": 9899826, "access_level_description": "qa-group", "required_approvals": 2},
                     {"access_level": 40, "access_level_description": "Maintainers", "required_approvals": 1}]}}"#;
const OCTOPUS: &str = r#"{"octopus": {"Name": "Approve production", "ActionType": "Octopus.Manual", "Environments": ["Production"],
  "Properties": {"Octopus.Action.Manual.Instructions": "Check the release notes",
    "Octopus.Action.Manual.ResponsibleTeamIds": "teams-managers,teams-admins",
    "Octopus.Action.Manual.BlockConcurrentDeployments": "True"}}}"#;
const NATIVE: &str = r#"{"native": {"name": "production", "rules": [
    {"name": "sre", "required": 2, "approvers": [{"group": "sre"}]},
    {"name": "security", "required": 1, "approvers": [{"user": "sec-lead"}, {"group": "security"}]}],
  "inputs": [{"name": "ticket", "required": true, "constraint": {"pattern": "CHG-[0-9]+"}}],
  "timeout": {"after": "1d"}}}"#;

fn policy_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load and validate a policy from JSON");
    for (format, json) in [("harness", HARNESS), ("gitlab", GITLAB), ("octopus", OCTOPUS), ("native", NATIVE)] {
        group.bench_function(format, |b| {
            b.iter(|| {
                let document: PolicyDocument = serde_json::from_str(black_box(json)).unwrap();
                black_box(document.into_policy().unwrap())
            })
        });
    }
    group.finish();
}

fn scenario_end_to_end(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scenarios/harness/auto-reject-rejects-older-waiting-runs-on-each-approval.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    c.bench_function("scenario file end to end (parse, import, run)", |b| {
        b.iter(|| {
            let scenario: Scenario<PolicyDocument> = serde_json::from_str(black_box(&text)).unwrap();
            let policy = scenario.policy.clone().into_policy();
            black_box(scenario::run(&scenario, policy).passed())
        })
    });
}

/// The hostile patterns of the budget row "worst approver-input pattern
/// check on a 64 KiB value" (under 5 ms). `(.*.*.*.*.*.*.*.*.*.*){90}` is
/// 900 Java dots, each a UTF-8 automaton for "any character but a line
/// terminator": it compiles past `Pattern::MAX_COMPILED_BYTES` and is
/// refused when the policy loads, so only the other one is ever checked.
fn hostile_pattern(c: &mut Criterion) {
    assert!(matches!(Pattern::new("(.*.*.*.*.*.*.*.*.*.*){90}"), Err(PatternError::TooLarge { .. })));
    let pattern = Pattern::new(r"(\w*\d*\s*.?){400}").unwrap();
    // 400 runs of word characters, each closed by ` -` (`\s*` then `.?`):
    // every one of the 400 repetitions is needed to reach the end.
    let words = 64 * 1024 - 400 * 2;
    let mut matching = String::with_capacity(64 * 1024);
    for run in 0..400 {
        let extra = if run == 0 { words % 400 } else { 0 };
        matching.push_str(&"x".repeat(words / 400 + extra));
        matching.push_str(" -");
    }
    // The same up to the last character, which nothing in the pattern
    // accepts (U+2028 is no ASCII class and no Java `.`): the automaton
    // reads the whole value and fails.
    let mut failing = matching.clone();
    failing.truncate(64 * 1024 - '\u{2028}'.len_utf8());
    failing.push('\u{2028}');
    assert_eq!((matching.len(), failing.len()), (64 * 1024, 64 * 1024));
    assert!(pattern.is_match(&matching) && !pattern.is_match(&failing));
    let mut group = c.benchmark_group("worst approver-input pattern check on a 64 KiB value");
    for (name, value) in
        [("(\\w*\\d*\\s*.?){400}, matching", &matching), ("(\\w*\\d*\\s*.?){400}, failing at the end", &failing)]
    {
        group.bench_function(name, |b| b.iter(|| black_box(pattern.is_match(black_box(value)))));
    }
    group.finish();
}

criterion_group!(
    budgets,
    eligibility,
    status_after_decisions,
    decide_and_evolve,
    replay_million,
    policy_load,
    scenario_end_to_end,
    hostile_pattern
);
criterion_main!(budgets);
