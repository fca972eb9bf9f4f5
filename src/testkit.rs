//! The store contract suite (feature `testkit`): what every [`Store`] must
//! do for the service to be correct, as checks a host runs against its own
//! store.
//!
//! Each check takes a fresh, empty store and returns a [`Violation`] that
//! says what the store did wrong. [`check_store`] runs them all;
//! [`store_contract_tests!`](crate::store_contract_tests) turns them into one
//! `#[test]` each.
//!
//! ```
//! use approval_gate::memory::MemoryStore;
//! use approval_gate::testkit;
//!
//! let passed = testkit::check_store(MemoryStore::new)?;
//! assert_eq!(passed, testkit::checks::<MemoryStore>().len());
//! # Ok::<(), testkit::Violations>(())
//! ```

use crate::gate::{Hold, HoldChange, Notification, NotificationKind, Supersession};
use crate::outbox::{OutboxEntry, Pending};
use crate::policy::{Approver, Policy, PolicySpec, Rule};
use crate::ports::{Append, AppendError, Conflict, GateIndex, Store};
use crate::{Approve, Command, Event, Gate, GateId, Principal, PrincipalId, Run};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::fmt;
use std::sync::Barrier;

/// A store that broke the contract: which check, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check}: {message}")]
pub struct Violation {
    /// The check's name.
    pub check: &'static str,
    /// What the store did, against what it should have done.
    pub message: String,
}

/// Every violation a run of the suite found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} store contract check(s) failed:", self.0.len())?;
        for violation in &self.0 {
            writeln!(f, "- {violation}")?;
        }
        Ok(())
    }
}

/// One check of the contract, run against a fresh, empty store.
pub type Check<S> = fn(&S) -> Result<(), Violation>;

/// Every check, by name.
pub fn checks<S: Store + Sync>() -> Vec<(&'static str, Check<S>)> {
    macro_rules! named {
        ([] $($check:ident),*) => { vec![$((stringify!($check), $check::<S> as Check<S>)),*] };
    }
    crate::__store_checks!((named) [])
}

/// The names of every check, in order, handed to `$then` after `$args`:
/// the one list that [`checks`] and
/// [`store_contract_tests!`](crate::store_contract_tests) are built from.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_checks {
    (($($then:tt)*) [$($args:tt)*]) => {
        $($then)*! {[$($args)*]
            an_unknown_gate_loads_empty,
            appends_return_the_new_version_and_read_back_in_order,
            a_stale_version_is_a_conflict_that_names_both_and_writes_nothing,
            gates_keep_their_own_versions,
            the_outbox_is_written_with_the_events_and_read_oldest_first,
            delivered_notifications_leave_the_outbox_once,
            an_outbox_key_is_kept_once,
            due_gates_come_earliest_first_up_to_the_limit,
            an_index_follows_the_gate,
            waiting_gates_are_found_by_supersede_key,
            instants_round_trip_to_the_nanosecond,
            racing_appends_at_one_version_let_exactly_one_win
        }
    };
}

/// Runs every check, each on a store from `fresh`. Returns how many passed,
/// or every violation.
///
/// # Errors
///
/// [`Violations`], one per failed check.
pub fn check_store<S: Store + Sync>(mut fresh: impl FnMut() -> S) -> Result<usize, Violations> {
    let checks = checks::<S>();
    let failed: Vec<_> = checks.iter().filter_map(|(_, check)| check(&fresh()).err()).collect();
    if failed.is_empty() { Ok(checks.len()) } else { Err(Violations(failed)) }
}

