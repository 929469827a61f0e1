//! Transactions: one read transaction per read (a snapshot), one immediate write transaction
//! per write, and the open transactions of [`crate::store::Store::begin`] ([`SqliteTxn`]),
//! which hold the single writer connection until they end.

use super::ops::Shared;
use crate::db::error::{DbError, DbResult};
use crate::db::update::Update;
use crate::store::{Find, StoreTxn, UpdateOpts, UpdateResult};
use bson::{Bson, Document};
use parking_lot::Mutex;
use rusqlite::Connection;
use std::sync::Arc;

/// How long a write waits for an open transaction to finish.
pub(super) const WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The error of a write that waited [`WRITE_WAIT`] in vain.
pub(super) fn busy() -> DbError {
    DbError::Transaction("the database is busy: a transaction holds the write lock".into())
}

/// An open SQLite transaction: owns the writer connection until commit/abort/drop.
pub(super) struct SqliteTxn {
    conn: parking_lot::ArcMutexGuard<parking_lot::RawMutex, Connection>,
    shared: Arc<Shared>,
    done: bool,
}

impl SqliteTxn {
    /// Take the writer connection (waiting up to [`WRITE_WAIT`]) and begin an immediate
    /// transaction on it.
    pub(super) fn begin(writer: &Arc<Mutex<Connection>>, shared: Arc<Shared>) -> DbResult<Self> {
        let conn = writer.try_lock_arc_for(WRITE_WAIT).ok_or_else(busy)?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(SqliteTxn {
            conn,
            shared,
            done: false,
        })
    }

    /// Each operation runs in a savepoint so a failed one leaves no partial writes.
    fn op<T>(&mut self, f: impl FnOnce(&Shared, &Connection) -> DbResult<T>) -> DbResult<T> {
        self.conn.execute_batch("SAVEPOINT op")?;
        match f(&self.shared, &self.conn) {
            Ok(v) => {
                self.conn.execute_batch("RELEASE op")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK TO op; RELEASE op");
                Err(e)
            }
        }
    }
}

impl StoreTxn for SqliteTxn {
    fn insert(&mut self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>> {
        self.op(|s, c| s.insert_on(c, coll, docs))
    }
    fn find(&mut self, coll: &str, find: &Find) -> DbResult<Vec<Document>> {
        self.op(|s, c| s.find_on(c, coll, find))
    }
    fn count(&mut self, coll: &str, filter: &Document) -> DbResult<u64> {
        self.op(|s, c| s.count_on(c, coll, filter))
    }
    fn update(
        &mut self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        self.op(|s, c| s.update_on(c, coll, filter, update, opts))
    }
    fn remove(&mut self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64> {
        self.op(|s, c| s.remove_on(c, coll, filter, multi))
    }
    fn commit(mut self: Box<Self>) -> DbResult<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
    fn abort(mut self: Box<Self>) -> DbResult<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK")?;
        Ok(())
    }
}

impl Drop for SqliteTxn {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// One read transaction per request: a consistent snapshot, and one WAL lock round trip
/// instead of one per statement.
pub(super) fn read<T>(c: &Connection, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
    c.prepare_cached("BEGIN")?.execute([])?;
    // Pin the snapshot now, before planning reads the in-memory multikey flags.
    let r = c
        .prepare_cached("SELECT 1 FROM collections LIMIT 1")
        .and_then(|mut st| st.exists([]))
        .map_err(DbError::from)
        .and_then(|_| f(c));
    let end = c.prepare_cached("COMMIT").and_then(|mut s| s.execute([]));
    let v = r?;
    end?;
    Ok(v)
}

/// Run `f` in an immediate transaction on the writer connection (waiting up to
/// [`WRITE_WAIT`] for an open transaction to end).
pub(super) fn write<T>(
    writer: &Mutex<Connection>,
    f: impl FnOnce(&Connection) -> DbResult<T>,
) -> DbResult<T> {
    let mut w = writer.try_lock_for(WRITE_WAIT).ok_or_else(busy)?;
    let tx = w.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let r = f(&tx)?;
    tx.commit()?;
    Ok(r)
}
