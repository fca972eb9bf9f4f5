//! [`PostgresStore`]: gates, indexes and outbox in one PostgreSQL schema
//! that several replicas share.

use super::Error;
use super::codec::{self, Plan};
use super::schema::{Dialect, Queries};
use crate::gate::Event;
use crate::id::GateId;
use crate::outbox::Pending;
use crate::ports::{Append, AppendError, Store};
use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Client, NoTls, Row, Statement};
use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

/// Serializes schema creation across every process that connects: `CREATE
/// ... IF NOT EXISTS` run by two sessions at once can still fail on the
/// catalog's unique indexes. The bytes spell `approval`.
const SCHEMA_LOCK: i64 = 0x6170_7072_6f76_616c;

/// Keeps gates in a PostgreSQL schema, created with its tables if absent.
/// Any number of processes may use one schema at once: an append changes
/// the gate's row only if it is still at the expected version, under READ
/// COMMITTED, so a stale writer gets a conflict and writes nothing.
///
/// The store holds one connection. A call that finds it closed (the server
/// restarted) fails with [`Error::Database`], and the next call connects
/// again. Like the `postgres` driver, the store blocks: call it from a
/// plain thread, not from async code.
///
/// ```no_run
/// use approval_gate::GateId;
/// use approval_gate::ports::Store;
/// use approval_gate::sql::PostgresStore;
///
/// let store = PostgresStore::connect("host=/tmp/pgsock port=5432 user=postgres dbname=postgres", "approvals")?;
/// assert!(store.load(&GateId::new("run-7")?)?.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresStore {
    session: Mutex<Session>,
    /// Kept to connect again; may hold a password, so never shown.
    config: String,
    sql: Queries<String>,
    schema: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").field("schema", &self.schema).finish_non_exhaustive()
    }
}

/// A connection and the statements prepared on it.
struct Session {
    /// Only `None` while the session drops.
    client: Option<Client>,
    queries: Queries<Statement>,
}

impl Session {
    fn new(mut client: Client, sql: &Queries<String>) -> Result<Self, Error> {
        let queries = sql.prepare(|sql| client.prepare(sql))?;
        Ok(Self { client: Some(client), queries })
    }

    fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(Client::is_closed)
    }

    fn client(&mut self) -> Result<(&mut Client, &Queries<Statement>), Error> {
        let client = self.client.as_mut().ok_or_else(|| Error::Database("connection already closed".into()))?;
        Ok((client, &self.queries))
    }

    fn query(
        &mut self,
        statement: fn(&Queries<Statement>) -> &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let (client, queries) = self.client()?;
        Ok(client.query(statement(queries), params)?)
    }
}

/// The client closes on a thread of its own: `Client` closes by running a
/// Tokio runtime, which panics, and so aborts the process, on a thread that
/// is inside a runtime or is destroying its thread-locals (a store kept in a
/// `thread_local!`).
impl Drop for Session {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Should no thread start, the closure and so the client drop
            // here after all.
            let closing = std::thread::Builder::new().name("approval-gate-pg-close".into()).spawn(move || drop(client));
            if let Ok(closing) = closing {
                let _ = closing.join();
            }
        }
    }
}

/// Whether `schema` is a name the store accepts: it goes into SQL text, so
/// only plain lower-case identifiers PostgreSQL would not refuse.
fn valid_schema(schema: &str) -> bool {
    let mut bytes = schema.bytes();
    let first = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    let rest = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    first && rest && schema.len() <= 63 && !schema.starts_with("pg_")
}

