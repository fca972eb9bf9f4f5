//! Shared by `tests/properties.rs` and `tests/oracle.rs`: the proptest
//! generators (a small directory, valid policies, timed command sequences over
//! one to three gates), a driver that runs a scenario through
//! `Gate::open` / `Gate::decide` / `Gate::evolve` and hands every step to a
//! check, and the naive pieces of the oracle that both files need (who
//! matches which rule, who is disallowed, and a brute-force search over every
//! assignment of approvals to rules).
//!
//! Nothing here calls an engine internal: only the crate's public types and
//! functions, and the naive functions are written from the semantics, not
//! from the engine's code.
//!
//! Case count: every property runs `APPROVAL_GATE_PROPTEST_CASES` cases when
//! that environment variable is set (a whole number), else [`DEFAULT_CASES`].
#![allow(dead_code, reason = "each test file uses a different part")]

use approval_gate::policy::{
    AdminRule, Approver, AutoApproval, Constraint, Counting, Disallowed, ExecutorRule, Input, InputMode, Pattern,
    Policy, PolicySpec, Responsibility, Revote, Rule, RuleNaming, Schedule, Span, Timeout, TimeoutOutcome,
};
use approval_gate::{Approve, Command, Event, Gate, GateError, GateId, Principal, Run};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeSet;
use std::fmt;

/// Cases per property when `APPROVAL_GATE_PROPTEST_CASES` is not set. With
/// the properties of both files this gives well over 10,000 cases per
/// `cargo test`.
pub(crate) const DEFAULT_CASES: u32 = 1000;

/// The case count: `APPROVAL_GATE_PROPTEST_CASES`, else [`DEFAULT_CASES`].
pub(crate) fn cases() -> u32 {
    match std::env::var("APPROVAL_GATE_PROPTEST_CASES") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("APPROVAL_GATE_PROPTEST_CASES must be a whole number, not {text:?}")),
        Err(_) => DEFAULT_CASES,
    }
}

/// The proptest configuration of every property: [`cases`] cases, and no
/// regression files written into the source tree (the shrunk input is in
/// the failure message).
pub(crate) fn config() -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases()) }
}

/// [`config`], with at least `floor` cases: for a property whose promise
/// names its case count.
pub(crate) fn config_at_least(floor: u32) -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases().max(floor)) }
}

/// The input values an approval would give to fit every input of `spec`,
/// one fitting value each (the form pre-filled with valid values); `None`
/// when some input has no fitting value among [`VALUES`].
pub(crate) fn fitting_inputs(spec: &PolicySpec) -> Option<Vec<(String, &'static str)>> {
    spec.inputs
        .iter()
        .map(|input| VALUES.iter().copied().find(|v| naive::input_fits(input, v)).map(|v| (input.name.clone(), v)))
        .collect()
}

/// 2026-11-22 09:00 UTC, the first instant of every scenario.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single().expect("a valid instant")
}

pub(crate) fn minutes(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

/// `now` as minutes after [`t0`], for messages.
pub(crate) fn clock(now: DateTime<Utc>) -> String {
    let delta = now - t0();
    let ms = delta.num_milliseconds();
    if ms % 60_000 == 0 { format!("t+{}m", ms / 60_000) } else { format!("t+{}ms", ms) }
}

// ---------------------------------------------------------------------------
// The directory
// ---------------------------------------------------------------------------

/// Users `u0`..`u5`, service accounts `s0`, `s1`, an administrator `adm` and
/// an outsider `x`, with generated groups, access levels and e-mails.
pub(crate) const USERS: usize = 6;
pub(crate) const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];
pub(crate) const LEVELS: [u16; 4] = [20, 30, 40, 60];

fn email_of(id: &str, variant: u8) -> String {
    match variant % 3 {
        0 => format!("{id}@example.com"),
        1 => format!("{}@Example.COM", id.to_uppercase()),
        _ => format!("{id}@EXAMPLE.com"),
    }
}

#[derive(Debug, Clone)]
struct Person {
    groups: u8,
    level: Option<u16>,
    email: Option<u8>,
    admin: bool,
}

fn person(admin_weight: u32) -> impl Strategy<Value = Person> {
    let group_bits = prop::collection::vec(prop::bool::weighted(0.35), GROUPS.len())
        .prop_map(|bits| bits.iter().enumerate().fold(0u8, |acc, (i, b)| if *b { acc | 1 << i } else { acc }));
    (
        group_bits,
        prop::option::weighted(0.6, prop::sample::select(LEVELS.to_vec())),
        prop::option::weighted(0.7, 0u8..3),
        prop::bool::weighted(f64::from(admin_weight) / 100.0),
    )
        .prop_map(|(groups, level, email, admin)| Person { groups, level, email, admin })
}

