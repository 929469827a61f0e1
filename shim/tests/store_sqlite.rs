//! SQLite-specific checks: durability settings, index use, query plans.

mod common;

use bson::{Document, doc};
use shim::store::{Find, SqliteStore, Store};
use std::sync::atomic::Ordering;

#[test]
fn durability_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(tmp.path().join("sub/dir/db.sqlite")).unwrap();
    assert_eq!(s.pragma("journal_mode").unwrap(), "wal");
    assert_eq!(s.pragma("synchronous").unwrap(), "2", "synchronous=FULL");
    assert!(s.path().exists());
}

#[test]
fn planner_statements_are_index_searches() {
    let tmp = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(tmp.path().join("db.sqlite")).unwrap();
    for (name, plan) in s.explain_plans().unwrap() {
        assert!(plan.contains("SEARCH"), "{name}: {plan}");
        assert!(
            !plan.contains("SCAN docs") || name == "collection_scan",
            "{name}: {plan}"
        );
        assert!(
            !plan.contains("TEMP B-TREE"),
            "{name} sorts in a temp b-tree: {plan}"
        );
    }
}

#[test]
fn indexed_queries_do_not_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(tmp.path().join("db.sqlite")).unwrap();
    s.create_collection("lines").unwrap();
    s.ensure_index("lines", "city").unwrap();
    s.ensure_index("lines", "no").unwrap();
    let n = 20_000;
    s.insert(
        "lines",
        (0..n).map(|i| doc! {"_id": format!("id{i}"), "city": format!("c{}", i % 1000), "no": i, "_openid": format!("u{}", i % 500)}).collect(),
    )
    .unwrap();
    let st = s.stats();
    let examined = |f: &dyn Fn()| {
        let before = st.docs_examined.load(Ordering::Relaxed);
        f();
        st.docs_examined.load(Ordering::Relaxed) - before
    };
    let e = examined(&|| {
        assert_eq!(
            s.find("lines", &Find::filter(doc! {"city": "c7"}))
                .unwrap()
                .len(),
            20
        )
    });
    assert_eq!(e, 20);
    let e = examined(&|| {
        assert_eq!(
            s.count("lines", &doc! {"no": {"$gte": 100, "$lt": 150}})
                .unwrap(),
            50
        )
    });
    assert_eq!(e, 50);
    let e = examined(&|| {
        assert_eq!(
            s.find("lines", &Find::filter(doc! {"_id": "id123"}))
                .unwrap()
                .len(),
            1
        )
    });
    assert_eq!(e, 1);
    let e = examined(&|| assert_eq!(s.count("lines", &doc! {"_openid": "u3"}).unwrap(), 40));
    assert_eq!(e, 40);
    let e = examined(&|| {
        assert_eq!(
            s.count(
                "lines",
                &doc! {"city": {"$in": ["c1", "c2"]}, "no": {"$lt": 5000}}
            )
            .unwrap(),
            10
        )
    });
    assert_eq!(e, 40);
    // an anchored regex is a prefix range: c7, c70..c79, c700..c799
    let e = examined(&|| {
        assert_eq!(
            s.count("lines", &doc! {"city": {"$regex": "^c7"}}).unwrap(),
            20 * 111
        )
    });
    assert_eq!(e, 20 * 111);
    // sort on an indexed field with a limit stops early
    let e = examined(&|| {
        let got = s
            .find(
                "lines",
                &Find {
                    sort: Some(doc! {"no": -1}),
                    limit: Some(10),
                    ..Find::default()
                },
            )
            .unwrap();
        assert_eq!(got[0].get_i32("no").unwrap(), n - 1);
    });
    assert_eq!(e, 10);
    assert!(
        st.full_scans.load(Ordering::Relaxed) == 0,
        "no query scanned the collection"
    );
    // an unindexed field does scan, and the counters say so
    let e = examined(&|| assert_eq!(s.count("lines", &doc! {"other": 1}).unwrap(), 0));
    assert_eq!(e, n as u64);
    assert_eq!(st.full_scans.load(Ordering::Relaxed), 1);
}