impl PostgresStore {
    /// Connects with `config` (libpq style, such as `host=/tmp/pgsock
    /// port=5432 user=postgres dbname=postgres`; no TLS) and uses `schema`,
    /// creating it and its tables if absent.
    ///
    /// A schema name is checked before anything is sent:
    ///
    /// ```
    /// use approval_gate::sql::{Error, PostgresStore};
    /// let refused = PostgresStore::connect("host=/tmp/pgsock user=postgres", "Approvals; DROP");
    /// assert!(matches!(refused, Err(Error::InvalidSchema(_))));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSchema`] unless `schema` is 1 to 63 of `a-z`, `0-9`
    /// and `_`, not starting with a digit nor with `pg_`;
    /// [`Error::Database`] when connecting or creating the schema fails.
    pub fn connect(config: &str, schema: &str) -> Result<Self, Error> {
        if !valid_schema(schema) {
            return Err(Error::InvalidSchema(schema.to_owned()));
        }
        let dialect = Dialect::postgres(schema);
        let mut client = Client::connect(config, NoTls)?;
        let mut transaction = client.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        transaction.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\";{}", dialect.create()))?;
        transaction.commit()?;
        let sql = Queries::new(&dialect);
        let session = Mutex::new(Session::new(client, &sql)?);
        Ok(Self { session, config: config.to_owned(), sql, schema: schema.to_owned() })
    }

    /// The schema the store keeps its tables in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The session, connected again if the connection closed.
    fn lock(&self) -> Result<MutexGuard<'_, Session>, Error> {
        let mut session = self.session.lock().map_err(|_| Error::Poisoned)?;
        if session.is_closed() {
            *session = Session::new(Client::connect(&self.config, NoTls)?, &self.sql)?;
        }
        Ok(session)
    }
}

/// The version the gate is at.
fn actual(client: &mut Client, queries: &Queries<Statement>, gate: &GateId) -> Result<u64, Error> {
    let row = client.query_opt(&queries.version, &[&gate.as_str()])?;
    let stored: Option<i64> = row.map(|row| row.try_get(0)).transpose()?;
    stored.map_or(Ok(0), |stored| codec::version(gate, stored))
}

/// Writes `plan` in one transaction: `false`, with nothing written, when
/// the gate was not at the expected version.
fn write(client: &mut Client, queries: &Queries<Statement>, plan: &Plan<'_>) -> Result<bool, ::postgres::Error> {
    let mut transaction = client.transaction()?;
    let row = &plan.gate;
    let gate_sql = if row.expected == 0 { &queries.insert_gate } else { &queries.update_gate };
    let changed = transaction.execute(
        gate_sql,
        &[
            &row.gate,
            &row.version,
            &row.deadline_s,
            &row.deadline_ns,
            &row.supersede_key,
            &row.opened_s,
            &row.opened_ns,
            &row.expected,
        ],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    for (version, event) in &plan.events {
        transaction.execute(&queries.insert_event, &[&row.gate, version, event])?;
    }
    for (key, notification) in &plan.outbox {
        transaction.execute(&queries.insert_outbox, &[&key.as_ref(), notification])?;
    }
    transaction.commit()?;
    Ok(true)
}

/// Errors by which PostgreSQL says another writer got there first.
fn lost_race(error: &::postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        [SqlState::UNIQUE_VIOLATION, SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED]
            .contains(code)
    })
}

impl Store for PostgresStore {
    type Error = Error;