fn build_user(id: &str, p: &Person) -> Principal {
    let mut user = Principal::user(id)
        .expect("valid id")
        .with_groups(GROUPS.iter().enumerate().filter(|(i, _)| p.groups & (1 << i) != 0).map(|(_, g)| *g));
    if let Some(level) = p.level {
        user = user.with_access_level(level);
    }
    if let Some(variant) = p.email {
        user = user.with_email(email_of(id, variant));
    }
    if p.admin {
        user = user.as_admin();
    }
    user
}

/// The directory: who each principal is, as the host describes them. In the
/// main generators service accounts have no groups or access level (the
/// documented contract that a service account matches only entries naming it
/// is checked by a property of its own).
pub(crate) fn directory() -> impl Strategy<Value = Vec<Principal>> {
    (
        prop::collection::vec(person(8), USERS),
        prop::collection::vec(prop::option::weighted(0.5, 0u8..3), 2),
        person(0),
        prop::option::of(0u8..3),
    )
        .prop_map(|(users, sa_emails, admin, outsider_email)| {
            let mut people: Vec<Principal> =
                users.iter().enumerate().map(|(i, p)| build_user(&format!("u{i}"), p)).collect();
            for (i, email) in sa_emails.iter().enumerate() {
                let id = format!("s{i}");
                let mut sa = Principal::service_account(&id).expect("valid id");
                if let Some(variant) = email {
                    sa = sa.with_email(email_of(&id, *variant));
                }
                people.push(sa);
            }
            people.push(build_user("adm", &Person { admin: true, ..admin }));
            let mut outsider = Principal::user("x").expect("valid id");
            if let Some(variant) = outsider_email {
                outsider = outsider.with_email(email_of("x", variant));
            }
            people.push(outsider);
            people
        })
}

// ---------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------

pub(crate) const RULE_NAMES: [&str; 5] = ["sre", "sre-prod", "sec", "ops", "prod-ops"];
/// What an approval may give as `represented_as`: every rule name, the
/// default names of unnamed rules, substrings for `contains`, and nonsense.
pub(crate) const REPRESENTED_AS: [&str; 10] =
    ["sre", "sre-prod", "sec", "ops", "prod-ops", "rule 1", "rule 2", "prod", "rule", "nope"];
pub(crate) const INPUT_NAMES: [&str; 3] = ["ticket", "env", "bogus"];
pub(crate) const VALUES: [&str; 11] = ["", " ", "CHG-1", "CHG-", "abc", "Abc", "yes", "no", "prod", "yes, no", "yes,"];
pub(crate) const PATTERNS: [&str; 3] = ["CHG-[0-9]+", "[a-z]+", "(yes|no)"];

fn approver() -> impl Strategy<Value = Approver> {
    prop_oneof![
        4 => (0..USERS).prop_map(|i| Approver::User(format!("u{i}"))),
        5 => (0..GROUPS.len()).prop_map(|i| Approver::Group(GROUPS[i].to_owned())),
        2 => (0..2usize).prop_map(|i| Approver::ServiceAccount(format!("s{i}"))),
        2 => prop::sample::select(LEVELS.to_vec()).prop_map(Approver::MinAccessLevel),
        1 => Just(Approver::Anyone),
        // A user entry naming a service account's id, and the reverse.
        1 => Just(Approver::User("s0".to_owned())),
        1 => Just(Approver::ServiceAccount("u1".to_owned())),
    ]
}

