//! `decide`: what a command does to a gate, or why it is refused.
//!
//! Every action by a principal passes one check, [`admit`], which
//! [`Gate::may`](super::Gate::may) and `explain` use too, so they cannot
//! disagree. Its order is the order Harness checks an approval in: the gate
//! must wait, the actor must not have voted, must not be the excluded
//! executor, must not be disallowed, must match a rule; then the rule
//! `represented_as` names, then responsibility. A comment is checked once
//! the gate is known to wait, before the actor; the inputs last.

use super::deadline::Deadline;
use super::{Action, Approve, Command, Event, Gate, GateError, Reason, Run, Status, Vote};
use crate::id::GateId;
use crate::policy::{
    Counting, Disallowed, ExecutorRule, Policy, Responsibility, Revote, RuleSet, Schedule, Supersede, TimeoutOutcome,
};
use crate::principal::Principal;
use chrono::{DateTime, Utc};

/// What the checks on an actor found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Admission {
    /// The rules the actor matches.
    pub(super) rules: RuleSet,
    /// The rule the action counts for, where it is pinned to one.
    pub(super) rule: Option<u8>,
    /// The same vote again under [`Revote::WhileWaiting`]: accepted, and
    /// changes nothing.
    pub(super) repeat: bool,
    /// Nobody holds the responsibility the action needs: the actor takes it
    /// in the same action.
    pub(super) takes_responsibility: bool,
}

pub(super) fn open(id: GateId, policy: Policy, run: Run, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    if let Some(auto) = &policy.spec().auto_approval {
        // An auto-approval too far off to represent never comes: no check.
        let at = match auto.at {
            Schedule::At(at) => Some(at),
            Schedule::After(span) => span.after(now),
        };
        // Harness wants the deadline "more than 15 minutes" away; without a
        // lead it must only not lie in the past.
        let earliest = match auto.min_lead {
            Some(lead) => lead.after(now).unwrap_or(DateTime::<Utc>::MAX_UTC),
            None => now,
        };
        let too_soon = match (at, auto.min_lead) {
            (Some(at), Some(_)) => at <= earliest,
            (Some(at), None) => at < earliest,
            (None, _) => false,
        };
        if let (true, Some(at)) = (too_soon, at) {
            return Err(GateError::AutoApprovalTooSoon { at, earliest });
        }
    }
    let applies = policy.spec().environments.applies_to(run.environment.as_deref());
    let mut events = vec![Event::Opened { gate: id, policy, run, at: now }];
    if !applies {
        events.push(ended(Status::Skipped, Reason::NotApplicable, None, None, now));
    }
    Ok(events)
}

pub(super) fn decide(gate: &Gate, command: &Command, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    if let Command::Tick = command {
        in_order(gate, now)?;
        return Ok(tick(gate, now));
    }
    match command {
        Command::Approve(approve) => self::approve(gate, approve, now),
        Command::Reject { by, comment } => reject(gate, by, comment.as_deref(), now),
        Command::Assign { to } => assign(gate, to, now),
        Command::Cancel { by, reason } => {
            acting_time(gate, now)?;
            comment_fits(gate, reason.as_deref())?;
            let by = by.as_ref().map(|p| p.id().clone());
            Ok(vec![ended(Status::Cancelled, Reason::Cancelled, by, reason.clone(), now)])
        }
        Command::Supersede { by, newer } => supersede(gate, by.as_ref(), newer, now),
        Command::Tick => Ok(Vec::new()),
    }
}

