//! SQLite-specific checks: durability settings, index use, query plans.

use bson::doc;
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

/// Child half of `acknowledged_writes_survive_a_killed_process`: inserts until killed,
/// printing each acknowledged id. Does nothing unless the parent set the variable.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("SHIM_CRASH_CHILD_DIR") else {
        return;
    };
    let s = SqliteStore::open(std::path::Path::new(&dir).join("db.sqlite")).unwrap();
    s.create_collection("c").unwrap();
    for i in 0.. {
        s.insert(
            "c",
            vec![doc! {"_id": format!("k{i}"), "pad": "x".repeat(500)}],
        )
        .unwrap();
        println!("acked k{i}");
    }
}

#[test]
fn acknowledged_writes_survive_a_killed_process() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("SHIM_CRASH_CHILD_DIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in std::io::BufReader::new(out).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("acked ") {
            acked.push(id.to_string());
            if acked.len() == 50 {
                child.kill().unwrap(); // SIGKILL: no destructors, no checkpoint
                break;
            }
        }
    }
    let _ = child.wait();
    assert_eq!(acked.len(), 50);
    let s = SqliteStore::open(tmp.path().join("db.sqlite")).unwrap();
    for id in &acked {
        assert_eq!(
            s.count("c", &doc! {"_id": id}).unwrap(),
            1,
            "{id} was acknowledged but lost"
        );
    }
}