/// One rule, valid: a rule that names only individual principals requires
/// no more approvals than it names.
fn rule_body() -> impl Strategy<Value = (u32, Vec<Approver>)> {
    let required = prop_oneof![10 => Just(1u32), 7 => Just(2), 3 => Just(3)];
    (required, prop::collection::vec(approver(), 1..=3)).prop_map(|(required, approvers)| {
        let named: Option<BTreeSet<&str>> = approvers
            .iter()
            .map(|a| match a {
                Approver::User(id) | Approver::ServiceAccount(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        let required = match named {
            Some(named) => required.min(u32::try_from(named.len()).expect("small")),
            None => required,
        };
        (required, approvers)
    })
}

fn rules(max_rules: usize) -> impl Strategy<Value = Vec<Rule>> {
    (1..=max_rules).prop_flat_map(|n| {
        (
            prop::collection::vec(rule_body(), n),
            prop::collection::vec(prop::bool::weighted(0.7), n),
            Just(RULE_NAMES.to_vec()).prop_shuffle(),
        )
            .prop_map(|(bodies, named, names)| {
                bodies
                    .into_iter()
                    .zip(named)
                    .zip(names)
                    .map(|(((required, approvers), named), name)| {
                        let rule = Rule::new(required, approvers);
                        if named { rule.named(name) } else { rule }
                    })
                    .collect()
            })
    })
}

fn input() -> impl Strategy<Value = (usize, bool, Option<(u8, Vec<usize>)>)> {
    (
        0..VALUES.len(),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.6, (0u8..4, prop::sample::subsequence((0..VALUES.len()).collect::<Vec<_>>(), 1..=4))),
    )
}

fn build_input(name: &str, (default, required, constraint): (usize, bool, Option<(u8, Vec<usize>)>)) -> Input {
    let mut input = Input::new(name).with_default(VALUES[default]);
    if required {
        input = input.required();
    }
    match constraint {
        None => input,
        Some((0, values)) => input.constrained(Constraint::AllowedValues(values_of(&values))),
        Some((1, values)) => input.constrained(Constraint::SelectOneFrom(values_of(&values))),
        Some((2, values)) => {
            // A multi-select lists no value a part could never equal.
            let mut listed: Vec<String> =
                values_of(&values).into_iter().filter(|v| !v.contains(',') && v.trim() == v.as_str()).collect();
            if listed.is_empty() {
                listed.push("yes".to_owned());
            }
            input.constrained(Constraint::MultiSelect(listed))
        }
        Some((_, values)) => {
            let source = PATTERNS[values[0] % PATTERNS.len()];
            input.constrained(Constraint::Pattern(Pattern::new(source).expect("fixed patterns parse")))
        }
    }
}

fn values_of(indices: &[usize]) -> Vec<String> {
    indices.iter().map(|i| VALUES[*i].to_owned()).collect()
}

#[derive(Debug, Clone)]
enum AutoPick {
    At(i64),
    After(i64),
    /// After the timeout's span, or 60 minutes: a tie with the timeout.
    WithTimeout,
}

/// A valid policy of 1 to `max_rules` rules with every setting the engine
/// models varied.
pub(crate) fn policy(max_rules: usize) -> impl Strategy<Value = Policy> {
    let settings = (
        prop_oneof![Just(Counting::OncePerGate), Just(Counting::OncePerRule)],
        prop_oneof![Just(RuleNaming::Exact), Just(RuleNaming::Contains)],
        prop_oneof![Just(ExecutorRule::MayNotApprove), Just(ExecutorRule::MayAct), Just(ExecutorRule::MayNotAct)],
        prop_oneof![Just(AdminRule::Ordinary), Just(AdminRule::MatchEveryRule)],
        prop_oneof![Just(Revote::Never), Just(Revote::WhileWaiting)],
        prop_oneof![3 => Just(Responsibility::Informational), 1 => Just(Responsibility::RequiredToAct)],
    );
    let disallowed = prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(vec!["u0", "u1", "u2", "u3", "u4", "u5", "s0", "s1", "adm", "x"])
                .prop_map(|id| Disallowed::Principal(id.to_owned())),
            3 => (prop::sample::select(vec!["u0", "u1", "u2", "u3", "u4", "u5", "s1", "adm", "x"]), 0u8..3)
                .prop_map(|(id, variant)| Disallowed::Email(email_of(id, variant))),
            1 => Just(Disallowed::Email("nobody@example.com".to_owned())),
        ],
        0..=2,
    );
    let inputs =
        (prop::collection::vec(input(), 0..=2), prop_oneof![Just(InputMode::DefaultsFill), Just(InputMode::Exact)]);
    let timing = (
        prop::option::weighted(
            0.5,
            (
                30..=480i64,
                prop_oneof![Just(TimeoutOutcome::Expire), Just(TimeoutOutcome::Reject), Just(TimeoutOutcome::Approve)],
            ),
        ),
        prop::option::weighted(
            0.3,
            (
                prop_oneof![
                    (-30..=300i64).prop_map(AutoPick::At),
                    (30..=600i64).prop_map(AutoPick::After),
                    Just(AutoPick::WithTimeout),
                ],
                prop::bool::ANY,
                prop::option::weighted(0.3, 5..=30i64),
            ),
        ),
        prop::option::weighted(0.3, 1..=12usize),
    );
    (rules(max_rules), settings, disallowed, inputs, timing).prop_map(
        |(
            rules,
            (counting, naming, executor, admins, revote, responsibility),
            disallowed,
            (inputs, input_mode),
            timing,
        )| {
            let (timeout, auto, max_comment) = timing;
            let mut spec = PolicySpec::new(rules);
            spec.counting = counting;
            spec.represented_as = naming;
            spec.executor = executor;
            spec.admins = admins;
            spec.revote = revote;
            spec.responsibility = responsibility;
            spec.disallowed = disallowed;
            spec.inputs = inputs.into_iter().zip(INPUT_NAMES).map(|(input, name)| build_input(name, input)).collect();
            spec.input_mode = input_mode;
            spec.timeout = timeout.map(|(m, outcome)| Timeout::new(span_minutes(m), outcome));
            spec.auto_approval = auto.map(|(at, comment, lead)| {
                let schedule = match at {
                    AutoPick::At(m) => Schedule::At(t0() + minutes(m)),
                    AutoPick::After(m) => Schedule::After(span_minutes(m)),
                    AutoPick::WithTimeout => {
                        Schedule::After(timeout.map_or(span_minutes(60), |(m, _)| span_minutes(m)))
                    }
                };
                let mut auto = AutoApproval::new(schedule);
                auto.comment = comment.then(|| "nobody objected".to_owned());
                auto.min_lead = lead.map(span_minutes);
                auto
            });
            if let Some(limit) = max_comment {
                spec.max_comment_bytes = limit;
            }
            Policy::new(spec).expect("the generator makes only valid policies")
        },
    )
}