/// Child half of `acknowledged_writes_survive_a_killed_process`: 16 threads insert until
/// killed (a burst, so that writes share group commits), printing each acknowledged id. Does
/// nothing unless the parent set the variable.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("SHIM_CRASH_CHILD_DIR") else {
        return;
    };
    let s = SqliteStore::open(std::path::Path::new(&dir).join("db.sqlite")).unwrap();
    common::crash::write_burst(std::sync::Arc::new(s));
}

/// Concurrent writers share commits (group commit), each write is still its own: a failed
/// one (duplicate `_id`) leaves the others of its group in place, and every acknowledged
/// write is in the file after reopening.
#[test]
fn concurrent_writes_share_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("db.sqlite");
    let s = std::sync::Arc::new(SqliteStore::open(&path).unwrap());
    s.create_collection("c").unwrap();
    s.insert("c", vec![doc! {"_id": "taken"}]).unwrap();
    let (writes0, commits0) = s.commit_stats();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let s = std::sync::Arc::clone(&s);
            std::thread::spawn(move || {
                let mut dups = 0;
                for i in 0..100 {
                    s.insert("c", vec![doc! {"_id": format!("k{t}-{i}"), "n": i}])
                        .unwrap();
                    if i % 10 == 0 {
                        let e = s.insert("c", vec![doc! {"_id": "taken"}]).unwrap_err();
                        assert_eq!(e.code(), "DATABASE_DUPLICATE_WRITE", "{e}");
                        dups += 1;
                    }
                }
                dups
            })
        })
        .collect();
    let dups: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(dups, 16 * 10);
    assert_eq!(s.count("c", &Document::new()).unwrap(), 1 + 16 * 100);
    let (writes, commits) = s.commit_stats();
    let (writes, commits) = (writes - writes0, commits - commits0);
    assert_eq!(
        writes,
        16 * 110,
        "every write, failed ones too, went through a group"
    );
    assert!(
        commits < writes,
        "16 concurrent writers never shared a commit: {commits} commits for {writes} writes"
    );
    drop(s);
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.count("c", &Document::new()).unwrap(), 1 + 16 * 100);
}

#[test]
fn acknowledged_writes_survive_a_killed_process() {
    let tmp = tempfile::tempdir().unwrap();
    let acked = common::crash::kill_after_acks(
        "crash_child",
        ("SHIM_CRASH_CHILD_DIR", tmp.path().as_os_str()),
        400,
    );
    let s = SqliteStore::open(tmp.path().join("db.sqlite")).unwrap();
    for id in &acked {
        assert_eq!(
            s.count("c", &doc! {"_id": id}).unwrap(),
            1,
            "{id} was acknowledged but lost"
        );
    }
}

