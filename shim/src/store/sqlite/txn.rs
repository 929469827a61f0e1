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

/// Writes that may block on one store's writer connection at once; one more is answered busy
/// at once instead of holding a thread for [`WRITE_WAIT`]. The service in front bounds its own
/// waiting writes much lower (`Database::MAX_WAITING_WRITERS`); this is the store's own
/// backstop for any caller.
pub(super) const MAX_BLOCKED_WRITERS: usize = 64;

/// The error of a write that waited [`WRITE_WAIT`] in vain.
pub(super) fn busy() -> DbError {
    DbError::Transaction("the database is busy: a transaction holds the write lock".into())
}

/// Blocked writers per writer connection (keyed by the mutex's address).
static BLOCKED: parking_lot::Mutex<Vec<(usize, usize)>> = parking_lot::Mutex::new(Vec::new());

/// Take the writer connection: at once when it is free, else wait up to [`WRITE_WAIT`] unless
/// [`MAX_BLOCKED_WRITERS`] writes already wait for it.
fn lock_writer<G>(
    writer: &Mutex<Connection>,
    try_now: impl FnOnce() -> Option<G>,
    wait: impl FnOnce() -> Option<G>,
) -> DbResult<G> {
    if let Some(g) = try_now() {
        return Ok(g);
    }
    let key = writer as *const Mutex<Connection> as usize;
    {
        let mut blocked = BLOCKED.lock();
        match blocked.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) if *n >= MAX_BLOCKED_WRITERS => {
                return Err(DbError::Transaction(format!(
                    "the database is busy: {n} writes already wait for the write lock; retry later"
                )));
            }
            Some((_, n)) => *n += 1,
            None => blocked.push((key, 1)),
        }
    }
    let got = wait();
    {
        let mut blocked = BLOCKED.lock();
        if let Some(pos) = blocked.iter().position(|(k, _)| *k == key) {
            blocked[pos].1 -= 1;
            if blocked[pos].1 == 0 {
                blocked.swap_remove(pos);
            }
        }
    }
    got.ok_or_else(busy)
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
        let conn = lock_writer(
            writer,
            || writer.try_lock_arc(),
            || writer.try_lock_arc_for(WRITE_WAIT),
        )?;
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
    let mut w = lock_writer(
        writer,
        || writer.try_lock(),
        || writer.try_lock_for(WRITE_WAIT),
    )?;
    let tx = w.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let r = f(&tx)?;
    tx.commit()?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn blocked_on(writer: &Mutex<Connection>) -> usize {
        let key = writer as *const Mutex<Connection> as usize;
        BLOCKED
            .lock()
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, n)| *n)
    }

    #[test]
    fn writers_beyond_the_cap_are_answered_busy_at_once() {
        let writer = Arc::new(Mutex::new(Connection::open_in_memory().unwrap()));
        writer
            .lock()
            .execute_batch("CREATE TABLE t(x INTEGER)")
            .unwrap();
        let held = writer.lock();
        let threads: Vec<_> = (0..MAX_BLOCKED_WRITERS)
            .map(|i| {
                let w = Arc::clone(&writer);
                std::thread::spawn(move || {
                    write(&w, |c| {
                        c.execute("INSERT INTO t VALUES (?1)", [i as i64])?;
                        Ok(())
                    })
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(5);
        while blocked_on(&writer) < MAX_BLOCKED_WRITERS && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(blocked_on(&writer), MAX_BLOCKED_WRITERS);
        let t = Instant::now();
        let err = write(&writer, |_| Ok(())).unwrap_err();
        assert!(t.elapsed() < Duration::from_millis(100));
        assert_eq!(err.code(), "DATABASE_TRANSACTION_CONFLICT");
        drop(held);
        for th in threads {
            th.join().unwrap().unwrap();
        }
        assert_eq!(blocked_on(&writer), 0);
        let n: i64 = writer
            .lock()
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, MAX_BLOCKED_WRITERS as i64);
    }
}
