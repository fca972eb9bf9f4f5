//! The SQL both stores run. It is written once, in the syntax SQLite and
//! PostgreSQL share (`ON CONFLICT`); a [`Dialect`] fills in the few words
//! that differ.
//!
//! Parameters are written `$n`; for SQLite they become `?n`, because SQLite
//! reads `$1` as a name and numbers names in the order they first appear.

/// What differs between the two databases.
#[derive(Debug, Clone)]
pub(crate) struct Dialect {
    /// Put before every table name: `""` or `"schema".`.
    pub(crate) prefix: String,
    /// The type of gate id columns: ids sort byte-wise as [`crate::GateId`]
    /// does, which PostgreSQL only does under the `C` collation.
    pub(crate) gate_type: &'static str,
    /// The outbox's insertion sequence column.
    pub(crate) seq: &'static str,
    /// What starts a numbered parameter.
    pub(crate) parameter: &'static str,
}

/// One value per statement the stores run: their SQL text, or what a
/// driver prepared from it.
#[derive(Debug, Clone)]
pub(crate) struct Queries<T> {
    pub(crate) load: T,
    pub(crate) version: T,
    pub(crate) insert_gate: T,
    pub(crate) update_gate: T,
    pub(crate) insert_event: T,
    pub(crate) insert_outbox: T,
    pub(crate) waiting: T,
    pub(crate) due: T,
    pub(crate) pending: T,
    pub(crate) delivered: T,
}

impl Queries<String> {
    /// The statements in `dialect`.
    pub(crate) fn new(dialect: &Dialect) -> Self {
        let numbered = |sql: String| sql.replace('$', dialect.parameter);
        Self {
            load: numbered(dialect.load()),
            version: numbered(dialect.version()),
            insert_gate: numbered(dialect.insert_gate()),
            update_gate: numbered(dialect.update_gate()),
            insert_event: numbered(dialect.insert_event()),
            insert_outbox: numbered(dialect.insert_outbox()),
            waiting: numbered(dialect.waiting()),
            due: numbered(dialect.due()),
            pending: numbered(dialect.pending()),
            delivered: numbered(dialect.delivered()),
        }
    }

    /// Each statement prepared by `prepare`.
    #[cfg(feature = "postgres")]
    pub(crate) fn prepare<T, E>(&self, mut prepare: impl FnMut(&str) -> Result<T, E>) -> Result<Queries<T>, E> {
        Ok(Queries {
            load: prepare(&self.load)?,
            version: prepare(&self.version)?,
            insert_gate: prepare(&self.insert_gate)?,
            update_gate: prepare(&self.update_gate)?,
            insert_event: prepare(&self.insert_event)?,
            insert_outbox: prepare(&self.insert_outbox)?,
            waiting: prepare(&self.waiting)?,
            due: prepare(&self.due)?,
            pending: prepare(&self.pending)?,
            delivered: prepare(&self.delivered)?,
        })
    }
}

impl Dialect {
    /// SQLite's main database.
    #[cfg(feature = "sqlite")]
    pub(crate) fn sqlite() -> Self {
        Self { prefix: String::new(), gate_type: "TEXT", seq: "INTEGER PRIMARY KEY AUTOINCREMENT", parameter: "?" }
    }

    /// A PostgreSQL schema, whose name the caller has validated.
    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(schema: &str) -> Self {
        Self {
            prefix: format!("\"{schema}\"."),
            gate_type: "TEXT COLLATE \"C\"",
            seq: "BIGSERIAL PRIMARY KEY",
            parameter: "$",
        }
    }

