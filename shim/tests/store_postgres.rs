//! PostgreSQL store: what the conformance suite cannot show with one store: several stores
//! (standing for several shim processes) on one database, the locks between them, the
//! PostgreSQL indexes of declared indexes and the plans that use them, the prefilter against
//! SQLite on random queries, and the connection errors. The server is `common/pg.rs`'s.

mod common;

use bson::{Bson, Document, doc};
use common::{d, ids, pg};
use shim::db::query::Filter;
use shim::db::update::Update;
use shim::store::{Find, PostgresStore, SqliteStore, Store, UpdateOpts};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Two stores on one fresh database, and its name.
fn two_stores() -> (PostgresStore, PostgresStore, String) {
    let db = pg::fresh_db();
    let url = pg::server().url(&db);
    (
        PostgresStore::connect(&url).unwrap(),
        PostgresStore::connect(&url).unwrap(),
        db,
    )
}

macro_rules! skip_without_pg {
    () => {
        if pg::skip() {
            return;
        }
    };
}

#[test]
fn two_stores_see_each_others_collections_and_writes_at_once() {
    skip_without_pg!();
    let (a, b, _) = two_stores();
    assert!(a.create_collection("c").unwrap());
    assert!(b.has_collection("c").unwrap());
    assert!(!b.create_collection("c").unwrap());
    assert_eq!(b.list_collections().unwrap(), ["c"]);
    a.insert("c", vec![doc! {"_id": "x", "n": 1}]).unwrap();
    assert_eq!(ids(&b.find("c", &Find::default()).unwrap()), ["x"]);
    let u = Update::operators(doc! {"$inc": {"n": 1}}).unwrap();
    b.update("c", &doc! {"_id": "x"}, &u, UpdateOpts::default())
        .unwrap();
    assert_eq!(
        a.find("c", &Find::filter(doc! {"_id": "x"})).unwrap()[0]
            .get_i32("n")
            .ok(),
        Some(2)
    );
    assert!(b.ensure_index("c", "n").unwrap());
    assert_eq!(a.list_indexes("c").unwrap(), ["n"]);
    assert!(!a.ensure_index("c", "n").unwrap());
    assert_eq!(a.count("c", &doc! {"n": 2}).unwrap(), 1);
    // dropped by one, gone for the other; recreated empty, under a new identity
    assert!(b.drop_collection("c").unwrap());
    assert!(!a.has_collection("c").unwrap());
    assert_eq!(
        a.insert("c", vec![doc! {}]).unwrap_err().code(),
        "DATABASE_COLLECTION_NOT_EXIST"
    );
    assert!(a.create_collection("c").unwrap());
    assert_eq!(b.count("c", &doc! {}).unwrap(), 0);
    assert!(b.list_indexes("c").unwrap().is_empty());
}

