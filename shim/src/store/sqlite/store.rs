//! [`SqliteStore`]: opening the file with its connections, and the [`Store`] implementation.

use super::ops::Shared;
use super::rows::{self, decode, index_keys};
use super::scan::{PLANNED, PlanStats, warn_too_deep};
use super::schema::{configure, create_or_migrate, load_catalog, tune};
use super::txn::{self, SqliteTxn, WRITE_WAIT, busy};
use crate::db::aggregate::run_pipeline_budgeted;
use crate::db::error::{DbError, DbResult};
use crate::db::keys;
use crate::db::limits::{Budget, Budgets};
use crate::db::update::Update;
use crate::store::{Find, Store, StoreTxn, UpdateOpts, UpdateResult, UpsertCounts};
use bson::{Bson, Document};
use parking_lot::{Mutex, RwLock};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// SQLite implementation of [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Mutex<Connection>>,
    /// A read connection kept for point reads (one document by `_id`), so that slow scans
    /// holding every other reader never make them wait.
    point_reader: Mutex<Connection>,
    next_reader: AtomicUsize,
    shared: Arc<Shared>,
    /// The group transaction of the writer connection (group commit, see `txn.rs`).
    group: txn::Group,
}

impl SqliteStore {
    /// Open (or create) the database file at `path`.
    pub fn open(path: impl AsRef<Path>) -> DbResult<SqliteStore> {
        Self::open_with_readers(path, 4)
    }

    /// Use other work budgets than [`Budgets::default`] (e.g. a shorter time budget).
    pub fn with_budgets(mut self, budgets: Budgets) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.budgets = budgets;
        }
        self
    }

    /// Group commit on (the default) or off (each write commits alone, one fsync each: for
    /// comparison). Durability is the same either way.
    pub fn with_group_commit(mut self, on: bool) -> Self {
        self.group.alone = !on;
        self
    }

    /// Open with `readers` read connections (plus one kept for point reads).
    pub fn open_with_readers(path: impl AsRef<Path>, readers: usize) -> DbResult<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let writer = Connection::open(&path)?;
        configure(&writer)?;
        create_or_migrate(&writer)?;
        let mut rs = Vec::new();
        // One more than asked: the last is the point reader.
        for _ in 0..readers.max(1) + 1 {
            let c = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            c.busy_timeout(std::time::Duration::from_secs(10))?;
            tune(&c)?;
            rs.push(Mutex::new(c));
        }
        let point_reader = rs.pop().ok_or_else(|| DbError::internal("no reader"))?;
        let store = SqliteStore {
            path,
            writer: Arc::new(Mutex::new(writer)),
            readers: rs,
            point_reader,
            next_reader: AtomicUsize::new(0),
            group: txn::Group::default(),
            shared: Arc::new(Shared {
                meta: RwLock::new(HashMap::new()),
                stats: PlanStats::default(),
                budgets: Budgets::default(),
            }),
        };
        store.reload_meta()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How queries have been answered so far.
    pub fn stats(&self) -> &PlanStats {
        &self.shared.stats
    }

    /// Writes committed so far and the commits (fsyncs) that held them: group commit puts
    /// many concurrent writes in one commit.
    pub fn commit_stats(&self) -> (u64, u64) {
        (
            self.group.total_writes.load(Ordering::Relaxed),
            self.group.total_commits.load(Ordering::Relaxed),
        )
    }

    /// `EXPLAIN QUERY PLAN` of each statement the planner uses: `(name, plan)`. Lets tests
    /// and benchmarks check that lookups are index searches, not scans.
    pub fn explain_plans(&self) -> DbResult<Vec<(String, String)>> {
        let w = self.writer.lock();
        let mut out = Vec::new();
        for (name, sql) in PLANNED {
            let mut st = w.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let n = st.parameter_count();
            let args: Vec<rusqlite::types::Value> =
                (0..n).map(|_| rusqlite::types::Value::Null).collect();
            let rows = st.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))?;
            let plan: Vec<String> = rows.collect::<Result<_, _>>()?;
            out.push((name.to_string(), plan.join("; ")));
        }
        Ok(out)
    }

    /// A pragma's current value on the writer connection (e.g. `synchronous`, `journal_mode`).
    pub fn pragma(&self, name: &str) -> DbResult<String> {
        let w = self.writer.lock();
        let v: rusqlite::types::Value = w.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
        Ok(match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
    }

    fn reload_meta(&self) -> DbResult<()> {
        let w = self.writer.try_lock_for(WRITE_WAIT).ok_or_else(busy)?;
        let m = load_catalog(&w)?;
        *self.shared.meta.write() = m;
        Ok(())
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(c) = self.readers[(start + i) % n].try_lock() {
                return txn::read(&c, f);
            }
        }
        let c = self.readers[start % n].lock();
        txn::read(&c, f)
    }

    /// Run `f` on the writer connection in the group transaction; returns once committed.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        txn::write(&self.writer, &self.group, f)
    }

    /// Run `f` in a transaction of its own (catalog changes: collections and indexes).
    fn write_alone<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        txn::write_alone(&self.writer, &self.group, f)
    }
}

