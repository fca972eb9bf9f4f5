//! `decide`: what a command does to a gate, or why it is refused.
//!
//! The checks run in one order for every policy, the order Harness checks
//! an approval in: the gate must wait, the actor must not have voted, must
//! not be the excluded executor, must not be disallowed, must match a rule;
//! then the rule `represented_as` names, then the inputs.

use super::{Action, Approve, Command, Deadline, Event, Gate, Reason, Run, Status, Vote};
use crate::error::GateError;
use crate::id::GateId;
use crate::policy::{Counting, ExecutorRule, Policy, Revote, RuleSet, Schedule, Supersede, TimeoutOutcome};
use crate::principal::Principal;
use chrono::{DateTime, Utc};

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
    if now < gate.last_at {
        return Err(GateError::TimeWentBackwards { last: gate.last_at, now });
    }
    if let Command::Tick = command {
        return Ok(tick(gate, now));
    }
    waiting(gate, now)?;
    match command {
        Command::Approve(approve) => self::approve(gate, approve, now),
        Command::Reject { by, comment } => reject(gate, by, comment.as_deref(), now),
        Command::Assign { to } => assign(gate, to, now),
        Command::Cancel { by, reason } => {
            comment_fits(gate, reason.as_deref())?;
            let by = by.as_ref().map(|p| p.id().clone());
            Ok(vec![ended(Status::Cancelled, Reason::Cancelled, by, reason.clone(), now)])
        }
        Command::Supersede { by, newer } => supersede(gate, by.as_ref(), newer, now),
        Command::Tick => Ok(Vec::new()),
    }
}

/// The gate must wait, and its deadline must not have passed unticked.
fn waiting(gate: &Gate, now: DateTime<Utc>) -> Result<(), GateError> {
    if !gate.is_waiting() {
        return Err(GateError::NotWaiting { gate: gate.id.clone(), status: gate.status() });
    }
    match gate.deadline() {
        Some((deadline, _)) if deadline <= now => Err(GateError::DeadlinePassed { gate: gate.id.clone(), deadline }),
        _ => Ok(()),
    }
}

fn tick(gate: &Gate, now: DateTime<Utc>) -> Vec<Event> {
    let Some((at, what)) = gate.deadline().filter(|(at, _)| *at <= now) else { return Vec::new() };
    let spec = gate.policy.spec();
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
    comment_fits(gate, approve.comment.as_deref())?;
    let by = &approve.by;
    let unpinned = gate.policy.spec().counting == Counting::OncePerGate;
    if unpinned {
        if let Some(previous) = gate.earlier_vote(by.id()) {
            return repeat(gate, by, previous, Vote::Approved);
        }
    }
    let rules = eligible(gate, by, Action::Approve)?;
    let rule = pick_rule(gate, by, rules, approve.represented_as.as_deref())?;
    if !unpinned && gate.approvals.iter().any(|a| a.by.id() == by.id() && a.rule == rule) {
        return repeat(gate, by, Vote::Approved, Vote::Approved);
    }
    let inputs = gate.policy.resolve_inputs(&approve.inputs)?;
    let claim = gate.claim(rules, rule);
    // Room for the ending too, so the quorum case does not grow the list.
    let mut events = Vec::with_capacity(2);
    events.push(Event::Approved { by: by.clone(), rules, rule, inputs, comment: approve.comment.clone(), at: now });
    if gate.would_be_met(claim) {
        events.push(ended(Status::Approved, Reason::Quorum, None, None, now));
    }
    Ok(events)
}

/// A second vote: refused, or under [`Revote::WhileWaiting`] the same vote
/// again changes nothing.
fn repeat(gate: &Gate, by: &Principal, previous: Vote, now: Vote) -> Result<Vec<Event>, GateError> {
    match gate.revote() {
        Revote::WhileWaiting if previous == now => Ok(Vec::new()),
        _ => Err(GateError::AlreadyDecided { gate: gate.id.clone(), principal: by.id().clone(), previous }),
    }
}

/// The rule an approval counts for: the one `represented_as` names, or under
/// once-per-rule counting the first rule the approver matches.
fn pick_rule(gate: &Gate, by: &Principal, rules: RuleSet, named: Option<&str>) -> Result<Option<u8>, GateError> {
    let chosen = match named {
        Some(name) => {
            let named_rules = gate.policy.rules_named(name, rules);
            let first = named_rules.iter().next();
            if first.is_none() {
                return Err(GateError::NoMatchingRule {
                    gate: gate.id.clone(),
                    principal: by.id().clone(),
                    represented_as: crate::policy::shorten(name),
                });
            }
            first
        }
        None if gate.policy.spec().counting == Counting::OncePerRule => rules.iter().next(),
        None => None,
    };
    Ok(chosen.and_then(|index| u8::try_from(index).ok()))
}