pub(crate) fn span_minutes(m: i64) -> Span {
    Span::from_millis(m * 60_000).expect("positive span")
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// Comments and reasons: none, empty, short, medium and over every small
/// limit.
pub(crate) const COMMENTS: [&str; 4] = ["", "ok", "looks good", "a comment of more than twelve bytes for sure"];

/// Who acts: any principal of the directory, the n-th (cyclically) of
/// those that match some rule of the gate's policy (naive matching; the
/// executor and disallowed principals included), or the gate's executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actor {
    Dir(usize),
    Eligible(usize),
    Executor,
}

/// An approval's inputs: these names and values, or values chosen to fit
/// the policy's declared inputs (the n-th fitting value of each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inputs {
    Given(Vec<(usize, usize)>),
    Fitting(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Open,
    Approve { by: Actor, comment: Option<usize>, inputs: Inputs, represented_as: Option<usize> },
    Reject { by: Actor, comment: Option<usize> },
    Assign { to: Actor },
    Cancel { by: Option<Actor>, reason: Option<usize> },
    Tick,
}

/// How time moves before a step: forward by some minutes (0 is "at the same
/// instant"), or a one-off glitch this many minutes before the clock (the
/// clock itself does not move back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dt {
    Forward(i64),
    Glitch(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) gate: usize,
    pub(crate) dt: Dt,
    pub(crate) op: Op,
}

/// The number of principals in [`directory`].
pub(crate) const PEOPLE: usize = USERS + 4;

fn actor() -> impl Strategy<Value = Actor> {
    prop_oneof![
        6 => (0..PEOPLE).prop_map(Actor::Eligible),
        3 => (0..PEOPLE).prop_map(Actor::Dir),
        1 => Just(Actor::Executor),
    ]
}

fn comment() -> impl Strategy<Value = Option<usize>> {
    prop::option::weighted(0.4, 0..COMMENTS.len())
}

fn op() -> impl Strategy<Value = Op> {
    let given = prop::collection::vec((0..INPUT_NAMES.len(), 0..VALUES.len()), 0..=2).prop_map(|mut v| {
        // `bogus` is declared by no policy: keep it rare.
        v.retain(|(name, value)| *name != 2 || value % 4 == 0);
        Inputs::Given(v)
    });
    let inputs = prop_oneof![2 => given, 3 => (0..VALUES.len()).prop_map(Inputs::Fitting)];
    prop_oneof![
        60 => (actor(), comment(), inputs, prop::option::weighted(0.3, 0..REPRESENTED_AS.len())).prop_map(
            |(by, comment, inputs, represented_as)| Op::Approve { by, comment, inputs, represented_as }
        ),
        4 => (actor(), comment()).prop_map(|(by, comment)| Op::Reject { by, comment }),
        4 => actor().prop_map(|to| Op::Assign { to }),
        2 => (prop::option::of(actor()), comment()).prop_map(|(by, reason)| Op::Cancel { by, reason }),
        8 => Just(Op::Tick),
        1 => Just(Op::Open),
    ]
}

fn dt() -> impl Strategy<Value = Dt> {
    prop_oneof![
        4 => Just(Dt::Forward(0)),
        12 => (1..=15i64).prop_map(Dt::Forward),
        1 => (30..=240i64).prop_map(Dt::Forward),
        1 => (1..=20i64).prop_map(Dt::Glitch),
    ]
}

/// One gate of a scenario: its id, the policy it opens under, and the
/// directory index of its run's executor.
#[derive(Clone)]
pub(crate) struct GateSetup {
    pub(crate) id: GateId,
    pub(crate) policy: Policy,
    pub(crate) executor: usize,
}

/// A generated scenario: a directory, one to three gates, and timed steps.
/// Each gate is opened right before its first step.
#[derive(Clone)]
pub(crate) struct Scenario {
    pub(crate) directory: Vec<Principal>,
    pub(crate) gates: Vec<GateSetup>,
    pub(crate) steps: Vec<Step>,
}

/// What scenarios to make.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) max_gates: usize,
    pub(crate) max_rules: usize,
    pub(crate) max_steps: usize,
    /// Whether time may glitch backwards.
    pub(crate) glitches: bool,
}

impl Shape {
    /// Up to three gates, five rules, thirty steps, glitches included.
    pub(crate) const FULL: Shape = Shape { max_gates: 3, max_rules: 5, max_steps: 30, glitches: true };
    /// The sizes the brute-force oracle is meant for: up to four rules.
    pub(crate) const ORACLE: Shape = Shape { max_gates: 3, max_rules: 4, max_steps: 30, glitches: true };
}

