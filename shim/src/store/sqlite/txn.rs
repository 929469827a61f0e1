//! Transactions: one read transaction per read (a snapshot), writes grouped into shared
//! immediate transactions (group commit, [`Group`]), and the open transactions of
//! [`crate::store::Store::begin`] ([`SqliteTxn`]), which hold the single writer connection
//! until they end.
//!
//! Group commit: each write runs in its own savepoint inside the writer's open transaction,
//! in the order the writer lock is taken, so writes see each other exactly as if each had
//! committed alone. The transaction commits (one WAL fsync under `synchronous=FULL`) when no
//! other write is waiting for the lock, or after [`MAX_GROUP`] writes or [`MAX_GROUP_DELAY`];
//! a write is answered only once the commit that holds it has returned, so every acknowledged
//! write is durable, and when that commit fails every write in it fails.

use super::ops::Shared;
use crate::db::error::{DbError, DbResult};
use crate::db::update::Update;
use crate::store::{Find, StoreTxn, UpdateOpts, UpdateResult};
use bson::{Bson, Document};
use parking_lot::{Condvar, Mutex};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a write waits for an open transaction to finish.
pub(super) const WRITE_WAIT: Duration = Duration::from_secs(10);

/// Writes that may block on one store's writer connection at once; one more is answered busy
/// at once instead of holding a thread for [`WRITE_WAIT`]. The service in front bounds its own
/// waiting writes much lower (`Database::MAX_WAITING_WRITERS`); this is the store's own
/// backstop for any caller.
pub(super) const MAX_BLOCKED_WRITERS: usize = 64;

/// Most writes one group transaction holds before it commits.
pub(super) const MAX_GROUP: usize = 512;
/// Longest a group transaction stays open (a write's extra wait for its commit is about this).
pub(super) const MAX_GROUP_DELAY: Duration = Duration::from_millis(4);
/// How often a write waiting for its group's commit checks that someone will commit it.
const GROUP_POLL: Duration = Duration::from_millis(2);

/// The group transaction of a writer connection (see the module doc).
#[derive(Default)]
pub(super) struct Group {
    /// Off: every write commits alone (one fsync each), as before group commit.
    pub(super) alone: bool,
    /// Writes waiting for the writer lock: while there are some, the holder leaves the group
    /// open for them to join.
    waiting: AtomicUsize,
    /// Changed only while holding the writer lock.
    open: Mutex<OpenGroup>,
    /// The outcome of the commits so far.
    done: Mutex<Committed>,
    committed: Condvar,
    /// Writes and commits so far (writes per commit = how much grouping saves).
    pub(super) total_writes: std::sync::atomic::AtomicU64,
    pub(super) total_commits: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct OpenGroup {
    /// A transaction is open on the writer.
    open: bool,
    /// Number of the open (or next) group.
    epoch: u64,
    writes: usize,
    started: Option<Instant>,
}

#[derive(Default)]
struct Committed {
    /// Groups up to this one have ended (committed or failed).
    through: u64,
    /// Recent groups whose commit failed, with the error.
    failed: Vec<(u64, String)>,
}

impl Group {
    /// End the open group on the writer connection `c` (held by the caller): commit it, or
    /// when the commit fails roll it back, and tell its writes.
    fn flush(&self, c: &Connection) {
        let mut g = self.open.lock();
        if !g.open {
            return;
        }
        let epoch = g.epoch;
        let failed = match c.prepare_cached("COMMIT").and_then(|mut st| st.execute([])) {
            Ok(_) => None,
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Some(e.to_string())
            }
        };
        self.total_commits.fetch_add(1, Ordering::Relaxed);
        self.total_writes
            .fetch_add(g.writes as u64, Ordering::Relaxed);
        g.open = false;
        g.epoch += 1;
        g.writes = 0;
        g.started = None;
        drop(g);
        let mut d = self.done.lock();
        d.through = epoch;
        if let Some(e) = failed {
            d.failed.push((epoch, e));
            if d.failed.len() > 64 {
                d.failed.remove(0);
            }
        }
        drop(d);
        self.committed.notify_all();
    }

