//! The service and the embedded store: expected versions, retries on a
//! conflict, the outbox, superseding across gates, ticking due gates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use approval_gate::gate::{Event, Hold, HoldChange, Notification};
use approval_gate::memory::{MemoryStore, RecordingNotifier};
use approval_gate::outbox::{OutboxEntry, Pending};
use approval_gate::ports::{Append, AppendError, Conflict, GateIndex, Notifier, NotifyError, Store};
use approval_gate::service::{Approvals, ServiceError};
use approval_gate::{Approve, ErrorKind, GateId, Reason, Status};
use chrono::{DateTime, Utc};
use common::{at, native, outbox, outbox_keys, run, user};
use std::cell::Cell;
use std::sync::Mutex;

const ONE_OF_SRE: &str = r#"{"rules": [{"required": 1, "approvers": [{"group": "sre"}]}], "timeout": {"after": "1h"}}"#;

fn gate(id: &str) -> GateId {
    GateId::new(id).unwrap()
}

#[test]
fn a_stale_append_is_refused_with_both_versions_and_writes_nothing() {
    let store = MemoryStore::new();
    let events = approval_gate::Gate::open(gate("g"), native(ONE_OF_SRE), run("carol"), at(0)).unwrap();
    let opened = approval_gate::Gate::replay(&events).unwrap();
    let index = GateIndex::of(&opened);
    store.append(Append::new(&gate("g"), 0, &events, &[], &index)).unwrap();
    let again = store.append(Append::new(&gate("g"), 0, &events, &[], &index)).unwrap_err();
    assert_eq!(again, AppendError::Conflict(Conflict { gate: gate("g"), expected: 0, actual: 1 }));
    assert_eq!(again.to_string(), "version conflict on gate `g`: expected version 0, found 1");
    assert_eq!(store.load(&gate("g")).unwrap().len(), 1);
}

/// A store that lets another writer slip in an approval just before the
/// first append it sees for a waiting gate.
struct Racing {
    inner: MemoryStore,
    raced: Cell<bool>,
}

impl Store for Racing {
    type Error = <MemoryStore as Store>::Error;
    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Self::Error> {
        self.inner.load(gate)
    }
    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Self::Error>> {
        if append.expected > 0 && !self.raced.replace(true) {
            let mut rival = approval_gate::Gate::replay(&self.inner.load(append.gate).unwrap()).unwrap();
            let bob = approval_gate::Command::Approve(Approve::by(user("bob", &["sre"])));
            let events = rival.decide(&bob, at(1)).unwrap();
            for event in &events {
                rival.evolve(event);
            }
            let index = GateIndex::of(&rival);
            self.inner.append(Append::new(append.gate, append.expected, &events, &[], &index)).unwrap();
        }
        self.inner.append(append)
    }
    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Self::Error> {
        self.inner.waiting_with_key(key)
    }
    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Self::Error> {
        self.inner.due(at, limit)
    }
    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Self::Error> {
        self.inner.pending(limit)
    }
    fn delivered(&self, key: &str) -> Result<(), Self::Error> {
        self.inner.delivered(key)
    }
}

#[test]
fn a_conflict_is_retried_by_deciding_again_on_the_new_state() {
    let store = Racing { inner: MemoryStore::new(), raced: Cell::new(false) };
    let approvals = Approvals::new(store, RecordingNotifier::new());
    approvals.open(gate("g"), native(ONE_OF_SRE), run("carol"), at(0)).unwrap();
    // bob's approval lands first and ends the gate; ann's, decided again,
    // finds the gate approved.
    let error = approvals.approve(&gate("g"), Approve::by(user("ann", &["sre"])), at(2)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotWaiting);
    let after = approvals.gate(&gate("g")).unwrap();
    assert_eq!(after.status(), Status::Approved);
    assert_eq!(after.approved_by().iter().map(|id| id.as_str()).collect::<Vec<_>>(), ["bob"]);
}

/// Fails the first `failures` deliveries and the first `hold_failures`
/// holds, then records.
struct Flaky {
    failures: Mutex<u32>,
    hold_failures: Mutex<u32>,
    delivered: RecordingNotifier,
}

