//! Transactions and locks: one read-only snapshot per read, one locked write transaction per
//! write, and the open transactions of [`crate::store::Store::begin`] ([`PgTxn`]).
//!
//! Writes are serialised as SQLite's single writer serialises them, but per collection and
//! across every process on the database, with advisory locks (held to the end of the
//! transaction):
//!
//! - a single write (insert, update, remove, seed upsert, create/drop of a collection) takes
//!   the lock of its collection's *name* ([`coll_lock_sql`]) and nothing else, then reads the
//!   catalog and the documents in a fresh snapshot (READ COMMITTED: every statement sees what
//!   committed before it started, so what the previous holder of the lock wrote);
//! - an open transaction takes the transaction lock ([`txn_lock_sql`]) first, at `begin()`,
//!   then the lock of each collection it touches, reads included, as it goes, keeping them to
//!   its end: from its first touch of a collection on, no one else writes it, so everything it
//!   reads is still true when it commits (it is as if it ran alone at its commit);
//! - `ensure_index` takes the transaction lock, then its collection's lock.
//!
//! No deadlock: a single write holds one lock and waits for nothing once it has it; holders
//! of several locks (open transactions and `ensure_index`) first take the transaction lock,
//! so at most one of them runs at a time, and it only waits for single writes, which finish.
//! Every wait for a lock is bounded by `lock_timeout` (the store's write wait) and then fails
//! with [`DbError::Transaction`], as a SQLite write waiting on an open transaction does.

use super::conn::{Manager, PgConn};
use super::ops::Shared;
use super::scan::Rows;
use super::schema::{cid_sql, coll_lock_sql, txn_lock_sql};
use crate::db::error::{DbError, DbResult};
use crate::db::limits::Budget;
use crate::db::update::Update;
use crate::store::{Find, StoreTxn, UpdateOpts, UpdateResult};
use bson::{Bson, Document};
use r2d2::PooledConnection;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The error of a write that waited in vain.
pub(super) fn busy() -> DbError {
    DbError::Transaction("the database is busy: a transaction holds the write lock".into())
}

/// `SET LOCAL lock_timeout` to `wait`.
pub(super) fn lock_timeout_sql(wait: Duration) -> String {
    format!("SET LOCAL lock_timeout = '{}ms'", wait.as_millis().max(1))
}

/// Map the error of a lock wait: a timeout is [`busy`].
fn lock_error(e: DbError) -> DbError {
    match e {
        DbError::Transaction(_) => busy(),
        other => other,
    }
}

/// The `cid` in the rows of statements run with the simple protocol: the first row with a
/// column `cid` (the lock statements before it return a row of their own).
pub(super) fn cid_of(rows: &[postgres::SimpleQueryRow]) -> Option<i64> {
    rows.iter()
        .find(|r| r.columns().first().is_some_and(|c| c.name() == "cid"))
        .and_then(|r| r.get(0))
        .and_then(|s| s.parse().ok())
}

/// Run `f` on collection `name` in a read-only snapshot (REPEATABLE READ: the catalog and the
/// documents are read as of one instant).
pub(super) fn read<T>(
    conn: &mut PgConn,
    name: &str,
    f: impl FnOnce(&mut PgConn, i64) -> DbResult<T>,
) -> DbResult<T> {
    let sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; {}",
        cid_sql(name)?
    );
    let rows = match conn.simple_rows(&sql) {
        Ok(r) => r,
        Err(e) => {
            conn.rollback();
            return Err(e);
        }
    };
    let Some(cid) = cid_of(&rows) else {
        conn.rollback();
        return Err(DbError::CollectionNotExist(name.to_string()));
    };
    let r = f(conn, cid);
    finish(conn, r)
}

/// Commit when `r` is a success, else roll back; the result of `r`.
fn finish<T>(conn: &mut PgConn, r: DbResult<T>) -> DbResult<T> {
    match r {
        Ok(v) => {
            if let Err(e) = conn.batch("COMMIT") {
                conn.rollback();
                return Err(e);
            }
            Ok(v)
        }
        Err(e) => {
            conn.rollback();
            Err(e)
        }
    }
}

/// Run `f` in a write transaction holding the lock of collection `name` (waiting up to
/// `wait` for it); `f` gets the collection's `cid`, `None` if it does not exist.
pub(super) fn write<T>(
    conn: &mut PgConn,
    wait: Duration,
    name: &str,
    f: impl FnOnce(&mut PgConn, Option<i64>) -> DbResult<T>,
) -> DbResult<T> {
    let sql = format!(
        "BEGIN ISOLATION LEVEL READ COMMITTED; {}; {}; {}",
        lock_timeout_sql(wait),
        coll_lock_sql(name),
        cid_sql(name)?
    );
    let rows = match conn.simple_rows(&sql) {
        Ok(r) => r,
        Err(e) => {
            conn.rollback();
            return Err(lock_error(e));
        }
    };
    let cid = cid_of(&rows);
    let r = f(conn, cid);
    finish(conn, r)
}

