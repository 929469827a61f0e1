//! Connections: the pooled connection with its prepared-statement cache ([`PgConn`]), the
//! r2d2 connection manager that opens and checks them, the settings every session gets, the
//! mapping of PostgreSQL errors to [`DbError`], and [`redact`], which takes the password out of
//! a connection URL before it is shown anywhere.

use crate::db::error::DbError;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, SimpleQueryMessage, SimpleQueryRow, Statement};
use std::collections::HashMap;

/// Prepared statements kept per connection; past this the cache starts over (filters with
/// many distinct field names make many distinct statements).
const STMT_CACHE: usize = 256;

/// Settings of every session: string literals as written (the store inlines a few quoted
/// literals), durable commits whatever the server's default, no notices for the
/// `IF NOT EXISTS` of the schema, and cursors planned for all their rows (see
/// `scan::cursor`).
const SESSION: &str = "SET standard_conforming_strings = on; SET synchronous_commit = on; \
     SET client_min_messages = warning; SET cursor_tuple_fraction = 1";

/// One pooled connection and the statements prepared on it.
pub(crate) struct PgConn {
    /// Dropped by hand (see the `Drop` impl).
    pub(super) client: std::mem::ManuallyDrop<Client>,
    stmts: HashMap<String, Statement>,
    /// Set when a transaction could not be ended cleanly: the pool then discards the
    /// connection instead of handing it out in an unknown state.
    pub(super) poisoned: bool,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // SAFETY: `client` is taken once, here, and never used again.
        let client = unsafe { std::mem::ManuallyDrop::take(&mut self.client) };
        // `postgres::Client` closes itself by blocking on its own runtime, which panics on a
        // thread that drives async tasks (a store dropped with the server's state): close it
        // on a thread of its own there.
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(client));
        } else {
            drop(client);
        }
    }
}

impl PgConn {
    fn new(client: Client) -> Self {
        PgConn {
            client: std::mem::ManuallyDrop::new(client),
            stmts: HashMap::new(),
            poisoned: false,
        }
    }

    /// The prepared statement for `sql` (prepared once per connection).
    pub(super) fn prepare(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        if self.stmts.len() >= STMT_CACHE {
            self.stmts.clear();
        }
        let s = self.client.prepare(sql)?;
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(super) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, DbError> {
        let st = self.prepare(sql)?;
        Ok(self.client.query(&st, params)?)
    }

    pub(super) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, DbError> {
        let st = self.prepare(sql)?;
        Ok(self.client.execute(&st, params)?)
    }

    /// Run statements with the simple protocol (one round trip), ignoring results.
    pub(super) fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.client.batch_execute(sql)?)
    }

    /// Run statements with the simple protocol (one round trip) and return the rows of all
    /// of them, as text.
    pub(super) fn simple_rows(&mut self, sql: &str) -> Result<Vec<SimpleQueryRow>, DbError> {
        Ok(self
            .client
            .simple_query(sql)?
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect())
    }

    /// End the open transaction block, discarding it. A connection where even that fails is
    /// poisoned (the pool drops it).
    pub(super) fn rollback(&mut self) {
        if self.client.batch_execute("ROLLBACK").is_err() {
            self.poisoned = true;
        }
    }
}

/// Opens and checks connections for r2d2.
pub(crate) struct Manager {
    pub(super) config: Config,
}

impl Manager {
    /// Open one connection with the session settings.
    pub(super) fn open(&self) -> Result<PgConn, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute(SESSION)?;
        Ok(PgConn::new(client))
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        self.open()
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.poisoned || conn.client.is_closed()
    }
}

/// Is this the error of a lock wait that ran out (`lock_timeout`), a deadlock PostgreSQL broke,
/// or a serialization failure? Those are [`DbError::Transaction`]: the caller may retry.
pub(super) fn is_conflict(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        if is_conflict(&e) {
            return DbError::Transaction(
                "the database is busy: a transaction holds the write lock".into(),
            );
        }
        match e.as_db_error() {
            Some(db) => DbError::internal(format!(
                "postgres: {} {}: {}{}",
                db.severity(),
                db.code().code(),
                db.message(),
                db.detail().map(|d| format!(" ({d})")).unwrap_or_default()
            )),
            None => DbError::internal(format!("postgres: {e}")),
        }
    }
}

/// `url` with its password replaced by `***`, in both the URL form
/// (`postgres://user:secret@host/db?password=...`) and the key-value form
/// (`host=... password=secret`).
pub fn redact(url: &str) -> String {
    let kv = regex::Regex::new(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")
        .expect("valid regex");
    let mut out = url.to_string();
    if let Some(rest_at) = out.find("://").map(|i| i + 3) {
        let end = out[rest_at..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_at + i);
        if let Some(at) = out[rest_at..end].rfind('@').map(|i| rest_at + i)
            && let Some(colon) = out[rest_at..at].find(':').map(|i| rest_at + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    kv.replace_all(&out, "${1}***").into_owned()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://bob:s3cr%40t@db.local:5433/app?sslmode=disable"),
            "postgres://bob:***@db.local:5433/app?sslmode=disable"
        );
        assert_eq!(
            redact("postgresql://bob@h/app?password=x&user=bob"),
            "postgresql://bob@h/app?password=***&user=bob"
        );
        assert_eq!(
            redact("host=/tmp user=bob password='a b' dbname=app"),
            "host=/tmp user=bob password=*** dbname=app"
        );
        assert_eq!(redact("postgres:///app"), "postgres:///app");
    }
}
