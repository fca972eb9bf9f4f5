//! The workloads every store runs: racing writers on 100 gates, and a
//! notifier that fails or crashes between the append and the delivery.
//! Each store's test file supplies the store; this module drives the
//! service and checks what the store holds afterwards against what the
//! workers were told.
#![allow(dead_code, reason = "each store's test file uses a different part")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use approval_gate::gate::{Event, Hold, Notification};
use approval_gate::outbox::Pending;
use approval_gate::policy::{Policy, PolicySpec};
use approval_gate::ports::{Append, AppendError, Notifier, NotifyError, Store};
use approval_gate::service::{Approvals, ServiceError};
use approval_gate::{Approve, Gate, GateError, GateId, Principal, PrincipalId, Reason, Run, Status};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// How many gates the racing writers share.
pub(crate) const GATES: usize = 100;
/// The last gates get no decisions, only assignments and ticks, so that the
/// final tick always has gates to expire.
pub(crate) const UNDECIDED: usize = 10;
/// Actions each writer takes before the final tick.
pub(crate) const ACTIONS: usize = 250;

/// 2026-11-22 09:00 UTC.
pub(crate) fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

const RULES: &str = r#""rules": [{"name": "sre", "required": 2, "approvers": [{"group": "sre"}]},
                                    {"name": "dba", "required": 1, "approvers": [{"group": "dba"}]}],
                          "timeout": {"after": "1h"}"#;

/// Two groups to satisfy and a one-hour timeout: enough approvals to need
/// assignment, and a deadline the final tick passes.
pub(crate) fn policy() -> Policy {
    Policy::new(serde_json::from_str::<PolicySpec>(&format!("{{{RULES}}}")).unwrap()).unwrap()
}

/// The same, and each approval rejects older runs waiting at the same step
/// (Harness `isAutoRejectEnabled`).
pub(crate) fn superseding_policy() -> Policy {
    let json = format!(r#"{{{RULES}, "supersede": "reject_older_waiting"}}"#);
    Policy::new(serde_json::from_str::<PolicySpec>(&json).unwrap()).unwrap()
}

pub(crate) fn gate_id(index: usize) -> GateId {
    GateId::new(format!("race-{index:03}")).unwrap()
}

/// Even gates supersede, in five steps of ten runs each (gates 0, 10, ..,
/// 90 share a step); odd gates do not. The newest run of each step is
/// among the undecided gates, so superseding never ends those.
fn gate_policy(index: usize) -> (Policy, Run) {
    let mut run = Run::new(PrincipalId::new("deployer").unwrap());
    run.pipeline = Some(format!("step-{}", index % 10));
    if index % 2 == 0 { (superseding_policy(), run) } else { (policy(), run) }
}

/// When gate `index` opened: a second after the gate before it, all before
/// the writers start.
fn opened_at(index: usize) -> DateTime<Utc> {
    base() - TimeDelta::seconds((GATES - index) as i64)
}

fn approver(index: u64) -> Principal {
    let groups: &[&str] = match index {
        0..=3 => &["sre"],
        4 => &["sre", "dba"],
        _ => &["dba"],
    };
    Principal::user(format!("u{index}")).unwrap().with_groups(groups.iter().copied())
}

/// Opens the shared gates (the writers race on them, not on opening).
pub(crate) fn open_gates<S: Store>(store: S, notifier: impl Notifier) {
    let approvals = Approvals::new(store, notifier);
    for index in 0..GATES {
        let (policy, run) = gate_policy(index);
        approvals.open(gate_id(index), policy, run, opened_at(index)).unwrap();
    }
}

/// A notifier that accepts everything and keeps nothing.
pub(crate) struct Silent;

impl Notifier for Silent {
    fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        Ok(())
    }
    fn hold(&self, _: &Hold) -> Result<(), NotifyError> {
        Ok(())
    }
}

/// What a writer was told by a call that succeeded: the gate at the
/// version the call left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Success {
    pub(crate) action: String,
    pub(crate) kind: Kind,
    pub(crate) gate: GateId,
    pub(crate) version: u64,
    pub(crate) state: Gate,
}

/// What a writer asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Kind {
    Approve,
    Reject,
    Assign,
    Cancel,
    Tick,
}

/// Everything one writer saw.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Outcome {
    pub(crate) successes: Vec<Success>,
    pub(crate) refusals: usize,
}