impl Store for SqliteStore {
    fn create_collection(&self, name: &str) -> DbResult<bool> {
        validate_collection_name(name)?;
        if self.shared.meta.read().contains_key(name) {
            return Ok(false);
        }
        let created = self.write_alone(|c| {
            Ok(
                c.prepare_cached("INSERT OR IGNORE INTO collections(name) VALUES (?1)")?
                    .execute(params![name])?
                    > 0,
            )
        })?;
        self.reload_meta()?;
        Ok(created)
    }

    fn drop_collection(&self, name: &str) -> DbResult<bool> {
        let Ok(meta) = self.shared.coll(name) else {
            return Ok(false);
        };
        self.write_alone(|c| {
            c.execute(
                "DELETE FROM idx WHERE iid IN (SELECT iid FROM indexes WHERE cid = ?1)",
                params![meta.cid],
            )?;
            c.execute("DELETE FROM indexes WHERE cid = ?1", params![meta.cid])?;
            c.execute("DELETE FROM docs WHERE cid = ?1", params![meta.cid])?;
            c.execute("DELETE FROM collections WHERE cid = ?1", params![meta.cid])?;
            Ok(())
        })?;
        self.reload_meta()?;
        Ok(true)
    }

    fn list_collections(&self) -> DbResult<Vec<String>> {
        let mut v: Vec<String> = self.shared.meta.read().keys().cloned().collect();
        v.sort();
        Ok(v)
    }

    fn has_collection(&self, name: &str) -> DbResult<bool> {
        Ok(self.shared.meta.read().contains_key(name))
    }

    fn ensure_index(&self, coll: &str, field_path: &str) -> DbResult<bool> {
        if field_path.is_empty()
            || field_path
                .split('.')
                .any(|p| p.is_empty() || p.starts_with('$'))
        {
            return Err(DbError::invalid(format!(
                "invalid index field \"{field_path}\""
            )));
        }
        crate::db::limits::check_path("index field", field_path)?;
        let meta = self.shared.coll(coll)?;
        if meta.indexes.iter().any(|(p, _)| p == field_path) {
            return Ok(false);
        }
        self.write_alone(|c| {
            c.execute(
                "INSERT INTO indexes(cid, path) VALUES (?1, ?2)",
                params![meta.cid, field_path],
            )?;
            let iid = c.last_insert_rowid();
            let mut multikey = false;
            let mut st = c.prepare("SELECT seq, body FROM docs WHERE cid = ?1")?;
            let mut ins =
                c.prepare_cached("INSERT OR IGNORE INTO idx(iid, key, seq) VALUES (?1, ?2, ?3)")?;
            let mut rows = st.query(params![meta.cid])?;
            while let Some(r) = rows.next()? {
                let seq: i64 = r.get(0)?;
                let body: &[u8] = r.get_ref(1)?.as_blob().map_err(DbError::internal)?;
                if crate::db::limits::raw_too_deep(body) {
                    warn_too_deep(&self.shared.stats, coll, body);
                    continue;
                }
                let d = decode(body)?;
                let ks = index_keys(&d, field_path);
                if ks.len() > 1 {
                    multikey = true;
                }
                for k in ks {
                    ins.execute(params![iid, k, seq])?;
                }
            }
            if multikey {
                c.execute(
                    "UPDATE indexes SET multikey = 1 WHERE iid = ?1",
                    params![iid],
                )?;
            }
            Ok(())
        })?;
        self.reload_meta()?;
        Ok(true)
    }

    fn list_indexes(&self, coll: &str) -> DbResult<Vec<String>> {
        Ok(self
            .shared
            .coll(coll)?
            .indexes
            .into_iter()
            .map(|(p, _)| p)
            .collect())
    }