/// One `#[test]` per contract check, each on a store from `$fresh` (an
/// expression callable with no arguments). Put it in a test file, or in a
/// module of its own.
///
/// Outside a test build the checks are plain functions that panic with the
/// violation, so they can be called directly:
///
/// ```
/// mod memory_store {
///     approval_gate::store_contract_tests!(approval_gate::memory::MemoryStore::new);
/// }
/// memory_store::a_stale_version_is_a_conflict_that_names_both_and_writes_nothing();
/// memory_store::racing_appends_at_one_version_let_exactly_one_win();
/// ```
#[macro_export]
macro_rules! store_contract_tests {
    ([@each $fresh:expr] $($check:ident),*) => {$(
        /// A check of the store contract; panics with the violation.
        #[cfg_attr(test, test)]
        #[allow(dead_code)]
        pub fn $check() {
            let store = ($fresh)();
            if let Err(violation) = $crate::testkit::$check(&store) {
                panic!("{violation}");
            }
        }
    )*};
    ($fresh:expr) => {
        $crate::__store_checks!(($crate::store_contract_tests) [@each $fresh]);
    };
}

/// Checks a condition; the message says what the store did instead.
macro_rules! ensure {
    ($check:expr, $condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(Violation { check: $check, message: format!($($message)+) });
        }
    };
}

/// Turns a store failure into a violation of `check`.
fn ok<T, E: fmt::Display>(check: &'static str, what: &str, result: Result<T, E>) -> Result<T, Violation> {
    result.map_err(|error| Violation { check, message: format!("{what} failed: {error}") })
}

/// The conflict an append should have been refused with.
fn conflict<E: fmt::Display>(check: &'static str, result: Result<u64, AppendError<E>>) -> Result<Conflict, Violation> {
    match result {
        Err(AppendError::Conflict(conflict)) => Ok(conflict),
        Err(AppendError::Store(error)) => {
            Err(Violation { check, message: format!("a stale append failed as a store error: {error}") })
        }
        Ok(version) => Err(Violation { check, message: format!("a stale append succeeded as version {version}") }),
    }
}

fn appended<E: fmt::Display>(check: &'static str, result: Result<u64, AppendError<E>>) -> Result<u64, Violation> {
    ok(check, "append", result)
}

/// A gate the checks write to: its id, its events so far, and the gate
/// they make.
struct Fixture {
    id: GateId,
    events: Vec<Event>,
    gate: Gate,
}

fn instant(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_000_000 + seconds, 0).single().unwrap_or(DateTime::UNIX_EPOCH)
}

fn fixture(check: &'static str, id: &str, opened: DateTime<Utc>) -> Result<Fixture, Violation> {
    let broken = |what: String| Violation { check, message: format!("the suite could not build its gate: {what}") };
    let id = GateId::new(id).map_err(|e| broken(e.to_string()))?;
    let spec = PolicySpec::new([Rule::new(2, [Approver::Group("sre".into())])]);
    let policy = Policy::new(spec).map_err(|e| broken(e.to_string()))?;
    let executor = PrincipalId::new("carol").map_err(|e| broken(e.to_string()))?;
    let events = Gate::open(id.clone(), policy, Run::new(executor), opened).map_err(|e| broken(e.to_string()))?;
    let gate = Gate::replay(&events).map_err(|e| broken(e.to_string()))?;
    Ok(Fixture { id, events, gate })
}

