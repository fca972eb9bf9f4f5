//! The `commands` target's structured input and what it checks, shared with
//! `tests/fuzz_regressions.rs` (which includes this file by path and reads
//! cases from JSON; only the fuzz crate derives `Arbitrary`).
//!
//! A case is a small policy built from arbitrary choices over a fixed
//! universe of users, groups and names, and up to [`MAX_STEPS`] timed
//! commands whose clock may go backwards. Each case runs twice in lockstep:
//! through the engine (`Gate::open` / `decide` / `evolve`, ticking a passed
//! deadline first as the service does) and through `service::Approvals`
//! over a `MemoryStore`. After every step:
//!
//! - nothing panicked;
//! - the service's gate, its stored events and its answer (or refusal kind)
//!   equal the engine's;
//! - `Gate::replay` of every event equals the live gate, whose version is
//!   the number of events;
//! - a refused command changed nothing but a deadline that had passed;
//! - a gate that ended never changes again, refuses every action and ticks
//!   to nothing;
//! - `Gate::may` never refuses what `decide` accepts;
//! - the invariants of the design: one rejection ends the gate, an excluded
//!   executor never holds an approval, a principal counts once, a quorum
//!   leaves nothing remaining.

use approval_gate::gate::Eligibility;
use approval_gate::memory::{MemoryStore, RecordingNotifier};
use approval_gate::policy::{
    AdminRule, Approver, AutoApproval, Concurrency, Constraint, Counting, Disallowed, Environments, ExecutionHistory,
    ExecutorRule, Input, InputMode, Outputs, Pattern, Policy, PolicySpec, Revote, Rule, RuleNaming, Schedule, Span,
    Supersede, Timeout, TimeoutOutcome,
};
use approval_gate::ports::Store;
use approval_gate::service::{Approvals, ServiceError};
use approval_gate::{
    Action, Approve, Command, ErrorKind, Event, Gate, GateError, GateId, Principal, PrincipalId, Reason, Run, Status,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[cfg(feature = "arbitrary")]
use arbitrary::Arbitrary;

/// The most steps a case runs; the rest are ignored.
pub const MAX_STEPS: usize = 40;
/// The most rules a case's policy has; the rest are ignored.
pub const MAX_RULES: usize = 4;

const USERS: [&str; 6] = ["ann", "bob", "carol", "dan", "eve", "ci-bot"];
const GROUPS: [&str; 4] = ["sre", "security", "dev", "ops"];
const EMAILS: [&str; 4] = ["ann@example.com", "Eve@Example.com", "EVE@EXAMPLE.COM", "bob@example.org"];
const ENVIRONMENTS: [&str; 3] = ["production", "staging", "sandbox"];
const RULE_NAMES: [&str; 6] = ["sre", "security", "Maintainers", "Developers + Maintainers", "rule 1", "approvers"];
const INPUT_NAMES: [&str; 3] = ["ticket", "reason", "Manual.Notes"];
const ACCESS_LEVELS: [u16; 6] = [10, 20, 30, 40, 50, 60];

fn pick<T: Copy>(list: &[T], index: u8) -> T {
    let len = list.len().max(1);
    list.get(usize::from(index) % len).copied().unwrap_or_else(|| panic!("an empty universe"))
}

/// One fuzz case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct Case {
    /// The policy.
    pub policy: PolicyChoice,
    /// Who executed the run (an index into the users).
    pub executor: u8,
    /// The run's environment, if any.
    pub environment: Option<u8>,
    /// Whether an older run waits under the same supersede key, opened an
    /// hour earlier through the service (it only meets supersession).
    pub older_run: bool,
    /// The commands, in order.
    pub steps: Vec<Step>,
}

