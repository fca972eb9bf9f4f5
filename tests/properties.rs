//! Property tests: random policies and random timed command sequences over one
//! to three gates keep the engine's invariants, checked after every step.
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

use approval_gate::policy::{Counting, ExecutorRule};
use approval_gate::{Action, Command, ErrorKind, Event, Gate, PrincipalId, Reason, Status};
use chrono::{DateTime, Utc};
use prop::{Called, Held, Op, Outcome, Scenario, Shape, View, config, drive, naive, scenario};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeSet;

/// Fails with `difference` unless `ok`.
fn ensure(view: &View<'_>, ok: bool, difference: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if ok { Ok(()) } else { Err(view.fail(difference())) }
}

/// Every open gate after a step, with its index.
fn open_gates<'a>(view: &'a View<'_>) -> impl Iterator<Item = (usize, &'a Held)> {
    view.all.iter().enumerate().filter_map(|(i, h)| h.as_ref().map(|h| (i, h)))
}

/// The directory's principal with this id, if any.
fn in_directory<'a>(scenario: &'a Scenario, id: &PrincipalId) -> Option<&'a approval_gate::Principal> {
    scenario.directory.iter().find(|p| p.id() == id)
}

/// The command by which `p` takes `action`, as plain as it comes: no
/// comment, no rule named, and inputs that fit (when there are such).
fn plain(p: &approval_gate::Principal, action: Action, spec: &approval_gate::policy::PolicySpec) -> Command {
    match action {
        Action::Approve => {
            let mut approve = approval_gate::Approve::by(p.clone());
            for (name, value) in prop::fitting_inputs(spec).unwrap_or_default() {
                approve = approve.input(name, value);
            }
            Command::Approve(approve)
        }
        Action::Reject => Command::Reject { by: p.clone(), comment: None },
        _ => Command::Assign { to: p.clone() },
    }
}