impl Fixture {
    /// The events of an approval by `name` at `now`, applied to the gate.
    fn approve(&mut self, check: &'static str, name: &str, now: DateTime<Utc>) -> Result<Vec<Event>, Violation> {
        let broken = |what: String| Violation { check, message: format!("the suite could not approve: {what}") };
        let who = Principal::user(name).map_err(|e| broken(e.to_string()))?.with_groups(["sre"]);
        let events = self.gate.decide(&Command::Approve(Approve::by(who)), now).map_err(|e| broken(e.to_string()))?;
        for event in &events {
            self.gate.evolve(event);
        }
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    fn index(&self) -> GateIndex {
        GateIndex::of(&self.gate)
    }
}

fn index(deadline: Option<DateTime<Utc>>, supersede_key: Option<&str>, opened_at: DateTime<Utc>) -> GateIndex {
    GateIndex { deadline, supersede_key: supersede_key.map(str::to_owned), opened_at }
}

fn notification(gate: &GateId, version: u64, at: DateTime<Utc>) -> OutboxEntry {
    let text = format!("gate {gate}: approval {version} — “quoted”, 'single', \\back\\slash");
    let recipients = vec![Approver::Group("sre".into()), Approver::User(format!("ünïcode-{version}"))];
    OutboxEntry::Notify(Notification::new(gate.clone(), version, NotificationKind::Approved, text, at).to(recipients))
}

/// The service's own outbox entry for a supersession, which a store keeps
/// like any other entry.
fn supersede_job(gate: &GateId, version: u64, at: DateTime<Utc>) -> Result<OutboxEntry, crate::IdError> {
    let by = Principal::user("ann")?.with_groups(["sre", "ops"]).with_email("Ann@Example.com");
    let newer = gate.clone();
    let supersession = Supersession { key: "web\u{1f}deploy".into(), newer, opened_at: at, by: Some(by), version, at };
    Ok(OutboxEntry::Supersede(supersession))
}

/// A hold on other deployments, which a store keeps like any other entry.
fn hold(gate: &GateId, version: u64, at: DateTime<Utc>) -> OutboxEntry {
    OutboxEntry::Hold(Hold {
        key: format!("{gate}/{version}/block"),
        gate: gate.clone(),
        change: HoldChange::Block,
        version,
        project: Some("web — ünïcode".into()),
        environment: None,
        at,
    })
}

fn keys(entries: &[OutboxEntry]) -> Vec<String> {
    entries.iter().map(|entry| entry.key().into_owned()).collect()
}

/// The entries a store handed back, every one of them readable: a store
/// must read back every entry it was given.
fn readable(check: &'static str, pending: Vec<Pending>) -> Result<Vec<OutboxEntry>, Violation> {
    pending
        .into_iter()
        .map(|entry| match entry {
            Pending::Entry(entry) => Ok(entry),
            Pending::Unreadable(unreadable) => Err(Violation {
                check,
                message: format!("the store could not read back entry `{}`: {}", unreadable.key, unreadable.reason),
            }),
        })
        .collect()
}

/// Check: a gate never written to has no events.
///
/// # Errors
///
/// The violation.
pub fn an_unknown_gate_loads_empty<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "an_unknown_gate_loads_empty";
    let gate = fixture(CHECK, "never-opened", instant(0))?;
    let events = ok(CHECK, "load", store.load(&gate.id))?;
    ensure!(CHECK, events.is_empty(), "load of an unknown gate returned {} events", events.len());
    Ok(())
}

/// Check: each append returns the new version (the number of events), and
/// a load returns every event, equal and in order.
///
/// # Errors
///
/// The violation.
pub fn appends_return_the_new_version_and_read_back_in_order<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "appends_return_the_new_version_and_read_back_in_order";
    let mut gate = fixture(CHECK, "g-order", instant(0))?;
    let opened = gate.events.clone();
    let version = appended(CHECK, store.append(Append::new(&gate.id, 0, &opened, &[], &gate.index())))?;
    ensure!(CHECK, version == 1, "the opening append returned version {version}, not 1");
    let mut first = gate.approve(CHECK, "ann", instant(60))?;
    first.extend(gate.approve(CHECK, "bob", instant(61))?);
    let version = appended(CHECK, store.append(Append::new(&gate.id, 1, &first, &[], &gate.index())))?;
    let expected = gate.events.len() as u64;
    ensure!(CHECK, version == expected, "appending {} events at version 1 returned {version}", first.len());
    let loaded = ok(CHECK, "load", store.load(&gate.id))?;
    ensure!(CHECK, loaded == gate.events, "load returned {:?}, not the {} events appended, in order", loaded, expected);
    Ok(())
}