/// xorshift64*: the same writer always takes the same actions.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % sides
    }
}

/// One writer: [`ACTIONS`] approvals, rejections, assignments,
/// cancellations and ticks on random gates, each carrying a unique action
/// id as its comment, then a tick past every deadline. Refusals are
/// counted; a store failure or corrupt stream is the test's failure.
pub(crate) fn write<S: Store>(store: S, writer: u64) -> Outcome {
    let approvals = Approvals::new(store, Silent);
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ (writer + 1).wrapping_mul(0x1000_0000_01b3));
    let mut outcome = Outcome::default();
    let mut clock = base() + TimeDelta::seconds(1);
    for step in 0..ACTIONS {
        let decided = (GATES - UNDECIDED) as u64;
        let action = format!("w{writer}-{step}");
        let who = approver(dice.roll(8));
        let kind = match dice.roll(100) {
            0..=84 => Kind::Approve,
            85..=89 => Kind::Reject,
            90..=94 => Kind::Assign,
            95 => Kind::Cancel,
            _ => Kind::Tick,
        };
        let id =
            gate_id(dice.roll(if matches!(kind, Kind::Assign | Kind::Tick) { GATES as u64 } else { decided }) as usize);
        clock += TimeDelta::seconds(1);
        let result = loop {
            let result = match kind {
                Kind::Approve => approvals.approve(&id, Approve::by(who.clone()).comment(action.clone()), clock),
                Kind::Reject => approvals.reject(&id, who.clone(), Some(action.clone()), clock),
                Kind::Assign => approvals.assign(&id, who.clone(), clock),
                Kind::Cancel => approvals.cancel(&id, None, Some(action.clone()), clock),
                Kind::Tick => approvals.tick(clock).and_then(|_| approvals.gate(&id)),
            };
            // Another writer's clock ran ahead on this gate: catch up, as a
            // host with a skewed clock would on its next request.
            match result {
                Err(ServiceError::Gate(GateError::TimeWentBackwards { last, .. })) => clock = last,
                other => break other,
            }
        };
        match result {
            Ok(gate) => {
                outcome.successes.push(Success { action, kind, gate: id, version: gate.version(), state: gate })
            }
            Err(ServiceError::Gate(_)) => outcome.refusals += 1,
            Err(failure) => panic!("writer {writer}, action {action}: {failure}"),
        }
    }
    let past_every_deadline = base() + TimeDelta::hours(2);
    for gate in approvals.tick(past_every_deadline).unwrap() {
        let (action, kind, version) = (format!("w{writer}-tick"), Kind::Tick, gate.version());
        outcome.successes.push(Success { action, kind, gate: gate.id().clone(), version, state: gate });
    }
    outcome
}

/// What the stored events hold after a race, for the test to report.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Ledger {
    pub(crate) approved: usize,
    pub(crate) rejected: usize,
    /// Of the rejected, those rejected because a newer run was approved.
    pub(crate) superseded: usize,
    pub(crate) expired: usize,
    pub(crate) cancelled: usize,
    pub(crate) events: usize,
}