/// Like [`write`], for a collection that must exist.
pub(super) fn write_existing<T>(
    conn: &mut PgConn,
    wait: Duration,
    name: &str,
    f: impl FnOnce(&mut PgConn, i64) -> DbResult<T>,
) -> DbResult<T> {
    write(conn, wait, name, |c, cid| match cid {
        Some(cid) => f(c, cid),
        None => Err(DbError::CollectionNotExist(name.to_string())),
    })
}

/// An open transaction: a write connection in a READ COMMITTED transaction holding the
/// transaction lock, and the collection locks taken so far (with the `cid` found then).
pub(super) struct PgTxn {
    conn: PooledConnection<Manager>,
    shared: Arc<Shared>,
    /// Collections locked by this transaction: name → cid (`None`: it does not exist, and
    /// cannot be created while the lock is held).
    locked: HashMap<String, Option<i64>>,
    done: bool,
}

impl PgTxn {
    /// Begin on `conn`, waiting up to `wait` for another open transaction to end.
    pub(super) fn begin(
        mut conn: PooledConnection<Manager>,
        shared: Arc<Shared>,
        wait: Duration,
    ) -> DbResult<Self> {
        let sql = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; {}; {}",
            lock_timeout_sql(wait),
            txn_lock_sql()
        );
        if let Err(e) = conn.batch(&sql) {
            conn.rollback();
            return Err(lock_error(e));
        }
        Ok(PgTxn {
            conn,
            shared,
            locked: HashMap::new(),
            done: false,
        })
    }

    /// Run `f` on collection `coll` in a savepoint (a failed operation leaves no trace and the
    /// transaction goes on), taking the collection's lock first if this transaction does not
    /// hold it yet.
    fn op<T>(
        &mut self,
        coll: &str,
        f: impl FnOnce(&Shared, &mut PgConn, i64) -> DbResult<T>,
    ) -> DbResult<T> {
        let cid = match self.locked.get(coll) {
            Some(cid) => *cid,
            None => {
                // The lock in a savepoint of its own: a lock wait that times out must not
                // abort the whole transaction. Released savepoints keep their locks.
                let sql = format!(
                    "SAVEPOINT shim_lock; {}; RELEASE shim_lock; {}",
                    coll_lock_sql(coll),
                    cid_sql(coll)?
                );
                let rows = match self.conn.simple_rows(&sql) {
                    Ok(r) => r,
                    Err(e) => {
                        if self
                            .conn
                            .batch("ROLLBACK TO SAVEPOINT shim_lock; RELEASE shim_lock")
                            .is_err()
                        {
                            self.conn.poisoned = true;
                        }
                        return Err(lock_error(e));
                    }
                };
                let cid = cid_of(&rows);
                self.locked.insert(coll.to_string(), cid);
                cid
            }
        };
        let cid = cid.ok_or_else(|| DbError::CollectionNotExist(coll.to_string()))?;
        self.conn.batch("SAVEPOINT shim_op")?;
        match f(&self.shared, &mut self.conn, cid) {
            Ok(v) => {
                self.conn.batch("RELEASE shim_op")?;
                Ok(v)
            }
            Err(e) => {
                if self
                    .conn
                    .batch("ROLLBACK TO SAVEPOINT shim_op; RELEASE shim_op")
                    .is_err()
                {
                    self.conn.poisoned = true;
                }
                Err(e)
            }
        }
    }
}

impl StoreTxn for PgTxn {
    fn insert(&mut self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>> {
        self.op(coll, |s, c, cid| s.insert_on(c, cid, docs))
    }
    fn find(&mut self, coll: &str, find: &Find) -> DbResult<Vec<Document>> {
        self.op(coll, |s, c, cid| {
            s.find_budgeted(Rows::Cid(c, cid), coll, find, &mut Budget::new(s.budgets))
        })
    }
    fn count(&mut self, coll: &str, filter: &Document) -> DbResult<u64> {
        self.op(coll, |s, c, cid| s.count_on(c, cid, coll, filter))
    }
    fn update(
        &mut self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        self.op(coll, |s, c, cid| {
            s.update_on(c, cid, coll, filter, update, opts)
        })
    }
    fn remove(&mut self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64> {
        self.op(coll, |s, c, cid| s.remove_on(c, cid, coll, filter, multi))
    }
    fn commit(mut self: Box<Self>) -> DbResult<()> {
        self.done = true;
        if let Err(e) = self.conn.batch("COMMIT") {
            self.conn.rollback();
            return Err(e);
        }
        Ok(())
    }
    fn abort(mut self: Box<Self>) -> DbResult<()> {
        self.done = true;
        self.conn.batch("ROLLBACK")
    }
}

impl Drop for PgTxn {
    fn drop(&mut self) {
        if !self.done {
            self.conn.rollback();
        }
    }
}