proptest! {
    #![proptest_config(prop::config_at_least(10_000))]

    /// One eligibility path (issue 10): for random policies, gates and
    /// principals, `may(p, action)` is `Ok` exactly when deciding that
    /// action by `p` is accepted, and refuses with the same kind when not.
    /// Checked after every step, for every principal of the directory and
    /// every action, on the gate the step was for. The only refusal `may`
    /// cannot foresee is `invalid_inputs` for a policy whose inputs no value
    /// fits: it does not look at inputs.
    #[test]
    fn may_agrees_with_decide_for_every_principal_and_action(s in scenario(Shape::FULL)) {
        drive(&s, |view| {
            let Some(held) = view.after else { return Ok(()) };
            let gate = &held.gate;
            let spec = gate.policy().spec();
            let inputs_fit = prop::fitting_inputs(spec).is_some();
            for p in &s.directory {
                for action in [Action::Approve, Action::Reject, Action::Assign] {
                    let may = gate.may(p, action, view.now).map(|_| ()).map_err(|e| e.kind());
                    let decided = gate.decide(&plain(p, action, spec), view.now).map(|_| ()).map_err(|e| e.kind());
                    let unforeseen = !inputs_fit && may.is_ok() && decided == Err(ErrorKind::InvalidInputs);
                    ensure(view, may == decided || unforeseen, || {
                        format!("`{}` {action:?} at {}: may says {may:?}, decide says {decided:?}", p.id(), prop::clock(view.now))
                    })?;
                }
            }
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(config())]

    /// Once a gate has ended, no command changes it: every later command is
    /// refused or decides nothing, and the gate stays equal to what it was.
    #[test]
    fn an_ended_gate_never_changes(s in scenario(Shape::FULL)) {
        let mut frozen: Vec<Option<Gate>> = vec![None; s.gates.len()];
        drive(&s, |view| {
            let g = view.step.gate;
            if let (Some(frozen), Some(after)) = (&frozen[g], view.after) {
                if let Outcome::Decided(Ok(events)) = view.outcome {
                    ensure(view, events.is_empty(), || format!("an ended gate took events {events:?}"))?;
                }
                ensure(view, &after.gate == frozen, || {
                    format!("the ended gate changed:\n  was {frozen:?}\n  now {:?}", after.gate)
                })?;
            }
            if let Some(after) = view.after {
                if !after.gate.is_waiting() && frozen[g].is_none() {
                    ensure(view, after.gate.ending().is_some() && after.gate.reason().is_some(), || {
                        "an ended gate has no ending or reason".to_owned()
                    })?;
                    frozen[g] = Some(after.gate.clone());
                }
            }
            Ok(())
        })?;
    }

    /// An accepted rejection ends the gate as rejected (reason `rejected`,
    /// rejected by the rejecter), and nothing after it makes it approved or
    /// changes who rejected it.
    #[test]
    fn an_accepted_rejection_ends_the_gate_for_good(s in scenario(Shape::FULL)) {
        let mut rejected: Vec<Option<PrincipalId>> = vec![None; s.gates.len()];
        drive(&s, |view| {
            let g = view.step.gate;
            if let (Some(Command::Reject { by, .. }), Outcome::Decided(Ok(_))) = (view.command, view.outcome) {
                let gate = &view.after.expect("decided on an open gate").gate;
                ensure(view, gate.status() == Status::Rejected && gate.reason() == Some(Reason::Rejected), || {
                    format!("an accepted rejection left the gate {} ({:?})", gate.status(), gate.reason())
                })?;
                ensure(view, gate.rejected_by() == Some(by.id()), || {
                    format!("rejected_by is {:?}, not the rejecter {}", gate.rejected_by(), by.id())
                })?;
                rejected[g] = Some(by.id().clone());
            }
            for (i, held) in open_gates(view) {
                if let Some(by) = &rejected[i] {
                    let gate = &held.gate;
                    ensure(view, gate.status() == Status::Rejected && gate.reason() == Some(Reason::Rejected), || {
                        format!("gate {} was rejected by {by} and is now {} ({:?})", gate.id(), gate.status(), gate.reason())
                    })?;
                    ensure(view, gate.rejected_by() == Some(by), || {
                        format!("gate {} was rejected by {by}, now rejected_by is {:?}", gate.id(), gate.rejected_by())
                    })?;
                }
            }
            Ok(())
        })?;
    }

    /// Where the policy keeps the executor from approving
    /// (`may_not_approve`, `may_not_act`), no approval of theirs is held or
    /// counted; under `may_not_act` they do not reject either.
    #[test]
    fn the_executor_never_counts_where_the_policy_excludes_them(s in scenario(Shape::FULL)) {
        drive(&s, |view| {
            for (i, held) in open_gates(view) {
                let gate = &held.gate;
                let executor = &gate.run().executor;
                let rule = gate.policy().spec().executor;
                if matches!(rule, ExecutorRule::MayNotApprove | ExecutorRule::MayNotAct) {
                    ensure(view, gate.approvals().iter().all(|a| a.by.id() != executor), || {
                        format!("gate {i}: executor {executor} holds an approval under {rule:?}")
                    })?;
                    ensure(view, !gate.approved_by().contains(&executor), || {
                        format!("gate {i}: executor {executor} is in approved_by under {rule:?}")
                    })?;
                    let counted = gate.explain().rules.iter().any(|r| r.counted.contains(executor));
                    ensure(view, !counted, || format!("gate {i}: executor {executor} counts for a rule under {rule:?}"))?;
                }
                if rule == ExecutorRule::MayNotAct {
                    ensure(view, gate.rejected_by() != Some(executor), || {
                        format!("gate {i}: executor {executor} rejected under may_not_act")
                    })?;
                }
            }
            Ok(())
        })?;
    }

    /// A principal counts at most once per rule and, under `once_per_gate`,
    /// once in all; each counted approval counts for a rule its approver
    /// matches (its pinned rule, if pinned), and the rules an approval
    /// records are exactly the rules its approver matches.
    #[test]
    fn a_principal_counts_once_per_rule_and_once_per_gate(s in scenario(Shape::FULL)) {
        drive(&s, |view| {
            for (i, held) in open_gates(view) {
                let gate = &held.gate;
                let spec = gate.policy().spec();
                let rules = gate.explain().rules;
                let mut everywhere = BTreeSet::new();
                for (r, progress) in rules.iter().enumerate() {
                    let mut here = BTreeSet::new();
                    for id in &progress.counted {
                        ensure(view, here.insert(id.clone()), || format!("gate {i}: {id} counts twice for rule {r}"))?;
                        if spec.counting == Counting::OncePerGate {
                            ensure(view, everywhere.insert(id.clone()), || {
                                format!("gate {i}: {id} counts for more than one rule under once_per_gate")
                            })?;
                        }
                        let approval = gate.approvals().iter().find(|a| a.by.id() == id && a.rule.is_none_or(|p| usize::from(p) == r));
                        ensure(view, approval.is_some_and(|a| naive::matching(spec, &a.by).contains(&r)), || {
                            format!("gate {i}: {id} counts for rule {r} without an approval that matches it")
                        })?;
                    }
                }
                let mut seen = BTreeSet::new();
                for a in gate.approvals() {
                    let key = (a.by.id().clone(), if spec.counting == Counting::OncePerRule { a.rule } else { None });
                    ensure(view, seen.insert(key), || format!("gate {i}: {} holds two approvals that count alike", a.by.id()))?;
                    let matched: Vec<usize> = a.rules.iter().collect();
                    ensure(view, matched == naive::matching(spec, &a.by), || {
                        format!("gate {i}: approval by {} records rules {matched:?}, the approver matches {:?}", a.by.id(), naive::matching(spec, &a.by))
                    })?;
                    if let Some(pin) = a.rule {
                        ensure(view, matched.contains(&usize::from(pin)), || {
                            format!("gate {i}: approval by {} is pinned to rule {pin}, which it does not match", a.by.id())
                        })?;
                    }
                }
                let total: usize = rules.iter().map(|r| r.counted.len()).sum();
                ensure(view, total == gate.approved_by().len(), || {
                    format!("gate {i}: {total} counted across rules, approved_by lists {}", gate.approved_by().len())
                })?;
            }
            Ok(())
        })?;
    }

    /// A principal on the disallowed list (by id, or by e-mail without regard
    /// to case) never holds an approval, never rejects and never has an
    /// approve, reject or assign accepted.
    #[test]
    fn a_disallowed_principal_never_approves_or_rejects(s in scenario(Shape::FULL)) {
        drive(&s, |view| {
            if let (Some(command), Outcome::Decided(Ok(events)), Some(held)) = (view.command, view.outcome, view.after) {
                let spec = held.gate.policy().spec();
                let actor = match command {
                    Command::Approve(a) => Some(&a.by),
                    Command::Reject { by, .. } => Some(by),
                    Command::Assign { to } => Some(to),
                    _ => None,
                };
                if let Some(actor) = actor {
                    ensure(view, events.is_empty() || !naive::disallowed(spec, actor), || {
                        format!("disallowed {} was accepted: {events:?}", actor.id())
                    })?;
                }
            }
            for (i, held) in open_gates(view) {
                let gate = &held.gate;
                let spec = gate.policy().spec();
                for a in gate.approvals() {
                    ensure(view, !naive::disallowed(spec, &a.by), || format!("gate {i}: disallowed {} holds an approval", a.by.id()))?;
                }
                if let Some(by) = gate.rejected_by() {
                    let disallowed = in_directory(view.scenario, by).is_some_and(|p| naive::disallowed(spec, p));
                    ensure(view, !disallowed, || format!("gate {i}: disallowed {by} rejected it"))?;
                }
            }
            Ok(())
        })?;
    }

    /// A gate is approved by quorum exactly when some assignment of its
    /// approvals to rules meets every rule (searched by brute force): a
    /// waiting gate has no such assignment, a gate approved by quorum has
    /// one, and `remaining` is 0 exactly then. `remaining` is never below
    /// the best assignment's, and equals it where the assignment is forced.
    #[test]
    fn quorum_status_agrees_with_the_brute_force_oracle(s in scenario(Shape::ORACLE)) {
        drive(&s, |view| {
            for (i, held) in open_gates(view) {
                let gate = &held.gate;
                let spec = gate.policy().spec();
                let required = naive::required(spec);
                let options = naive::options(gate);
                let met = naive::met(&required, &options);
                let best = naive::min_remaining(&required, &options);
                if gate.is_waiting() {
                    ensure(view, !met, || format!("gate {i} waits, yet an assignment meets every rule: {options:?} for {required:?}"))?;
                }
                if gate.reason() == Some(Reason::Quorum) {
                    ensure(view, gate.status() == Status::Approved, || format!("gate {i}: reason quorum with status {}", gate.status()))?;
                    ensure(view, met, || format!("gate {i} approved by quorum, yet no assignment meets every rule: {options:?} for {required:?}"))?;
                }
                ensure(view, (gate.remaining() == 0) == met, || {
                    format!("gate {i}: remaining {} but the brute force says met = {met} ({options:?} for {required:?})", gate.remaining())
                })?;
                ensure(view, gate.remaining() >= best, || {
                    format!("gate {i}: remaining {} is below the best assignment's {best}", gate.remaining())
                })?;
                let forced = required.len() == 1 || options.iter().all(|o| o.len() == 1);
                if forced {
                    ensure(view, gate.remaining() == best, || {
                        format!("gate {i}: remaining {} where the only assignment leaves {best}", gate.remaining())
                    })?;
                }
            }
            Ok(())
        })?;
    }

    /// A refused command changes nothing: `decide` returned an error, the gate
    /// is equal before and after, and deciding again gives the same answer
    /// (`decide` is pure). A command accepted with no events changes nothing
    /// either.
    #[test]
    fn a_refused_command_changes_nothing(s in scenario(Shape::FULL)) {
        drive(&s, |view| {
            if let (Outcome::Decided(result), Some(before), Some(after), Some(command)) =
                (view.outcome, view.before, view.after, view.command)
            {
                let again = before.decide(command, view.now);
                ensure(view, &again == result, || format!("deciding again gave {again:?}"))?;
                let unchanged = match result {
                    Err(_) => true,
                    Ok(events) => events.is_empty(),
                };
                if unchanged {
                    ensure(view, &after.gate == before, || format!("the gate changed:\n  was {before:?}\n  now {:?}", after.gate))?;
                }
            }
            if let (Outcome::Opened(Err(_)), Some(_)) = (view.outcome, view.after) {
                return Err(view.fail("a refused open left a gate"));
            }
            Ok(())
        })?;
    }

    /// Through the service too: a refused call leaves the stored gate as it
    /// was, except that a deadline that had passed is recorded (the gate
    /// ends at its deadline), exactly as a tick at that instant would.
    #[test]
    fn a_refused_service_call_changes_nothing_but_a_passed_deadline(s in scenario(Shape::FULL)) {
        let service = prop::service();
        let times = s.times();
        for (index, step) in s.steps.iter().enumerate() {
            let now = times[index];
            let id = &s.gates[step.gate].id;
            let before = service.gate(id).ok();
            let called = prop::call(&service, &s, step, now);
            let after = service.gate(id).ok();
            if let (Called::Refused(kind, why), Some(before)) = (&called, &before) {
                let mut expected = before.clone();
                // Opening a gate that is open only refuses; any other call
                // lets a passed deadline take effect first.
                let ticks = step.op != Op::Open;
                if let (true, Ok(events)) = (ticks, before.decide(&Command::Tick, now)) {
                    for event in &events {
                        expected.evolve(event);
                    }
                }
                prop_assert!(
                    after.as_ref() == Some(&expected),
                    "{}: refused ({kind}: {why}) but the stored gate changed:\n  was {before:?}\n  now {after:?}",
                    s.describe(index, now)
                );
            }
            if let (Called::Refused(..), None) = (&called, &before) {
                prop_assert!(after.is_none(), "{}: a refused open stored a gate", s.describe(index, now));
            }
        }
    }

    /// Replaying a gate's events (`Gate::replay`) gives exactly the live
    /// gate, after every step.
    #[test]
    fn replaying_the_events_gives_the_live_state(s in scenario(Shape::FULL)) {
        drive(&s, |view| {
            for (i, held) in open_gates(view) {
                let replayed = Gate::replay(&held.events).map_err(|e| view.fail(format!("gate {i}: replay failed: {e}")))?;
                ensure(view, replayed == held.gate, || {
                    format!("gate {i}: replay differs from the live gate:\n  live     {:?}\n  replayed {replayed:?}", held.gate)
                })?;
                ensure(view, held.gate.version() == held.events.len() as u64, || {
                    format!("gate {i}: version {} after {} events", held.gate.version(), held.events.len())
                })?;
            }
            Ok(())
        })?;
    }

    /// Events, gates and commands survive a JSON round trip unchanged.
    #[test]
    fn events_and_gates_survive_a_json_round_trip(s in scenario(Shape::FULL)) {
        fn round_trip<T>(value: &T) -> Result<T, String>
        where
            T: serde::Serialize + serde::de::DeserializeOwned,
        {
            let json = serde_json::to_string(value).map_err(|e| format!("serialize: {e}"))?;
            serde_json::from_str(&json).map_err(|e| format!("deserialize: {e}\n  json: {json}"))
        }
        drive(&s, |view| {
            if let Outcome::Opened(Ok(events)) | Outcome::Decided(Ok(events)) = view.outcome {
                for event in events {
                    let back: Event = round_trip(event).map_err(|e| view.fail(e))?;
                    ensure(view, &back == event, || format!("event changed in JSON:\n  was {event:?}\n  now {back:?}"))?;
                }
            }
            if let Some(command) = view.command {
                let back: Command = round_trip(command).map_err(|e| view.fail(e))?;
                ensure(view, &back == command, || format!("command changed in JSON:\n  was {command:?}\n  now {back:?}"))?;
            }
            if let Some(held) = view.after {
                let back: Gate = round_trip(&held.gate).map_err(|e| view.fail(e))?;
                ensure(view, back == held.gate, || format!("gate changed in JSON:\n  was {:?}\n  now {back:?}", held.gate))?;
            }
            Ok(())
        })?;
    }

    /// Gates are independent: running each gate's own commands (at their
    /// own instants) in another interleaving gives every gate the same
    /// answers and the same final state.
    #[test]
    fn the_interleaving_of_independent_gates_does_not_matter(
        (s, picks) in scenario(Shape::FULL).prop_flat_map(|s| {
            let n = s.steps.len();
            (Just(s), proptest::collection::vec(any::<usize>(), n))
        })
    ) {
        let times = s.times();
        let original: Vec<usize> = (0..s.steps.len()).collect();
        let merged = merge(&s, &picks);
        let (answers_a, gates_a) = run_in_order(&s, &times, &original);
        let (answers_b, gates_b) = run_in_order(&s, &times, &merged);
        for g in 0..s.gates.len() {
            prop_assert_eq!(&answers_a[g], &answers_b[g], "gate {}: answers differ between orders {:?} and {:?}\n{:?}", g, original, merged, s);
            prop_assert!(gates_a[g] == gates_b[g], "gate {}: final states differ between orders {:?} and {:?}:\n  {:?}\n  {:?}", g, original, merged, gates_a[g], gates_b[g]);
        }
    }

    /// The same through the service over one `MemoryStore`, where a tick
    /// ends every due gate: commands at the same instant for different gates
    /// run in another order (time never goes back, as in a real host).
    #[test]
    fn the_interleaving_through_the_service_does_not_matter(
        (s, priority) in scenario(Shape { glitches: false, ..Shape::FULL }).prop_flat_map(|s| {
            let n = s.gates.len();
            (Just(s), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let times = s.times();
        let original: Vec<usize> = (0..s.steps.len()).collect();
        let mut reordered = original.clone();
        reordered.sort_by_key(|i| (times[*i], priority[s.steps[*i].gate]));
        let (answers_a, gates_a) = serve_in_order(&s, &times, &original);
        let (answers_b, gates_b) = serve_in_order(&s, &times, &reordered);
        for g in 0..s.gates.len() {
            prop_assert_eq!(&answers_a[g], &answers_b[g], "gate {}: answers differ between orders {:?} and {:?}", g, original, reordered);
            prop_assert!(gates_a[g] == gates_b[g], "gate {}: final states differ between orders {:?} and {:?}:\n  {:?}\n  {:?}", g, original, reordered, gates_a[g], gates_b[g]);
        }
    }
}

/// A random merge of the gates' own step lists: each gate's steps keep their
/// order.
fn merge(s: &Scenario, picks: &[usize]) -> Vec<usize> {
    let mut queues: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); s.gates.len()];
    for (i, step) in s.steps.iter().enumerate() {
        queues[step.gate].push_back(i);
    }
    let mut order = Vec::with_capacity(s.steps.len());
    for pick in picks {
        let live: Vec<usize> = (0..queues.len()).filter(|q| !queues[*q].is_empty()).collect();
        let q = live[pick % live.len()];
        order.push(queues[q].pop_front().expect("a live queue"));
    }
    order
}

type Answer = Result<usize, approval_gate::ErrorKind>;

/// Every gate's final state (`None`: never opened).
type Finals = Vec<Option<Gate>>;

/// Runs the steps in `order` through the engine, each at its own instant:
/// each gate's answers (events emitted, or the refusal's kind) and final
/// state.
fn run_in_order(s: &Scenario, times: &[DateTime<Utc>], order: &[usize]) -> (Vec<Vec<Answer>>, Finals) {
    let mut gates: Vec<Option<Gate>> = vec![None; s.gates.len()];
    let mut answers: Vec<Vec<Answer>> = vec![Vec::new(); s.gates.len()];
    for &i in order {
        let step = &s.steps[i];
        let g = step.gate;
        let now = times[i];
        let answer = if step.op == Op::Open {
            if gates[g].is_some() {
                continue;
            }
            Gate::open(s.gates[g].id.clone(), s.gates[g].policy.clone(), s.run(g), now).map(|events| {
                gates[g] = Some(Gate::replay(&events).expect("opened"));
                events.len()
            })
        } else {
            let Some(gate) = gates[g].as_mut() else { continue };
            gate.decide(&s.command(step).expect("a command"), now).map(|events| {
                for event in &events {
                    gate.evolve(event);
                }
                events.len()
            })
        };
        answers[g].push(answer.map_err(|e| e.kind()));
    }
    (answers, gates)
}

/// Runs the steps in `order` through one service: each gate's answers
/// (accepted, or the refusal's kind; ticks end whatever is due and are not
/// any one gate's answer) and final state.
fn serve_in_order(
    s: &Scenario,
    times: &[DateTime<Utc>],
    order: &[usize],
) -> (Vec<Vec<Result<(), approval_gate::ErrorKind>>>, Finals) {
    let service = prop::service();
    let mut answers = vec![Vec::new(); s.gates.len()];
    for &i in order {
        let step = &s.steps[i];
        match prop::call(&service, s, step, times[i]) {
            Called::Ticked(_) => {}
            Called::Gate(_) => answers[step.gate].push(Ok(())),
            Called::Refused(kind, _) => answers[step.gate].push(Err(kind)),
        }
    }
    let gates = s.gates.iter().map(|g| service.gate(&g.id).ok()).collect();
    (answers, gates)
}