/// Checks the store against everything the writers were told:
/// - every gate's events replay into a gate, versions run 1..=n
///   (`versions` reads them from the store's own rows);
/// - each gate ends at most once, and its end is its last event;
/// - each decision a writer made is stored exactly once, and none that no
///   writer made;
/// - every state a writer was handed equals the replay of the stored events
///   up to its version (so nothing it was told is lost);
/// - the gate counts no more approvals than distinct approvers stored;
/// - a run rejected as superseded supersedes, and a newer run of its step
///   holds an approval by the principal who rejected it.
pub(crate) fn verify<S: Store>(store: &S, outcomes: &[Outcome], versions: impl Fn(&GateId) -> Vec<u64>) -> Ledger {
    let mut ledger = Ledger::default();
    let mut stored_actions = BTreeSet::new();
    for index in 0..GATES {
        let id = gate_id(index);
        let events = store.load(&id).unwrap();
        let numbers = versions(&id);
        assert_eq!(numbers, (1..=events.len() as u64).collect::<Vec<_>>(), "versions of {id} are not contiguous");
        let gate = Gate::replay(&events).unwrap_or_else(|e| panic!("{id} does not replay: {e}"));
        let ends = events.iter().filter(|e| matches!(e, Event::Ended { .. })).count();
        assert!(ends <= 1, "{id} ended {ends} times");
        if ends == 1 {
            assert!(matches!(events.last(), Some(Event::Ended { .. })), "{id} has events after its end");
        }
        for action in events.iter().filter_map(action_of) {
            assert!(stored_actions.insert(action.to_owned()), "action {action} is stored twice");
        }
        let approvers: BTreeSet<_> = events
            .iter()
            .filter_map(|e| if let Event::Approved { by, .. } = e { Some(by.id()) } else { None })
            .collect();
        assert!(gate.approved_by().len() <= approvers.len(), "{id} counts more approvals than it stored");
        if gate.reason() == Some(Reason::Superseded) {
            superseded_by_a_newer_approval(store, index, &gate);
        }
        tally(&mut ledger, &gate, events.len());
    }
    for success in outcomes.iter().flat_map(|outcome| &outcome.successes) {
        let events = store.load(&success.gate).unwrap();
        let prefix = events.get(..success.version as usize).unwrap_or_else(|| panic!("{} lost events", success.gate));
        let replayed = Gate::replay(prefix).unwrap();
        assert_eq!(
            replayed, success.state,
            "{}: what the writer was told differs from the stored events",
            success.action
        );
    }
    let decided: BTreeSet<_> = outcomes
        .iter()
        .flat_map(|outcome| &outcome.successes)
        .filter(|success| matches!(success.kind, Kind::Approve | Kind::Reject | Kind::Cancel))
        .map(|success| success.action.clone())
        .collect();
    let phantom: Vec<_> = stored_actions.difference(&decided).collect();
    assert!(phantom.is_empty(), "stored decisions no writer was told of: {phantom:?}");
    let lost: Vec<_> = decided.difference(&stored_actions).collect();
    assert!(lost.is_empty(), "decisions writers were told of that the store lost: {lost:?}");
    ledger
}

fn superseded_by_a_newer_approval<S: Store>(store: &S, index: usize, gate: &Gate) {
    let id = gate.id();
    assert_eq!(index % 2, 0, "{id} does not supersede, yet was superseded");
    let by = gate.rejected_by().unwrap_or_else(|| panic!("{id} was superseded by nobody"));
    let newer = (index + 1..GATES).filter(|other| other % 10 == index % 10).map(gate_id).find(|newer| {
        let approved =
            |e: &Event| matches!(e, Event::Approved { by: who, at, .. } if who.id() == by && *at <= gate.last_at());
        store.load(newer).unwrap().iter().any(approved)
    });
    assert!(newer.is_some(), "{id} was superseded by `{by}`, who approved no newer run of its step by then");
}

/// The action id a stored decision carries.
fn action_of(event: &Event) -> Option<&str> {
    match event {
        Event::Approved { comment, .. } | Event::Rejected { comment, .. } => comment.as_deref(),
        Event::Ended { comment, by: None, .. } => comment.as_deref(),
        _ => None,
    }
}

fn tally(ledger: &mut Ledger, gate: &Gate, events: usize) {
    ledger.events += events;
    match gate.status() {
        Status::Approved => ledger.approved += 1,
        Status::Rejected => {
            ledger.rejected += 1;
            ledger.superseded += usize::from(gate.reason() == Some(Reason::Superseded));
        }
        Status::Expired => ledger.expired += 1,
        Status::Cancelled => ledger.cancelled += 1,
        other => panic!("{} is {other} after the final tick", gate.id()),
    }
}

/// Every notification the stored events call for, by key: one per event
/// but an assignment (the race's gates never end at opening).
pub(crate) fn expected_keys<S: Store>(store: &S, gates: impl IntoIterator<Item = GateId>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for id in gates {
        for (offset, event) in store.load(&id).unwrap().iter().enumerate() {
            let kind = match event {
                Event::Opened { .. } => "approval_required",
                Event::Approved { .. } => "approved",
                Event::Rejected { .. } => "rejected",
                Event::Ended { .. } => "ended",
                _ => continue,
            };
            keys.insert(format!("{id}/{}/{kind}", offset + 1));
        }
    }
    keys
}

/// The receiving end of notifications: keeps every delivery, repeats
/// included, across restarts of the service.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    received: Mutex<Vec<Notification>>,
}

