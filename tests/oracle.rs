//! A differential oracle: a deliberately naive second implementation of the
//! gate semantics, which must agree with the engine after every step of
//! random scenarios on accepted-versus-refused and the refusal's kind,
//! status, reason, who rejected or ended the gate, who counts (in order),
//! `remaining == 0` (and the exact `remaining` where the assignment of
//! approvals to rules is forced), outputs, the next deadline and the time of
//! the last event.
//!
//! The oracle keeps only the list of accepted actions and works everything
//! out from scratch from that list every time it is asked: whether a gate is
//! met is a brute-force search over every assignment of approvals to rules.
//! It shares no code with the engine: it reads the policy's plain data
//! (`PolicySpec`) and the principals' public facts, and nothing else.
//!
//! Case count: each property runs `APPROVAL_GATE_PROPTEST_CASES` cases when
//! that environment variable is set (a whole number), else
//! `prop::DEFAULT_CASES` (1000). A long local run:
//!
//! ```sh
//! APPROVAL_GATE_PROPTEST_CASES=100000 cargo test --release --test properties --test oracle
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod prop;

use approval_gate::policy::{
    Counting, ExecutorRule, InputMode, Policy, PolicySpec, Responsibility, Revote, RuleNaming, Schedule, TimeoutOutcome,
};
use approval_gate::ports::Store;
use approval_gate::{Command, ErrorKind, Gate, Principal, PrincipalId, Reason, Status};
use chrono::{DateTime, Utc};
use prop::{Called, Outcome, Scenario, Shape, View, config, drive, naive, scenario};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------
// The naive model
// ---------------------------------------------------------------------------

/// One approval the model holds.
#[derive(Debug, Clone)]
struct Approval {
    by: Principal,
    /// The rules it may count for: its pinned rule, or every rule its
    /// approver matches.
    options: Vec<usize>,
    /// The rule `represented_as` (or, once per rule, the first match) chose.
    pinned: Option<usize>,
    inputs: BTreeMap<String, String>,
}

/// What a deadline does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Timeout(TimeoutOutcome),
    AutoApproval,
}

/// An accepted action: all the model remembers.
#[derive(Debug, Clone)]
enum Act {
    Approve(Approval, DateTime<Utc>),
    Reject(PrincipalId, DateTime<Utc>),
    Assign(PrincipalId, DateTime<Utc>),
    Cancel(Option<PrincipalId>, DateTime<Utc>),
    Lapse(Deadline, DateTime<Utc>),
}

/// How a gate ended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct End {
    status: Status,
    reason: Reason,
    by: Option<PrincipalId>,
    at: DateTime<Utc>,
}

/// Everything worked out from the accepted actions.
#[derive(Debug, Clone)]
struct Derived {
    approvals: Vec<Approval>,
    end: Option<End>,
    assigned_to: Option<PrincipalId>,
    last_at: DateTime<Utc>,
}

/// A gate as the model sees it.
#[derive(Debug, Clone)]
struct Model {
    spec: PolicySpec,
    executor: PrincipalId,
    opened_at: DateTime<Utc>,
    acts: Vec<Act>,
}

impl Model {
    /// Opens a gate, or refuses a scheduled auto-approval that is too soon:
    /// without a lead it must not lie in the past, with one it must be more
    /// than the lead away.
    fn open(spec: &PolicySpec, executor: PrincipalId, now: DateTime<Utc>) -> Result<Model, ErrorKind> {
        let model = Model { spec: spec.clone(), executor, opened_at: now, acts: Vec::new() };
        if let Some(auto) = &spec.auto_approval {
            let at = model.auto_at().expect("an auto-approval");
            let too_soon = match auto.min_lead {
                Some(lead) => at <= now + lead.as_delta(),
                None => at < now,
            };
            if too_soon {
                return Err(ErrorKind::InvalidSchedule);
            }
        }
        Ok(model)
    }