pub(crate) fn scenario(shape: Shape) -> impl Strategy<Value = Scenario> {
    // No `prop_flat_map`: every part shrinks on its own, so counterexamples
    // come out short. A step's gate index is taken modulo the gate count.
    let gates = prop::collection::vec((policy(shape.max_rules), 0..PEOPLE), 1..=shape.max_gates);
    let steps = prop::collection::vec((0..shape.max_gates, dt(), op()), 1..=shape.max_steps);
    (directory(), gates, steps).prop_map(move |(directory, gates, steps)| {
        let n = gates.len();
        let steps = steps
            .into_iter()
            .map(|(gate, dt, op)| {
                let dt = match dt {
                    Dt::Glitch(_) if !shape.glitches => Dt::Forward(0),
                    other => other,
                };
                Step { gate: gate % n, dt, op }
            })
            .collect();
        let gates = gates
            .into_iter()
            .enumerate()
            .map(|(i, (policy, executor))| GateSetup {
                id: GateId::new(format!("g{i}")).expect("valid id"),
                policy,
                executor,
            })
            .collect();
        Scenario { directory, gates, steps: with_opens(steps) }
    })
}

/// Puts an `Open` right before each gate's first step.
fn with_opens(steps: Vec<Step>) -> Vec<Step> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(steps.len() + 3);
    for step in steps {
        if seen.insert(step.gate) && step.op != Op::Open {
            out.push(Step { gate: step.gate, dt: Dt::Forward(0), op: Op::Open });
        }
        out.push(step);
    }
    out
}

impl Scenario {
    /// The instant of each step.
    pub(crate) fn times(&self) -> Vec<DateTime<Utc>> {
        let mut clock = t0();
        self.steps
            .iter()
            .map(|step| match step.dt {
                Dt::Forward(m) => {
                    clock += minutes(m);
                    clock
                }
                Dt::Glitch(m) => clock - minutes(m),
            })
            .collect()
    }

    pub(crate) fn actor(&self, gate: usize, actor: Actor) -> &Principal {
        match actor {
            Actor::Dir(i) => &self.directory[i],
            Actor::Eligible(n) => {
                let spec = self.gates[gate].policy.spec();
                let eligible: Vec<&Principal> =
                    self.directory.iter().filter(|p| !naive::matching(spec, p).is_empty()).collect();
                if eligible.is_empty() {
                    &self.directory[n % self.directory.len()]
                } else {
                    eligible[n % eligible.len()]
                }
            }
            Actor::Executor => &self.directory[self.gates[gate].executor],
        }
    }

    pub(crate) fn executor(&self, gate: usize) -> &Principal {
        &self.directory[self.gates[gate].executor]
    }

    pub(crate) fn run(&self, gate: usize) -> Run {
        Run::new(self.executor(gate).id().clone())
    }

    /// The engine command of a step (`None` for `Open`).
    pub(crate) fn command(&self, step: &Step) -> Option<Command> {
        let g = step.gate;
        Some(match &step.op {
            Op::Open => return None,
            Op::Approve { by, comment, inputs, represented_as } => {
                let mut approve = Approve::by(self.actor(g, *by).clone());
                if let Some(c) = comment {
                    approve = approve.comment(COMMENTS[*c]);
                }
                match inputs {
                    Inputs::Given(given) => {
                        for (name, value) in given {
                            approve = approve.input(INPUT_NAMES[*name], VALUES[*value]);
                        }
                    }
                    Inputs::Fitting(n) => {
                        for (i, input) in self.gates[g].policy.spec().inputs.iter().enumerate() {
                            let fitting: Vec<&str> =
                                VALUES.iter().copied().filter(|v| naive::input_fits(input, v)).collect();
                            if !fitting.is_empty() {
                                approve = approve.input(input.name.clone(), fitting[(n + i) % fitting.len()]);
                            }
                        }
                    }
                }
                if let Some(r) = represented_as {
                    approve = approve.represented_as(REPRESENTED_AS[*r]);
                }
                Command::Approve(approve)
            }
            Op::Reject { by, comment } => {
                Command::Reject { by: self.actor(g, *by).clone(), comment: comment.map(|c| COMMENTS[c].to_owned()) }
            }
            Op::Assign { to } => Command::Assign { to: self.actor(g, *to).clone() },
            Op::Cancel { by, reason } => Command::Cancel {
                by: by.map(|a| self.actor(g, a).clone()),
                reason: reason.map(|c| COMMENTS[c].to_owned()),
            },
            Op::Tick => Command::Tick,
        })
    }