impl Inbox {
    pub(crate) fn receive(&self, notification: &Notification) {
        self.received.lock().unwrap().push(notification.clone());
    }

    /// Each key once, checking that repeats are the same notification.
    pub(crate) fn deduplicated(&self) -> BTreeMap<String, Notification> {
        let mut unique = BTreeMap::new();
        for notification in self.received.lock().unwrap().iter() {
            if let Some(earlier) = unique.insert(notification.key.clone(), notification.clone()) {
                assert_eq!(&earlier, notification, "two different notifications under one key");
            }
        }
        unique
    }

    pub(crate) fn deliveries(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// A notifier that fails one delivery in three (by a seeded die), and
/// may hand over a notification and still report failure, as a network
/// timeout does.
pub(crate) struct Flaky<'a> {
    pub(crate) inbox: &'a Inbox,
    dice: Mutex<Dice>,
}

impl<'a> Flaky<'a> {
    pub(crate) fn new(inbox: &'a Inbox, seed: u64) -> Self {
        Self { inbox, dice: Mutex::new(Dice(seed | 1)) }
    }
}

impl Notifier for Flaky<'_> {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        let roll = self.dice.lock().unwrap().roll(6);
        let (handed_over, failed) = (roll != 0, roll <= 1);
        if handed_over {
            self.inbox.receive(notification);
        }
        if failed {
            return Err(NotifyError { key: notification.key.clone(), reason: format!("flaky roll {roll}") });
        }
        Ok(())
    }
    fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
        panic!("no workload policy blocks deployments, yet {} came", hold.key)
    }
}

/// A store that counts the conflicts its appends met, to show a race
/// really raced, and yields after each read so that another writer can
/// slip in between a read and the append that follows it.
pub(crate) struct Counted<S> {
    pub(crate) inner: S,
    conflicts: std::sync::atomic::AtomicUsize,
    pub(crate) loads: std::sync::atomic::AtomicUsize,
    pub(crate) appends: std::sync::atomic::AtomicUsize,
}

impl<S> Counted<S> {
    pub(crate) fn new(inner: S) -> Self {
        let zero = std::sync::atomic::AtomicUsize::new;
        Self { inner, conflicts: zero(0), loads: zero(0), appends: zero(0) }
    }