impl Flaky {
    fn failing(failures: u32, hold_failures: u32) -> Self {
        Flaky {
            failures: Mutex::new(failures),
            hold_failures: Mutex::new(hold_failures),
            delivered: RecordingNotifier::new(),
        }
    }
}

impl Notifier for Flaky {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        let mut left = self.failures.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(NotifyError { key: notification.key.clone(), reason: "smtp down".into() });
        }
        self.delivered.deliver(notification)
    }
    fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
        let mut left = self.hold_failures.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(NotifyError { key: hold.key.clone(), reason: "host down".into() });
        }
        self.delivered.hold(hold)
    }
}

#[test]
fn undelivered_notifications_stay_in_the_outbox_until_delivered_once() {
    let notifier = Flaky::failing(3, 0);
    let approvals = Approvals::new(MemoryStore::new(), notifier);
    approvals.open(gate("g"), native(ONE_OF_SRE), run("carol"), at(0)).unwrap();
    approvals.approve(&gate("g"), Approve::by(user("ann", &["sre"])), at(1)).unwrap();
    // open queues 1 notification, approve 2 more. The opening's failed
    // twice (at open, at approve), and a gate's later notifications wait
    // behind its failed one, so nothing has gone out yet.
    assert_eq!(outbox_keys(approvals.store()), ["g/1/approval_required", "g/2/approved", "g/3/ended"]);
    // The third attempt fails too; the fourth goes through, then the rest,
    // in order.
    assert_eq!(approvals.deliver_pending().unwrap().delivered, 0);
    assert_eq!(approvals.deliver_pending().unwrap().delivered, 3);
    assert!(approvals.store().pending(10).unwrap().is_empty());
    let keys: Vec<String> = approvals.notifier().delivered.delivered().into_iter().map(|n| n.key).collect();
    assert_eq!(keys, ["g/1/approval_required", "g/2/approved", "g/3/ended"], "each once, in order");
}

#[test]
fn tick_ends_only_the_gates_that_are_due() {
    let approvals = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
    approvals.open(gate("early"), native(ONE_OF_SRE), run("carol"), at(0)).unwrap();
    approvals.open(gate("late"), native(ONE_OF_SRE), run("carol"), at(30)).unwrap();
    let ended = approvals.tick(at(61)).unwrap();
    assert_eq!(ended.iter().map(|g| g.id().as_str()).collect::<Vec<_>>(), ["early"]);
    assert_eq!(approvals.gate(&gate("early")).unwrap().status(), Status::Expired);
    assert_eq!(approvals.gate(&gate("late")).unwrap().status(), Status::Waiting);
    assert!(approvals.tick(at(62)).unwrap().is_empty(), "an ended gate leaves the due index");
}

#[test]
fn approving_a_newer_run_rejects_older_waiting_runs_the_approver_may_act_on() {
    let policy = native(
        r#"{"rules": [{"required": 2, "approvers": [{"group": "sre"}]}], "executor": "may_not_act", "supersede": "reject_older_waiting"}"#,
    );
    let approvals = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
    let at_step = |executor: &str| {
        let mut r = run(executor);
        r.pipeline = Some("deploy".into());
        r.step = Some("approve".into());
        r
    };
    approvals.open(gate("old-1"), policy.clone(), at_step("carol"), at(0)).unwrap();
    approvals.open(gate("old-2"), policy.clone(), at_step("ann"), at(1)).unwrap();
    let mut elsewhere = at_step("carol");
    elsewhere.service = Some("billing".into());
    approvals.open(gate("other"), policy.clone(), elsewhere, at(2)).unwrap();
    approvals.open(gate("new"), policy, at_step("carol"), at(3)).unwrap();
    approvals.approve(&gate("new"), Approve::by(user("ann", &["sre"])), at(4)).unwrap();
    let old1 = approvals.gate(&gate("old-1")).unwrap();
    assert_eq!((old1.status(), old1.reason()), (Status::Rejected, Some(Reason::Superseded)));
    assert_eq!(old1.rejected_by().unwrap().as_str(), "ann");
    // ann executed old-2 and may not act on it: Harness skips it.
    assert_eq!(approvals.gate(&gate("old-2")).unwrap().status(), Status::Waiting);
    assert_eq!(approvals.gate(&gate("other")).unwrap().status(), Status::Waiting);
    assert_eq!(approvals.gate(&gate("new")).unwrap().status(), Status::Waiting);
}