/// Check: an append at any version but the current one is a [`Conflict`]
/// naming the gate, the expected and the actual version, and writes no
/// event, outbox entry or index.
///
/// # Errors
///
/// The violation.
pub fn a_stale_version_is_a_conflict_that_names_both_and_writes_nothing<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "a_stale_version_is_a_conflict_that_names_both_and_writes_nothing";
    let mut gate = fixture(CHECK, "g-stale", instant(0))?;
    let opened = gate.events.clone();
    appended(CHECK, store.append(Append::new(&gate.id, 0, &opened, &[], &gate.index())))?;
    let approval = gate.approve(CHECK, "ann", instant(60))?;
    let outbox = [notification(&gate.id, 2, instant(60))];
    let moved = index(Some(instant(10)), Some("stale-key"), instant(0));
    for expected in [0, 2, 7] {
        let conflict = conflict(CHECK, store.append(Append::new(&gate.id, expected, &approval, &outbox, &moved)))?;
        let wanted = Conflict { gate: gate.id.clone(), expected, actual: 1 };
        ensure!(CHECK, conflict == wanted, "an append at version {expected} returned {conflict:?}, not {wanted:?}");
    }
    let fresh = fixture(CHECK, "g-stale-new", instant(0))?;
    let conflict = conflict(CHECK, store.append(Append::new(&fresh.id, 3, &fresh.events, &outbox, &moved)))?;
    let wanted = Conflict { gate: fresh.id.clone(), expected: 3, actual: 0 };
    ensure!(CHECK, conflict == wanted, "an append at version 3 to a new gate returned {conflict:?}, not {wanted:?}");
    let loaded = ok(CHECK, "load", store.load(&gate.id))?;
    ensure!(CHECK, loaded == opened, "refused appends changed the stream to {} events", loaded.len());
    let unopened = ok(CHECK, "load", store.load(&fresh.id))?;
    ensure!(CHECK, unopened.is_empty(), "a refused first append left {} events", unopened.len());
    let pending = readable(CHECK, ok(CHECK, "pending", store.pending(10))?)?;
    ensure!(CHECK, pending.is_empty(), "refused appends left notifications {:?}", keys(&pending));
    let due = ok(CHECK, "due", store.due(instant(100), 10))?;
    ensure!(CHECK, due.is_empty(), "refused appends indexed due gates {due:?}");
    let waiting = ok(CHECK, "waiting_with_key", store.waiting_with_key("stale-key"))?;
    ensure!(CHECK, waiting.is_empty(), "refused appends indexed waiting gates {waiting:?}");
    Ok(())
}

/// Check: each gate has its own version; writing one never moves another.
///
/// # Errors
///
/// The violation.
pub fn gates_keep_their_own_versions<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "gates_keep_their_own_versions";
    let mut a = fixture(CHECK, "g-a", instant(0))?;
    let b = fixture(CHECK, "g-b", instant(0))?;
    appended(CHECK, store.append(Append::new(&a.id, 0, &a.events.clone(), &[], &a.index())))?;
    let version = appended(CHECK, store.append(Append::new(&b.id, 0, &b.events, &[], &b.index())))?;
    ensure!(CHECK, version == 1, "the second gate's first append returned version {version}");
    let approval = a.approve(CHECK, "ann", instant(5))?;
    appended(CHECK, store.append(Append::new(&a.id, 1, &approval, &[], &a.index())))?;
    let loaded = ok(CHECK, "load", store.load(&b.id))?;
    ensure!(CHECK, loaded == b.events, "appending to `g-a` changed `g-b` to {} events", loaded.len());
    Ok(())
}

/// Check: the notifications of an append (the service's supersede entries
/// among them) are in the outbox as soon as the append returns, exactly as
/// given, oldest first across appends, and `pending` honours its limit.
///
/// # Errors
///
/// The violation.
pub fn the_outbox_is_written_with_the_events_and_read_oldest_first<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "the_outbox_is_written_with_the_events_and_read_oldest_first";
    let mut gate = fixture(CHECK, "g-outbox", instant(0))?;
    let first = [notification(&gate.id, 1, instant(0)), notification(&gate.id, 0, instant(0))];
    appended(CHECK, store.append(Append::new(&gate.id, 0, &gate.events.clone(), &first, &gate.index())))?;
    let approval = gate.approve(CHECK, "ann", instant(9))?;
    let job = supersede_job(&gate.id, 2, instant(9)).map_err(|e| Violation { check: CHECK, message: e.to_string() })?;
    let second = [notification(&gate.id, 2, instant(9)), job, hold(&gate.id, 2, instant(9))];
    appended(CHECK, store.append(Append::new(&gate.id, 1, &approval, &second, &gate.index())))?;
    let pending = readable(CHECK, ok(CHECK, "pending", store.pending(10))?)?;
    let wanted: Vec<_> = first.iter().chain(&second).cloned().collect();
    ensure!(CHECK, pending == wanted, "pending returned {:?}, not {:?} in append order", keys(&pending), keys(&wanted));
    let limited = readable(CHECK, ok(CHECK, "pending", store.pending(2))?)?;
    ensure!(CHECK, limited.as_slice() == first.as_slice(), "pending(2) returned {:?}", keys(&limited));
    Ok(())
}