    pub(crate) fn conflicts(&self) -> usize {
        self.conflicts.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl<S: Store> Store for Counted<S> {
    type Error = S::Error;
    fn load(&self, gate: &GateId) -> Result<Vec<Event>, S::Error> {
        let events = self.inner.load(gate);
        self.loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::thread::yield_now();
        events
    }
    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<S::Error>> {
        let result = self.inner.append(append);
        self.appends.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if matches!(result, Err(AppendError::Conflict(_))) {
            self.conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        result
    }
    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, S::Error> {
        self.inner.waiting_with_key(key)
    }
    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, S::Error> {
        self.inner.due(at, limit)
    }
    fn pending(&self, limit: usize) -> Result<Vec<Pending>, S::Error> {
        self.inner.pending(limit)
    }
    fn delivered(&self, key: &str) -> Result<(), S::Error> {
        self.inner.delivered(key)
    }
}

/// Runs [`write`] on `writers` threads at once against one store and
/// checks the result with [`verify`]; returns the ledger and how many
/// appends met a conflict.
pub(crate) fn race_threads<S: Store + Sync>(
    store: S,
    writers: u64,
    versions: impl Fn(&GateId) -> Vec<u64>,
) -> (Ledger, usize) {
    let store = Counted::new(store);
    open_gates(&store, Silent);
    let start = std::sync::Barrier::new(writers as usize);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|writer| {
                let (store, start) = (&store, &start);
                scope.spawn(move || {
                    start.wait();
                    write(store, writer)
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let ledger = verify(&store, &outcomes, versions);
    assert_eq!(ledger.approved + ledger.rejected + ledger.expired + ledger.cancelled, GATES, "{ledger:?}");
    assert!(ledger.superseded > 0, "no run was superseded: {ledger:?}");
    (ledger, store.conflicts())
}

/// A store whose outbox read fails after a roll of the die: the service
/// has appended and then dies before delivering, as a process killed
/// between the two would.
struct CrashBeforeDelivery<'a, S> {
    inner: &'a S,
    dice: Mutex<Dice>,
}

#[derive(Debug, thiserror::Error)]
#[error("crashed before delivery")]
pub(crate) struct Crashed;

impl<S: Store> Store for CrashBeforeDelivery<'_, S> {
    type Error = Crashed;
    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Crashed> {
        Ok(self.inner.load(gate).unwrap())
    }
    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Crashed>> {
        self.inner.append(append).map_err(|error| match error {
            AppendError::Conflict(conflict) => AppendError::Conflict(conflict),
            AppendError::Store(error) => panic!("store failed: {error}"),
        })
    }
    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Crashed> {
        Ok(self.inner.waiting_with_key(key).unwrap())
    }
    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Crashed> {
        Ok(self.inner.due(at, limit).unwrap())
    }
    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Crashed> {
        if self.dice.lock().unwrap().roll(8) == 0 {
            return Err(Crashed);
        }
        Ok(self.inner.pending(limit).unwrap())
    }
    fn delivered(&self, key: &str) -> Result<(), Crashed> {
        self.inner.delivered(key).map_err(|error| panic!("store failed: {error}"))
    }
}

/// Issue 4's outbox test, on any store: a notifier that fails one time in
/// three, and services that die between an append and its delivery, one
/// after another, each replaced by a fresh one over the same store. After
/// a last restart delivers what is left, every notification the stored
/// events call for has arrived at least once, and the repeats carry the
/// same key and content. Returns (unique notifications, deliveries).
pub(crate) fn crash_and_restart<S: Store>(store: &S) -> (usize, usize) {
    let inbox = Inbox::default();
    open_gates(store, Flaky::new(&inbox, 1));
    let mut dice = Dice(0x5eed);
    let mut clock = base();
    let mut crashes = 0;
    for life in 0..40 {
        let crashing = CrashBeforeDelivery { inner: store, dice: Mutex::new(Dice(life + 1)) };
        let approvals = Approvals::new(crashing, Flaky::new(&inbox, life + 7));
        for _ in 0..50 {
            clock += TimeDelta::seconds(30);
            let gate = gate_id(dice.roll(GATES as u64) as usize);
            let result = match dice.roll(10) {
                0 => approvals.reject(&gate, approver(dice.roll(8)), None, clock),
                1 => approvals.tick(clock).and_then(|_| approvals.gate(&gate)),
                _ => approvals.approve(&gate, Approve::by(approver(dice.roll(8))), clock),
            };
            match result {
                Ok(_) | Err(ServiceError::Gate(_)) => {}
                Err(ServiceError::Store(Crashed) | ServiceError::FollowUp { source: Crashed, .. }) => {
                    crashes += 1;
                    break;
                }
                Err(other) => panic!("life {life}: {other}"),
            }
        }
    }
    assert!(crashes > 0, "no service died before delivering");
    let restarted = Approvals::new(store, Flaky::new(&inbox, 99));
    while !store.pending(1).unwrap().is_empty() {
        restarted.deliver_pending().unwrap();
    }
    let received: BTreeSet<_> = inbox.deduplicated().into_keys().collect();
    let expected = expected_keys(store, (0..GATES).map(gate_id));
    let lost: Vec<_> = expected.difference(&received).collect();
    assert!(lost.is_empty(), "notifications lost: {lost:?}");
    let unexpected: Vec<_> = received.difference(&expected).collect();
    assert!(unexpected.is_empty(), "notifications no stored event calls for: {unexpected:?}");
    assert!(inbox.deliveries() > received.len(), "no notification was repeated: the test did not exercise retries");
    (received.len(), inbox.deliveries())
}

/// The variable that makes a test binary a child writer: `<writer>`.
pub(crate) const WORKER: &str = "APPROVAL_GATE_TEST_WORKER";
/// What a child prints before its outcome, to find it among test output.
const OUTCOME: &str = "OUTCOME ";

/// In a child started by [`race_processes`] or [`crash_processes`], the
/// writer number it was given.
pub(crate) fn worker() -> Option<u64> {
    std::env::var(WORKER).ok().map(|writer| writer.parse().unwrap())
}

/// A child's report to its parent.
pub(crate) fn report(outcome: &Outcome) {
    println!("{OUTCOME}{}", serde_json::to_string(outcome).unwrap());
}

/// Where the processes of one test meet (a database file, a schema),
/// named by the parent and handed to each child.
pub(crate) const SHARED: &str = "APPROVAL_GATE_TEST_SHARED";

/// In a child, what the parent shared.
pub(crate) fn shared() -> String {
    std::env::var(SHARED).unwrap()
}

fn child(test: &str, writer: u64, shared: &str) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1", "--quiet"])
        .env(WORKER, writer.to_string())
        .env(SHARED, shared)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Runs `test` (the calling test's own name) as `processes` child
/// processes at once, writers 0.., and collects what each was told.
pub(crate) fn race_processes(test: &str, processes: u64, shared: &str) -> Vec<Outcome> {
    let children: Vec<_> = (0..processes).map(|writer| child(test, writer, shared)).collect();
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8(output.stdout).unwrap();
            assert!(output.status.success(), "a writer process failed: {stdout}");
            let line = stdout.lines().find_map(|line| line.strip_prefix(OUTCOME)).expect("a writer printed no outcome");
            serde_json::from_str(line).unwrap()
        })
        .collect()
}

/// A notifier that writes each notification to a file (the host's
/// receiving end, which outlives processes) and, in a child, kills the
/// whole process at a roll of the die: before the hand-over, or after it
/// but before the service can mark it delivered.
pub(crate) struct Mailbox {
    file: Mutex<std::fs::File>,
    dice: Option<Mutex<Dice>>,
}

impl Mailbox {
    /// Appends to `path`; `crash_seed` makes it kill its process now and then.
    pub(crate) fn new(path: &std::path::Path, crash_seed: Option<u64>) -> Self {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        Self { file: Mutex::new(file), dice: crash_seed.map(|seed| Mutex::new(Dice(seed | 1))) }
    }

    /// Every notification the file holds, each key once.
    pub(crate) fn read(path: &std::path::Path) -> Inbox {
        let inbox = Inbox::default();
        for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
            inbox.receive(&serde_json::from_str(line).unwrap());
        }
        inbox
    }
}

impl Notifier for Mailbox {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        use std::io::Write;
        let roll = self.dice.as_ref().map_or(99, |dice| dice.lock().unwrap().roll(60));
        if roll == 0 {
            std::process::abort();
        }
        let mut file = self.file.lock().unwrap();
        writeln!(file, "{}", serde_json::to_string(notification).unwrap()).unwrap();
        file.flush().unwrap();
        if roll == 1 {
            std::process::abort();
        }
        Ok(())
    }
    fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
        panic!("no workload policy blocks deployments, yet {} came", hold.key)
    }
}