/// The policy's settings, each an arbitrary choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct PolicyChoice {
    pub rules: Vec<RuleChoice>,
    pub once_per_rule: bool,
    pub represented_contains: bool,
    pub executor: u8,
    pub disallowed: Vec<DisallowedChoice>,
    pub admins_match_every_rule: bool,
    pub revote_while_waiting: bool,
    pub inputs: Vec<InputChoice>,
    pub exact_inputs: bool,
    pub octopus_outputs: bool,
    pub timeout: Option<TimeoutChoice>,
    pub auto_approval: Option<AutoChoice>,
    pub supersede: bool,
    pub only: Vec<u8>,
    pub skip: Vec<u8>,
    pub block: bool,
    pub history: bool,
    pub max_comment_bytes: Option<u16>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct RuleChoice {
    pub name: Option<u8>,
    pub required: u8,
    pub approvers: Vec<ApproverChoice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum ApproverChoice {
    User(u8),
    Group(u8),
    ServiceAccount(u8),
    MinAccessLevel(u8),
    Anyone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum DisallowedChoice {
    Principal(u8),
    Email(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct InputChoice {
    pub name: u8,
    pub default: String,
    pub required: bool,
    pub constraint: Option<ConstraintChoice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum ConstraintChoice {
    AllowedValues(Vec<String>),
    SelectOneFrom(Vec<String>),
    /// Arbitrary text: compiled or refused, never a panic.
    Pattern(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct TimeoutChoice {
    pub after: SpanChoice,
    pub outcome: u8,
}

/// A span; `Millis` reaches every value a span can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum SpanChoice {
    Seconds(u16),
    Minutes(u16),
    Hours(u16),
    Days(u16),
    Millis(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct AutoChoice {
    pub at: ScheduleChoice,
    pub comment: Option<String>,
    pub min_lead: Option<SpanChoice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum ScheduleChoice {
    After(SpanChoice),
    /// This many seconds after the case's opening time (may be before it).
    AtSeconds(i64),
}

/// One timed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct Step {
    pub delta: Delta,
    pub action: ActionChoice,
}

/// How far the clock moves before the step; it may move backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum Delta {
    Seconds(i16),
    Minutes(i16),
    Hours(i16),
    Days(i16),
    Millis(i64),
    /// Exactly to the gate's next deadline (no move if it has none).
    ToDeadline,
    /// One millisecond before the gate's next deadline.
    JustBeforeDeadline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum ActionChoice {
    Approve(ApproveChoice),
    Reject { by: PrincipalChoice, comment: CommentChoice },
    Assign { to: PrincipalChoice },
    Cancel { by: Option<PrincipalChoice>, reason: CommentChoice },
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct ApproveChoice {
    pub by: PrincipalChoice,
    pub comment: CommentChoice,
    pub inputs: Vec<(InputName, String)>,
    pub represented_as: Option<RuleRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum CommentChoice {
    None,
    Text(String),
    /// This many bytes of `x`, to meet the comment limits.
    Bytes(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum InputName {
    Known(u8),
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum RuleRef {
    /// The name of the policy's rule at this position (modulo the count).
    Rule(u8),
    Text(String),
}

/// A principal as the directory describes it when it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub struct PrincipalChoice {
    pub id: u8,
    pub service_account: bool,
    /// A bit per group.
    pub groups: u8,
    pub access_level: Option<u8>,
    pub email: Option<u8>,
    pub admin: bool,
}

impl SpanChoice {
    fn span(self) -> Option<Span> {
        let millis = match self {
            SpanChoice::Seconds(n) => i64::from(n) * 1_000,
            SpanChoice::Minutes(n) => i64::from(n) * 60_000,
            SpanChoice::Hours(n) => i64::from(n) * 3_600_000,
            SpanChoice::Days(n) => i64::from(n) * 86_400_000,
            SpanChoice::Millis(n) => n,
        };
        let span = Span::from_millis(millis)?;
        // The text form must read back as the same span.
        let text = span.to_string();
        assert_eq!(
            text.parse::<Span>().ok(),
            Some(span),
            "span {millis} ms prints as `{text}`, which reads back differently"
        );
        Some(span)
    }
}

impl PrincipalChoice {
    fn principal(self) -> Principal {
        let id = PrincipalId::new(pick(&USERS, self.id)).expect("a valid id");
        let kind = if self.service_account {
            approval_gate::PrincipalKind::ServiceAccount
        } else {
            approval_gate::PrincipalKind::User
        };
        let groups = GROUPS.iter().enumerate().filter(|(bit, _)| self.groups & (1 << bit) != 0).map(|(_, g)| *g);
        let mut principal = Principal::new(id, kind).with_groups(groups);
        if let Some(level) = self.access_level {
            principal = principal.with_access_level(pick(&ACCESS_LEVELS, level));
        }
        if let Some(email) = self.email {
            principal = principal.with_email(pick(&EMAILS, email));
        }
        if self.admin {
            principal = principal.as_admin();
        }
        principal
    }
}

impl CommentChoice {
    fn text(&self) -> Option<String> {
        match self {
            CommentChoice::None => None,
            CommentChoice::Text(text) => Some(text.clone()),
            CommentChoice::Bytes(len) => Some("x".repeat(usize::from(*len))),
        }
    }
}

impl Delta {
    fn apply(self, now: DateTime<Utc>, deadline: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let delta = match self {
            Delta::Seconds(n) => TimeDelta::try_seconds(i64::from(n))?,
            Delta::Minutes(n) => TimeDelta::try_minutes(i64::from(n))?,
            Delta::Hours(n) => TimeDelta::try_hours(i64::from(n))?,
            Delta::Days(n) => TimeDelta::try_days(i64::from(n))?,
            Delta::Millis(n) => TimeDelta::try_milliseconds(n)?,
            Delta::ToDeadline => return Some(deadline.unwrap_or(now)),
            Delta::JustBeforeDeadline => {
                return deadline.map_or(Some(now), |at| at.checked_sub_signed(TimeDelta::milliseconds(1)));
            }
        };
        now.checked_add_signed(delta)
    }
}

/// The instant the case's gate opens.
pub fn opening_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).single().unwrap_or_default()
}

impl PolicyChoice {
    /// The policy spec these choices make (it may be invalid).
    pub fn spec(&self) -> PolicySpec {
        let rules = self.rules.iter().take(MAX_RULES).map(|rule| {
            let approvers = rule.approvers.iter().take(4).map(|approver| match *approver {
                ApproverChoice::User(i) => Approver::User(pick(&USERS, i).into()),
                ApproverChoice::Group(i) => Approver::Group(pick(&GROUPS, i).into()),
                ApproverChoice::ServiceAccount(i) => Approver::ServiceAccount(pick(&USERS, i).into()),
                ApproverChoice::MinAccessLevel(i) => Approver::MinAccessLevel(pick(&ACCESS_LEVELS, i)),
                ApproverChoice::Anyone => Approver::Anyone,
            });
            let made = Rule::new(u32::from(rule.required % 6), approvers);
            match rule.name {
                Some(name) => made.named(pick(&RULE_NAMES, name)),
                None => made,
            }
        });
        let mut spec = PolicySpec::new(rules);
        spec.message = self.message.clone().unwrap_or_default();
        spec.counting = if self.once_per_rule { Counting::OncePerRule } else { Counting::OncePerGate };
        spec.represented_as = if self.represented_contains { RuleNaming::Contains } else { RuleNaming::Exact };
        spec.executor = match self.executor % 3 {
            0 => ExecutorRule::MayNotApprove,
            1 => ExecutorRule::MayAct,
            _ => ExecutorRule::MayNotAct,
        };
        spec.disallowed = self
            .disallowed
            .iter()
            .take(4)
            .map(|entry| match *entry {
                DisallowedChoice::Principal(i) => Disallowed::Principal(pick(&USERS, i).into()),
                DisallowedChoice::Email(i) => Disallowed::Email(pick(&EMAILS, i).into()),
            })
            .collect();
        spec.admins = if self.admins_match_every_rule { AdminRule::MatchEveryRule } else { AdminRule::Ordinary };
        spec.revote = if self.revote_while_waiting { Revote::WhileWaiting } else { Revote::Never };
        spec.inputs = self.inputs.iter().take(3).map(InputChoice::input).collect();
        spec.input_mode = if self.exact_inputs { InputMode::Exact } else { InputMode::DefaultsFill };
        spec.outputs = if self.octopus_outputs { Outputs::OctopusManual } else { Outputs::Inputs };
        spec.timeout = self.timeout.and_then(|timeout| {
            let outcome = match timeout.outcome % 3 {
                0 => TimeoutOutcome::Expire,
                1 => TimeoutOutcome::Reject,
                _ => TimeoutOutcome::Approve,
            };
            Some(Timeout::new(timeout.after.span()?, outcome))
        });
        spec.auto_approval = self.auto_approval.as_ref().and_then(|auto| {
            let at = match auto.at {
                ScheduleChoice::After(span) => Schedule::After(span.span()?),
                ScheduleChoice::AtSeconds(seconds) => {
                    Schedule::At(opening_time().checked_add_signed(TimeDelta::try_seconds(seconds)?)?)
                }
            };
            let mut made = AutoApproval::new(at);
            made.comment = auto.comment.clone();
            made.min_lead = auto.min_lead.and_then(SpanChoice::span);
            Some(made)
        });
        spec.supersede = if self.supersede { Supersede::RejectOlderWaiting } else { Supersede::Off };
        let mut environments = Environments::default();
        environments.only = self.only.iter().take(3).map(|i| pick(&ENVIRONMENTS, *i).to_owned()).collect();
        environments.skip = self.skip.iter().take(3).map(|i| pick(&ENVIRONMENTS, *i).to_owned()).collect();
        spec.environments = environments;
        spec.concurrency = if self.block { Concurrency::Block } else { Concurrency::Allow };
        spec.execution_history = if self.history { ExecutionHistory::Include } else { ExecutionHistory::Omit };
        if let Some(limit) = self.max_comment_bytes {
            spec.max_comment_bytes = usize::from(limit);
        }
        spec
    }
}

impl InputChoice {
    fn input(&self) -> Input {
        let mut input = Input::new(pick(&INPUT_NAMES, self.name)).with_default(self.default.clone());
        if self.required {
            input = input.required();
        }
        let constraint = match &self.constraint {
            None => None,
            Some(ConstraintChoice::AllowedValues(values)) => Some(Constraint::AllowedValues(values.clone())),
            Some(ConstraintChoice::SelectOneFrom(values)) => Some(Constraint::SelectOneFrom(values.clone())),
            // A pattern from arbitrary text is compiled or refused, never a
            // panic; a refused one leaves the input unconstrained.
            Some(ConstraintChoice::Pattern(source)) => match Pattern::new(source) {
                Ok(pattern) => {
                    assert_eq!(pattern.as_str(), source);
                    let again = Pattern::new(pattern.as_str()).expect("a compiled pattern compiles again");
                    assert_eq!(again.is_match(&self.default), pattern.is_match(&self.default));
                    Some(Constraint::Pattern(pattern))
                }
                Err(error) => {
                    let _ = error.to_string();
                    None
                }
            },
        };
        match constraint {
            Some(constraint) => input.constrained(constraint),
            None => input,
        }
    }
}

impl ActionChoice {
    fn command(&self, policy: &Policy) -> Command {
        match self {
            ActionChoice::Approve(approve) => {
                let mut made = Approve::by(approve.by.principal());
                made.comment = approve.comment.text();
                for (name, value) in approve.inputs.iter().take(4) {
                    let name = match name {
                        InputName::Known(i) => pick(&INPUT_NAMES, *i).to_owned(),
                        InputName::Other(name) => name.clone(),
                    };
                    made.inputs.insert(name, value.clone());
                }
                made.represented_as = approve.represented_as.as_ref().map(|rule| match rule {
                    RuleRef::Rule(i) => policy.rule_name(usize::from(*i) % policy.rules().len().max(1)),
                    RuleRef::Text(text) => text.clone(),
                });
                Command::Approve(made)
            }
            ActionChoice::Reject { by, comment } => Command::Reject { by: by.principal(), comment: comment.text() },
            ActionChoice::Assign { to } => Command::Assign { to: to.principal() },
            ActionChoice::Cancel { by, reason } => {
                Command::Cancel { by: by.map(PrincipalChoice::principal), reason: reason.text() }
            }
            ActionChoice::Tick => Command::Tick,
        }
    }
}

/// What must hold of a gate that has ended: it never changes again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ended {
    status: Status,
    reason: Option<Reason>,
    ending: Option<approval_gate::gate::Ending>,
    approvals: Vec<approval_gate::gate::Approval>,
    approved_by: Vec<PrincipalId>,
    rejected_by: Option<PrincipalId>,
    assigned_to: Option<PrincipalId>,
    remaining: u64,
    outputs: BTreeMap<String, String>,
}

impl Ended {
    fn of(gate: &Gate) -> Self {
        Ended {
            status: gate.status(),
            reason: gate.reason(),
            ending: gate.ending().cloned(),
            approvals: gate.approvals().to_vec(),
            approved_by: gate.approved_by().into_iter().cloned().collect(),
            rejected_by: gate.rejected_by().cloned(),
            assigned_to: gate.assigned_to().cloned(),
            remaining: gate.remaining(),
            outputs: gate.outputs(),
        }
    }
}

type Service = Approvals<MemoryStore, RecordingNotifier>;

/// Runs one case; panics when a check fails.
pub fn run(case: &Case) {
    let spec = case.policy.spec();
    let policy = match Policy::new(spec) {
        Ok(policy) => policy,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    crate::policies::valid_policy(&policy);

    let executor = PrincipalId::new(pick(&USERS, case.executor)).expect("a valid id");
    let mut run = Run::new(executor);
    run.environment = case.environment.map(|i| pick(&ENVIRONMENTS, i).to_owned());
    run.pipeline = Some("deploy".into());
    run.step = Some("approve".into());
    let opened_at = opening_time();
    let id = GateId::new("run-2").expect("a valid id");
    let older = GateId::new("run-1").expect("a valid id");

    let service: Service = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
    let mut older_ended = None;
    if case.older_run {
        let earlier = opened_at - TimeDelta::hours(1);
        match service.open(older.clone(), policy.clone(), run.clone(), earlier) {
            Ok(gate) => check_older(&service, &older, &mut older_ended, Some(&gate)),
            Err(error) => assert_eq!(error.kind(), ErrorKind::InvalidSchedule, "{error}"),
        }
    }

    let engine = Gate::open(id.clone(), policy.clone(), run.clone(), opened_at);
    let served = service.open(id.clone(), policy, run, opened_at);
    let mut log = match (engine, served) {
        (Ok(events), Ok(gate)) => {
            assert_eq!(Gate::replay(&events).as_ref(), Ok(&gate), "the service opened another gate");
            events
        }
        (Err(engine), Err(served)) => {
            assert_eq!(engine.kind(), served.kind(), "engine: {engine}; service: {served}");
            assert_eq!(engine.kind(), ErrorKind::InvalidSchedule, "{engine}");
            return;
        }
        (engine, served) => panic!("open: engine {engine:?}, service {served:?}"),
    };
    let mut gate = Gate::replay(&log).expect("opened events replay");
    let (started, opening) = Gate::start(id.clone(), gate.policy().clone(), gate.run().clone(), opened_at)
        .expect("a gate that opened once opens again");
    assert_eq!((&started, &opening.events), (&gate, &log), "start differs from open and replay");
    let mut ended = (!gate.is_waiting()).then(|| Ended::of(&gate));
    let mut now = opened_at;

    for step in case.steps.iter().take(MAX_STEPS) {
        let Some(at) = step.delta.apply(now, gate.next_deadline()) else { continue };
        now = at;
        let command = step.action.command(gate.policy());
        let before = gate.clone();
        let before_len = log.len();

        let may = actor(&command).map(|(principal, action)| gate.may(principal, action, now));
        let engine = engine_step(&mut gate, &mut log, &command, now);
        let served = service_step(&service, &id, &command, now);

        // The service and the engine agree on the answer and the state.
        match (&engine, &served) {
            (Ok(()), Ok(Some(served))) => assert_eq!(served, &gate, "the service returned another gate"),
            (Ok(()) | Err(_), Ok(None)) => {}
            (Err(engine), Err(served)) => {
                assert_eq!(engine.kind(), served.kind(), "engine: {engine}; service: {served}")
            }
            (engine, served) => panic!("{command:?} at {now}: engine {engine:?}, service {served:?}"),
        }
        let stored = service.store().load(&id).expect("the memory store answers");
        assert_eq!(stored, log, "the stored events differ from the engine's");
        assert_eq!(service.gate(&id).ok().as_ref(), Some(&gate), "the service's gate differs from the engine's");

        // Replay equals the live gate.
        assert_eq!(Gate::replay(&log).as_ref(), Ok(&gate), "replay differs from the live gate");
        assert_eq!(gate.version(), log.len() as u64, "the version is not the number of events");
        let new_events = log.get(before_len..).unwrap_or_default();
        let _ = gate.explain().to_string();

        // A refusal changes nothing but a deadline that had passed.
        if engine.is_err() {
            let only_deadline = new_events.iter().all(|event| {
                matches!(event, Event::Ended { reason: Reason::Timeout | Reason::AutoApproved, by: None, .. })
            });
            assert!(only_deadline, "a refused {command:?} recorded {new_events:?}");
            if new_events.is_empty() {
                assert_eq!(gate, before, "a refused command changed the gate");
            }
        }
        // `may` never refuses what `decide` accepts.
        if let (Some(Err(refusal)), Ok(())) = (&may, &engine) {
            if new_events
                .iter()
                .any(|event| !matches!(event, Event::Ended { reason: Reason::Timeout | Reason::AutoApproved, .. }))
            {
                panic!("`may` refused ({refusal}) what `decide` accepted: {command:?}");
            }
        }
        if let Some(Ok(Eligibility { rules, .. })) = &may {
            assert!(!rules.is_empty(), "`may` allowed with no rule");
        }

        // An ended gate never changes.
        match &ended {
            Some(snapshot) => {
                assert_eq!(&Ended::of(&gate), snapshot, "an ended gate changed after {command:?}");
                assert!(gate.next_deadline().is_none());
                if !matches!(command, Command::Tick) {
                    assert!(engine.is_err(), "an ended gate accepted {command:?}");
                }
            }
            None if !gate.is_waiting() => ended = Some(Ended::of(&gate)),
            None => {}
        }
        if !gate.is_waiting() {
            assert_eq!(gate.decide(&Command::Tick, now.max(gate.last_at())).ok(), Some(Vec::new()));
            if let Some(error) = gate.decide(&command, now.max(gate.last_at())).err() {
                if !matches!(command, Command::Tick) {
                    assert_eq!(error.kind(), ErrorKind::NotWaiting, "an ended gate refused with {error}");
                }
            }
        }
        invariants(&gate, &log);
        if case.older_run {
            check_older(&service, &older, &mut older_ended, None);
        }
    }
}

/// Who acts in a command, and how, for `Gate::may`.
fn actor(command: &Command) -> Option<(&Principal, Action)> {
    match command {
        Command::Approve(approve) => Some((&approve.by, Action::Approve)),
        Command::Reject { by, .. } => Some((by, Action::Reject)),
        Command::Assign { to } => Some((to, Action::Assign)),
        _ => None,
    }
}

fn apply(gate: &mut Gate, log: &mut Vec<Event>, events: Vec<Event>) {
    for event in &events {
        gate.evolve(event);
    }
    log.extend(events);
}

/// The engine as the service drives it: a passed deadline first, then the
/// command; a refused command keeps the deadline's events.
fn engine_step(gate: &mut Gate, log: &mut Vec<Event>, command: &Command, now: DateTime<Utc>) -> Result<(), GateError> {
    let ticked = gate.decide(&Command::Tick, now)?;
    apply(gate, log, ticked);
    if matches!(command, Command::Tick) {
        return Ok(());
    }
    let before = gate.clone();
    let decided = gate.decide(command, now);
    // `execute` is `decide` then `evolve`, with the effects of exactly
    // those events.
    match gate.execute(command, now) {
        Ok(outcome) => {
            assert_eq!(decided.as_ref(), Ok(&outcome.events), "execute and decide disagree on {command:?}");
            let mut replayed = before;
            apply(&mut replayed, &mut Vec::new(), outcome.events.clone());
            assert_eq!(&replayed, gate, "execute and evolve disagree on {command:?}");
            log.extend(outcome.events);
            Ok(())
        }
        Err(error) => {
            assert_eq!(decided.as_ref().err(), Some(&error), "execute and decide disagree on {command:?}");
            assert_eq!(*gate, before, "a refused execute changed the gate");
            Err(error)
        }
    }
}

/// The same command through the service. `Ok(None)` for a tick, which
/// returns the gates it ended rather than this one.
fn service_step(
    service: &Service,
    id: &GateId,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<Option<Gate>, ServiceError<approval_gate::memory::Poisoned>> {
    let gate = match command.clone() {
        Command::Approve(approve) => service.approve(id, approve, now)?,
        Command::Reject { by, comment } => service.reject(id, by, comment, now)?,
        Command::Assign { to } => service.assign(id, to, now)?,
        Command::Cancel { by, reason } => service.cancel(id, by, reason, now)?,
        _ => {
            for ended in service.tick(now)? {
                assert!(!ended.is_waiting() || ended.next_deadline().is_some_and(|at| at > now));
            }
            return Ok(None);
        }
    };
    Ok(Some(gate))
}

/// The design's invariants on any gate.
fn invariants(gate: &Gate, log: &[Event]) {
    let spec = gate.policy().spec();
    // One rejection ends the gate.
    if log.iter().any(|event| matches!(event, Event::Rejected { .. })) {
        assert!(!gate.is_waiting(), "a rejection left the gate waiting");
    }
    // An executor kept from approving never holds an approval.
    if matches!(spec.executor, ExecutorRule::MayNotApprove | ExecutorRule::MayNotAct) {
        assert!(gate.approvals().iter().all(|a| a.by.id() != &gate.run().executor), "the executor holds an approval");
    }
    // A principal counts once (per rule, under once-per-rule counting).
    let mut seen = BTreeSet::new();
    for approval in gate.approvals() {
        let key = match spec.counting {
            Counting::OncePerRule => (approval.by.id().clone(), approval.rule),
            _ => (approval.by.id().clone(), None),
        };
        assert!(seen.insert(key), "{} approved twice", approval.by.id());
    }
    // A quorum leaves nothing remaining; a waiting gate needs something.
    if gate.reason() == Some(Reason::Quorum) {
        assert_eq!(gate.remaining(), 0, "approved by quorum with approvals remaining");
    }
    if gate.is_waiting() {
        assert!(gate.remaining() > 0, "a gate with every rule met still waits");
    }
}

/// The older run: its stream replays, and once ended it never changes.
fn check_older(service: &Service, older: &GateId, ended: &mut Option<Ended>, opened: Option<&Gate>) {
    let events = service.store().load(older).expect("the memory store answers");
    let gate = Gate::replay(&events).expect("the older run's events replay");
    if let Some(opened) = opened {
        assert_eq!(&gate, opened);
    }
    assert_eq!(gate.version(), events.len() as u64);
    match ended {
        Some(snapshot) => assert_eq!(&Ended::of(&gate), snapshot, "the older run changed after it ended"),
        None if !gate.is_waiting() => *ended = Some(Ended::of(&gate)),
        None => {}
    }
}
