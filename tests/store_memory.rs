//! The store contract suite on the embedded default store.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests fail loudly")]

approval_gate::store_contract_tests!(approval_gate::memory::MemoryStore::new);

#[test]
fn the_memory_store_passes_the_whole_suite_through_check_store() {
    let passed = approval_gate::testkit::check_store(approval_gate::memory::MemoryStore::new);
    assert_eq!(passed, Ok(approval_gate::testkit::checks::<approval_gate::memory::MemoryStore>().len()));
}

/// Stores that break one rule each: the suite must name the rule.
mod broken {
    use approval_gate::GateId;
    use approval_gate::gate::Event;
    use approval_gate::memory::{MemoryStore, Poisoned};
    use approval_gate::ports::{Append, AppendError, Store};
    use approval_gate::testkit::check_store;
    use chrono::{DateTime, Utc};

    #[derive(Default)]
    struct Broken {
        inner: MemoryStore,
        forget_outbox: bool,
        ignore_version: bool,
        reverse_due: bool,
        keep_delivered: bool,
    }

    impl Store for Broken {
        type Error = Poisoned;
        fn load(&self, gate: &GateId) -> Result<Vec<Event>, Poisoned> {
            self.inner.load(gate)
        }
        fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Poisoned>> {
            let outbox = if self.forget_outbox { &[] } else { append.outbox };
            let expected = if self.ignore_version {
                self.inner.load(append.gate).map_err(AppendError::Store)?.len() as u64
            } else {
                append.expected
            };
            self.inner.append(Append::new(append.gate, expected, append.events, outbox, append.index))
        }
        fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Poisoned> {
            self.inner.waiting_with_key(key)
        }
        fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Poisoned> {
            let mut due = self.inner.due(at, limit)?;
            if self.reverse_due {
                due.reverse();
            }
            Ok(due)
        }
        fn pending(&self, limit: usize) -> Result<Vec<approval_gate::outbox::Pending>, Poisoned> {
            self.inner.pending(limit)
        }
        fn delivered(&self, key: &str) -> Result<(), Poisoned> {
            if self.keep_delivered { Ok(()) } else { self.inner.delivered(key) }
        }
    }

    fn failed_checks(make: fn() -> Broken) -> Vec<&'static str> {
        let violations = check_store(make).expect_err("a broken store must fail the suite");
        violations.0.iter().map(|violation| violation.check).collect()
    }

    #[test]
    fn a_store_that_drops_the_outbox_fails_the_outbox_checks() {
        let failed = failed_checks(|| Broken { forget_outbox: true, ..Broken::default() });
        assert_eq!(
            failed,
            [
                "the_outbox_is_written_with_the_events_and_read_oldest_first",
                "delivered_notifications_leave_the_outbox_once",
                "an_outbox_key_is_kept_once",
                "racing_appends_at_one_version_let_exactly_one_win"
            ]
        );
    }

    #[test]
    fn a_last_writer_wins_store_fails_the_conflict_and_race_checks() {
        let failed = failed_checks(|| Broken { ignore_version: true, ..Broken::default() });
        assert_eq!(
            failed,
            [
                "a_stale_version_is_a_conflict_that_names_both_and_writes_nothing",
                "racing_appends_at_one_version_let_exactly_one_win"
            ]
        );
    }

    #[test]
    fn a_store_that_returns_due_gates_latest_first_fails_the_due_checks() {
        let failed = failed_checks(|| Broken { reverse_due: true, ..Broken::default() });
        assert_eq!(failed, ["due_gates_come_earliest_first_up_to_the_limit", "an_index_follows_the_gate"]);
    }

    #[test]
    fn a_store_that_never_forgets_a_delivered_notification_fails_the_delivery_check() {
        let failed = failed_checks(|| Broken { keep_delivered: true, ..Broken::default() });
        assert_eq!(failed, ["delivered_notifications_leave_the_outbox_once", "an_outbox_key_is_kept_once"]);
    }
}

mod stores;

use approval_gate::memory::MemoryStore;
use approval_gate::ports::Store;

/// Issue 4: 8 threads approve, reject, assign, cancel and tick the same 100
/// gates through the service; the store must hold exactly what they were
/// told, once, in order.
#[test]
fn eight_racing_writers_lose_and_duplicate_nothing() {
    let store = MemoryStore::new();
    let (ledger, conflicts) =
        stores::race_threads(&store, 8, |gate| (1..=store.load(gate).unwrap().len() as u64).collect());
    eprintln!("{ledger:?}; {conflicts} conflicts retried");
    assert!(ledger.approved > 0 && ledger.rejected > 0 && ledger.expired >= stores::UNDECIDED, "{ledger:?}");
    assert!(conflicts > 0, "the writers never raced");
}

/// Issue 4: a failing notifier and services dropped between append and
/// delivery lose no notification; repeats share their key.
#[test]
fn notifications_survive_a_flaky_notifier_and_dropped_services() {
    let (unique, deliveries) = stores::crash_and_restart(&MemoryStore::new());
    eprintln!("{unique} notifications, {deliveries} deliveries");
}

/// Issue 4: a tick reads and writes only the gates it ends; the thousands
/// still waiting are not touched (the due index answers, no scan).
#[test]
fn a_tick_touches_only_the_gates_it_ends() {
    use approval_gate::service::Approvals;
    use std::sync::atomic::Ordering;
    let store = stores::Counted::new(MemoryStore::new());
    let approvals = Approvals::new(&store, stores::Silent);
    let opened = |index: i64| stores::base() + chrono::TimeDelta::seconds(index);
    for index in 0..5_000 {
        let id = approval_gate::GateId::new(format!("wait-{index}")).unwrap();
        let run = approval_gate::Run::new(approval_gate::PrincipalId::new("deployer").unwrap());
        approvals.open(id, stores::policy(), run, opened(index)).unwrap();
    }
    let (loads, appends) = (store.loads.load(Ordering::Relaxed), store.appends.load(Ordering::Relaxed));
    let ended = approvals.tick(opened(99) + chrono::TimeDelta::hours(1)).unwrap();
    let ids: Vec<_> = ended.iter().map(|gate| gate.id().to_string()).collect();
    assert_eq!(ids, (0..100).map(|index| format!("wait-{index}")).collect::<Vec<_>>(), "the 100 due gates, in order");
    assert_eq!(store.loads.load(Ordering::Relaxed) - loads, 100, "reads beyond the due gates");
    assert_eq!(store.appends.load(Ordering::Relaxed) - appends, 100, "writes beyond the due gates");
    assert!(ended.iter().all(|gate| gate.status() == approval_gate::Status::Expired));
}