/// In a child: approvals, rejections and ticks on the shared gates with a
/// [`Mailbox`] that kills the process at random, until it does (or the
/// work runs out).
pub(crate) fn work_until_killed<S: Store>(store: S, mailbox: &std::path::Path, life: u64) {
    let approvals = Approvals::new(store, Mailbox::new(mailbox, Some(life + 11)));
    let mut dice = Dice(life + 3);
    let mut clock = base() + TimeDelta::minutes(life as i64);
    for _ in 0..400 {
        clock += TimeDelta::seconds(1);
        let gate = gate_id(dice.roll(GATES as u64) as usize);
        let result = match dice.roll(10) {
            0 => approvals.reject(&gate, approver(dice.roll(8)), None, clock),
            1 => approvals.tick(clock + TimeDelta::minutes(50)).and_then(|_| approvals.gate(&gate)),
            _ => approvals.approve(&gate, Approve::by(approver(dice.roll(8))), clock),
        };
        if let Err(
            failure @ (ServiceError::Store(_) | ServiceError::Contention { .. } | ServiceError::Corrupt { .. }),
        ) = result
        {
            panic!("{failure}");
        }
    }
}

/// Issue 4's crash test across processes: `lives` children, one after
/// another, each killed at random between an append and its delivery;
/// then a restarted service delivers what the outbox kept. Every
/// notification the stored events call for reaches the mailbox at least
/// once. Returns (unique notifications, deliveries, children killed).
pub(crate) fn crash_processes<S: Store>(
    test: &str,
    store: &S,
    mailbox: &std::path::Path,
    lives: u64,
    shared: &str,
) -> (usize, usize, usize) {
    open_gates(store, Mailbox::new(mailbox, None));
    let mut killed = 0;
    for life in 0..lives {
        use std::os::unix::process::ExitStatusExt;
        let status = child(test, life, shared).wait().unwrap();
        match status.signal() {
            Some(6) => killed += 1,
            _ => assert!(status.success(), "life {life} failed: {status}"),
        }
    }
    assert!(killed > 0, "no child was killed between an append and its delivery");
    let restarted = Approvals::new(store, Mailbox::new(mailbox, None));
    restarted.deliver_pending().unwrap();
    assert!(store.pending(1).unwrap().is_empty(), "the restarted service left notifications in the outbox");
    let inbox = Mailbox::read(mailbox);
    let received: BTreeSet<_> = inbox.deduplicated().into_keys().collect();
    let expected = expected_keys(store, (0..GATES).map(gate_id));
    let lost: Vec<_> = expected.difference(&received).collect();
    assert!(lost.is_empty(), "notifications lost: {lost:?}");
    let unexpected: Vec<_> = received.difference(&expected).collect();
    assert!(unexpected.is_empty(), "notifications no stored event calls for: {unexpected:?}");
    (received.len(), inbox.deliveries(), killed)
}

