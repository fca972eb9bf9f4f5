//! The SQLite store (feature `sqlite`): the store contract suite, racing
//! writers in threads and in processes, and notifications across crashes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod stores;

use approval_gate::GateId;
use approval_gate::sql::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A new database file under the system's temporary directory, unique to
/// this process and call; `name` says which test made it.
fn database(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join("approval-gate-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}-{}.sqlite", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    remove(&path);
    path
}

/// The database and its WAL files.
fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn fresh() -> SqliteStore {
    SqliteStore::open(database("contract")).unwrap()
}

approval_gate::store_contract_tests!(fresh);

/// The version numbers stored for `gate`, read from the rows themselves.
fn versions(path: &Path) -> impl Fn(&GateId) -> Vec<u64> {
    let connection = rusqlite::Connection::open(path).unwrap();
    move |gate| {
        let mut query = connection.prepare("SELECT version FROM gate_events WHERE gate = ?1 ORDER BY version").unwrap();
        query.query_map([gate.as_str()], |row| row.get::<_, i64>(0)).unwrap().map(|v| v.unwrap() as u64).collect()
    }
}

/// Issue 4: 8 threads on one store (one connection each would be the same
/// file; here they share the store as one replica's threads do).
#[test]
fn eight_racing_threads_lose_and_duplicate_nothing() {
    let path = database("threads");
    let (ledger, conflicts) = stores::race_threads(SqliteStore::open(&path).unwrap(), 8, versions(&path));
    eprintln!("{ledger:?}; {conflicts} conflicts retried");
    assert!(ledger.expired >= stores::UNDECIDED, "{ledger:?}");
    remove(&path);
}

/// Issue 4: 4 processes, each with its own connection to one file, write
/// at once.
#[test]
fn four_racing_processes_lose_and_duplicate_nothing() {
    if let Some(writer) = stores::worker() {
        let store = SqliteStore::open(stores::shared()).unwrap();
        return stores::report(&stores::write(&store, writer));
    }
    let path = database("processes");
    let store = SqliteStore::open(&path).unwrap();
    stores::open_gates(&store, stores::Silent);
    let test = "four_racing_processes_lose_and_duplicate_nothing";
    let outcomes = stores::race_processes(test, 4, path.to_str().unwrap());
    let ledger = stores::verify(&store, &outcomes, versions(&path));
    eprintln!("{ledger:?}");
    assert_eq!(ledger.approved + ledger.rejected + ledger.expired + ledger.cancelled, stores::GATES);
    remove(&path);
}

/// Issue 4: a flaky notifier and services dropped before delivery.
#[test]
fn notifications_survive_a_flaky_notifier_and_dropped_services() {
    let path = database("flaky");
    let (unique, deliveries) = stores::crash_and_restart(&SqliteStore::open(&path).unwrap());
    eprintln!("{unique} notifications, {deliveries} deliveries");
    remove(&path);
}

/// Issue 4: processes killed between an append and its delivery; a
/// restart delivers what they left in the outbox.
#[test]
fn notifications_survive_processes_killed_before_delivery() {
    const TEST: &str = "notifications_survive_processes_killed_before_delivery";
    let mailbox = |path: &Path| path.with_extension("mailbox");
    if let Some(life) = stores::worker() {
        let path = PathBuf::from(stores::shared());
        return stores::work_until_killed(SqliteStore::open(&path).unwrap(), &mailbox(&path), life);
    }
    let path = database("killed");
    let store = SqliteStore::open(&path).unwrap();
    let (unique, deliveries, killed) =
        stores::crash_processes(TEST, &store, &mailbox(&path), 8, path.to_str().unwrap());
    eprintln!("{unique} notifications, {deliveries} deliveries, {killed} processes killed");
    remove(&path);
    let _ = std::fs::remove_file(mailbox(&path));
}

/// Issue 10: rows of an entry kind this version does not know, or damaged,
/// stop no notification and no action.
#[test]
fn unreadable_outbox_rows_stop_nothing() {
    let path = database("unreadable");
    let raw = rusqlite::Connection::open(&path);
    let store = SqliteStore::open(&path).unwrap();
    let raw = raw.unwrap();
    stores::unreadable_outbox_entries_stop_nothing(&store, |key, json| {
        raw.execute("INSERT INTO outbox (key, notification) VALUES (?1, ?2)", [key, json]).unwrap();
    });
    remove(&path);
}