    /// Wait until group `epoch` has ended; `Err` when its commit failed. A waiting write that
    /// finds the writer lock free while its group is still open commits the group itself.
    fn wait(&self, writer: &Mutex<Connection>, epoch: u64) -> DbResult<()> {
        let deadline = Instant::now() + WRITE_WAIT;
        loop {
            {
                let mut d = self.done.lock();
                if d.through < epoch {
                    self.committed.wait_for(&mut d, GROUP_POLL);
                }
                if d.through >= epoch {
                    return match d.failed.iter().find(|(e, _)| *e == epoch) {
                        Some((_, e)) => Err(DbError::internal(format!(
                            "the write was not committed: {e}"
                        ))),
                        None => Ok(()),
                    };
                }
            }
            if let Some(c) = writer.try_lock() {
                let still_open = {
                    let g = self.open.lock();
                    g.open && g.epoch == epoch
                };
                if still_open {
                    self.flush(&c);
                }
            }
            if Instant::now() > deadline {
                return Err(busy());
            }
        }
    }
}

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
    /// Take the writer connection (waiting up to [`WRITE_WAIT`]), commit the group of writes
    /// open on it, and begin an immediate transaction of its own.
    pub(super) fn begin(
        writer: &Arc<Mutex<Connection>>,
        group: &Group,
        shared: Arc<Shared>,
    ) -> DbResult<Self> {
        let conn = lock_writer(
            writer,
            || writer.try_lock_arc(),
            || writer.try_lock_arc_for(WRITE_WAIT),
        )?;
        group.flush(&conn);
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

/// Run `f` on the writer connection in the group transaction (waiting up to [`WRITE_WAIT`]
/// for an open transaction to end), and return once the group holding it has committed.
/// A failed `f` leaves nothing behind.
pub(super) fn write<T>(
    writer: &Mutex<Connection>,
    group: &Group,
    f: impl FnOnce(&Connection) -> DbResult<T>,
) -> DbResult<T> {
    group.waiting.fetch_add(1, Ordering::SeqCst);
    let w = lock_writer(
        writer,
        || writer.try_lock(),
        || writer.try_lock_for(WRITE_WAIT),
    );
    group.waiting.fetch_sub(1, Ordering::SeqCst);
    let w = w?;
    let epoch = {
        let mut g = group.open.lock();
        if !g.open {
            w.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            g.open = true;
            g.started = Some(Instant::now());
        }
        g.writes += 1;
        g.epoch
    };
    w.prepare_cached("SAVEPOINT w")?.execute([])?;
    let r = match f(&w) {
        Ok(v) => w
            .prepare_cached("RELEASE w")
            .and_then(|mut st| st.execute([]))
            .map(|_| v)
            .map_err(DbError::from),
        Err(e) => {
            let _ = w.execute_batch("ROLLBACK TO w; RELEASE w");
            Err(e)
        }
    };
    let commit_now = {
        let g = group.open.lock();
        group.alone
            || group.waiting.load(Ordering::SeqCst) == 0
            || g.writes >= MAX_GROUP
            || g.started.is_some_and(|t| t.elapsed() >= MAX_GROUP_DELAY)
    };
    if commit_now {
        group.flush(&w);
    }
    drop(w);
    // A failed write waits too: someone must end the group it opened.
    let committed = group.wait(writer, epoch);
    let v = r?;
    committed?;
    Ok(v)
}

/// Run `f` in an immediate transaction of its own on the writer connection, after committing
/// the group open on it (for changes of the catalog, which the store caches in memory).
pub(super) fn write_alone<T>(
    writer: &Mutex<Connection>,
    group: &Group,
    f: impl FnOnce(&Connection) -> DbResult<T>,
) -> DbResult<T> {
    let mut w = lock_writer(
        writer,
        || writer.try_lock(),
        || writer.try_lock_for(WRITE_WAIT),
    )?;
    group.flush(&w);
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
        let group = Arc::new(Group::default());
        let held = writer.lock();
        let threads: Vec<_> = (0..MAX_BLOCKED_WRITERS)
            .map(|i| {
                let w = Arc::clone(&writer);
                let group = Arc::clone(&group);
                std::thread::spawn(move || {
                    write(&w, &group, |c| {
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
        let err = write(&writer, &group, |_| Ok(())).unwrap_err();
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
