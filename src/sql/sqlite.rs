//! [`SqliteStore`]: gates, indexes and outbox in one SQLite file.

use super::Error;
use super::codec::{self, Plan};
use super::schema::{Dialect, Queries};
use crate::gate::Event;
use crate::id::GateId;
use crate::outbox::Pending;
use crate::ports::{Append, AppendError, Store};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, ffi, params};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a statement waits for another process's write lock before it
/// fails with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps gates in one SQLite file that several processes may share: WAL
/// journal, a busy timeout of five seconds, and appends in `BEGIN IMMEDIATE`
/// transactions so that two writers never both read and then both try to
/// upgrade to the write lock.
///
/// ```
/// use approval_gate::GateId;
/// use approval_gate::ports::Store;
/// use approval_gate::sql::SqliteStore;
///
/// let dir = std::env::temp_dir().join(format!("approval-gate-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("gates.db"))?;
/// assert!(store.load(&GateId::new("run-7")?)?.is_empty());
/// # drop(store);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteStore {
    connection: Mutex<Connection>,
    queries: Queries<String>,
    path: PathBuf,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and the schema if
    /// absent. Several processes may open one file at once.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the file cannot be opened or set up.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let mut connection = Connection::open(&path)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL loses no committed transaction on a crash of
        // the process, only possibly the last ones on a power loss.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        let dialect = Dialect::sqlite();
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        transaction.execute_batch(&dialect.create())?;
        transaction.commit()?;
        Ok(Self { connection: Mutex::new(connection), queries: Queries::new(&dialect), path })
    }

    /// The file the store keeps its gates in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> Result<MutexGuard<'_, Connection>, Error> {
        self.connection.lock().map_err(|_| Error::Poisoned)
    }

    fn actual(&self, connection: &Connection, gate: &GateId) -> Result<u64, Error> {
        let mut statement = connection.prepare_cached(&self.queries.version)?;
        let stored: Option<i64> = statement.query_row([gate.as_str()], |row| row.get(0)).optional()?;
        stored.map_or(Ok(0), |stored| codec::version(gate, stored))
    }

    /// Writes `plan` in one transaction: `false`, with nothing written, when
    /// the gate was not at the expected version.
    fn write(&self, connection: &mut Connection, plan: &Plan<'_>) -> rusqlite::Result<bool> {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = &plan.gate;
        let gate_sql = if row.expected == 0 { &self.queries.insert_gate } else { &self.queries.update_gate };
        let changed = transaction.prepare_cached(gate_sql)?.execute(params![
            row.gate,
            row.version,
            row.deadline_s,
            row.deadline_ns,
            row.supersede_key,
            row.opened_s,
            row.opened_ns,
            row.expected
        ])?;
        if changed == 0 {
            return Ok(false);
        }
        let mut insert = transaction.prepare_cached(&self.queries.insert_event)?;
        for (version, event) in &plan.events {
            insert.execute(params![row.gate, version, event])?;
        }
        let mut outbox = transaction.prepare_cached(&self.queries.insert_outbox)?;
        for (key, notification) in &plan.outbox {
            outbox.execute(params![key.as_ref(), notification])?;
        }
        // The statements borrow the transaction that commit consumes.
        drop((insert, outbox));
        transaction.commit()?;
        Ok(true)
    }
}

/// A key that another writer took first: an event version already there.
fn lost_race(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || failure.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

impl Store for SqliteStore {
    type Error = Error;

    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Error> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(&self.queries.load)?;
        let rows = statement.query_map([gate.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?;
        codec::events(gate, rows.collect::<Result<_, _>>()?)
    }

    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Error>> {
        let plan = Plan::new(&append).map_err(AppendError::Store)?;
        let mut connection = self.lock().map_err(AppendError::Store)?;
        let Some(plan) = plan else {
            let actual = self.actual(&connection, append.gate).map_err(AppendError::Store)?;
            return Err(codec::beyond(&append, actual));
        };
        match self.write(&mut connection, &plan) {
            Ok(true) => Ok(plan.version),
            Err(error) if !lost_race(&error) => Err(AppendError::Store(error.into())),
            Ok(false) | Err(_) => {
                Err(codec::conflict(&append, self.actual(&connection, append.gate).map_err(AppendError::Store)?))
            }
        }
    }

    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Error> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(&self.queries.waiting)?;
        let rows = statement.query_map([key], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        let rows: Vec<(String, i64, i64)> = rows.collect::<Result<_, _>>()?;
        rows.into_iter().map(|(gate, s, ns)| Ok((codec::gate_id(gate)?, codec::join(s, ns)?))).collect()
    }

    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Error> {
        let (s, ns) = codec::split(at);
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(&self.queries.due)?;
        let rows = statement.query_map(params![s, ns, codec::limit(limit)], |row| row.get(0))?;
        let rows: Vec<String> = rows.collect::<Result<_, _>>()?;
        rows.into_iter().map(codec::gate_id).collect()
    }

    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Error> {
        let connection = self.lock()?;
        let mut statement = connection.prepare_cached(&self.queries.pending)?;
        let rows = statement.query_map([codec::limit(limit)], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let rows: Vec<(String, String)> = rows.collect::<Result<_, _>>()?;
        Ok(rows.iter().map(|(key, json)| codec::entry(key, json)).collect())
    }

    fn delivered(&self, key: &str) -> Result<(), Error> {
        let connection = self.lock()?;
        connection.prepare_cached(&self.queries.delivered)?.execute([key])?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;

    struct Temp(PathBuf);

    impl Temp {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("approval-gate-sqlite-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn store(&self) -> SqliteStore {
            SqliteStore::open(self.0.join("gates.db")).unwrap()
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_store_and_its_error_cross_threads() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<SqliteStore>();
        shared::<Error>();
    }

    #[test]
    fn a_reopened_file_keeps_everything() {
        let temp = Temp::new("reopen");
        let gate = GateId::new("open").unwrap();
        let policy = crate::Policy::new(crate::policy::PolicySpec::new([crate::policy::Rule::new(
            1,
            [crate::policy::Approver::Anyone],
        )]))
        .unwrap();
        let executor = crate::Run::new(crate::PrincipalId::new("carol").unwrap());
        let events = crate::Gate::open(gate.clone(), policy, executor, DateTime::UNIX_EPOCH).unwrap();
        let index = crate::ports::GateIndex::of(&crate::Gate::replay(&events).unwrap());
        temp.store().append(Append::new(&gate, 0, &events, &[], &index)).unwrap();
        assert_eq!(temp.store().load(&gate).unwrap(), events);
    }

    #[test]
    fn due_reads_the_index_only() {
        let temp = Temp::new("plan");
        let store = temp.store();
        let connection = store.lock().unwrap();
        for (query, index) in [(&store.queries.due, "gates_due"), (&store.queries.waiting, "gates_supersede")] {
            let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {query}")).unwrap();
            let values = [1_i64, 2, 3].into_iter().take(statement.parameter_count());
            let rows = statement.query_map(rusqlite::params_from_iter(values), |row| row.get(3)).unwrap();
            let plan: Vec<String> = rows.map(Result::unwrap).collect();
            let plan = plan.join("\n");
            assert!(plan.contains(index) && !plan.contains("TEMP B-TREE"), "{query}:\n{plan}");
        }
    }
}