    fn load(&self, gate: &GateId) -> Result<Vec<Event>, Error> {
        let rows = self.lock()?.query(|q| &q.load, &[&gate.as_str()])?;
        let rows = rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?)));
        codec::events(gate, rows.collect::<Result<_, ::postgres::Error>>()?)
    }

    fn append(&self, append: Append<'_>) -> Result<u64, AppendError<Error>> {
        let plan = Plan::new(&append).map_err(AppendError::Store)?;
        let mut session = self.lock().map_err(AppendError::Store)?;
        let (client, queries) = session.client().map_err(AppendError::Store)?;
        let Some(plan) = plan else {
            let actual = actual(client, queries, append.gate).map_err(AppendError::Store)?;
            return Err(codec::beyond(&append, actual));
        };
        match write(client, queries, &plan) {
            Ok(true) => Ok(plan.version),
            Err(error) if !lost_race(&error) => Err(AppendError::Store(error.into())),
            Ok(false) | Err(_) => {
                Err(codec::conflict(&append, actual(client, queries, append.gate).map_err(AppendError::Store)?))
            }
        }
    }

    fn waiting_with_key(&self, key: &str) -> Result<Vec<(GateId, DateTime<Utc>)>, Error> {
        let rows = self.lock()?.query(|q| &q.waiting, &[&key])?;
        let waiting = |row: &Row| -> Result<_, Error> {
            let (s, ns) = (row.try_get(1)?, row.try_get(2)?);
            Ok((codec::gate_id(row.try_get(0)?)?, codec::join(s, ns)?))
        };
        rows.iter().map(waiting).collect()
    }

    fn due(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<GateId>, Error> {
        let (s, ns) = codec::split(at);
        let rows = self.lock()?.query(|q| &q.due, &[&s, &ns, &codec::limit(limit)])?;
        rows.iter().map(|row| codec::gate_id(row.try_get(0)?)).collect()
    }

    fn pending(&self, limit: usize) -> Result<Vec<Pending>, Error> {
        let rows = self.lock()?.query(|q| &q.pending, &[&codec::limit(limit)])?;
        rows.iter().map(|row| Ok(codec::entry(row.try_get(0)?, row.try_get(1)?))).collect()
    }

    fn delivered(&self, key: &str) -> Result<(), Error> {
        let mut session = self.lock()?;
        let (client, queries) = session.client()?;
        client.execute(&queries.delivered, &[&key])?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The connection string of a PostgreSQL to test against, as
    /// `bash .ci/postgres start` prints it.
    fn config() -> String {
        std::env::var("APPROVAL_GATE_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "set APPROVAL_GATE_POSTGRES to a connection string to test PostgresStore, \
                 e.g. APPROVAL_GATE_POSTGRES=\"$(bash .ci/postgres start)\""
            )
        })
    }

    /// A schema no other test of this run uses, emptied of what an earlier
    /// run with the same process id left.
    fn fresh_schema(name: &str) -> String {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let schema = format!("t_{name}_{}_{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed));
        let mut client = Client::connect(&config(), NoTls).unwrap();
        client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).unwrap();
        schema
    }

    #[test]
    fn the_store_and_its_error_cross_threads() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<PostgresStore>();
        shared::<Error>();
    }

    #[test]
    fn schema_names_are_checked_before_connecting() {
        for bad in ["", "Approvals", "1st", "a-b", "a b", "x\"; drop table gates; --", "pg_catalog", &"a".repeat(64)] {
            let refused = PostgresStore::connect("host=/nonexistent", bad);
            assert!(matches!(refused, Err(Error::InvalidSchema(ref name)) if name == bad), "{bad}");
        }
        for good in ["_", "approvals", "a1_b2", &"a".repeat(63)] {
            assert!(valid_schema(good), "{good}");
        }
    }

    #[test]
    fn a_store_in_a_thread_local_closes_when_its_thread_ends() {
        thread_local! {
            static STORE: std::cell::OnceCell<PostgresStore> = const { std::cell::OnceCell::new() };
        }
        let schema = fresh_schema("local");
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                STORE.with(|cell| {
                    cell.get_or_init(|| PostgresStore::connect(&config(), &schema).unwrap())
                        .due(DateTime::UNIX_EPOCH, 1)
                })
            });
            assert!(thread.join().unwrap().unwrap().is_empty());
        });
    }

    #[test]
    fn a_closed_connection_is_replaced_on_the_next_call() {
        let store = PostgresStore::connect(&config(), &fresh_schema("reconnect")).unwrap();
        let backend = |store: &PostgresStore| -> i32 {
            store.lock().unwrap().client().unwrap().0.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0)
        };
        let first = backend(&store);
        let mut admin = Client::connect(&config(), NoTls).unwrap();
        admin.execute("SELECT pg_terminate_backend($1)", &[&first]).unwrap();
        let failed = store.pending(1);
        assert!(matches!(failed, Err(Error::Database(_))), "{failed:?}");
        assert!(store.pending(1).unwrap().is_empty());
        assert_ne!(backend(&store), first);
    }

    #[test]
    fn due_and_waiting_read_their_indexes() {
        let store = PostgresStore::connect(&config(), &fresh_schema("plan")).unwrap();
        let mut session = store.lock().unwrap();
        let (client, _) = session.client().unwrap();
        client.batch_execute("SET enable_seqscan = off").unwrap();
        let queries = Queries::new(&Dialect::postgres(&store.schema));
        let mut explain = |sql: &str, params: &[&(dyn ::postgres::types::ToSql + Sync)]| {
            let rows = client.query(&format!("EXPLAIN {sql}"), params).unwrap();
            rows.iter().map(|row| row.get::<_, String>(0)).collect::<Vec<_>>().join("\n")
        };
        let plan = explain(&queries.due, &[&5_i64, &1_i64, &10_i64]);
        assert!(plan.contains("gates_due") && !plan.contains("Sort") && !plan.contains("Seq Scan"), "{plan}");
        let plan = explain(&queries.waiting, &[&"k"]);
        assert!(plan.contains("gates_supersede") && !plan.contains("Seq Scan"), "{plan}");
    }
}