/// Check: `delivered` removes exactly that notification; repeating it, or
/// naming an unknown key, is not an error and removes nothing else.
///
/// # Errors
///
/// The violation.
pub fn delivered_notifications_leave_the_outbox_once<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "delivered_notifications_leave_the_outbox_once";
    let gate = fixture(CHECK, "g-delivered", instant(0))?;
    let outbox: Vec<_> = (1..=3).map(|v| notification(&gate.id, v, instant(0))).collect();
    appended(CHECK, store.append(Append::new(&gate.id, 0, &gate.events, &outbox, &gate.index())))?;
    let middle = outbox.get(1).map(|n| n.key().into_owned()).unwrap_or_default();
    for _ in 0..2 {
        ok(CHECK, "delivered", store.delivered(&middle))?;
    }
    ok(CHECK, "delivered of an unknown key", store.delivered("g-delivered/99/approved"))?;
    let pending = readable(CHECK, ok(CHECK, "pending", store.pending(10))?)?;
    let wanted: Vec<_> = outbox.iter().filter(|n| n.key() != middle).cloned().collect();
    ensure!(CHECK, pending == wanted, "after delivering `{middle}` pending is {:?}", keys(&pending));
    Ok(())
}

/// Check: a notification whose key is already in the outbox is not added
/// again (keys are unique per gate, version and kind, so a repeat is the
/// same notification), and one `delivered` clears it.
///
/// # Errors
///
/// The violation.
pub fn an_outbox_key_is_kept_once<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "an_outbox_key_is_kept_once";
    let first = fixture(CHECK, "g-key-1", instant(0))?;
    let second = fixture(CHECK, "g-key-2", instant(0))?;
    let repeated = notification(&first.id, 1, instant(0));
    let other = notification(&second.id, 1, instant(0));
    let outbox = [repeated.clone(), repeated.clone()];
    appended(CHECK, store.append(Append::new(&first.id, 0, &first.events, &outbox, &first.index())))?;
    let outbox = [other.clone(), repeated.clone()];
    appended(CHECK, store.append(Append::new(&second.id, 0, &second.events, &outbox, &second.index())))?;
    let pending = readable(CHECK, ok(CHECK, "pending", store.pending(10))?)?;
    ensure!(CHECK, keys(&pending) == keys(&[repeated.clone(), other.clone()]), "pending is {:?}", keys(&pending));
    ok(CHECK, "delivered", store.delivered(&repeated.key()))?;
    let pending = readable(CHECK, ok(CHECK, "pending", store.pending(10))?)?;
    ensure!(CHECK, pending == [other], "after one delivery of a repeated key pending is {:?}", keys(&pending));
    Ok(())
}

/// Appends a fixture's opening under a hand-made index.
fn open_indexed<S: Store>(store: &S, check: &'static str, id: &str, index: &GateIndex) -> Result<Fixture, Violation> {
    let gate = fixture(check, id, index.opened_at)?;
    appended(check, store.append(Append::new(&gate.id, 0, &gate.events, &[], index)))?;
    Ok(gate)
}

fn ids(gates: &[GateId]) -> Vec<&str> {
    gates.iter().map(GateId::as_str).collect()
}

