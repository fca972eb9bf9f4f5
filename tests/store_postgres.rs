//! The PostgreSQL store (feature `postgres`): the store contract suite,
//! racing writers in threads and in processes, and notifications across
//! crashes. Needs a server: `.ci/run` starts a throwaway one with
//! `bash .ci/postgres start` and passes its connection string in
//! `APPROVAL_GATE_POSTGRES`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod stores;

use approval_gate::GateId;
use approval_gate::sql::PostgresStore;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server's connection string.
fn server() -> String {
    std::env::var("APPROVAL_GATE_POSTGRES").expect(
        "APPROVAL_GATE_POSTGRES must hold a PostgreSQL connection string; \
         `bash .ci/postgres start` starts a throwaway server and prints one",
    )
}

/// A schema of its own for each store, so that tests never see each
/// other's gates: unique to this process and call.
fn schema(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{name}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn fresh() -> PostgresStore {
    PostgresStore::connect(&server(), &schema("contract")).unwrap()
}

approval_gate::store_contract_tests!(fresh);

/// The version numbers stored for a gate, read from the rows with `psql`.
fn versions(schema: &str) -> impl Fn(&GateId) -> Vec<u64> {
    let schema = schema.to_owned();
    move |gate| {
        let sql = format!("SELECT version FROM {schema}.gate_events WHERE gate = '{gate}' ORDER BY version");
        let output = std::process::Command::new("psql").args([&server(), "-XAtc", &sql]).output().unwrap();
        assert!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().lines().map(|line| line.parse().unwrap()).collect()
    }
}

/// Issue 4: 8 threads, each with its own connection, as 8 replicas would.
#[test]
fn eight_racing_connections_lose_and_duplicate_nothing() {
    let name = schema("threads");
    let store = Connections { schema: name.clone() };
    let (ledger, conflicts) = stores::race_threads(&store, 8, versions(&name));
    eprintln!("{ledger:?}; {conflicts} conflicts retried");
    assert!(ledger.expired >= stores::UNDECIDED, "{ledger:?}");
}

/// Issue 4: 4 processes, each with its own connection.
#[test]
fn four_racing_processes_lose_and_duplicate_nothing() {
    if let Some(writer) = stores::worker() {
        let store = PostgresStore::connect(&server(), &stores::shared()).unwrap();
        return stores::report(&stores::write(&store, writer));
    }
    let name = schema("processes");
    let store = PostgresStore::connect(&server(), &name).unwrap();
    stores::open_gates(&store, stores::Silent);
    let outcomes = stores::race_processes("four_racing_processes_lose_and_duplicate_nothing", 4, &name);
    let ledger = stores::verify(&store, &outcomes, versions(&name));
    eprintln!("{ledger:?}");
    assert_eq!(ledger.approved + ledger.rejected + ledger.expired + ledger.cancelled, stores::GATES);
}

/// Issue 4: a flaky notifier and services dropped before delivery.
#[test]
fn notifications_survive_a_flaky_notifier_and_dropped_services() {
    let (unique, deliveries) = stores::crash_and_restart(&fresh());
    eprintln!("{unique} notifications, {deliveries} deliveries");
}

/// Issue 4: processes killed between an append and its delivery; a
/// restart delivers what they left in the outbox.
#[test]
fn notifications_survive_processes_killed_before_delivery() {
    const TEST: &str = "notifications_survive_processes_killed_before_delivery";
    let mailbox = |schema: &str| std::env::temp_dir().join(format!("approval-gate-{schema}.mailbox"));
    if let Some(life) = stores::worker() {
        let schema = stores::shared();
        let store = PostgresStore::connect(&server(), &schema).unwrap();
        return stores::work_until_killed(store, &mailbox(&schema), life);
    }
    let name = schema("killed");
    let store = PostgresStore::connect(&server(), &name).unwrap();
    let (unique, deliveries, killed) = stores::crash_processes(TEST, &store, &mailbox(&name), 8, &name);
    eprintln!("{unique} notifications, {deliveries} deliveries, {killed} processes killed");
    let _ = std::fs::remove_file(mailbox(&name));
}

/// One connection per thread: each thread that touches it connects its
/// own `PostgresStore` to the same schema, as separate replicas do.
struct Connections {
    schema: String,
}

thread_local! {
    static CONNECTION: std::cell::OnceCell<PostgresStore> = const { std::cell::OnceCell::new() };
}

impl Connections {
    fn with<T>(&self, use_it: impl FnOnce(&PostgresStore) -> T) -> T {
        CONNECTION.with(|cell| use_it(cell.get_or_init(|| PostgresStore::connect(&server(), &self.schema).unwrap())))
    }
}

impl approval_gate::ports::Store for Connections {
    type Error = approval_gate::sql::Error;
    fn load(&self, gate: &GateId) -> Result<Vec<approval_gate::Event>, Self::Error> {
        self.with(|store| store.load(gate))
    }
    fn append(
        &self,
        append: approval_gate::ports::Append<'_>,
    ) -> Result<u64, approval_gate::ports::AppendError<Self::Error>> {
        self.with(|store| store.append(append))
    }
    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, chrono::DateTime<chrono::Utc>)>, Self::Error> {
        self.with(|store| store.waiting_with_key(key))
    }
    fn due(&self, at: chrono::DateTime<chrono::Utc>, limit: usize) -> Result<Vec<GateId>, Self::Error> {
        self.with(|store| store.due(at, limit))
    }
    fn pending(&self, limit: usize) -> Result<Vec<approval_gate::outbox::Pending>, Self::Error> {
        self.with(|store| store.pending(limit))
    }
    fn delivered(&self, key: &str) -> Result<(), Self::Error> {
        self.with(|store| store.delivered(key))
    }
}

/// Issue 10: rows of an entry kind this version does not know, or damaged,
/// stop no notification and no action (rows written with `psql`).
#[test]
fn unreadable_outbox_rows_stop_nothing() {
    let name = schema("unreadable");
    let store = PostgresStore::connect(&server(), &name).unwrap();
    stores::unreadable_outbox_entries_stop_nothing(&store, |key, json| {
        let quote = |text: &str| text.replace('\'', "''");
        let sql = format!("INSERT INTO {name}.outbox (key, notification) VALUES ('{}', '{}')", quote(key), quote(json));
        let output = std::process::Command::new("psql").args([&server(), "-XAtc", &sql]).output().unwrap();
        assert!(output.status.success(), "psql: {}", String::from_utf8_lossy(&output.stderr));
    });
}
