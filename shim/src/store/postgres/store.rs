//! [`PostgresStore`]: connecting (schema, pools), and the [`Store`] implementation.

use super::conn::{Manager, PgConn, redact};
use super::ops::Shared;
use super::planner::{Param, Plan};
use super::scan::{PgStats, Rows, select_sql};
use super::schema::{self, cid_sql, coll_lock_sql, index_ddl, txn_lock_sql};
use super::txn::{self, PgTxn, busy, lock_timeout_sql};
use crate::db::aggregate::run_pipeline_budgeted;
use crate::db::error::{DbError, DbResult};
use crate::db::limits::{Budget, Budgets};
use crate::db::query::Filter;
use crate::db::update::Update;
use crate::store::sqlite::validate_collection_name;
use crate::store::{Find, Store, StoreTxn, UpdateOpts, UpdateResult, UpsertCounts};
use bson::{Bson, Document};
use postgres::types::ToSql;
use r2d2::{Pool, PooledConnection};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// How long a write waits for the lock of its collection (held by an open transaction or a
/// write of another process) before failing with `DATABASE_TRANSACTION_CONFLICT`; the same
/// as the SQLite store's.
pub const WRITE_WAIT: Duration = Duration::from_secs(10);

/// How long a read waits for a free pooled connection.
const READ_WAIT: Duration = Duration::from_secs(30);

/// PostgreSQL implementation of [`Store`] (synchronous: call it from blocking threads, as
/// the service does).
///
/// `let store = PostgresStore::connect("postgres://user:secret@localhost/app")?;`
pub struct PostgresStore {
    /// The URL without its password.
    url: String,
    readers: Pool<Manager>,
    writers: Pool<Manager>,
    shared: Arc<Shared>,
    write_wait: Duration,
}

/// A row read already: `(seq, body)`.
type Fetched = (i64, Vec<u8>);