/// Whether `by` may take `action` at `now`, the rule `represented_as`
/// names (or the one once-per-rule counting picks), and what the action
/// must do first. The one check behind `decide`, `may` and `explain`.
pub(super) fn admit(
    gate: &Gate,
    by: &Principal,
    action: Action,
    represented_as: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Admission, GateError> {
    acting_time(gate, now)?;
    admit_actor(gate, by, action, represented_as)
}

/// [`admit`] once the time is known to be fit for acting: the checks on
/// the actor alone.
fn admit_actor(
    gate: &Gate,
    by: &Principal,
    action: Action,
    represented_as: Option<&str>,
) -> Result<Admission, GateError> {
    let counting = gate.state.policy.spec().counting;
    let per_gate_vote = match action {
        Action::Approve if counting == Counting::OncePerGate => vote_again(gate, by, Vote::Approved)?,
        Action::Reject => vote_again(gate, by, Vote::Rejected)?,
        _ => false,
    };
    if per_gate_vote {
        // The same vote again changes nothing, so nothing more is asked of
        // it (GitLab's upsert answers it before any other check).
        let rules = gate.state.policy.matching_rules(by);
        return Ok(Admission { rules, rule: None, repeat: true, takes_responsibility: false });
    }
    let rules = eligible(gate, by, action)?;
    let rule = match action {
        Action::Approve => pick_rule(gate, by, rules, represented_as)?,
        Action::Reject if counting == Counting::OncePerRule => first_rule(rules),
        _ => None,
    };
    let per_rule_vote = action == Action::Approve
        && counting == Counting::OncePerRule
        && gate.state.approvals.iter().any(|a| a.by.id() == by.id() && a.rule == rule)
        && repeat(gate, by, Vote::Approved, Vote::Approved)?;
    if per_rule_vote {
        return Ok(Admission { rules, rule, repeat: true, takes_responsibility: false });
    }
    let takes_responsibility = match action {
        Action::Approve | Action::Reject => needs_responsibility(gate, by)?,
        Action::Assign => false,
    };
    Ok(Admission { rules, rule, repeat: false, takes_responsibility })
}

/// The command's time must not be before the gate's last event, and the
/// gate must wait at that time.
fn acting_time(gate: &Gate, now: DateTime<Utc>) -> Result<(), GateError> {
    in_order(gate, now)?;
    waiting(gate, now)
}

/// The command's time must not be before the gate's last event.
fn in_order(gate: &Gate, now: DateTime<Utc>) -> Result<(), GateError> {
    match gate.state.last_at {
        last if now < last => Err(GateError::TimeWentBackwards { last, now }),
        _ => Ok(()),
    }
}

/// The gate must wait, and its deadline must not have passed unticked.
fn waiting(gate: &Gate, now: DateTime<Utc>) -> Result<(), GateError> {
    if !gate.is_waiting() {
        return Err(GateError::NotWaiting { gate: gate.state.id.clone(), status: gate.status() });
    }
    match gate.deadline() {
        Some((deadline, _)) if deadline <= now => {
            Err(GateError::DeadlinePassed { gate: gate.state.id.clone(), deadline })
        }
        _ => Ok(()),
    }
}

/// Whether `by` voting `now` repeats an earlier vote of theirs that the
/// policy accepts again as a no-op; refused when the policy does not let it
/// be repeated or changed. `false` when they have not voted.
fn vote_again(gate: &Gate, by: &Principal, now: Vote) -> Result<bool, GateError> {
    match earlier_vote(gate, by) {
        Some(previous) => repeat(gate, by, previous, now),
        None => Ok(false),
    }
}

/// A second vote: refused under [`Revote::Never`]; under
/// [`Revote::WhileWaiting`] the same vote again changes nothing and an
/// approval may become a rejection.
fn repeat(gate: &Gate, by: &Principal, previous: Vote, now: Vote) -> Result<bool, GateError> {
    match (gate.state.policy.spec().revote, previous, now) {
        (Revote::WhileWaiting, previous, now) if previous == now => Ok(true),
        (Revote::WhileWaiting, Vote::Approved, Vote::Rejected) => Ok(false),
        _ => Err(GateError::AlreadyDecided { gate: gate.state.id.clone(), principal: by.id().clone(), previous }),
    }
}

/// A principal's earlier vote on the gate, if any.
fn earlier_vote(gate: &Gate, by: &Principal) -> Option<Vote> {
    let state = &gate.state;
    if state.rejection.as_ref().is_some_and(|(rejecter, _)| rejecter == by.id()) {
        return Some(Vote::Rejected);
    }
    state.approvals.iter().any(|a| a.by.id() == by.id()).then_some(Vote::Approved)
}

/// Whether `by` may take `action` at all: the executor rule, the disallowed
/// list, then the rules. Returns the rules they match.
fn eligible(gate: &Gate, by: &Principal, action: Action) -> Result<RuleSet, GateError> {
    let state = &gate.state;
    let barred = match state.policy.spec().executor {
        ExecutorRule::MayNotAct => true,
        ExecutorRule::MayNotApprove => action == Action::Approve,
        _ => false,
    };
    if barred && by.id() == &state.run.executor {
        return Err(GateError::ExecutorNotAllowed { gate: state.id.clone(), principal: by.id().clone(), action });
    }
    if let Some(Disallowed::Principal(entry) | Disallowed::Email(entry)) = state.policy.disallowed_entry(by) {
        let (gate, principal) = (state.id.clone(), by.id().clone());
        return Err(GateError::UserDisallowed { gate, principal, entry: entry.clone() });
    }
    let rules = state.policy.matching_rules(by);
    if rules.is_empty() {
        return Err(GateError::NotEligible { gate: state.id.clone(), principal: by.id().clone() });
    }
    Ok(rules)
}

/// The rule an approval counts for: the one `represented_as` names, or under
/// once-per-rule counting the first rule the approver matches.
fn pick_rule(gate: &Gate, by: &Principal, rules: RuleSet, named: Option<&str>) -> Result<Option<u8>, GateError> {
    match named {
        Some(name) => match first_rule(gate.state.policy.rules_named(name, rules)) {
            None => Err(GateError::NoMatchingRule {
                gate: gate.state.id.clone(),
                principal: by.id().clone(),
                represented_as: crate::policy::shorten(name),
            }),
            chosen => Ok(chosen),
        },
        None if gate.state.policy.spec().counting == Counting::OncePerRule => Ok(first_rule(rules)),
        None => Ok(None),
    }
}

fn first_rule(rules: RuleSet) -> Option<u8> {
    rules.iter().next().and_then(|index| u8::try_from(index).ok())
}

/// Whether the actor must take responsibility in this action; refused when
/// the policy requires it and someone else holds it.
fn needs_responsibility(gate: &Gate, by: &Principal) -> Result<bool, GateError> {
    let state = &gate.state;
    match (state.policy.spec().responsibility, &state.assigned_to) {
        (Responsibility::RequiredToAct, None) => Ok(true),
        (Responsibility::RequiredToAct, Some(holder)) if holder != by.id() => Err(GateError::NotResponsible {
            gate: state.id.clone(),
            principal: by.id().clone(),
            holder: holder.clone(),
        }),
        (Responsibility::RequiredToAct, Some(_)) | (Responsibility::Informational, _) => Ok(false),
    }
}

fn tick(gate: &Gate, now: DateTime<Utc>) -> Vec<Event> {
    let Some((at, what)) = gate.deadline().filter(|(at, _)| *at <= now) else { return Vec::new() };
    let spec = gate.state.policy.spec();
    let event = match (what, spec.timeout.map(|t| t.outcome)) {
        (Deadline::AutoApproval, _) => {
            let comment = spec.auto_approval.as_ref().and_then(|auto| auto.comment.clone());
            ended(Status::Approved, Reason::AutoApproved, None, comment, at)
        }
        (Deadline::Timeout, Some(TimeoutOutcome::Reject)) => ended(Status::Rejected, Reason::Timeout, None, None, at),
        (Deadline::Timeout, Some(TimeoutOutcome::Approve)) => ended(Status::Approved, Reason::Timeout, None, None, at),
        (Deadline::Timeout, _) => ended(Status::Expired, Reason::Timeout, None, None, at),
    };
    vec![event]
}

fn approve(gate: &Gate, approve: &Approve, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    let by = &approve.by;
    acting_time(gate, now)?;
    comment_fits(gate, approve.comment.as_deref())?;
    let admission = admit_actor(gate, by, Action::Approve, approve.represented_as.as_deref())?;
    if admission.repeat {
        return Ok(Vec::new());
    }
    let inputs = gate.state.policy.resolve_inputs(&approve.inputs)?;
    let Admission { rules, rule, .. } = admission;
    let claim = gate.claim(rules, rule);
    // Room for responsibility and the ending too, so the quorum case does
    // not grow the list.
    let mut events = Vec::with_capacity(3);
    take_responsibility(&mut events, admission, by, now);
    events.push(Event::Approved { by: by.clone(), rules, rule, inputs, comment: approve.comment.clone(), at: now });
    if gate.would_be_met(claim) {
        events.push(ended(Status::Approved, Reason::Quorum, None, None, now));
    }
    Ok(events)
}

fn reject(gate: &Gate, by: &Principal, comment: Option<&str>, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    acting_time(gate, now)?;
    comment_fits(gate, comment)?;
    let admission = admit_actor(gate, by, Action::Reject, None)?;
    if admission.repeat {
        return Ok(Vec::new());
    }
    let comment = comment.map(str::to_owned);
    let mut events = Vec::with_capacity(3);
    take_responsibility(&mut events, admission, by, now);
    events.push(Event::Rejected { by: by.clone(), rule: admission.rule, comment: comment.clone(), at: now });
    events.push(ended(Status::Rejected, Reason::Rejected, Some(by.id().clone()), comment, now));
    Ok(events)
}

fn take_responsibility(events: &mut Vec<Event>, admission: Admission, by: &Principal, now: DateTime<Utc>) {
    if admission.takes_responsibility {
        events.push(Event::Assigned { to: by.id().clone(), at: now });
    }
}

fn assign(gate: &Gate, to: &Principal, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    admit(gate, to, Action::Assign, None, now)?;
    if gate.state.assigned_to.as_ref() == Some(to.id()) {
        return Ok(Vec::new());
    }
    Ok(vec![Event::Assigned { to: to.id().clone(), at: now }])
}

/// A newer run's approval rejects this one, as its approver where there is
/// one: refused wherever that approver could not reject it themselves
/// (Harness skips those runs).
fn supersede(gate: &Gate, by: Option<&Principal>, newer: &GateId, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    acting_time(gate, now)?;
    if gate.state.policy.spec().supersede != Supersede::RejectOlderWaiting {
        return Err(GateError::NotSupersedable { gate: gate.state.id.clone() });
    }
    if let Some(by) = by {
        admit_actor(gate, by, Action::Reject, None)?;
    }
    let comment = format!("rejected due to approval of gate `{newer}`");
    Ok(vec![ended(Status::Rejected, Reason::Superseded, by.map(|p| p.id().clone()), Some(comment), now)])
}

/// A comment must fit the policy's limit. Checked once the gate is known to
/// wait, before the actor: a comment is the action's own, whoever acts.
fn comment_fits(gate: &Gate, comment: Option<&str>) -> Result<(), GateError> {
    let limit = gate.state.policy.spec().max_comment_bytes;
    match comment {
        Some(comment) if comment.len() > limit => Err(GateError::CommentTooLong { len: comment.len(), limit }),
        _ => Ok(()),
    }
}

fn ended(
    status: Status,
    reason: Reason,
    by: Option<crate::PrincipalId>,
    comment: Option<String>,
    at: DateTime<Utc>,
) -> Event {
    Event::Ended { status, reason, by, comment, at }
}