/// Check: `due` returns the gates whose deadline is at or before the
/// instant, earliest first (ties by gate id), at most `limit`, and none
/// without a deadline.
///
/// # Errors
///
/// The violation.
pub fn due_gates_come_earliest_first_up_to_the_limit<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "due_gates_come_earliest_first_up_to_the_limit";
    for (id, deadline) in
        [("due-3", Some(300)), ("due-1", Some(100)), ("never", None), ("due-2b", Some(200)), ("due-2a", Some(200))]
    {
        open_indexed(store, CHECK, id, &index(deadline.map(instant), None, instant(0)))?;
    }
    let due = ok(CHECK, "due", store.due(instant(200), 10))?;
    ensure!(CHECK, ids(&due) == ["due-1", "due-2a", "due-2b"], "due at 200 s returned {:?}", ids(&due));
    let limited = ok(CHECK, "due", store.due(instant(1_000), 2))?;
    ensure!(CHECK, ids(&limited) == ["due-1", "due-2a"], "due with limit 2 returned {:?}", ids(&limited));
    let early = ok(CHECK, "due", store.due(instant(99), 10))?;
    ensure!(CHECK, early.is_empty(), "due before every deadline returned {:?}", ids(&early));
    Ok(())
}

/// Check: each append replaces the gate's index: a moved deadline moves,
/// a cleared deadline or key leaves the queries.
///
/// # Errors
///
/// The violation.
pub fn an_index_follows_the_gate<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "an_index_follows_the_gate";
    let mut gate = open_indexed(store, CHECK, "g-moving", &index(Some(instant(100)), Some("k"), instant(0)))?;
    open_indexed(store, CHECK, "g-still", &index(Some(instant(200)), Some("k"), instant(1)))?;
    let approval = gate.approve(CHECK, "ann", instant(10))?;
    appended(
        CHECK,
        store.append(Append::new(&gate.id, 1, &approval, &[], &index(Some(instant(300)), Some("k"), instant(0)))),
    )?;
    let due = ok(CHECK, "due", store.due(instant(1_000), 10))?;
    ensure!(
        CHECK,
        ids(&due) == ["g-still", "g-moving"],
        "after moving a deadline to 300 s, due returned {:?}",
        ids(&due)
    );
    let ending = gate.approve(CHECK, "bob", instant(11))?;
    appended(CHECK, store.append(Append::new(&gate.id, 2, &ending, &[], &index(None, None, instant(0)))))?;
    let due = ok(CHECK, "due", store.due(instant(1_000), 10))?;
    ensure!(CHECK, ids(&due) == ["g-still"], "after clearing a deadline, due returned {:?}", ids(&due));
    let waiting = ok(CHECK, "waiting_with_key", store.waiting_with_key("k"))?;
    let waiting: Vec<_> = waiting.iter().map(|(gate, _)| gate.as_str()).collect();
    ensure!(CHECK, waiting == ["g-still"], "after clearing a supersede key, waiting_with_key returned {waiting:?}");
    Ok(())
}

/// Check: `waiting_with_key` returns the gates indexed under exactly that
/// key, with when each opened, oldest first.
///
/// # Errors
///
/// The violation.
pub fn waiting_gates_are_found_by_supersede_key<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "waiting_gates_are_found_by_supersede_key";
    let key = "project/prod/‘ünïcode’ key";
    let mut opened = Vec::new();
    for (id, key, at) in
        [("w-new", key, 20), ("w-old", key, 10), ("w-other", "project/dev", 5), ("w-prefix", "project/prod/", 1)]
    {
        opened.push((open_indexed(store, CHECK, id, &index(None, Some(key), instant(at)))?.id, instant(at)));
    }
    let waiting = ok(CHECK, "waiting_with_key", store.waiting_with_key(key))?;
    let wanted: Vec<_> = opened.iter().take(2).rev().cloned().collect();
    ensure!(CHECK, waiting == wanted, "waiting_with_key returned {waiting:?}, not {wanted:?}");
    let none = ok(CHECK, "waiting_with_key", store.waiting_with_key("project"))?;
    ensure!(CHECK, none.is_empty(), "a key matching no gate exactly returned {none:?}");
    Ok(())
}