#[test]
fn unknown_and_duplicate_gates_are_refused() {
    let approvals = Approvals::new(MemoryStore::new(), RecordingNotifier::new());
    let missing = approvals.approve(&gate("nope"), Approve::by(user("ann", &["sre"])), at(0)).unwrap_err();
    assert!(matches!(&missing, ServiceError::UnknownGate(id) if id.as_str() == "nope"));
    approvals.open(gate("g"), native(ONE_OF_SRE), run("carol"), at(0)).unwrap();
    let twice = approvals.open(gate("g"), native(ONE_OF_SRE), run("carol"), at(1)).unwrap_err();
    assert_eq!(twice.kind(), ErrorKind::DuplicateGate);
    assert_eq!(approvals.store().load(&gate("g")).unwrap().len(), 1, "the refused open wrote nothing");
}

#[derive(Debug, thiserror::Error)]
#[error("the service stopped")]
struct Stopped;

/// Harness `isAutoRejectEnabled`, through the outbox: the rejection of the
/// older runs is written with the approval, so a service that stops in
/// between loses it no more than it loses a notification.
#[test]
fn a_supersession_cut_off_after_the_approval_is_carried_out_by_the_next_service() {
    let policy =
        native(r#"{"rules": [{"required": 2, "approvers": [{"group": "sre"}]}], "supersede": "reject_older_waiting"}"#);
    let store = MemoryStore::new();
    let at_step = || {
        let mut r = run("carol");
        r.pipeline = Some("deploy".into());
        r
    };
    let setup = Approvals::new(&store, RecordingNotifier::new());
    setup.open(gate("old"), policy.clone(), at_step(), at(0)).unwrap();
    setup.open(gate("new"), policy, at_step(), at(1)).unwrap();

    let dying = Approvals::new(StaleIndex { inner: &store, broken: Cell::new(true) }, RecordingNotifier::new());
    let cut_off = dying.approve(&gate("new"), Approve::by(user("ann", &["sre"])), at(6)).unwrap_err();
    assert_eq!(cut_off.kind(), ErrorKind::Store);
    let ServiceError::FollowUp { gate: recorded, source: Stopped } = cut_off else { panic!("{cut_off}") };
    assert_eq!((recorded.version(), recorded.approvals().len()), (2, 1), "the error hands back the gate as recorded");
    assert_eq!(store.load(&gate("new")).unwrap().len(), 2, "the approval was recorded");
    assert_eq!(approvals_status(&store, "old"), Status::Waiting, "and the older run not yet rejected");
    let job = outbox(&store)
        .into_iter()
        .find_map(|entry| match entry {
            OutboxEntry::Supersede(job) => Some(job),
            _ => None,
        })
        .unwrap();
    assert_eq!((job.outbox_key().as_str(), job.at), ("new/2/supersede", at(6)));
    let sent: Vec<String> = dying.notifier().delivered().into_iter().map(|n| n.key).collect();
    assert_eq!(sent, ["new/2/approved"], "notifications do not wait on the other gate");

    // Before the restart the older run records an event later than the
    // approval that supersedes it (appended by the engine alone: any
    // service call would already carry out what the outbox holds).
    let mut old = approval_gate::Gate::replay(&store.load(&gate("old")).unwrap()).unwrap();
    let assigned = old.decide(&approval_gate::Command::Assign { to: user("bob", &["sre"]) }, at(8)).unwrap();
    old.evolve(&assigned[0]);
    store.append(Append::new(&gate("old"), 1, &assigned, &[], &GateIndex::of(&old))).unwrap();
    let restarted = Approvals::new(&store, RecordingNotifier::new());
    restarted.deliver_pending().unwrap();
    let old = restarted.gate(&gate("old")).unwrap();
    assert_eq!((old.status(), old.reason()), (Status::Rejected, Some(Reason::Superseded)));
    assert_eq!(old.rejected_by().unwrap().as_str(), "ann");
    assert_eq!(old.ending().unwrap().at, at(8), "dated no earlier than what the older gate recorded");
    assert!(store.pending(10).unwrap().is_empty(), "the job and every notification left the outbox");
    let delivered = restarted.notifier().delivered();
    let keys: Vec<&str> = delivered.iter().map(|n| n.key.as_str()).collect();
    assert!(keys.contains(&"old/3/ended"), "{keys:?}");
    assert!(delivered.iter().all(|n| !n.key.ends_with("/supersede")), "the notifier never sees a job");
    // Carried out again, it changes nothing.
    let again = OutboxEntry::Supersede(job);
    store
        .append(Append::new(&gate("new"), 2, &[], &[again], &GateIndex::of(&restarted.gate(&gate("new")).unwrap())))
        .unwrap();
    restarted.deliver_pending().unwrap();
    assert_eq!(store.load(&gate("old")).unwrap().len(), 3);
}

fn approvals_status(store: &MemoryStore, id: &str) -> Status {
    approval_gate::Gate::replay(&store.load(&gate(id)).unwrap()).unwrap().status()
}

/// A store whose supersede-key index names a gate it never stored (as a
/// stale index would), and whose index can be made to fail, as in a service
/// that stops after appending an approval and before rejecting the runs it
/// supersedes.
struct StaleIndex<'a> {
    inner: &'a MemoryStore,
    broken: Cell<bool>,
}