/// Issue 10: outbox rows this version cannot read (an entry kind a newer
/// version wrote during a rolling upgrade, a damaged row) stop nothing: the
/// service reports them, leaves them in place and delivers the rest, and
/// every action is answered as recorded. A row written before entries were
/// tagged (a bare notification) is still delivered. `insert` writes a raw
/// outbox row (key, JSON) the way a newer version or damage would.
pub(crate) fn unreadable_outbox_entries_stop_nothing<S: Store>(store: &S, insert: impl Fn(&str, &str))
where
    S::Error: std::fmt::Debug,
{
    use approval_gate::memory::RecordingNotifier;
    let service = Approvals::new(store, RecordingNotifier::new());
    insert("future/1/remind", r#"{"entry":"remind","key":"future/1/remind","gate":"future","after":"1h"}"#);
    insert("damaged/1/approved", "{not json");
    let legacy = r#"{"key":"legacy/1/approved","gate":"legacy","kind":"approved","recipients":[],"text":"`ann` approved `legacy`","at":"2026-11-22T09:00:00Z"}"#;
    insert("legacy/1/approved", legacy);

    let spec = r#"{"rules": [{"required": 1, "approvers": [{"group": "sre"}]}], "concurrency": "block"}"#;
    let policy = Policy::new(serde_json::from_str::<PolicySpec>(spec).unwrap()).unwrap();
    let gate = GateId::new("g-after-upgrade").unwrap();
    service.open(gate.clone(), policy, Run::new(PrincipalId::new("carol").unwrap()), base()).unwrap();
    let ann = Principal::user("ann").unwrap().with_groups(["sre"]);
    let approved = service.approve(&gate, Approve::by(ann), base() + TimeDelta::minutes(1)).unwrap();
    assert_eq!(approved.status(), Status::Approved, "the action is answered as recorded");

    let sent: Vec<String> = service.notifier().delivered().into_iter().map(|n| n.key).collect();
    for key in ["legacy/1/approved", "g-after-upgrade/1/approval_required", "g-after-upgrade/3/ended"] {
        assert!(sent.contains(&key.to_owned()), "{key} was not delivered: {sent:?}");
    }
    let holds: Vec<String> = service.notifier().holds().into_iter().map(|h| h.key).collect();
    assert_eq!(holds, ["g-after-upgrade/1/block", "g-after-upgrade/3/unblock"]);

    let delivery = service.deliver_pending().unwrap();
    let mut unreadable: Vec<&str> = delivery.unreadable.iter().map(|u| u.key.as_str()).collect();
    unreadable.sort_unstable();
    assert_eq!(unreadable, ["damaged/1/approved", "future/1/remind"], "both are reported");
    assert!(delivery.unreadable.iter().all(|u| u.reason.contains(&u.key)), "{:?}", delivery.unreadable);
    assert_eq!(delivery.delivered, 0, "everything readable had gone out already");
    let left: Vec<String> = store
        .pending(100)
        .unwrap()
        .into_iter()
        .map(|entry| match entry {
            Pending::Unreadable(unreadable) => unreadable.key,
            Pending::Entry(entry) => panic!("a readable entry stayed behind: {entry:?}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(left.len(), 2, "the unreadable rows stay in place for a newer version: {left:?}");
}