    fn auto_at(&self) -> Option<DateTime<Utc>> {
        self.spec.auto_approval.as_ref().map(|auto| match auto.at {
            Schedule::At(at) => at,
            Schedule::After(span) => self.opened_at + span.as_delta(),
            other => panic!("the oracle knows no schedule {other:?}"),
        })
    }

    /// The deadline, whether or not the gate still waits: the earlier of
    /// the timeout and the auto-approval, the auto-approval on a tie.
    fn deadline(&self) -> Option<(DateTime<Utc>, Deadline)> {
        let timeout = self.spec.timeout.map(|t| (self.opened_at + t.after.as_delta(), Deadline::Timeout(t.outcome)));
        let auto = self.auto_at().map(|at| (at, Deadline::AutoApproval));
        match (timeout, auto) {
            (Some(t), Some(a)) => Some(if a.0 <= t.0 { a } else { t }),
            (t, a) => t.or(a),
        }
    }

    fn required(&self) -> Vec<u32> {
        self.spec.rules.iter().map(|r| r.required).collect()
    }

    fn met(&self, approvals: &[Approval]) -> bool {
        let options: Vec<Vec<usize>> = approvals.iter().map(|a| a.options.clone()).collect();
        naive::met(&self.required(), &options)
    }

    /// Works everything out again from the accepted actions.
    fn derive(&self) -> Derived {
        let mut d = Derived { approvals: Vec::new(), end: None, assigned_to: None, last_at: self.opened_at };
        for act in &self.acts {
            assert!(d.end.is_none(), "the model accepted an action after the end: {act:?}");
            match act {
                Act::Approve(approval, at) => {
                    d.approvals.push(approval.clone());
                    d.last_at = *at;
                    if self.met(&d.approvals) {
                        d.end = Some(End { status: Status::Approved, reason: Reason::Quorum, by: None, at: *at });
                    }
                }
                Act::Reject(by, at) => {
                    // A changed vote: the rejecter's approvals no longer count.
                    d.approvals.retain(|a| a.by.id() != by);
                    d.last_at = *at;
                    d.end =
                        Some(End { status: Status::Rejected, reason: Reason::Rejected, by: Some(by.clone()), at: *at });
                }
                Act::Assign(to, at) => {
                    d.assigned_to = Some(to.clone());
                    d.last_at = *at;
                }
                Act::Cancel(by, at) => {
                    d.last_at = *at;
                    d.end = Some(End { status: Status::Cancelled, reason: Reason::Cancelled, by: by.clone(), at: *at });
                }
                Act::Lapse(what, at) => {
                    d.last_at = *at;
                    let (status, reason) = match what {
                        Deadline::AutoApproval => (Status::Approved, Reason::AutoApproved),
                        Deadline::Timeout(TimeoutOutcome::Expire) => (Status::Expired, Reason::Timeout),
                        Deadline::Timeout(TimeoutOutcome::Reject) => (Status::Rejected, Reason::Timeout),
                        Deadline::Timeout(TimeoutOutcome::Approve) => (Status::Approved, Reason::Timeout),
                        Deadline::Timeout(other) => panic!("the oracle knows no outcome {other:?}"),
                    };
                    d.end = Some(End { status, reason, by: None, at: *at });
                }
            }
        }
        d
    }