impl Store for StaleIndex<'_> {
    type Error = Stopped;
    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Stopped> {
        Ok(self.inner.load(gate).unwrap())
    }
    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Stopped>> {
        self.inner.append(append).map_err(|error| match error {
            AppendError::Conflict(conflict) => AppendError::Conflict(conflict),
            AppendError::Store(error) => panic!("{error}"),
        })
    }
    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Stopped> {
        if self.broken.get() {
            return Err(Stopped);
        }
        let mut waiting = vec![(gate("ghost"), at(0))];
        waiting.extend(self.inner.waiting_with_key(key).unwrap());
        Ok(waiting)
    }
    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Stopped> {
        Ok(self.inner.due(at, limit).unwrap())
    }
    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Stopped> {
        Ok(self.inner.pending(limit).unwrap())
    }
    fn delivered(&self, key: &str) -> Result<(), Stopped> {
        self.inner.delivered(key).unwrap();
        Ok(())
    }
}

/// A supersession that cannot finish holds back no notification, and an
/// older run that no store holds is passed over rather than retried
/// forever.
#[test]
fn a_failing_supersession_holds_back_no_notification() {
    let policy =
        native(r#"{"rules": [{"required": 2, "approvers": [{"group": "sre"}]}], "supersede": "reject_older_waiting"}"#);
    let store = MemoryStore::new();
    let approvals = Approvals::new(StaleIndex { inner: &store, broken: Cell::new(false) }, RecordingNotifier::new());
    for (id, opened) in [("old", 1), ("new", 2), ("newest", 3)] {
        approvals.open(gate(id), policy.clone(), run("carol"), at(opened)).unwrap();
    }
    approvals.approve(&gate("new"), Approve::by(user("ann", &["sre"])), at(4)).unwrap();
    assert_eq!(approvals_status(&store, "old"), Status::Rejected, "the ghost was passed over");
    assert!(store.pending(10).unwrap().is_empty());

    approvals.store().broken.set(true);
    let failed = approvals.approve(&gate("newest"), Approve::by(user("bob", &["sre"])), at(5)).unwrap_err();
    assert!(matches!(failed, ServiceError::FollowUp { .. }), "{failed}");
    let keys: Vec<String> = approvals.notifier().delivered().into_iter().map(|n| n.key).collect();
    assert!(keys.contains(&"newest/2/approved".to_owned()), "delivered despite the failing job: {keys:?}");
    let left = outbox_keys(&store);
    assert_eq!(left, ["newest/2/supersede"]);
    assert!(matches!(approvals.deliver_pending(), Err(ServiceError::Store(Stopped))));

    approvals.store().broken.set(false);
    approvals.deliver_pending().unwrap();
    assert_eq!(approvals_status(&store, "new"), Status::Rejected, "carried out once the store recovered");
    assert!(store.pending(10).unwrap().is_empty());
}

/// Issue 10: an Octopus step with "Block Deployments" (Octopus docs, Manual
/// Intervention: `BlockConcurrentDeployments`) holds other deployments of
/// its project and environment while it waits, and the host hears of it
/// through the service, durably and under stable keys, as it hears of
/// notifications: a hold the notifier refuses stays in the outbox until
/// it goes through.
#[test]
fn an_octopus_block_reaches_the_host_through_the_service() {
    let step = serde_json::json!({
        "Name": "Approve production",
        "ActionType": "Octopus.Manual",
        "Properties": {
            "Octopus.Action.Manual.ResponsibleTeamIds": "teams-managers",
            "Octopus.Action.Manual.BlockConcurrentDeployments": "True"
        }
    });
    let policy = common::import("octopus", step).unwrap();
    let approvals = Approvals::new(MemoryStore::new(), Flaky::failing(0, 0));
    let mut deploy = run("deployer");
    deploy.project = Some("web".into());
    deploy.environment = Some("Production".into());
    approvals.open(gate("deploy-1"), policy, deploy, at(0)).unwrap();
    let held = approvals.notifier().delivered.holds();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!((held[0].key.as_str(), held[0].change), ("deploy-1/1/block", HoldChange::Block));
    assert_eq!((held[0].project.as_deref(), held[0].environment.as_deref()), (Some("web"), Some("Production")));

    // The host is down when the step ends: the release waits in the outbox.
    *approvals.notifier().hold_failures.lock().unwrap() = 10;
    let alice = user("alice", &["teams-managers"]);
    let done = approvals.approve(&gate("deploy-1"), Approve::by(alice), at(5)).unwrap();
    assert_eq!((done.status(), done.assigned_to().unwrap().as_str()), (Status::Approved, "alice"));
    assert!(outbox_keys(approvals.store()).contains(&"deploy-1/4/unblock".to_owned()));
    *approvals.notifier().hold_failures.lock().unwrap() = 0;
    approvals.deliver_pending().unwrap();
    let held: Vec<(String, HoldChange)> =
        approvals.notifier().delivered.holds().into_iter().map(|h| (h.key, h.change)).collect();
    assert_eq!(
        held,
        [("deploy-1/1/block".into(), HoldChange::Block), ("deploy-1/4/unblock".into(), HoldChange::Unblock)]
    );
    assert!(outbox(approvals.store()).is_empty(), "everything went out once");
}

/// A release never overtakes the block it releases: when the host refuses
/// the block, the gate's later entries wait behind it, and the host hears
/// block then unblock, each once, with their versions.
#[test]
fn a_failed_block_holds_back_its_release() {
    let policy = native(r#"{"rules": [{"required": 1, "approvers": [{"group": "sre"}]}], "concurrency": "block"}"#);
    let approvals = Approvals::new(MemoryStore::new(), Flaky::failing(0, 2));
    approvals.open(gate("g"), policy, run("carol"), at(0)).unwrap();
    assert_eq!(outbox_keys(approvals.store()), ["g/1/block"], "the host refused the block");
    // Refused again while the gate ends: the release waits behind it.
    approvals.approve(&gate("g"), Approve::by(user("ann", &["sre"])), at(1)).unwrap();
    assert!(approvals.notifier().delivered.holds().is_empty(), "no release before its block");
    assert_eq!(outbox_keys(approvals.store()), ["g/1/block", "g/2/approved", "g/3/ended", "g/3/unblock"]);
    approvals.deliver_pending().unwrap();
    let holds: Vec<(String, u64)> =
        approvals.notifier().delivered.holds().into_iter().map(|h| (h.key, h.version)).collect();
    assert_eq!(holds, [("g/1/block".to_owned(), 1), ("g/3/unblock".to_owned(), 3)], "in order, once each");
    assert!(outbox(approvals.store()).is_empty());
}