    fn insert(&self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>> {
        self.shared.coll(coll)?;
        self.write(|c| self.shared.insert_on(c, coll, docs))
    }

    fn find(&self, coll: &str, find: &Find) -> DbResult<Vec<Document>> {
        if is_point_read(find) {
            let c = self.point_reader.lock();
            return txn::read(&c, |c| self.shared.find_on(c, coll, find));
        }
        self.with_reader(|c| self.shared.find_on(c, coll, find))
    }

    fn count(&self, coll: &str, filter: &Document) -> DbResult<u64> {
        self.with_reader(|c| self.shared.count_on(c, coll, filter))
    }

    fn update(
        &self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        self.shared.coll(coll)?;
        self.write(|c| self.shared.update_on(c, coll, filter, update, opts))
    }

    fn remove(&self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64> {
        self.shared.coll(coll)?;
        self.write(|c| self.shared.remove_on(c, coll, filter, multi))
    }

    fn upsert_by_id(&self, coll: &str, docs: Vec<Document>) -> DbResult<UpsertCounts> {
        let meta = self.shared.coll(coll)?;
        self.write(|c| {
            let mut counts = UpsertCounts::default();
            let mut st =
                c.prepare_cached("SELECT seq, body FROM docs WHERE cid = ?1 AND id = ?2")?;
            for d in &docs {
                let id = d
                    .get("_id")
                    .ok_or_else(|| DbError::invalid("upsert_by_id: document without _id"))?;
                let row: Option<(i64, Vec<u8>)> = st
                    .query_row(params![meta.cid, keys::encode(id)], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                match row {
                    Some((seq, body)) if crate::db::limits::raw_too_deep(&body) => {
                        // A stored body too deep to decode (older version): replaced whole.
                        warn_too_deep(&self.shared.stats, coll, &body);
                        rows::replace_unreadable_row(c, &meta, seq, d)?;
                        counts.updated += 1;
                    }
                    Some((seq, body)) => {
                        let old = decode(&body)?;
                        if old == *d {
                            counts.unchanged += 1;
                        } else {
                            rows::replace_row(c, &meta, seq, &old, d)?;
                            counts.updated += 1;
                        }
                    }
                    None => {
                        rows::insert_one(c, &meta, d)?;
                        counts.inserted += 1;
                    }
                }
            }
            Ok(counts)
        })
    }

    fn begin(&self) -> DbResult<Box<dyn StoreTxn>> {
        Ok(Box::new(SqliteTxn::begin(
            &self.writer,
            &self.group,
            self.shared.clone(),
        )?))
    }

    fn commits_in_groups(&self) -> bool {
        !self.group.alone
    }

    fn get_meta(&self, key: &str) -> DbResult<Option<String>> {
        self.with_reader(|c| {
            Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row(params![key], |r| r.get(0))
                .optional()?)
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> DbResult<()> {
        self.write(|c| {
            c.prepare_cached(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?;
            Ok(())
        })
    }

    fn init_meta(&self, key: &str, value: &str) -> DbResult<String> {
        self.write(|c| {
            c.prepare_cached("INSERT OR IGNORE INTO meta(key, value) VALUES (?1, ?2)")?
                .execute(params![key, value])?;
            Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row(params![key], |r| r.get(0))?)
        })
    }

    fn aggregate(&self, coll: &str, pipeline: &[Document]) -> DbResult<Vec<Document>> {
        self.shared.coll(coll)?;
        // A leading $match goes through the planner.
        let (first_match, rest) = match pipeline.first() {
            Some(s) if s.len() == 1 && s.contains_key("$match") => match s.get("$match") {
                Some(Bson::Document(m)) => (m.clone(), &pipeline[1..]),
                _ => return Err(DbError::invalid("$match needs an object")),
            },
            _ => (Document::new(), pipeline),
        };
        // One budget for the whole pipeline: the first read, then each stage.
        let mut budget = Budget::new(self.shared.budgets);
        let docs = self.with_reader(|c| {
            self.shared
                .find_budgeted(c, coll, &Find::filter(first_match), &mut budget)
        })?;
        let loader = |name: &str| self.find(name, &Find::default());
        run_pipeline_budgeted(docs, rest, &loader, &mut budget)
    }
}

/// A read of one document by a scalar `_id` (what `doc(id).get()` sends): cheap, so it may use
/// the point reader.
fn is_point_read(find: &Find) -> bool {
    find.filter.len() == 1
        && matches!(
            find.filter.get("_id"),
            Some(Bson::String(_) | Bson::ObjectId(_) | Bson::Int32(_) | Bson::Int64(_))
        )
}

/// Collection names: 1–128 chars of letters, digits, `_` and `-` (CloudBase's rule), not
/// starting with `_` (reserved here for `_permissions.json`, `_indexes.json`).
pub fn validate_collection_name(name: &str) -> DbResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(DbError::invalid(format!(
            "invalid collection name \"{name}\" (letters, digits, _ and -, not starting with _)"
        )))
    }
}
