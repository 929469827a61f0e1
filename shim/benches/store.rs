//! Store benchmark (prints figures; no assertions).
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p shim --bench store` (optionally `-- 100000` for
//! the number of documents). Measures, on a temporary SQLite file with `synchronous=FULL`:
//! insert rate (batched, one-per-transaction, and concurrent single inserts on 16 and 64
//! threads with group commit off and on: `-- concurrent`), get-by-id through the store and through the
//! `Database` service on 1 and 2 threads, and an indexed equality query vs a full scan.

use bson::doc;
use shim::service::{Caller, Database, DbOp};
use shim::store::{Find, SqliteStore, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rate(n: u64, d: Duration) -> String {
    format!("{:>10.0}/s", n as f64 / d.as_secs_f64())
}

fn timed_threads(threads: usize, dur: Duration, f: impl Fn(usize, u64) + Sync) -> (u64, Duration) {
    let start = Instant::now();
    let total: u64 = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                sc.spawn(move || {
                    let mut i = 0u64;
                    while start.elapsed() < dur {
                        for _ in 0..64 {
                            f(t, i);
                            i += 1;
                        }
                    }
                    i
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    (total, start.elapsed())
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    // Optional section filter: `insert`, `get`, `service`, `indexed`, `scan`.
    let only: Option<String> = std::env::args()
        .skip(1)
        .find(|a| a.parse::<u64>().is_err() && !a.starts_with('-'));
    let run = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(tmp.path().join("bench.sqlite")).expect("open"));
    println!(
        "shim store benchmark: {n} documents, sqlite synchronous={} journal={}",
        store.pragma("synchronous").unwrap_or_default(),
        store.pragma("journal_mode").unwrap_or_default()
    );
    store.create_collection("lines").unwrap();
    store.ensure_index("lines", "city").unwrap();

    let mk = |i: u64| {
        doc! {
            "_id": format!("{i:032x}"),
            "city": format!("city{}", i % 1000),
            "lineNo": i as i64,
            "name": format!("Line {i}"),
            "stops": [{"name": "a", "loc": {"type": "Point", "coordinates": [113.3, 23.1]}}, {"name": "b"}],
            "opened": bson::DateTime::from_millis(1_600_000_000_000 + i as i64),
        }
    };
    // batched inserts (1000 per transaction)
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let end = (i + 1000).min(n);
        store.insert("lines", (i..end).map(mk).collect()).unwrap();
        i = end;
    }
    let d = t.elapsed();
    println!(
        "insert, 1000 per transaction:        {} ({n} docs in {:.2?})",
        rate(n, d),
        d
    );
    // one insert per transaction (each commit fsyncs)
    let single = if run("insert") { 300 } else { 0 };
    let t = Instant::now();
    for j in 0..single {
        store.insert("lines", vec![mk(n + j)]).unwrap();
    }
    let d = t.elapsed();
    if single > 0 {
        println!("insert, 1 per transaction (FULL sync):{}", rate(single, d));
    }

    // concurrent single-document inserts, each acknowledged only once durable: one commit
    // (fsync) per write, against group commit (many writes per fsync)
    for threads in [16, 64].into_iter().filter(|_| run("concurrent")) {
        for group in [false, true] {
            let dir = tempfile::tempdir().expect("tempdir");
            let s = SqliteStore::open(dir.path().join("c.sqlite"))
                .expect("open")
                .with_group_commit(group);
            s.create_collection("w").unwrap();
            let lat = std::sync::Mutex::new(Vec::new());
            let (count, d) = timed_threads(threads, Duration::from_secs(2), |t, i| {
                let t0 = Instant::now();
                s.insert(
                    "w",
                    vec![doc! {"_id": format!("{t}-{i}"), "title": "new doc", "tags": ["x"]}],
                )
                .unwrap();
                lat.lock().unwrap().push(t0.elapsed());
            });
            let mut lat = lat.into_inner().unwrap();
            lat.sort();
            let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
            let (writes, commits) = s.commit_stats();
            println!(
                "insert, {threads:>3} threads, group commit {:<3}:{}   p50 {:>7.2} ms   p99 {:>7.2} ms   {:.1} writes/commit",
                if group { "on" } else { "off" },
                rate(count, d),
                pct(0.5),
                pct(0.99),
                writes as f64 / commits.max(1) as f64
            );
        }
    }

    let total = n + single;
    let dur = Duration::from_secs(2);
    for threads in [1, 2].into_iter().filter(|_| run("get")) {
        let (c, d) = timed_threads(threads, dur, |t, i| {
            let id = format!("{:032x}", (i * 7919 + t as u64 * 31) % total);
            let got = store
                .find("lines", &Find::filter(doc! {"_id": id}))
                .unwrap();
            assert_eq!(got.len(), 1);
        });
        println!(
            "get-by-id, store, {threads} thread(s):        {}",
            rate(c, d)
        );
    }
    let db = Database::new(store.clone() as Arc<dyn Store>);
    for threads in [1, 2].into_iter().filter(|_| run("service")) {
        let (c, d) = timed_threads(threads, dur, |t, i| {
            let id = format!("{:032x}", (i * 7919 + t as u64 * 31) % total);
            let op = DbOp::Get {
                collection: "lines".into(),
                filter: doc! {"_id": id},
                order: None,
                offset: 0,
                limit: None,
                projection: None,
            };
            let r = db.execute(&Caller::Admin, op).unwrap();
            // include reply rendering (canonical EJSON strings), as the HTTP layer will
            std::hint::black_box(r.to_wire_data());
        });
        println!(
            "get-by-id, service + EJSON, {threads} thread(s):{}",
            rate(c, d)
        );
    }
    for threads in [1, 2].into_iter().filter(|_| run("indexed")) {
        let (c, d) = timed_threads(threads, dur, |t, i| {
            let city = format!("city{}", (i * 13 + t as u64) % 1000);
            let got = store
                .find(
                    "lines",
                    &Find {
                        filter: doc! {"city": city},
                        limit: Some(20),
                        ..Find::default()
                    },
                )
                .unwrap();
            assert_eq!(got.len(), 20);
        });
        println!(
            "indexed equality (city, {} matches, limit 20), {threads} thread(s): {}",
            total / 1000,
            rate(c, d)
        );
    }
    if !run("scan") {
        return;
    }
    let examined0 = store
        .stats()
        .docs_examined
        .load(std::sync::atomic::Ordering::Relaxed);
    let t = Instant::now();
    let q = 20;
    for k in 0..q {
        let got = store
            .count("lines", &doc! {"name": format!("Line {}", k * 97)})
            .unwrap();
        assert_eq!(got, 1);
    }
    let d = t.elapsed();
    let examined = store
        .stats()
        .docs_examined
        .load(std::sync::atomic::Ordering::Relaxed)
        - examined0;
    println!(
        "unindexed equality (full scan):       {} ({} docs examined per query)",
        rate(q, d),
        examined / q
    );
    let t = Instant::now();
    let got = store
        .find(
            "lines",
            &Find {
                filter: doc! {"lineNo": {"$gte": 1000, "$lt": 2000}},
                sort: Some(doc! {"lineNo": -1}),
                limit: Some(10),
                ..Find::default()
            },
        )
        .unwrap();
    println!(
        "unindexed range + sort, limit 10:     {:.2?} ({} results)",
        t.elapsed(),
        got.len()
    );
    for (name, plan) in store.explain_plans().unwrap_or_default() {
        println!("  plan {name}: {plan}");
    }
}