    /// A step in words, for failure messages.
    pub(crate) fn describe(&self, index: usize, now: DateTime<Utc>) -> String {
        let step = &self.steps[index];
        let g = step.gate;
        let text = |c: &Option<String>| c.as_ref().map_or(String::new(), |c| format!(" {c:?}"));
        let what = match self.command(step) {
            None => format!("open (executor {})", self.executor(g).id()),
            Some(Command::Approve(a)) => {
                let mut s = format!("approve by {}", a.by.id());
                if let Some(r) = &a.represented_as {
                    s.push_str(&format!(" as {r:?}"));
                }
                for (name, value) in &a.inputs {
                    s.push_str(&format!(" {name}={value:?}"));
                }
                s.push_str(&text(&a.comment));
                s
            }
            Some(Command::Reject { by, comment }) => format!("reject by {}{}", by.id(), text(&comment)),
            Some(Command::Assign { to }) => format!("assign to {}", to.id()),
            Some(Command::Cancel { by, reason }) => {
                format!("cancel by {}{}", by.map_or("nobody".to_owned(), |p| p.id().to_string()), text(&reason))
            }
            Some(Command::Tick) => "tick".to_owned(),
            Some(other) => format!("{other:?}"),
        };
        format!("step {index} at {}: gate {} {what}", clock(now), self.gates[g].id)
    }
}

/// A principal as one short line.
pub(crate) fn principal_line(p: &Principal) -> String {
    let mut s = p.id().to_string();
    if p.kind() == approval_gate::PrincipalKind::ServiceAccount {
        s.push_str(" (service account)");
    }
    if !p.groups().is_empty() {
        s.push_str(&format!(" groups={:?}", p.groups()));
    }
    if let Some(level) = p.access_level() {
        s.push_str(&format!(" level={level}"));
    }
    if let Some(email) = p.email() {
        s.push_str(&format!(" email={email}"));
    }
    if p.is_admin() {
        s.push_str(" admin");
    }
    s
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Scenario {{")?;
        writeln!(f, "  directory:")?;
        for p in &self.directory {
            writeln!(f, "    {}", principal_line(p))?;
        }
        // Only the gates some step is for (shrinking may leave others).
        let used: BTreeSet<usize> = self.steps.iter().map(|step| step.gate).collect();
        for g in used.iter().map(|i| &self.gates[*i]) {
            let policy = serde_json::to_string(&g.policy).map_err(|_| fmt::Error)?;
            writeln!(f, "  gate {} executor {}: {policy}", g.id, self.directory[g.executor].id())?;
        }
        let times = self.times();
        for (i, now) in times.iter().enumerate() {
            writeln!(f, "  {}", self.describe(i, *now))?;
        }
        write!(f, "}}")
    }
}

impl fmt::Debug for GateSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = serde_json::to_string(&self.policy).map_err(|_| fmt::Error)?;
        write!(f, "gate {} executor #{}: {policy}", self.id, self.executor)
    }
}

// ---------------------------------------------------------------------------
// The driver: Gate::open / decide / evolve, a check after every step
// ---------------------------------------------------------------------------

/// A gate the driver holds: the live state and every event it applied.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) gate: Gate,
    pub(crate) events: Vec<Event>,
}

/// What a step did.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// `Gate::open` answered (the gate was not open yet).
    Opened(Result<Vec<Event>, GateError>),
    /// An `Open` of a gate that is already open: the engine has no such
    /// refusal, the host does (`duplicate_gate`); nothing is called.
    AlreadyOpen,
    /// A command for a gate that never opened: nothing is called.
    NotOpen,
    /// `Gate::decide` answered.
    Decided(Result<Vec<Event>, GateError>),
}

/// One step as a check sees it.
#[derive(Debug)]
pub(crate) struct View<'a> {
    pub(crate) scenario: &'a Scenario,
    pub(crate) index: usize,
    pub(crate) now: DateTime<Utc>,
    pub(crate) step: &'a Step,
    pub(crate) command: Option<&'a Command>,
    pub(crate) before: Option<&'a Gate>,
    pub(crate) outcome: &'a Outcome,
    /// The gate the step was for, after the step.
    pub(crate) after: Option<&'a Held>,
    /// Every gate, after the step.
    pub(crate) all: &'a [Option<Held>],
}

impl View<'_> {
    /// The step in words.
    pub(crate) fn what(&self) -> String {
        self.scenario.describe(self.index, self.now)
    }

    /// A failure naming the step, the difference and the gate.
    pub(crate) fn fail(&self, difference: impl fmt::Display) -> TestCaseError {
        let state = self.after.map_or("(not open)".to_owned(), |held| held.gate.explain().to_string());
        TestCaseError::fail(format!(
            "{}: {difference}\n  outcome: {:?}\n  gate after:\n{state}",
            self.what(),
            self.outcome_text()
        ))
    }

    pub(crate) fn outcome_text(&self) -> String {
        match self.outcome {
            Outcome::Opened(Ok(events)) | Outcome::Decided(Ok(events)) => {
                format!("accepted: [{}]", events.iter().map(Event::name).collect::<Vec<_>>().join(", "))
            }
            Outcome::Opened(Err(e)) | Outcome::Decided(Err(e)) => format!("refused {}: {e}", e.kind()),
            Outcome::AlreadyOpen => "already open".to_owned(),
            Outcome::NotOpen => "not open".to_owned(),
        }
    }
}