#[test]
fn concurrent_inserts_of_one_id_from_two_stores_fail_exactly_once() {
    skip_without_pg!();
    let (a, b, _) = two_stores();
    a.create_collection("c").unwrap();
    let stores: [&PostgresStore; 2] = [&a, &b];
    for round in 0..20 {
        let barrier = Barrier::new(2);
        let results: Vec<_> = std::thread::scope(|sc| {
            let hs: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let barrier = &barrier;
                    sc.spawn(move || {
                        barrier.wait();
                        s.insert("c", vec![doc! {"_id": format!("k{round}"), "by": i as i32}])
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let dup = results
            .iter()
            .filter(|r| matches!(r, Err(e) if e.code() == "DATABASE_DUPLICATE_WRITE"))
            .count();
        assert_eq!((ok, dup), (1, 1), "round {round}: {results:?}");
    }
    assert_eq!(a.count("c", &doc! {}).unwrap(), 20);
}

#[test]
fn a_transaction_on_one_store_blocks_writes_through_another_until_commit() {
    skip_without_pg!();
    let (a, b, db) = two_stores();
    a.create_collection("c").unwrap();
    a.create_collection("other").unwrap();
    a.insert("c", vec![doc! {"_id": "alice", "bal": 10}])
        .unwrap();
    let impatient = PostgresStore::connect(&pg::server().url(&db))
        .unwrap()
        .with_write_wait(Duration::from_millis(300));
    let mut t = a.begin().unwrap();
    let u = Update::operators(doc! {"$inc": {"bal": -1}}).unwrap();
    t.update("c", &doc! {"_id": "alice"}, &u, UpdateOpts::default())
        .unwrap();
    // reads elsewhere see the state before it
    assert_eq!(
        b.find("c", &Find::filter(doc! {"_id": "alice"})).unwrap()[0]
            .get_i32("bal")
            .ok(),
        Some(10)
    );
    // a write to a collection it does not hold goes on
    b.insert("other", vec![doc! {"_id": "o"}]).unwrap();
    // a write to its collection waits, then fails as a transaction conflict
    let t0 = Instant::now();
    let e = impatient.insert("c", vec![doc! {"_id": "x"}]).unwrap_err();
    assert_eq!(e.code(), "DATABASE_TRANSACTION_CONFLICT", "{e:?}");
    assert!(t0.elapsed() >= Duration::from_millis(250));
    // and so does another transaction
    assert_eq!(
        impatient.begin().err().map(|e| e.code()),
        Some("DATABASE_TRANSACTION_CONFLICT")
    );
    // a patient writer waits for the commit and then sees its effect
    std::thread::scope(|sc| {
        let h = sc.spawn(|| {
            let t0 = Instant::now();
            let u = Update::operators(doc! {"$mul": {"bal": 2}}).unwrap();
            let r = b.update("c", &doc! {"_id": "alice"}, &u, UpdateOpts::default());
            (r, t0.elapsed())
        });
        std::thread::sleep(Duration::from_millis(400));
        t.commit().unwrap();
        let (r, waited) = h.join().unwrap();
        assert_eq!(r.unwrap().updated, 1);
        assert!(waited >= Duration::from_millis(350), "{waited:?}");
    });
    assert_eq!(
        a.find("c", &Find::filter(doc! {"_id": "alice"})).unwrap()[0]
            .get_i32("bal")
            .ok(),
        Some(18),
        "(10 - 1) * 2: the outside write came after the transaction"
    );
    // the lock is gone with the transaction, also when it is dropped
    {
        let mut t = a.begin().unwrap();
        t.insert("c", vec![doc! {"_id": "eve"}]).unwrap();
    }
    impatient.insert("c", vec![doc! {"_id": "y"}]).unwrap();
    assert_eq!(a.count("c", &doc! {"_id": "eve"}).unwrap(), 0);
}

#[test]
fn schema_creation_is_safe_when_stores_connect_at_once() {
    skip_without_pg!();
    let db = pg::fresh_db();
    let url = pg::server().url(&db);
    let barrier = Barrier::new(4);
    std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                sc.spawn(|| {
                    barrier.wait();
                    PostgresStore::connect(&url).map(|_| ())
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap().unwrap();
        }
    });
    let s = PostgresStore::connect(&url).unwrap();
    assert!(s.list_collections().unwrap().is_empty());
}

#[test]
fn declared_indexes_are_postgres_indexes_that_lookups_use() {
    skip_without_pg!();
    let db = pg::fresh_db();
    let s = PostgresStore::connect(&pg::server().url(&db)).unwrap();
    s.create_collection("lines").unwrap();
    s.create_collection("small").unwrap();
    s.ensure_index("lines", "city").unwrap();
    let docs: Vec<Document> = (0..4000)
        .map(|i| {
            let n: Bson = match i % 3 {
                0 => Bson::Int32(i % 50),
                1 => Bson::Int64((i % 50) as i64),
                _ => Bson::Double((i % 50) as f64),
            };
            doc! {
                "_id": format!("line{i:05}"),
                "_openid": format!("user{}", i % 40),
                "city": format!("c{}", i % 100),
                "n": n,
                "stops": [{"name": format!("s{}", i % 7)}, {"name": "hub"}],
            }
        })
        .collect();
    s.insert("lines", docs).unwrap();
    s.ensure_index("lines", "n").unwrap();
    s.ensure_index("lines", "stops.name").unwrap();
    s.ensure_index("small", "city").unwrap();
    let mut c = pg::server().client(&db);
    c.batch_execute("ANALYZE shim_docs").unwrap();
    let defs: Vec<String> = c
        .query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'shim_docs' AND indexname LIKE 'shim_ix_%' ORDER BY indexname",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(defs.len(), 4, "{defs:#?}");
    for (field, n) in [("city", 2), ("n", 1), ("stops", 1)] {
        assert_eq!(
            defs.iter()
                .filter(|d| d.contains(&format!("(j -> '{field}'::text)")) && d.contains("gin"))
                .count(),
            n,
            "{defs:#?}"
        );
    }
    assert!(
        defs.iter().all(|d| d.contains("WHERE (cid = ")),
        "{defs:#?}"
    );
    for (filter, index) in [
        (doc! {"_id": "line00042"}, "shim_docs_id"),
        (
            doc! {"_id": {"$in": ["line00001", "line00002"]}},
            "shim_docs_id",
        ),
        (doc! {"_openid": "user7"}, "shim_docs_openid"),
        (doc! {"city": "c7"}, "shim_ix_"),
        (doc! {"city": {"$in": ["c7", "c8"]}}, "shim_ix_"),
        (doc! {"n": 7.0}, "shim_ix_"),
        (doc! {"stops.name": "s3"}, "shim_ix_"),
    ] {
        let plan = s.explain("lines", &filter).unwrap();
        assert!(
            plan.contains(index) && !plan.contains("Seq Scan"),
            "{filter}: {plan}"
        );
    }
    // the prefilter reads the matches only, and numbers match across types through the index
    let examined = |f: Document| {
        let before = s
            .stats()
            .docs_examined
            .load(std::sync::atomic::Ordering::Relaxed);
        let got = s.find("lines", &Find::filter(f)).unwrap().len() as u64;
        let after = s
            .stats()
            .docs_examined
            .load(std::sync::atomic::Ordering::Relaxed);
        (got, after - before)
    };
    assert_eq!(examined(doc! {"city": "c7"}), (40, 40));
    assert_eq!(examined(doc! {"n": 7.0}), (80, 80));
    assert_eq!(examined(doc! {"n": 7}), (80, 80));
    assert_eq!(examined(doc! {"n": Bson::Int64(7)}), (80, 80));
    assert_eq!(examined(doc! {"stops.name": "s3"}), (571, 571));
    assert_eq!(examined(doc! {"_openid": "user7"}), (100, 100));
    // dropping the collection drops its indexes
    s.drop_collection("lines").unwrap();
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'shim_docs' AND indexname LIKE 'shim_ix_%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 1, "only the index of `small` is left");
}

/// A tiny deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
}

fn scalar(r: &mut Rng) -> Bson {
    r.pick(&[
        Bson::Int32(1),
        Bson::Int64(1),
        Bson::Double(1.0),
        Bson::Double(1.5),
        Bson::Int32(2),
        Bson::String("1".into()),
        Bson::String("a".into()),
        Bson::String("b".into()),
        Bson::Boolean(true),
        Bson::Null,
        Bson::DateTime(bson::DateTime::from_millis(5)),
        Bson::ObjectId(bson::oid::ObjectId::from_bytes([7; 12])),
    ])
    .clone()
}

/// A value of a field: a scalar, an array, a document, or an array of documents, a level or
/// two deep.
fn value(r: &mut Rng, depth: u32) -> Bson {
    match (r.next() % 6, depth) {
        (0 | 1, _) | (_, 0) => scalar(r),
        (2, _) => Bson::Array((0..r.next() % 3).map(|_| value(r, depth - 1)).collect()),
        (3, _) => Bson::Document(sub(r, depth - 1)),
        _ => Bson::Array(
            (0..1 + r.next() % 2)
                .map(|_| Bson::Document(sub(r, depth - 1)))
                .collect(),
        ),
    }
}

fn sub(r: &mut Rng, depth: u32) -> Document {
    let mut d = Document::new();
    for k in ["a", "b", "0"] {
        if r.next().is_multiple_of(2) {
            d.insert(k, value(r, depth));
        }
    }
    d
}

#[test]
fn the_prefilter_keeps_every_match_on_random_queries() {
    skip_without_pg!();
    let mut r = Rng(0x5eed_1234_abcd_9876);
    let docs: Vec<Document> = (0..400)
        .map(|i| {
            let mut d = doc! {"_id": i};
            d.extend(sub(&mut r, 3));
            if i % 4 == 0 {
                d.insert("_openid", r.pick(&["u1", "u2"]).to_string());
            } else if i % 9 == 0 {
                d.insert("_openid", vec!["u1", "u3"]);
            }
            d
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(dir.path().join("db.sqlite")).unwrap();
    let plain = pg::store_for(&dir.path().join("plain"));
    let indexed = pg::store_for(&dir.path().join("indexed"));
    let stores: [&dyn Store; 3] = [&lite, &plain, &indexed];
    for s in stores {
        s.create_collection("c").unwrap();
    }
    for p in ["a", "b", "a.b", "0", "a.0.b"] {
        indexed.ensure_index("c", p).unwrap();
    }
    for s in stores {
        s.insert("c", docs.clone()).unwrap();
    }
    let paths = [
        "a", "b", "0", "a.a", "a.b", "a.0", "b.a.b", "a.0.b", "a.1", "b.0.a", "a.b.0", "_openid",
    ];
    let mut checked = 0;
    for q in 0..600 {
        let path = *r.pick(&paths);
        let mut filter = Document::new();
        let v = if path == "_openid" {
            Bson::String(r.pick(&["u1", "u2", "u3"]).to_string())
        } else {
            scalar(&mut r)
        };
        match q % 3 {
            0 => {
                filter.insert(path, v);
            }
            1 => {
                filter.insert(path, doc! {"$in": [v, scalar(&mut r)]});
            }
            _ => {
                filter.insert(path, v);
                filter.insert(*r.pick(&paths), scalar(&mut r));
            }
        }
        // The truth: the engine's filter on every document, in natural order.
        let parsed = Filter::parse(&filter).unwrap();
        let want = ids(&docs
            .iter()
            .filter(|d| parsed.matches(d))
            .cloned()
            .collect::<Vec<_>>());
        assert_eq!(
            ids(&lite.find("c", &Find::filter(filter.clone())).unwrap()),
            want,
            "sqlite: {filter}"
        );
        for s in [&plain, &indexed] {
            assert_eq!(
                ids(&s.find("c", &Find::filter(filter.clone())).unwrap()),
                want,
                "{filter}"
            );
            assert_eq!(
                s.count("c", &filter).unwrap(),
                want.len() as u64,
                "{filter}"
            );
        }
        checked += usize::from(!want.is_empty());
    }
    assert!(checked > 100, "only {checked} queries matched anything");
    assert!(
        indexed
            .stats()
            .pushdowns
            .load(std::sync::atomic::Ordering::Relaxed)
            > 500
    );
}

#[test]
fn writes_are_durable_and_bodies_exact() {
    skip_without_pg!();
    let db = pg::fresh_db();
    let url = pg::server().url(&db);
    let original = d(
        r#"{"_id":{"$oid":"0123456789abcdef01234567"},"z":1,"a":{"$numberLong":"1"},"f":{"$numberDouble":"1.0"},"nan":{"$numberDouble":"NaN"},"s":"nul\u0000in","when":{"$date":{"$numberLong":"-5"}},"bin":{"$binary":{"base64":"AAE=","subType":"04"}}}"#,
    );
    {
        let s = PostgresStore::connect(&url).unwrap();
        s.create_collection("c").unwrap();
        s.insert("c", vec![original.clone()]).unwrap();
    }
    let s = PostgresStore::connect(&url).unwrap();
    let got = s.find("c", &Find::default()).unwrap();
    // (NaN is not equal to itself: compare the canonical EJSON)
    assert_eq!(got.len(), 1);
    assert_eq!(
        shim::db::ejson::to_canonical_string(&got[0]),
        shim::db::ejson::to_canonical_string(&original)
    );
    assert_eq!(
        got[0].keys().collect::<Vec<_>>(),
        ["_id", "z", "a", "f", "nan", "s", "when", "bin"]
    );
    assert_eq!(s.count("c", &doc! {"s": "nul\u{0}in"}).unwrap(), 1);
    let mut c = pg::server().client(&db);
    let fsync: String = c.query_one("SHOW fsync", &[]).unwrap().get(0);
    assert_eq!(fsync, "on");
}

#[test]
fn connection_errors_name_the_url_without_its_password() {
    skip_without_pg!();
    let e = PostgresStore::connect("postgres://bob:hunter2@127.0.0.1:1/app")
        .err()
        .expect("nothing listens on port 1");
    let msg = e.detail();
    assert!(
        msg.contains("postgres://bob:***@127.0.0.1:1/app") && !msg.contains("hunter2"),
        "{msg}"
    );
    let e = PostgresStore::connect(&format!(
        "{} password=hunter2",
        pg::server().url("no_such_database")
    ))
    .err()
    .expect("no such database");
    let msg = e.detail();
    assert!(
        msg.contains("no_such_database")
            && msg.contains("password=***")
            && !msg.contains("hunter2"),
        "{msg}"
    );
    let _ = Arc::new(0);
}

/// The writer of [`acknowledged_writes_survive_a_killed_shim_process`], run as a child process
/// of this test binary: 16 threads insert and print `acked <id>` after each insert returns.
#[test]
fn pg_crash_child() {
    let Ok(url) = std::env::var("SHIM_PG_CRASH_CHILD_URL") else {
        return;
    };
    common::crash::write_burst(Arc::new(PostgresStore::connect(&url).unwrap()));
}

/// `kill -9` of the process writing (a shim) in the middle of a 16-thread burst: every write
/// it was told had succeeded is in the database afterwards, through a new store. (The
/// PostgreSQL server itself keeps running: its own crash recovery is PostgreSQL's.)
#[test]
fn acknowledged_writes_survive_a_killed_shim_process() {
    skip_without_pg!();
    let url = pg::server().url(&pg::fresh_db());
    let acked = common::crash::kill_after_acks(
        "pg_crash_child",
        ("SHIM_PG_CRASH_CHILD_URL", std::ffi::OsStr::new(&url)),
        400,
    );
    let s = PostgresStore::connect(&url).unwrap();
    let ids: std::collections::HashSet<String> = ids(&s.find("c", &Find::default()).unwrap())
        .into_iter()
        .collect();
    for id in &acked {
        assert!(ids.contains(id), "{id} was acknowledged but lost");
    }
    // Writes in flight at the kill either landed whole or not at all: each body is intact.
    for doc in s.find("c", &Find::default()).unwrap() {
        assert_eq!(doc.get_str("pad").unwrap().len(), 500, "{doc}");
    }
}