impl PostgresStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/dbname`, or the
    /// key-value form `host=... dbname=...`; a socket directory as host works too), creating
    /// the store's tables if needed. Opens up to 4 read and 4 write connections.
    pub fn connect(url: &str) -> DbResult<PostgresStore> {
        Self::connect_with_pools(url, 4, 4)
    }

    /// [`Self::connect`] with other pool sizes (write connections are held by open
    /// transactions and by writes waiting for a lock; reads never wait behind them).
    pub fn connect_with_pools(url: &str, readers: u32, writers: u32) -> DbResult<PostgresStore> {
        let shown = redact(url);
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| DbError::internal(format!("invalid PostgreSQL URL {shown}: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("migrate-shim");
        }
        let manager = Manager {
            config: config.clone(),
        };
        // One connection first: a clear error when the server cannot be reached, and the
        // schema before any pooled connection uses it.
        let mut first = manager.open().map_err(|e| {
            DbError::internal(format!("cannot connect to PostgreSQL at {shown}: {e}"))
        })?;
        schema::create(&mut first)
            .map_err(|e| DbError::internal(format!("PostgreSQL at {shown}: {}", e.detail())))?;
        schema::sweep_orphan_indexes(&mut first);
        drop(first);
        let pool = |size: u32, config: postgres::Config| {
            Pool::builder()
                .max_size(size.max(1))
                .min_idle(Some(0))
                .test_on_check_out(false)
                .connection_timeout(READ_WAIT)
                .build_unchecked(Manager { config })
        };
        Ok(PostgresStore {
            readers: pool(readers, config.clone()),
            writers: pool(writers, config),
            url: shown,
            shared: Arc::new(Shared {
                stats: PgStats::default(),
                budgets: Budgets::default(),
            }),
            write_wait: WRITE_WAIT,
        })
    }

    /// Use other work budgets than [`Budgets::default`] (e.g. a shorter time budget).
    pub fn with_budgets(mut self, budgets: Budgets) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.budgets = budgets;
        }
        self
    }

    /// Wait `wait` instead of [`WRITE_WAIT`] for a collection lock or a write connection.
    pub fn with_write_wait(mut self, wait: Duration) -> Self {
        self.write_wait = wait;
        self
    }

    /// The database URL, without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How queries have been answered so far.
    pub fn stats(&self) -> &PgStats {
        &self.shared.stats
    }

    /// The plan PostgreSQL chooses (`EXPLAIN`) for the SQL prefilter of `filter` on `coll`,
    /// with the query's own parameters: lets tests and benchmarks check that lookups use an
    /// index.
    pub fn explain(&self, coll: &str, filter: &Document) -> DbResult<String> {
        let plan = Plan::of(&Filter::parse(filter)?);
        let mut conn = self.reader()?;
        txn::read(&mut conn, coll, |c, cid| {
            let (sql, params) = select_sql(cid, plan);
            let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
            let rows = c.query(&format!("EXPLAIN {sql}"), &p)?;
            Ok(rows
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n"))
        })
    }

    fn pooled(&self, pool: &Pool<Manager>, wait: Duration) -> DbResult<PooledConnection<Manager>> {
        pool.get_timeout(wait).map_err(|e| {
            if pool.state().connections >= pool.max_size() {
                busy()
            } else {
                DbError::internal(format!("cannot connect to PostgreSQL at {}: {e}", self.url))
            }
        })
    }

    fn reader(&self) -> DbResult<PooledConnection<Manager>> {
        self.pooled(&self.readers, READ_WAIT)
    }

    fn writer(&self) -> DbResult<PooledConnection<Manager>> {
        self.pooled(&self.writers, self.write_wait)
    }

    /// Read `coll` in a snapshot.
    fn read<T>(&self, coll: &str, f: impl FnOnce(&mut PgConn, i64) -> DbResult<T>) -> DbResult<T> {
        txn::read(&mut *self.reader()?, coll, f)
    }

    /// Write `coll` (which must exist) holding its lock.
    fn write<T>(&self, coll: &str, f: impl FnOnce(&mut PgConn, i64) -> DbResult<T>) -> DbResult<T> {
        txn::write_existing(&mut *self.writer()?, self.write_wait, coll, f)
    }

    /// The rows of an `_id` lookup, in one statement that also reads the catalog: `None`
    /// when the collection does not exist.
    fn point_read(&self, coll: &str, plan: Plan) -> DbResult<Option<Vec<Fetched>>> {
        let (cond, params) = plan.conditions(2);
        let sql = format!(
            "SELECT c.cid, d.seq, d.body FROM shim_collections c \
             LEFT JOIN shim_docs d ON d.cid = c.cid{cond} WHERE c.name = $1 ORDER BY d.seq"
        );
        let name = coll.to_string();
        let mut p: Vec<&(dyn ToSql + Sync)> = vec![&name];
        p.extend(params.iter().map(Param::as_sql));
        let rows = self.reader()?.query(&sql, &p)?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            rows.iter()
                .filter_map(|r| Some((r.get::<_, Option<i64>>(1)?, r.get(2))))
                .collect(),
        ))
    }

    /// The plan of `filter` when it is an `_id` lookup.
    fn id_plan(filter: &Document) -> Option<Plan> {
        let plan = Plan::of(&Filter::parse(filter).ok()?);
        plan.ids.is_some().then_some(plan)
    }
}

impl Store for PostgresStore {
    fn create_collection(&self, name: &str) -> DbResult<bool> {
        validate_collection_name(name)?;
        let mut c = self.writer()?;
        let sql = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; {}; {}; \
             INSERT INTO shim_collections(name) VALUES ({}) ON CONFLICT (name) DO NOTHING \
             RETURNING cid; COMMIT",
            lock_timeout_sql(self.write_wait),
            coll_lock_sql(name),
            schema::literal(name).unwrap_or_default()
        );
        match c.simple_rows(&sql) {
            Ok(rows) => Ok(txn::cid_of(&rows).is_some()),
            Err(e) => {
                c.rollback();
                Err(match e {
                    DbError::Transaction(_) => busy(),
                    other => other,
                })
            }
        }
    }

    fn drop_collection(&self, name: &str) -> DbResult<bool> {
        let mut c = self.writer()?;
        let dropped = txn::write(&mut c, self.write_wait, name, |c, cid| {
            let Some(cid) = cid else { return Ok(false) };
            c.batch(&format!(
                "DELETE FROM shim_docs WHERE cid = {cid}; DELETE FROM shim_collections WHERE cid = {cid}"
            ))?;
            Ok(true)
        })?;
        if dropped {
            // Its PostgreSQL indexes, without blocking anyone (after the commit).
            schema::sweep_orphan_indexes(&mut c);
        }
        Ok(dropped)
    }

    fn list_collections(&self) -> DbResult<Vec<String>> {
        let rows = self
            .reader()?
            .query("SELECT name FROM shim_collections", &[])?;
        let mut v: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        v.sort();
        Ok(v)
    }

    fn has_collection(&self, name: &str) -> DbResult<bool> {
        let name = name.to_string();
        Ok(!self
            .reader()?
            .query("SELECT 1 FROM shim_collections WHERE name = $1", &[&name])?
            .is_empty())
    }

    fn ensure_index(&self, coll: &str, field_path: &str) -> DbResult<bool> {
        if field_path.is_empty()
            || field_path
                .split('.')
                .any(|p| p.is_empty() || p.starts_with('$'))
            || field_path.contains('\0')
        {
            return Err(DbError::invalid(format!(
                "invalid index field \"{field_path}\""
            )));
        }
        crate::db::limits::check_path("index field", field_path)?;
        let mut c = self.writer()?;
        let sql = format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED; {}; {}; {}; {}",
            lock_timeout_sql(self.write_wait),
            txn_lock_sql(),
            coll_lock_sql(coll),
            cid_sql(coll)?
        );
        let rows = match c.simple_rows(&sql) {
            Ok(r) => r,
            Err(e) => {
                c.rollback();
                return Err(match e {
                    DbError::Transaction(_) => busy(),
                    other => other,
                });
            }
        };
        let Some(cid) = txn::cid_of(&rows) else {
            c.rollback();
            return Err(DbError::CollectionNotExist(coll.to_string()));
        };
        let r = (|| {
            let path = field_path.to_string();
            let added = !c
                .query(
                    &format!(
                        "INSERT INTO shim_indexes(cid, path) VALUES ({cid}, $1) \
                         ON CONFLICT (cid, path) DO NOTHING RETURNING iid"
                    ),
                    &[&path],
                )?
                .is_empty();
            let first = field_path.split('.').next().unwrap_or_default();
            if added
                && first != "_id"
                && let Some(ddl) = index_ddl(cid, first)
            {
                // Blocks writes to the documents table while it builds (reads go on).
                c.batch(&ddl)?;
            }
            c.batch("COMMIT")?;
            Ok(added)
        })();
        if r.is_err() {
            c.rollback();
        }
        r.map_err(|e| match e {
            DbError::Transaction(_) => busy(),
            other => other,
        })
    }

    fn list_indexes(&self, coll: &str) -> DbResult<Vec<String>> {
        let name = coll.to_string();
        let rows = self.reader()?.query(
            "SELECT c.cid, i.path FROM shim_collections c \
             LEFT JOIN shim_indexes i ON i.cid = c.cid WHERE c.name = $1 ORDER BY i.iid",
            &[&name],
        )?;
        if rows.is_empty() {
            return Err(DbError::CollectionNotExist(coll.to_string()));
        }
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(1))
            .collect())
    }

    fn insert(&self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>> {
        self.write(coll, |c, cid| self.shared.insert_on(c, cid, docs))
    }

    fn find(&self, coll: &str, find: &Find) -> DbResult<Vec<Document>> {
        let mut budget = Budget::new(self.shared.budgets);
        if let Some(plan) = Self::id_plan(&find.filter) {
            let rows = self
                .point_read(coll, plan)?
                .ok_or_else(|| DbError::CollectionNotExist(coll.to_string()))?;
            return self
                .shared
                .find_budgeted(Rows::Fetched(rows), coll, find, &mut budget);
        }
        self.read(coll, |c, cid| {
            self.shared
                .find_budgeted(Rows::Cid(c, cid), coll, find, &mut budget)
        })
    }

    fn count(&self, coll: &str, filter: &Document) -> DbResult<u64> {
        if filter.is_empty() {
            let name = coll.to_string();
            let rows = self.reader()?.query(
                "SELECT (SELECT count(*) FROM shim_docs d WHERE d.cid = c.cid) \
                 FROM shim_collections c WHERE c.name = $1",
                &[&name],
            )?;
            return match rows.first() {
                Some(r) => Ok(r.get::<_, i64>(0) as u64),
                None => Err(DbError::CollectionNotExist(coll.to_string())),
            };
        }
        if let Some(plan) = Self::id_plan(filter) {
            let rows = self
                .point_read(coll, plan)?
                .ok_or_else(|| DbError::CollectionNotExist(coll.to_string()))?;
            return self
                .shared
                .count_rows(Rows::Fetched(rows), coll, &Filter::parse(filter)?);
        }
        self.read(coll, |c, cid| self.shared.count_on(c, cid, coll, filter))
    }

    fn update(
        &self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        self.write(coll, |c, cid| {
            self.shared.update_on(c, cid, coll, filter, update, opts)
        })
    }

    fn remove(&self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64> {
        self.write(coll, |c, cid| {
            self.shared.remove_on(c, cid, coll, filter, multi)
        })
    }

    fn upsert_by_id(&self, coll: &str, docs: Vec<Document>) -> DbResult<UpsertCounts> {
        self.write(coll, |c, cid| {
            self.shared.upsert_by_id_on(c, cid, coll, docs)
        })
    }

    fn begin(&self) -> DbResult<Box<dyn StoreTxn>> {
        Ok(Box::new(PgTxn::begin(
            self.writer()?,
            self.shared.clone(),
            self.write_wait,
        )?))
    }

    fn get_meta(&self, key: &str) -> DbResult<Option<String>> {
        let key = meta_key(key);
        Ok(self
            .reader()?
            .query("SELECT value FROM shim_meta WHERE key = $1", &[&key])?
            .first()
            .map(|r| r.get(0)))
    }

    fn set_meta(&self, key: &str, value: &str) -> DbResult<()> {
        let (key, value) = (meta_key(key), value.to_string());
        self.writer()?.execute(
            "INSERT INTO shim_meta(key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn init_meta(&self, key: &str, value: &str) -> DbResult<String> {
        let (key, value) = (meta_key(key), value.to_string());
        let mut c = self.writer()?;
        c.execute(
            "INSERT INTO shim_meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &value],
        )?;
        c.query("SELECT value FROM shim_meta WHERE key = $1", &[&key])?
            .first()
            .map(|r| r.get(0))
            .ok_or_else(|| DbError::internal(format!("meta value {key} vanished")))
    }

    fn aggregate(&self, coll: &str, pipeline: &[Document]) -> DbResult<Vec<Document>> {
        // A leading $match is the first read's filter (pushed down like a find's).
        let (first_match, rest) = match pipeline.first() {
            Some(s) if s.len() == 1 && s.contains_key("$match") => match s.get("$match") {
                Some(Bson::Document(m)) => (m.clone(), &pipeline[1..]),
                _ => {
                    // The collection is checked first, as the SQLite store does.
                    self.read(coll, |_, _| Ok(()))?;
                    return Err(DbError::invalid("$match needs an object"));
                }
            },
            _ => (Document::new(), pipeline),
        };
        // One budget for the whole pipeline: the first read, then each stage.
        let mut budget = Budget::new(self.shared.budgets);
        let find = Find::filter(first_match);
        let docs = self.read(coll, |c, cid| {
            self.shared
                .find_budgeted(Rows::Cid(c, cid), coll, &find, &mut budget)
        })?;
        let loader = |name: &str| self.find(name, &Find::default());
        run_pipeline_budgeted(docs, rest, &loader, &mut budget)
    }
}

/// The `shim_meta` key of a [`Store::get_meta`] key: apart from the store's own keys
/// (`schema_version`).
fn meta_key(key: &str) -> String {
    format!("app.{key}")
}