/// Runs `scenario` through the engine, calling `check` after every step.
/// Returns every gate's final state.
pub(crate) fn drive(
    scenario: &Scenario,
    mut check: impl FnMut(&View<'_>) -> Result<(), TestCaseError>,
) -> Result<Vec<Option<Held>>, TestCaseError> {
    let mut held: Vec<Option<Held>> = vec![None; scenario.gates.len()];
    let times = scenario.times();
    for (index, step) in scenario.steps.iter().enumerate() {
        let now = times[index];
        let g = step.gate;
        let command = scenario.command(step);
        let before = held[g].as_ref().map(|h| h.gate.clone());
        let outcome = match (&step.op, &mut held[g]) {
            (Op::Open, Some(_)) => Outcome::AlreadyOpen,
            (Op::Open, slot @ None) => {
                let setup = &scenario.gates[g];
                let result = Gate::open(setup.id.clone(), setup.policy.clone(), scenario.run(g), now);
                if let Ok(events) = &result {
                    let gate = Gate::replay(events).map_err(|e| TestCaseError::fail(format!("replay of open: {e}")))?;
                    *slot = Some(Held { gate, events: events.clone() });
                }
                Outcome::Opened(result)
            }
            (_, None) => Outcome::NotOpen,
            (_, Some(h)) => {
                let command = command.as_ref().expect("not an open");
                let result = h.gate.decide(command, now);
                if let Ok(events) = &result {
                    for event in events {
                        h.gate.evolve(event);
                        h.events.push(event.clone());
                    }
                }
                Outcome::Decided(result)
            }
        };
        let view = View {
            scenario,
            index,
            now,
            step,
            command: command.as_ref(),
            before: before.as_ref(),
            outcome: &outcome,
            after: held[g].as_ref(),
            all: &held,
        };
        check(&view)?;
    }
    Ok(held)
}

// ---------------------------------------------------------------------------
// The naive pieces of the oracle, written from the semantics
// ---------------------------------------------------------------------------

pub(crate) mod naive {
    use approval_gate::policy::{AdminRule, Approver, Constraint, Disallowed, Input, PolicySpec};
    use approval_gate::{Principal, PrincipalKind};
    use std::collections::BTreeSet;

    /// Whether `p` matches one approver entry: a user entry names a user, a
    /// service-account entry names a service account, a group holds its
    /// members, an access level every principal at or above it, `anyone`
    /// everyone. A service account matches only entries that name it (and
    /// `anyone`): the documented contract of `PrincipalKind::ServiceAccount`.
    pub(crate) fn matches_entry(entry: &Approver, p: &Principal) -> bool {
        let user = p.kind() == PrincipalKind::User;
        match entry {
            Approver::User(id) => user && p.id().as_str() == id,
            Approver::ServiceAccount(id) => !user && p.id().as_str() == id,
            Approver::Group(g) => user && p.groups().contains(g),
            Approver::MinAccessLevel(min) => user && p.access_level().is_some_and(|l| l >= *min),
            Approver::Anyone => true,
            other => panic!("the oracle does not know approver {other:?}"),
        }
    }

    /// The indices of the rules `p` matches (administrators match all of
    /// them under `admins: match_every_rule`).
    pub(crate) fn matching(spec: &PolicySpec, p: &Principal) -> Vec<usize> {
        let admin = p.is_admin() && spec.admins == AdminRule::MatchEveryRule;
        (0..spec.rules.len())
            .filter(|i| admin || spec.rules[*i].approvers.iter().any(|entry| matches_entry(entry, p)))
            .collect()
    }

    /// Whether the disallowed list names `p`: by principal id, or by e-mail
    /// without regard to ASCII case.
    pub(crate) fn disallowed(spec: &PolicySpec, p: &Principal) -> bool {
        spec.disallowed.iter().any(|entry| match entry {
            Disallowed::Principal(id) => p.id().as_str() == id,
            Disallowed::Email(email) => p.email().is_some_and(|own| own.eq_ignore_ascii_case(email)),
            other => panic!("the oracle does not know disallowed entry {other:?}"),
        })
    }

    /// Whether `value` is a whole match of one of the generators' fixed
    /// patterns, checked by hand.
    pub(crate) fn pattern_matches(source: &str, value: &str) -> bool {
        match source {
            "CHG-[0-9]+" => value
                .strip_prefix("CHG-")
                .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())),
            "[a-z]+" => !value.is_empty() && value.chars().all(|c| c.is_ascii_lowercase()),
            "(yes|no)" => value == "yes" || value == "no",
            other => panic!("the oracle knows no pattern {other:?}"),
        }
    }

    /// Whether an approval may give `value` for `input`: a blank value
    /// (nothing but white space) passes unless the input is required; any
    /// other value must meet the input's constraint.
    pub(crate) fn input_fits(input: &Input, value: &str) -> bool {
        if value.trim().is_empty() {
            return !input.required;
        }
        match &input.constraint {
            None => true,
            Some(Constraint::AllowedValues(allowed) | Constraint::SelectOneFrom(allowed)) => {
                allowed.iter().any(|a| a == value)
            }
            // Harness allowedValues: every comma-separated part, trimmed.
            Some(Constraint::MultiSelect(allowed)) => {
                value.split(',').all(|part| allowed.iter().any(|a| a == part.trim()))
            }
            Some(Constraint::Pattern(pattern)) => pattern_matches(pattern.as_str(), value),
            Some(other) => panic!("the oracle knows no constraint {other:?}"),
        }
    }

    /// The name of rule `i`: its own, else `rule N` counting from 1.
    pub(crate) fn rule_name(spec: &PolicySpec, i: usize) -> String {
        spec.rules[i].name.clone().unwrap_or_else(|| format!("rule {}", i + 1))
    }

    /// Every vector of per-rule counts some assignment reaches: each
    /// approval (given as the rules it may count for) goes to exactly one of
    /// its rules. Counts are capped at what each rule requires, since more
    /// does not matter; so this is every assignment, with equal partial
    /// tallies merged.
    fn reachable(required: &[u32], approvals: &[Vec<usize>]) -> BTreeSet<Vec<u32>> {
        let mut states = BTreeSet::from([vec![0u32; required.len()]]);
        for options in approvals {
            let mut next = BTreeSet::new();
            for state in &states {
                for rule in options {
                    let mut s = state.clone();
                    s[*rule] = (s[*rule] + 1).min(required[*rule]);
                    next.insert(s);
                }
            }
            states = next;
        }
        states
    }

    /// Whether some assignment of `approvals` to rules gives every rule its
    /// `required` count.
    pub(crate) fn met(required: &[u32], approvals: &[Vec<usize>]) -> bool {
        reachable(required, approvals).iter().any(|s| s.iter().zip(required).all(|(have, need)| have >= need))
    }

    /// The fewest approvals still needed under the best assignment.
    pub(crate) fn min_remaining(required: &[u32], approvals: &[Vec<usize>]) -> u64 {
        reachable(required, approvals)
            .iter()
            .map(|s| s.iter().zip(required).map(|(have, need)| u64::from(need - have)).sum())
            .min()
            .unwrap_or_else(|| required.iter().map(|r| u64::from(*r)).sum())
    }

    /// The rules each of a gate's approvals may count for: the rule it is
    /// pinned to if any, else every rule its approver matches (worked out
    /// here from the principal the approval recorded, not taken from the
    /// engine's own list).
    pub(crate) fn options(gate: &approval_gate::Gate) -> Vec<Vec<usize>> {
        let spec = gate.policy().spec();
        gate.approvals()
            .iter()
            .map(|a| match a.rule {
                Some(rule) => vec![usize::from(rule)],
                None => matching(spec, &a.by),
            })
            .collect()
    }

    pub(crate) fn required(spec: &PolicySpec) -> Vec<u32> {
        spec.rules.iter().map(|r| r.required).collect()
    }
}