fn reject(gate: &Gate, by: &Principal, comment: Option<&str>, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    comment_fits(gate, comment)?;
    if let Some(previous) = gate.earlier_vote(by.id()) {
        if gate.revote() == Revote::Never {
            return Err(GateError::AlreadyDecided { gate: gate.id.clone(), principal: by.id().clone(), previous });
        }
    }
    let rules = eligible(gate, by, Action::Reject)?;
    let rule = match gate.policy.spec().counting {
        Counting::OncePerRule => rules.iter().next().and_then(|index| u8::try_from(index).ok()),
        _ => None,
    };
    let comment = comment.map(str::to_owned);
    Ok(vec![
        Event::Rejected { by: by.clone(), rule, comment: comment.clone(), at: now },
        ended(Status::Rejected, Reason::Rejected, Some(by.id().clone()), comment, now),
    ])
}

fn assign(gate: &Gate, to: &Principal, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    eligible(gate, to, Action::Assign)?;
    if gate.assigned_to.as_ref() == Some(to.id()) {
        return Ok(Vec::new());
    }
    Ok(vec![Event::Assigned { to: to.id().clone(), at: now }])
}

fn supersede(gate: &Gate, by: Option<&Principal>, newer: &GateId, now: DateTime<Utc>) -> Result<Vec<Event>, GateError> {
    if gate.policy.spec().supersede != Supersede::RejectOlderWaiting {
        return Err(GateError::NotSupersedable { gate: gate.id.clone() });
    }
    if let Some(by) = by {
        if gate.revote() == Revote::Never {
            if let Some(previous) = gate.earlier_vote(by.id()) {
                return Err(GateError::AlreadyDecided { gate: gate.id.clone(), principal: by.id().clone(), previous });
            }
        }
        eligible(gate, by, Action::Reject)?;
    }
    let comment = format!("rejected due to approval of gate `{newer}`");
    Ok(vec![ended(Status::Rejected, Reason::Superseded, by.map(|p| p.id().clone()), Some(comment), now)])
}

/// Whether `by` may take `action` at all: the executor rule, the disallowed
/// list, then the rules. Returns the rules they match.
pub(super) fn eligible(gate: &Gate, by: &Principal, action: Action) -> Result<RuleSet, GateError> {
    let executor = by.id() == &gate.run.executor;
    let barred = match gate.policy.spec().executor {
        ExecutorRule::MayNotAct => true,
        ExecutorRule::MayNotApprove => action == Action::Approve,
        _ => false,
    };
    if executor && barred {
        return Err(GateError::ExecutorNotAllowed { gate: gate.id.clone(), principal: by.id().clone(), action });
    }
    if let Some(entry) = gate.policy.disallowed_entry(by) {
        let (crate::policy::Disallowed::Principal(entry) | crate::policy::Disallowed::Email(entry)) = entry;
        return Err(GateError::UserDisallowed {
            gate: gate.id.clone(),
            principal: by.id().clone(),
            entry: entry.clone(),
        });
    }
    let rules = gate.policy.matching_rules(by);
    if rules.is_empty() {
        return Err(GateError::NotEligible { gate: gate.id.clone(), principal: by.id().clone() });
    }
    Ok(rules)
}

fn comment_fits(gate: &Gate, comment: Option<&str>) -> Result<(), GateError> {
    let limit = gate.policy.spec().max_comment_bytes;
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

/// The checks on an actor that need no inputs: the time, the gate waiting,
/// an earlier vote, the executor, the disallowed list, the rules.
pub(super) fn check_actor(
    gate: &Gate,
    by: &Principal,
    action: Action,
    now: DateTime<Utc>,
) -> Result<RuleSet, GateError> {
    if now < gate.last_at {
        return Err(GateError::TimeWentBackwards { last: gate.last_at, now });
    }
    waiting(gate, now)?;
    let previous = gate.earlier_vote(by.id());
    let blocked = match (action, previous, gate.revote()) {
        (Action::Assign, _, _) | (_, None, _) => false,
        (Action::Approve, Some(_), _) if gate.policy.spec().counting == Counting::OncePerRule => false,
        (Action::Approve, Some(Vote::Approved), Revote::WhileWaiting) => false,
        (Action::Reject, Some(_), Revote::WhileWaiting) => false,
        _ => true,
    };
    if let (true, Some(previous)) = (blocked, previous) {
        return Err(GateError::AlreadyDecided { gate: gate.id.clone(), principal: by.id().clone(), previous });
    }
    eligible(gate, by, action)
}
