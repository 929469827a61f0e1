//! A crash of the PostgreSQL server itself in the middle of a write burst: every write the
//! store acknowledged is there once the server has recovered. Its own test binary, because it
//! stops the cluster that `common::pg` starts once per binary (other tests would lose their
//! server). The crash is `pg_ctl stop -m immediate` (all server processes quit at once, nothing
//! flushed, recovery from the WAL at the next start); the store's sessions run with
//! `synchronous_commit = on`, so an acknowledged commit is in the WAL on disk.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bson::doc;
use common::{ids, pg};
use shim::store::{Find, PostgresStore, Store};

#[test]
fn acknowledged_writes_survive_a_crash_of_the_postgresql_server() {
    if pg::skip() {
        return;
    }
    let server = pg::server();
    let url = server.url(&pg::fresh_db());
    let store: Arc<dyn Store> = Arc::new(PostgresStore::connect(&url).unwrap());
    store.create_collection("c").unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..16)
        .map(|t| {
            let (s, tx, stop) = (Arc::clone(&store), tx.clone(), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut failures = 0;
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("k{t}-{i}");
                    match s.insert("c", vec![doc! {"_id": &id, "pad": "x".repeat(500)}]) {
                        Ok(_) => {
                            let _ = tx.send(id);
                        }
                        // The server is gone: keep trying until told to stop, as a shim would.
                        Err(_) => {
                            failures += 1;
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                failures
            })
        })
        .collect();
    drop(tx);
    let mut acked = Vec::new();
    while acked.len() < 400 {
        acked.push(
            rx.recv_timeout(Duration::from_secs(30))
                .expect("writes go on"),
        );
    }
    if !server.crash_and_restart() {
        eprintln!("MIGRATE_TEST_PG_URL: the test may not crash that server; skipped");
        stop.store(true, Ordering::SeqCst);
        return;
    }
    // The writers' acknowledgements until now (those sent before the crash, and any that came
    // back after the restart through reconnected sessions).
    let settle = Instant::now() + Duration::from_secs(2);
    while let Ok(id) = rx.recv_timeout(settle.saturating_duration_since(Instant::now())) {
        acked.push(id);
    }
    stop.store(true, Ordering::SeqCst);
    let failures: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    while let Ok(id) = rx.try_recv() {
        acked.push(id);
    }
    assert!(failures > 0, "the crash must have failed some writes");
    let after = PostgresStore::connect(&url).unwrap();
    let docs = after.find("c", &Find::default()).unwrap();
    let present: HashSet<String> = ids(&docs).into_iter().collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !present.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    for d in &docs {
        assert_eq!(d.get_str("pad").unwrap().len(), 500, "torn body: {d}");
    }
    println!(
        "{} acknowledged writes, all present after the crash; {} writes failed while the server was down",
        acked.len(),
        failures
    );
}