// ---------------------------------------------------------------------------
// The service: the same steps through `service::Approvals`
// ---------------------------------------------------------------------------

pub(crate) type Service =
    approval_gate::service::Approvals<approval_gate::memory::MemoryStore, approval_gate::memory::RecordingNotifier>;

pub(crate) fn service() -> Service {
    approval_gate::service::Approvals::new(
        approval_gate::memory::MemoryStore::new(),
        approval_gate::memory::RecordingNotifier::new(),
    )
}

/// What a service call answered.
#[derive(Debug)]
pub(crate) enum Called {
    /// The gate after the call.
    Gate(Box<Gate>),
    /// A tick: the gates it ended.
    Ticked(Vec<GateId>),
    /// The call was refused (or failed) with this kind.
    Refused(approval_gate::ErrorKind, String),
}

/// Carries out one step through the service at `now`; `Tick` is the
/// service's tick of every due gate.
pub(crate) fn call(service: &Service, scenario: &Scenario, step: &Step, now: DateTime<Utc>) -> Called {
    let g = step.gate;
    let id = &scenario.gates[g].id;
    let result = match scenario.command(step) {
        None => service.open(id.clone(), scenario.gates[g].policy.clone(), scenario.run(g), now),
        Some(Command::Tick) => {
            return match service.tick(now) {
                Ok(gates) => Called::Ticked(gates.iter().map(|gate| gate.id().clone()).collect()),
                Err(e) => Called::Refused(e.kind(), e.to_string()),
            };
        }
        Some(Command::Approve(approve)) => service.approve(id, approve, now),
        Some(Command::Reject { by, comment }) => service.reject(id, by, comment, now),
        Some(Command::Assign { to }) => service.assign(id, to, now),
        Some(Command::Cancel { by, reason }) => service.cancel(id, by, reason, now),
        Some(other) => panic!("the generators make no {other:?}"),
    };
    match result {
        Ok(gate) => Called::Gate(Box::new(gate)),
        Err(e) => Called::Refused(e.kind(), e.to_string()),
    }
}
