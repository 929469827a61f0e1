//! SQLite vs PostgreSQL store on one workload (prints figures; no assertions).
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p shim --bench store_pg` (optionally `-- 20000` for
//! the number of documents). PostgreSQL is a throwaway local cluster (`tests/common/pg.rs`:
//! Unix socket, `fsync` on, `synchronous_commit` on) or `MIGRATE_TEST_PG_URL`. The workload
//! is `benches/store.rs`'s: bus lines with a declared index on `city` (1000 cities), inserted
//! 1000 per transaction, then 300 one per transaction; then get-by-id, an indexed equality
//! with limit 20, and an unindexed equality (a full scan), each timed per query (p50/p99).

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use bson::doc;
use shim::store::{Find, PostgresStore, SqliteStore, Store};
use std::time::{Duration, Instant};

fn mk(i: u64) -> bson::Document {
    doc! {
        "_id": format!("{i:032x}"),
        "city": format!("city{}", i % 1000),
        "lineNo": i as i64,
        "name": format!("Line {i}"),
        "stops": [{"name": "a", "loc": {"type": "Point", "coordinates": [113.3, 23.1]}}, {"name": "b"}],
        "opened": bson::DateTime::from_millis(1_600_000_000_000 + i as i64),
    }
}

fn pct(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    (at(0.50), at(0.99))
}

fn timed(n: u64, mut f: impl FnMut(u64)) -> (Duration, Duration) {
    let mut v = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t = Instant::now();
        f(i);
        v.push(t.elapsed());
    }
    pct(v)
}

fn run(name: &str, store: &dyn Store, n: u64) {
    store.create_collection("lines").unwrap();
    store.ensure_index("lines", "city").unwrap();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + 1000).min(n);
        store.insert("lines", (i..end).map(mk).collect()).unwrap();
        i = end;
    }
    let batched = n as f64 / t.elapsed().as_secs_f64();
    let single = 300;
    let t = Instant::now();
    for j in 0..single {
        store.insert("lines", vec![mk(n + j)]).unwrap();
    }
    let one = single as f64 / t.elapsed().as_secs_f64();
    let total = n + single;
    let get = timed(2000, |i| {
        let id = format!("{:032x}", (i * 7919) % total);
        let got = store
            .find("lines", &Find::filter(doc! {"_id": id}))
            .unwrap();
        assert_eq!(got.len(), 1);
    });
    let indexed = timed(1000, |i| {
        let got = store
            .find(
                "lines",
                &Find {
                    filter: doc! {"city": format!("city{}", (i * 13) % 1000)},
                    limit: Some(20),
                    ..Find::default()
                },
            )
            .unwrap();
        assert_eq!(got.len(), 20);
    });
    let scan = timed(10, |k| {
        let got = store
            .count("lines", &doc! {"name": format!("Line {}", k * 97)})
            .unwrap();
        assert_eq!(got, 1);
    });
    println!(
        "{name:<10} insert {batched:>8.0}/s (1000/txn) {one:>6.0}/s (1/txn) | \
         get-by-id p50 {:>8.1?} p99 {:>8.1?} | indexed eq limit 20 p50 {:>8.1?} p99 {:>8.1?} | \
         full scan p50 {:>8.1?}",
        get.0, get.1, indexed.0, indexed.1, scan.0
    );
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    println!("store benchmark, SQLite vs PostgreSQL: {n} documents, one thread");
    let tmp = tempfile::tempdir().expect("tempdir");
    let lite = SqliteStore::open(tmp.path().join("bench.sqlite")).expect("open sqlite");
    run("sqlite", &lite, n);
    let db = pg::fresh_db();
    let url = pg::server().url(&db);
    // The floor: one round trip of a prepared statement on a plain connection.
    let mut c = pg::server().client(&db);
    let st = c.prepare("SELECT 1").unwrap();
    let rt = timed(2000, |_| {
        c.query(&st, &[]).unwrap();
    });
    println!(
        "postgres round trip (SELECT 1, prepared): p50 {:.1?} p99 {:.1?}",
        rt.0, rt.1
    );
    let pgs = PostgresStore::connect(&url).unwrap_or_else(|e| panic!("{}", e.detail()));
    run("postgres", &pgs, n);
}
