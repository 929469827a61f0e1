//! `kill -9` during a write burst: the test binary runs one of its own tests as a child that
//! writes (see [`write_burst`]), and the parent kills it after a number of acknowledgements
//! ([`kill_after_acks`]) and then checks the store.

use bson::doc;
use shim::store::Store;
use std::io::BufRead;
use std::sync::Arc;

/// In the child: 16 threads insert `k<thread>-<n>` documents (with a 500-byte `pad`) into
/// collection `c` until killed, printing `acked <id>` after each insert returns.
pub(crate) fn write_burst(store: Arc<dyn Store>) {
    store.create_collection("c").unwrap();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let s = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0.. {
                    s.insert(
                        "c",
                        vec![doc! {"_id": format!("k{t}-{i}"), "pad": "x".repeat(500)}],
                    )
                    .unwrap();
                    println!("acked k{t}-{i}");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

/// In the parent: run this binary's test `child` (exactly) with `env` set, read its
/// acknowledgements until there are `n`, then SIGKILL it (no destructors, no checkpoint,
/// connections dropped mid-transaction). The acknowledged ids.
pub(crate) fn kill_after_acks(child: &str, env: (&str, &std::ffi::OsStr), n: usize) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut proc = std::process::Command::new(exe)
        .args(["--exact", child, "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = proc.stdout.take().unwrap();
    let mut acked = Vec::new();
    for line in std::io::BufReader::new(out).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("acked ") {
            acked.push(id.to_string());
            if acked.len() == n {
                proc.kill().unwrap();
                break;
            }
        }
    }
    let _ = proc.wait();
    assert_eq!(
        acked.len(),
        n,
        "the child stopped before {n} acknowledged writes"
    );
    acked
}