/// Random mixed-type data and filters: a store with declared indexes must answer exactly like
/// one without (the index is only a prefilter; brackets, bounds and arrays must not lose rows).
#[test]
fn indexed_and_unindexed_agree_on_random_queries() {
    use bson::Bson;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let value = |r: &mut dyn FnMut(u64) -> u64| -> Option<Bson> {
        Some(match r(12) {
            0 => return None,
            1 => Bson::Null,
            2 => Bson::Int32(r(20) as i32 - 10),
            3 => Bson::Int64(r(20) as i64 - 10),
            4 => Bson::Double((r(40) as f64 - 20.0) / 2.0),
            5 => Bson::String(format!("s{}", r(10))),
            6 => Bson::Boolean(r(2) == 0),
            7 => Bson::DateTime(bson::DateTime::from_millis(r(10) as i64 * 1000 - 5000)),
            8 => Bson::Array((0..r(4)).map(|_| Bson::Int32(r(20) as i32 - 10)).collect()),
            9 => Bson::Array(vec![
                Bson::String(format!("s{}", r(10))),
                Bson::Int32(r(5) as i32),
            ]),
            10 => Bson::Document(doc! {"x": r(3) as i32}),
            _ => Bson::Int64(r(3) as i64 * 4_000_000_000),
        })
    };
    let tmp = tempfile::tempdir().unwrap();
    let plain = SqliteStore::open(tmp.path().join("p.sqlite")).unwrap();
    let indexed = SqliteStore::open(tmp.path().join("i.sqlite")).unwrap();
    for s in [&plain, &indexed] {
        s.create_collection("c").unwrap();
    }
    indexed.ensure_index("c", "v").unwrap();
    let docs: Vec<bson::Document> = (0..400)
        .map(|i| {
            let mut d = doc! {"_id": i};
            if let Some(v) = value(&mut rnd) {
                d.insert("v", v);
            }
            match rnd(3) {
                0 => {}
                1 => {
                    d.insert("w", doc! {"x": value(&mut rnd).unwrap_or(Bson::Null)});
                }
                _ => {
                    let a = (0..rnd(3))
                        .map(|_| Bson::Document(doc! {"x": value(&mut rnd).unwrap_or(Bson::Null)}))
                        .collect::<Vec<_>>();
                    d.insert("w", a);
                }
            }
            d
        })
        .collect();
    for s in [&plain, &indexed] {
        s.insert("c", docs.clone()).unwrap();
    }
    indexed.ensure_index("c", "w.x").unwrap();
    let ops = ["$eq", "$gt", "$gte", "$lt", "$lte", "$ne", "$in", "$nin"];
    for round in 0..1500 {
        let field = if round % 2 == 0 { "v" } else { "w.x" };
        let mut filter = bson::Document::new();
        let mut conds = bson::Document::new();
        for _ in 0..1 + rnd(2) {
            let op = ops[rnd(ops.len() as u64) as usize];
            let arg = match op {
                "$in" | "$nin" => {
                    Bson::Array((0..1 + rnd(3)).filter_map(|_| value(&mut rnd)).collect())
                }
                _ => value(&mut rnd).unwrap_or(Bson::Null),
            };
            conds.insert(op, arg);
        }
        filter.insert(field, conds);
        let sort = if rnd(3) == 0 {
            Some(doc! {field: if rnd(2) == 0 { 1 } else { -1 }})
        } else {
            None
        };
        let limit = if rnd(2) == 0 { Some(1 + rnd(30)) } else { None };
        let f = Find {
            filter: filter.clone(),
            sort: sort.clone(),
            limit,
            ..Find::default()
        };
        let a = plain
            .find("c", &f)
            .map(|v| v.iter().map(|d| d.get("_id").cloned()).collect::<Vec<_>>());
        let b = indexed
            .find("c", &f)
            .map(|v| v.iter().map(|d| d.get("_id").cloned()).collect::<Vec<_>>());
        assert_eq!(a, b, "filter {filter} sort {sort:?} limit {limit:?}");
        if sort.is_none() && limit.is_none() {
            // and both equal the bare engine over the documents in memory
            let f = shim::db::query::Filter::parse(&filter).unwrap();
            let expected: Vec<Option<Bson>> = docs
                .iter()
                .filter(|d| f.matches(d))
                .map(|d| d.get("_id").cloned())
                .collect();
            assert_eq!(a.unwrap(), expected, "filter {filter}");
        }
    }
    // and with no filter, only a sort
    for dir in [1, -1] {
        let f = Find {
            sort: Some(doc! {"v": dir}),
            ..Find::default()
        };
        assert_eq!(
            plain.find("c", &f).unwrap(),
            indexed.find("c", &f).unwrap(),
            "sort {dir}"
        );
    }
}

/// A file written before the `openid` column held the array marker (its rows for an array
/// `_openid` have the column empty, `user_version` 0) is brought up to date on open, so
/// `_openid` lookups find those documents again.
#[test]
fn files_from_before_the_openid_array_marker_are_migrated() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("db.sqlite");
    {
        let s = SqliteStore::open(&path).unwrap();
        s.create_collection("c").unwrap();
        s.insert(
            "c",
            vec![
                doc! {"_id": "a", "_openid": ["o1", "o2"]},
                doc! {"_id": "b", "_openid": "o1"},
                doc! {"_id": "c", "n": 1},
            ],
        )
        .unwrap();
    }
    {
        // What the earlier version wrote.
        let c = rusqlite::Connection::open(&path).unwrap();
        let n = c
            .execute("UPDATE docs SET openid = NULL WHERE openid = char(1)", [])
            .unwrap();
        assert_eq!(n, 1, "the array `_openid` row carried the marker");
        c.execute_batch("PRAGMA user_version = 0").unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let found: Vec<_> = s
        .find("c", &Find::filter(doc! {"_openid": "o1"}))
        .unwrap()
        .into_iter()
        .map(|d| d.get_str("_id").unwrap().to_string())
        .collect();
    assert_eq!(found, ["a", "b"]);
}