    /// The tables and indexes, each created only if absent.
    pub(crate) fn create(&self) -> String {
        let Self { prefix: p, gate_type: gate, seq, .. } = self;
        format!(
            "CREATE TABLE IF NOT EXISTS {p}gate_events (
                gate {gate} NOT NULL,
                version BIGINT NOT NULL,
                event TEXT NOT NULL,
                PRIMARY KEY (gate, version)
            );
            CREATE TABLE IF NOT EXISTS {p}gates (
                gate {gate} PRIMARY KEY,
                version BIGINT NOT NULL,
                deadline_s BIGINT,
                deadline_ns BIGINT,
                supersede_key TEXT,
                opened_s BIGINT NOT NULL,
                opened_ns BIGINT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS gates_due ON {p}gates (deadline_s, deadline_ns, gate)
                WHERE deadline_s IS NOT NULL;
            CREATE INDEX IF NOT EXISTS gates_supersede ON {p}gates (supersede_key, opened_s, opened_ns, gate)
                WHERE supersede_key IS NOT NULL;
            -- `notification` holds an outbox entry as JSON: the column kept its first name.
            CREATE TABLE IF NOT EXISTS {p}outbox (
                seq {seq},
                key TEXT NOT NULL UNIQUE,
                notification TEXT NOT NULL
            );"
        )
    }

    /// `$1` gate → `(version, event)` rows in version order.
    fn load(&self) -> String {
        format!("SELECT version, event FROM {}gate_events WHERE gate = $1 ORDER BY version", self.prefix)
    }

    /// `$1` gate → its version, if it has a row.
    fn version(&self) -> String {
        format!("SELECT version FROM {}gates WHERE gate = $1", self.prefix)
    }

    /// Writes a new gate's row, or one at version 0 (after an append of no
    /// events), when `$8` is 0: one row changed, or none when another writer
    /// was first. The parameters follow [`super::codec::GateRow`]'s fields.
    fn insert_gate(&self) -> String {
        format!(
            "INSERT INTO {}gates AS g
                 (gate, version, deadline_s, deadline_ns, supersede_key, opened_s, opened_ns)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (gate) DO UPDATE SET
                 version = excluded.version,
                 deadline_s = excluded.deadline_s,
                 deadline_ns = excluded.deadline_ns,
                 supersede_key = excluded.supersede_key,
                 opened_s = excluded.opened_s,
                 opened_ns = excluded.opened_ns
             WHERE g.version = $8",
            self.prefix
        )
    }

    /// Writes the gate's row if it is at version `$8`: one row changed, or
    /// none when another writer was first. Parameters as for
    /// [`Dialect::insert_gate`].
    fn update_gate(&self) -> String {
        format!(
            "UPDATE {}gates SET
                 version = $2, deadline_s = $3, deadline_ns = $4, supersede_key = $5, opened_s = $6, opened_ns = $7
             WHERE gate = $1 AND version = $8",
            self.prefix
        )
    }

    /// `$1` gate, `$2` version, `$3` event.
    fn insert_event(&self) -> String {
        format!("INSERT INTO {}gate_events (gate, version, event) VALUES ($1, $2, $3)", self.prefix)
    }

    /// `$1` key, `$2` notification; a key already there is kept as it is.
    fn insert_outbox(&self) -> String {
        format!("INSERT INTO {}outbox (key, notification) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", self.prefix)
    }

    /// `$1` key → `(gate, opened_s, opened_ns)` by opening time.
    fn waiting(&self) -> String {
        format!(
            "SELECT gate, opened_s, opened_ns FROM {}gates WHERE supersede_key = $1
             ORDER BY opened_s, opened_ns, gate",
            self.prefix
        )
    }

    /// `$1` seconds, `$2` nanoseconds, `$3` limit → gates due by then. The
    /// first condition bounds a range scan of `gates_due`, which already
    /// yields the rows in the order asked for.
    fn due(&self) -> String {
        format!(
            "SELECT gate FROM {}gates
             WHERE deadline_s <= $1 AND (deadline_s < $1 OR deadline_ns <= $2) AND deadline_s IS NOT NULL
             ORDER BY deadline_s, deadline_ns, gate LIMIT $3",
            self.prefix
        )
    }

    /// `$1` limit → `(key, notification)` oldest first.
    fn pending(&self) -> String {
        format!("SELECT key, notification FROM {}outbox ORDER BY seq LIMIT $1", self.prefix)
    }

    /// `$1` key.
    fn delivered(&self) -> String {
        format!("DELETE FROM {}outbox WHERE key = $1", self.prefix)
    }
}
