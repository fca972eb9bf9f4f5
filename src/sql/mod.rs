//! Database stores (features `sqlite` and `postgres`): [`SqliteStore`] keeps
//! gates in one SQLite file, [`PostgresStore`] in a PostgreSQL schema that
//! several replicas share. Both implement [`Store`](crate::ports::Store) with
//! exactly [`MemoryStore`](crate::memory::MemoryStore)'s semantics.
//!
//! Both use one schema: `gate_events` (one row per event, keyed by gate and
//! version), `gates` (the current version and the [`GateIndex`]
//! columns, with partial indexes for due time and supersede key) and `outbox`
//! (notifications in insertion order). An instant is kept as two integers,
//! seconds and nanoseconds, so that it comes back exactly; events and
//! notifications are kept as JSON text.
//!
//! An append is one transaction whose first write is conditional on the
//! version the writer read: `UPDATE gates ... WHERE gate = $1 AND version =
//! $expected`, or for a new gate `INSERT ... ON CONFLICT (gate) DO UPDATE
//! ... WHERE version = 0`. A writer that read a stale version changes no row
//! and gets a [`Conflict`](crate::ports::Conflict) naming the version it
//! found, however many processes write at once; the `(gate, version)` key of
//! `gate_events` turns any other race into a conflict too.
//!
//! [`GateIndex`]: crate::ports::GateIndex

mod codec;
mod schema;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use self::postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use self::sqlite::SqliteStore;

/// Why a database store failed.
///
/// ```
/// use approval_gate::sql::Error;
/// let error = Error::InvalidSchema("Prod".into());
/// assert!(error.to_string().starts_with("invalid postgres schema name `Prod`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database or its driver failed.
    #[error("database failed: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// An event or notification could not be written as JSON or read back.
    #[error("cannot {action} {item} as json: {source}")]
    Encoding {
        /// `write` or `read`.
        action: &'static str,
        /// What: `event 3 of gate `g``, `notification `key``.
        item: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Stored rows that no append of this store writes, such as a gap in a
    /// gate's versions or an instant out of range.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A version beyond what a database integer holds.
    #[error("gate `{gate}` cannot reach version {version}: versions are stored as 64-bit signed integers")]
    VersionRange {
        /// The gate.
        gate: crate::GateId,
        /// The version.
        version: u64,
    },
    /// A PostgreSQL schema name other than 1 to 63 of `a-z`, `0-9` and `_`,
    /// not starting with a digit nor with `pg_`.
    #[error(
        "invalid postgres schema name `{0}`: use 1 to 63 of a-z, 0-9 and _, not starting with a digit nor with `pg_`"
    )]
    InvalidSchema(String),
    /// A thread panicked while it held the store's connection.
    #[error("store connection lock poisoned by a panicking thread")]
    Poisoned,
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Self::Database(Box::new(error))
    }
}

#[cfg(feature = "postgres")]
impl From<::postgres::Error> for Error {
    fn from(error: ::postgres::Error) -> Self {
        Self::Database(Box::new(error))
    }
}