    /// The approver inputs an approval resolves to, or `invalid_inputs`.
    fn resolve_inputs(&self, given: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ErrorKind> {
        let declared = &self.spec.inputs;
        if given.keys().any(|name| !declared.iter().any(|input| &input.name == name)) {
            return Err(ErrorKind::InvalidInputs);
        }
        let mut values = BTreeMap::new();
        for input in declared {
            let value = match (given.get(&input.name), self.spec.input_mode) {
                (Some(value), _) => value.clone(),
                (None, InputMode::DefaultsFill) => input.default.clone(),
                (None, _) => return Err(ErrorKind::InvalidInputs),
            };
            let fits = naive::input_fits(input, &value);
            if !fits {
                return Err(ErrorKind::InvalidInputs);
            }
            values.insert(input.name.clone(), value);
        }
        Ok(values)
    }

    fn comment_fits(&self, comment: Option<&String>) -> Result<(), ErrorKind> {
        match comment {
            Some(text) if text.len() > self.spec.max_comment_bytes => Err(ErrorKind::CommentTooLong),
            _ => Ok(()),
        }
    }

    /// The time and waiting checks every command but a tick starts with.
    fn waiting(&self, d: &Derived, now: DateTime<Utc>) -> Result<(), ErrorKind> {
        if now < d.last_at {
            return Err(ErrorKind::TimeWentBackwards);
        }
        if d.end.is_some() || self.deadline().is_some_and(|(at, _)| at <= now) {
            return Err(ErrorKind::NotWaiting);
        }
        Ok(())
    }

    /// The executor rule, the disallowed list, and the rules: the rules the
    /// actor matches.
    fn actor(&self, p: &Principal, approving: bool) -> Result<Vec<usize>, ErrorKind> {
        let barred = match self.spec.executor {
            ExecutorRule::MayAct => false,
            ExecutorRule::MayNotApprove => approving,
            ExecutorRule::MayNotAct => true,
            other => panic!("the oracle knows no executor rule {other:?}"),
        };
        if barred && p.id() == &self.executor {
            return Err(ErrorKind::ExecutorNotAllowed);
        }
        if naive::disallowed(&self.spec, p) {
            return Err(ErrorKind::UserDisallowed);
        }
        let rules = naive::matching(&self.spec, p);
        if rules.is_empty() {
            return Err(ErrorKind::NotEligible);
        }
        Ok(rules)
    }

    /// Responsibility, where the policy requires it to act (Octopus): the
    /// actor must hold it, or take it in the same action when nobody does.
    /// Returns the assignment the action makes first, if any.
    fn responsible(&self, d: &Derived, p: &Principal, now: DateTime<Utc>) -> Result<Option<Act>, ErrorKind> {
        match (self.spec.responsibility, &d.assigned_to) {
            (Responsibility::Informational, _) => Ok(None),
            (Responsibility::RequiredToAct, None) => Ok(Some(Act::Assign(p.id().clone(), now))),
            (Responsibility::RequiredToAct, Some(holder)) if holder == p.id() => Ok(None),
            (Responsibility::RequiredToAct, Some(_)) => Err(ErrorKind::NotResponsible),
            (other, _) => panic!("the oracle knows no responsibility {other:?}"),
        }
    }

    /// Decides a command the way the semantics say, and remembers it if it
    /// is accepted. `Ok(false)`: accepted, and it changes nothing.
    fn decide(&mut self, command: &Command, now: DateTime<Utc>) -> Result<bool, ErrorKind> {
        let d = self.derive();
        let act = match command {
            Command::Tick => {
                if now < d.last_at {
                    return Err(ErrorKind::TimeWentBackwards);
                }
                match self.deadline() {
                    Some((at, what)) if d.end.is_none() && at <= now => Act::Lapse(what, at),
                    _ => return Ok(false),
                }
            }
            Command::Approve(approve) => {
                self.waiting(&d, now)?;
                self.comment_fits(approve.comment.as_ref())?;
                let p = &approve.by;
                let once_per_gate = self.spec.counting == Counting::OncePerGate;
                if once_per_gate && d.approvals.iter().any(|a| a.by.id() == p.id()) {
                    return self.again();
                }
                let matched = self.actor(p, true)?;
                let pinned = match &approve.represented_as {
                    Some(name) => {
                        let named = matched.iter().copied().find(|r| {
                            let rule = naive::rule_name(&self.spec, *r);
                            match self.spec.represented_as {
                                RuleNaming::Exact => rule == *name,
                                RuleNaming::Contains => rule.contains(name.as_str()),
                                other => panic!("the oracle knows no naming {other:?}"),
                            }
                        });
                        Some(named.ok_or(ErrorKind::NoMatchingRule)?)
                    }
                    None if once_per_gate => None,
                    None => matched.first().copied(),
                };
                if !once_per_gate && d.approvals.iter().any(|a| a.by.id() == p.id() && a.pinned == pinned) {
                    return self.again();
                }
                let first = self.responsible(&d, p, now)?;
                let inputs = self.resolve_inputs(&approve.inputs)?;
                self.acts.extend(first);
                let options = match pinned {
                    Some(rule) => vec![rule],
                    None => matched,
                };
                Act::Approve(Approval { by: p.clone(), options, pinned, inputs }, now)
            }
            Command::Reject { by, comment } => {
                self.waiting(&d, now)?;
                self.comment_fits(comment.as_ref())?;
                if self.spec.revote == Revote::Never && d.approvals.iter().any(|a| a.by.id() == by.id()) {
                    return Err(ErrorKind::AlreadyDecided);
                }
                self.actor(by, false)?;
                let first = self.responsible(&d, by, now)?;
                self.acts.extend(first);
                Act::Reject(by.id().clone(), now)
            }
            Command::Assign { to } => {
                self.waiting(&d, now)?;
                self.actor(to, false)?;
                if d.assigned_to.as_ref() == Some(to.id()) {
                    return Ok(false);
                }
                Act::Assign(to.id().clone(), now)
            }
            Command::Cancel { by, reason } => {
                self.waiting(&d, now)?;
                self.comment_fits(reason.as_ref())?;
                Act::Cancel(by.as_ref().map(|p| p.id().clone()), now)
            }
            other => panic!("the oracle does not decide {other:?}"),
        };
        self.acts.push(act);
        Ok(true)
    }

    /// The same vote again: refused under `revote: never`, accepted and
    /// changing nothing under `while_waiting`.
    fn again(&self) -> Result<bool, ErrorKind> {
        match self.spec.revote {
            Revote::WhileWaiting => Ok(false),
            _ => Err(ErrorKind::AlreadyDecided),
        }
    }

    /// As the service decides: a deadline that has passed takes effect
    /// first (and stays recorded when the command is then refused).
    fn serve(&mut self, command: &Command, now: DateTime<Utc>) -> Result<bool, ErrorKind> {
        let ticked = self.decide(&Command::Tick, now)?;
        match command {
            Command::Tick => Ok(ticked),
            other => self.decide(other, now),
        }
    }

    /// The next deadline, while the gate waits.
    fn next_deadline(&self, d: &Derived) -> Option<DateTime<Utc>> {
        d.end.is_none().then(|| self.deadline().map(|(at, _)| at)).flatten()
    }

    /// The values handed on: the last approval's inputs, or the declared
    /// defaults before any approval.
    fn outputs(&self, d: &Derived) -> BTreeMap<String, String> {
        match d.approvals.last() {
            Some(last) => last.inputs.clone(),
            None => self.spec.inputs.iter().map(|i| (i.name.clone(), i.default.clone())).collect(),
        }
    }
}

// ---------------------------------------------------------------------------
// Comparing the engine with the model
// ---------------------------------------------------------------------------

/// Every difference between the engine's gate and the model's, in words.
fn differences(gate: &Gate, model: &Model) -> Vec<String> {
    let d = model.derive();
    let mut out = Vec::new();
    let mut differ = |what: &str, engine: String, oracle: String| {
        if engine != oracle {
            out.push(format!("{what}: engine {engine}, oracle {oracle}"));
        }
    };
    let status = d.end.as_ref().map_or(Status::Waiting, |e| e.status);
    differ("status", format!("{:?}", gate.status()), format!("{status:?}"));
    differ("reason", format!("{:?}", gate.reason()), format!("{:?}", d.end.as_ref().map(|e| e.reason)));
    let ended_by = gate.ending().and_then(|e| e.by.clone());
    differ("ended by", format!("{ended_by:?}"), format!("{:?}", d.end.as_ref().and_then(|e| e.by.clone())));
    differ("ended at", format!("{:?}", gate.ending().map(|e| e.at)), format!("{:?}", d.end.as_ref().map(|e| e.at)));
    let rejected_by = d.end.as_ref().filter(|e| e.reason == Reason::Rejected).and_then(|e| e.by.clone());
    differ("rejected_by", format!("{:?}", gate.rejected_by()), format!("{:?}", rejected_by.as_ref()));
    differ("assigned_to", format!("{:?}", gate.assigned_to()), format!("{:?}", d.assigned_to.as_ref()));
    differ("next_deadline", format!("{:?}", gate.next_deadline()), format!("{:?}", model.next_deadline(&d)));
    differ("last event at", format!("{:?}", gate.last_at()), format!("{:?}", d.last_at));
    let approved_by: Vec<&PrincipalId> = d.approvals.iter().map(|a| a.by.id()).collect();
    differ("approved_by", format!("{:?}", gate.approved_by()), format!("{approved_by:?}"));
    let pins: Vec<Option<usize>> = d.approvals.iter().map(|a| a.pinned).collect();
    let engine_pins: Vec<Option<usize>> = gate.approvals().iter().map(|a| a.rule.map(usize::from)).collect();
    differ("pinned rules", format!("{engine_pins:?}"), format!("{pins:?}"));
    let required = model.required();
    let options: Vec<Vec<usize>> = d.approvals.iter().map(|a| a.options.clone()).collect();
    let met = naive::met(&required, &options);
    differ("remaining == 0", format!("{}", gate.remaining() == 0), format!("{met}"));
    let best = naive::min_remaining(&required, &options);
    differ("remaining >= the best assignment's", (gate.remaining() >= best).to_string(), "true".to_owned());
    if required.len() == 1 || options.iter().all(|o| o.len() == 1) {
        differ("remaining (forced assignment)", gate.remaining().to_string(), best.to_string());
    }
    differ("outputs", format!("{:?}", gate.outputs()), format!("{:?}", model.outputs(&d)));
    out
}

fn refusal_text<T>(result: &Result<T, ErrorKind>) -> String {
    match result {
        Ok(_) => "accepted".to_owned(),
        Err(kind) => format!("refused {kind}"),
    }
}

/// Steps the engine (through `drive`) and the model side by side.
fn agree_directly(s: &Scenario) -> Result<(), TestCaseError> {
    let mut models: Vec<Option<Model>> = vec![None; s.gates.len()];
    drive(s, |view: &View<'_>| {
        let g = view.step.gate;
        let policy: &Policy = &s.gates[g].policy;
        match view.outcome {
            Outcome::Opened(engine) => {
                let oracle = Model::open(policy.spec(), s.executor(g).id().clone(), view.now);
                let engine_kind = engine.as_ref().map(|_| ()).map_err(|e| e.kind());
                if engine_kind.is_ok() != oracle.is_ok() || engine_kind.as_ref().err() != oracle.as_ref().err() {
                    return Err(view.fail(format!(
                        "open: engine {}, oracle {}",
                        refusal_text(&engine_kind),
                        refusal_text(&oracle)
                    )));
                }
                models[g] = oracle.ok();
            }
            Outcome::AlreadyOpen | Outcome::NotOpen => {}
            Outcome::Decided(engine) => {
                let model = models[g].as_mut().expect("the model opened it too");
                let command = view.command.expect("a command");
                let oracle = model.decide(command, view.now);
                let engine_kind = engine.as_ref().map(|events| !events.is_empty()).map_err(|e| e.kind());
                if engine_kind != oracle {
                    let why = engine.as_ref().err().map_or(String::new(), |e| format!(" ({e})"));
                    return Err(view.fail(format!(
                        "engine {}{why}, oracle {} (changes: engine {:?}, oracle {:?})",
                        refusal_text(&engine_kind),
                        refusal_text(&oracle),
                        engine_kind.as_ref().ok(),
                        oracle.as_ref().ok()
                    )));
                }
            }
        }
        for (i, held) in view.all.iter().enumerate() {
            if let (Some(held), Some(model)) = (held, &models[i]) {
                let diffs = differences(&held.gate, model);
                if !diffs.is_empty() {
                    return Err(view.fail(format!("gate {i} differs from the oracle:\n    {}", diffs.join("\n    "))));
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Steps `service::Approvals` over a `MemoryStore` with a
/// `RecordingNotifier`, and the model in the service's way (a passed
/// deadline first), side by side.
fn agree_through_service(s: &Scenario) -> Result<(), TestCaseError> {
    let service = prop::service();
    let mut models: Vec<Option<Model>> = vec![None; s.gates.len()];
    let times = s.times();
    for (index, step) in s.steps.iter().enumerate() {
        let now = times[index];
        let g = step.gate;
        let what = || s.describe(index, now);
        let called = prop::call(&service, s, step, now);
        let engine: Result<(), ErrorKind> = match &called {
            Called::Refused(kind, _) => Err(*kind),
            _ => Ok(()),
        };
        let oracle: Result<(), ErrorKind> = match (s.command(step), &mut models[g]) {
            (None, Some(_)) => Err(ErrorKind::DuplicateGate),
            (None, slot @ None) => Model::open(s.gates[g].policy.spec(), s.executor(g).id().clone(), now).map(|m| {
                *slot = Some(m);
            }),
            (Some(Command::Tick), _) => {
                let mut ended = BTreeSet::new();
                for (i, model) in models.iter_mut().enumerate() {
                    if let Some(model) = model {
                        let waiting = model.derive().end.is_none();
                        if waiting && model.deadline().is_some_and(|(at, _)| at <= now) {
                            model.decide(&Command::Tick, now).map_err(|k| {
                                TestCaseError::fail(format!("{}: oracle tick of gate {i} refused {k}", what()))
                            })?;
                            ended.insert(s.gates[i].id.clone());
                        }
                    }
                }
                if let Called::Ticked(gates) = &called {
                    let engine: BTreeSet<_> = gates.iter().cloned().collect();
                    prop_assert_eq!(&engine, &ended, "{}: the tick ended other gates than the oracle's", what());
                }
                Ok(())
            }
            (Some(_), None) => Err(ErrorKind::UnknownGate),
            (Some(command), Some(model)) => model.serve(&command, now).map(|_| ()),
        };
        if engine != oracle {
            let why = match &called {
                Called::Refused(_, why) => format!(" ({why})"),
                _ => String::new(),
            };
            return Err(TestCaseError::fail(format!(
                "{}: service {}{why}, oracle {}",
                what(),
                refusal_text(&engine),
                refusal_text(&oracle)
            )));
        }
        for (i, model) in models.iter().enumerate() {
            let stored = service.gate(&s.gates[i].id).ok();
            match (stored, model) {
                (Some(gate), Some(model)) => {
                    let diffs = differences(&gate, model);
                    prop_assert!(
                        diffs.is_empty(),
                        "{}: gate {} differs from the oracle:\n    {}\n{}",
                        what(),
                        i,
                        diffs.join("\n    "),
                        gate.explain()
                    );
                }
                (None, None) => {}
                (stored, model) => {
                    return Err(TestCaseError::fail(format!(
                        "{}: gate {i} is stored: {}, open in the oracle: {}",
                        what(),
                        stored.is_some(),
                        model.is_some()
                    )));
                }
            }
        }
        if let Called::Gate(returned) = &called {
            let stored = service.gate(&s.gates[g].id).ok();
            prop_assert!(
                stored.as_ref() == Some(&**returned),
                "{}: the service returned another gate than it stored",
                what()
            );
        }
        let pending = service.store().pending(usize::MAX).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            pending.is_empty(),
            "{}: the recording notifier never fails, yet {} notification(s) wait",
            what(),
            pending.len()
        );
        let delivered = service.notifier().delivered();
        let keys: BTreeSet<&String> = delivered.iter().map(|n| &n.key).collect();
        prop_assert_eq!(keys.len(), delivered.len(), "{}: a notification key was delivered twice", what());
    }
    Ok(())
}

/// A fresh gate's answer to one approval by a service account that the
/// directory puts in groups and gives an access level.
fn service_account_approves(policy: &Policy, account: &Principal) -> Result<(), TestCaseError> {
    let now = prop::t0();
    // No auto-approval: only who matches what is asked here.
    let mut spec = policy.spec().clone();
    spec.auto_approval = None;
    let policy = &Policy::new(spec).expect("still valid");
    let executor = PrincipalId::new("u0").expect("valid id");
    let id = approval_gate::GateId::new("g0").expect("valid id");
    let events = Gate::open(id, policy.clone(), approval_gate::Run::new(executor.clone()), now)
        .map_err(|e| TestCaseError::fail(format!("open: {e}")))?;
    let gate = Gate::replay(&events).expect("opened");
    let mut model =
        Model::open(policy.spec(), executor, now).map_err(|k| TestCaseError::fail(format!("oracle open: {k}")))?;
    let command = Command::Approve(approval_gate::Approve::by(account.clone()));
    let engine = gate.decide(&command, now);
    let oracle = model.decide(&command, now);
    let engine_kind = engine.as_ref().map(|e| !e.is_empty()).map_err(|e| e.kind());
    prop_assert_eq!(
        engine_kind,
        oracle,
        "service account {} approving: engine {:?}, oracle {:?}; the engine matches rules {:?}, the oracle {:?}",
        prop::principal_line(account),
        engine.as_ref().map(|_| "accepted").map_err(ToString::to_string),
        oracle,
        policy.matching_rules(account).iter().collect::<Vec<_>>(),
        naive::matching(policy.spec(), account)
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Opening a gate that is already open answers `duplicate_gate` ("a gate
    /// with that id is already open"), whatever the policy's auto-approval
    /// schedule says about an opening at this later instant.
    #[test]
    fn reopening_an_open_gate_is_a_duplicate(
        policy in prop::policy(2),
        auto_at in 0..=60i64,
        later in 0..=120i64,
    ) {
        let mut spec = policy.spec().clone();
        spec.auto_approval = Some(approval_gate::policy::AutoApproval::new(Schedule::At(prop::t0() + prop::minutes(auto_at))));
        let policy = Policy::new(spec).expect("still valid");
        let service = prop::service();
        let id = approval_gate::GateId::new("g0").expect("valid id");
        let run = approval_gate::Run::new(PrincipalId::new("u0").expect("valid id"));
        service.open(id.clone(), policy.clone(), run.clone(), prop::t0()).map_err(|e| TestCaseError::fail(format!("first open: {e}")))?;
        let again = service.open(id, policy, run, prop::t0() + prop::minutes(later));
        let kind = again.as_ref().map(|_| ()).map_err(|e| e.kind());
        prop_assert_eq!(
            kind,
            Err(ErrorKind::DuplicateGate),
            "opening g0 again at t+{}m (auto-approval at t+{}m): {:?}",
            later,
            auto_at,
            again.map(|_| ()).map_err(|e| e.to_string())
        );
    }

    /// Under `revote: while_waiting` an approval may become a rejection: a
    /// changed vote. Once a principal has rejected, none of their approvals
    /// counts any more, under `once_per_rule` too, where they may hold one
    /// approval per rule: a rejected gate never lists its rejecter among the
    /// approvals that count, nor hands on the rejecter's inputs.
    #[test]
    fn a_changed_vote_withdraws_every_approval_of_the_rejecter(
        required in proptest::collection::vec(2..=3u32, 2..=4),
        pins in proptest::collection::vec(any::<bool>(), 4),
    ) {
        let rules: Vec<approval_gate::policy::Rule> = required
            .iter()
            .enumerate()
            .map(|(i, r)| approval_gate::policy::Rule::new(*r, [approval_gate::policy::Approver::Anyone]).named(prop::RULE_NAMES[i]))
            .collect();
        let n = rules.len();
        let mut spec = PolicySpec::new(rules);
        spec.counting = Counting::OncePerRule;
        spec.revote = Revote::WhileWaiting;
        spec.inputs = vec![approval_gate::policy::Input::new("ticket").with_default("none")];
        let policy = Policy::new(spec).expect("valid");
        let now = prop::t0();
        let events = Gate::open(approval_gate::GateId::new("g0").expect("valid id"), policy, approval_gate::Run::new(PrincipalId::new("u0").expect("valid id")), now)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut gate = Gate::replay(&events).expect("opened");
        let ann = Principal::user("ann").expect("valid id");
        // Ann approves for rule 2 (not the first she matches) and maybe others.
        let chosen: Vec<usize> = (0..n).filter(|i| *i == 1 || pins[*i]).collect();
        for rule in &chosen {
            let approve = approval_gate::Approve::by(ann.clone()).represented_as(prop::RULE_NAMES[*rule]).input("ticket", format!("ann-{rule}"));
            for event in gate.decide(&Command::Approve(approve), now).map_err(|e| TestCaseError::fail(e.to_string()))? {
                gate.evolve(&event);
            }
        }
        for event in gate.decide(&Command::Reject { by: ann.clone(), comment: None }, now).map_err(|e| TestCaseError::fail(e.to_string()))? {
            gate.evolve(&event);
        }
        prop_assert_eq!(gate.status(), Status::Rejected);
        prop_assert!(
            gate.approved_by().is_empty() && gate.approvals().is_empty(),
            "ann approved for rules {:?} and then rejected; the rejected gate still counts her: approved_by {:?}, outputs {:?}\n{}",
            chosen, gate.approved_by(), gate.outputs(), gate.explain()
        );
        prop_assert_eq!(gate.outputs().get("ticket").cloned(), Some("none".to_owned()));
    }

    /// The engine, driven directly through `Gate::open` / `decide` /
    /// `evolve`, agrees with the naive oracle after every step (up to four
    /// rules, one to three gates).
    #[test]
    fn the_engine_agrees_with_the_naive_oracle(s in scenario(Shape::ORACLE)) {
        agree_directly(&s)?;
    }

    /// The same with one rule per gate, where the assignment is forced and
    /// `remaining` is compared exactly.
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_single_rule_gates(
        s in scenario(Shape { max_rules: 1, ..Shape::ORACLE })
    ) {
        agree_directly(&s)?;
    }

    /// `service::Approvals` over a `MemoryStore` with a `RecordingNotifier`
    /// agrees with the naive oracle (deciding as the service does: a passed
    /// deadline first) after every step, and delivers every notification
    /// once.
    #[test]
    fn the_service_agrees_with_the_naive_oracle(s in scenario(Shape::ORACLE)) {
        agree_through_service(&s)?;
    }

    /// The documented contract of a service account (`PrincipalKind`: "It
    /// matches only approver entries that name it"): a service account that
    /// the directory puts in groups or gives an access level still matches
    /// no group or access-level entry.
    #[test]
    fn a_service_account_matches_only_entries_naming_it(
        policy in prop::policy(4),
        groups in proptest::sample::subsequence(prop::GROUPS.to_vec(), 0..=4),
        level in proptest::option::of(proptest::sample::select(prop::LEVELS.to_vec())),
        which in 0..2usize,
    ) {
        let mut account = Principal::service_account(format!("s{which}")).expect("valid id").with_groups(groups);
        if let Some(level) = level {
            account = account.with_access_level(level);
        }
        service_account_approves(&policy, &account)?;
    }
}