/// Check: instants come back exactly, nanoseconds included, in events,
/// opening times and deadline comparisons.
///
/// # Errors
///
/// The violation.
pub fn instants_round_trip_to_the_nanosecond<S: Store>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "instants_round_trip_to_the_nanosecond";
    let opened = instant(0) + Duration::nanoseconds(123_456_789);
    let deadline = opened + Duration::nanoseconds(1);
    let gate = open_indexed(store, CHECK, "g-nanos", &index(Some(deadline), Some("nanos"), opened))?;
    let loaded = ok(CHECK, "load", store.load(&gate.id))?;
    ensure!(CHECK, loaded == gate.events, "events opened at {opened:?} came back as {loaded:?}");
    let before = ok(CHECK, "due", store.due(opened, 10))?;
    ensure!(CHECK, before.is_empty(), "a deadline 1 ns after {opened:?} was due at {opened:?}");
    let at = ok(CHECK, "due", store.due(deadline, 10))?;
    ensure!(CHECK, ids(&at) == ["g-nanos"], "a deadline was not due at its own instant {deadline:?}");
    let waiting = ok(CHECK, "waiting_with_key", store.waiting_with_key("nanos"))?;
    ensure!(CHECK, waiting == [(gate.id.clone(), opened)], "opened_at {opened:?} came back as {waiting:?}");
    Ok(())
}

/// Check: eight writers appending at the same version at once: exactly one
/// succeeds, the others get a conflict naming the version it wrote, and
/// the stream holds the winner's events once.
///
/// # Errors
///
/// The violation.
pub fn racing_appends_at_one_version_let_exactly_one_win<S: Store + Sync>(store: &S) -> Result<(), Violation> {
    const CHECK: &str = "racing_appends_at_one_version_let_exactly_one_win";
    const WRITERS: usize = 8;
    let gate = fixture(CHECK, "g-race", instant(0))?;
    appended(CHECK, store.append(Append::new(&gate.id, 0, &gate.events, &[], &gate.index())))?;
    let mut attempts = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let mut rival = fixture(CHECK, "g-race", instant(0))?;
        let events = rival.approve(CHECK, &format!("writer-{writer}"), instant(1))?;
        let outbox = vec![notification(&rival.id, 2, instant(1))];
        attempts.push((events, outbox, rival.index()));
    }
    let barrier = Barrier::new(WRITERS);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = attempts
            .iter()
            .map(|(events, outbox, index)| {
                let (barrier, id) = (&barrier, &gate.id);
                scope.spawn(move || {
                    barrier.wait();
                    match store.append(Append::new(id, 1, events, outbox, index)) {
                        Ok(version) => Ok(version),
                        Err(AppendError::Conflict(conflict)) => Err(format!("{conflict:?}")),
                        Err(AppendError::Store(error)) => Err(format!("store error: {error}")),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or_else(|_| Err("panicked".to_owned()))).collect()
    });
    let lost = format!("{:?}", Conflict { gate: gate.id.clone(), expected: 1, actual: 2 });
    let mut winners = Vec::new();
    for (writer, result) in results.into_iter().enumerate() {
        match result {
            Ok(version) => winners.push((writer, version)),
            Err(refusal) => ensure!(CHECK, refusal == lost, "writer {writer} got `{refusal}`, not {lost}"),
        }
    }
    ensure!(CHECK, winners.len() == 1, "{} of {WRITERS} racing appends succeeded: {winners:?}", winners.len());
    let loaded = ok(CHECK, "load", store.load(&gate.id))?;
    let winner = winners.first().and_then(|(writer, _)| attempts.get(*writer));
    let wanted: Vec<_> =
        gate.events.iter().chain(winner.map(|(e, _, _)| e.iter()).into_iter().flatten()).cloned().collect();
    ensure!(
        CHECK,
        loaded == wanted,
        "the stream after the race holds {} events, not the opening and the winner's",
        loaded.len()
    );
    let pending = readable(CHECK, ok(CHECK, "pending", store.pending(100))?)?;
    ensure!(CHECK, pending.len() == 1, "the race left {} notifications, not the winner's one", pending.len());
    Ok(())
}
