//! Warm-call overhead of the cloud-function runner.
//!
//! `cargo bench -p shim --bench functions [-- CALLS]` (default 2000 calls after 100 warm-up
//! calls). A trivial function measures its own run time with `process.hrtime`; the bench
//! prints p50/p99 of the whole `FunctionRunner::invoke` round trip, of the function's own time,
//! and of the difference (the runner's overhead: framing, pipes, per-call environment, JSON).
//! Needs `node` on PATH.

use std::time::{Duration, Instant};

use shim::functions::{FunctionRunner, FunctionsConfig, InvokeContext};

const TRIVIAL: &str = r#"
exports.main = async (event, context) => {
  const t0 = process.hrtime.bigint();
  const out = { n: event.n, openid: process.env.WX_OPENID };
  const ns = Number(process.hrtime.bigint() - t0);
  out.ns = ns;
  return out;
};
"#;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn report(label: &str, mut v: Vec<f64>) {
    v.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{label:<28} p50 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        percentile(&v, 0.50),
        percentile(&v, 0.99),
        v[v.len() - 1]
    );
}

fn main() {
    let calls: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("trivial");
    std::fs::create_dir_all(&dir).expect("function dir");
    std::fs::write(dir.join("index.js"), TRIVIAL).expect("index.js");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut cfg = FunctionsConfig::new(tmp.path(), "http://127.0.0.1:9", "bench-env");
        cfg.max_workers_per_function = 1;
        cfg.timeout = Duration::from_secs(20);
        let runner = FunctionRunner::new(cfg);
        let ctx = |i: usize| InvokeContext {
            openid: Some(format!("o{}", i % 2)),
            appid: Some("wxbench".into()),
            source: "wx_client".into(),
            request_id: format!("bench-{i}"),
            ..InvokeContext::default()
        };

        let cold = Instant::now();
        runner
            .invoke("trivial", r#"{"n":0}"#, ctx(0))
            .await
            .expect("cold call");
        let cold = cold.elapsed();
        for i in 0..100 {
            runner
                .invoke("trivial", r#"{"n":1}"#, ctx(i))
                .await
                .expect("warm-up call");
        }

        let mut total = Vec::with_capacity(calls);
        let mut own = Vec::with_capacity(calls);
        let mut overhead = Vec::with_capacity(calls);
        for i in 0..calls {
            let event = format!(r#"{{"n":{i},"payload":"a small event like a real call"}}"#);
            let t0 = Instant::now();
            let out = runner
                .invoke("trivial", &event, ctx(i))
                .await
                .expect("call");
            let dt = t0.elapsed().as_secs_f64() * 1e3;
            let v: serde_json::Value = serde_json::from_str(&out).expect("json result");
            let fn_ms = v["ns"].as_f64().unwrap_or(0.0) / 1e6;
            total.push(dt);
            own.push(fn_ms);
            overhead.push(dt - fn_ms);
        }
        println!("functions bench: {calls} warm calls of a trivial function, one worker");
        println!(
            "cold start (spawn node + load function + first call): {:.1} ms",
            cold.as_secs_f64() * 1e3
        );
        report("invoke round trip", total);
        report("function's own time", own);
        report("runner overhead", overhead);
        runner.shutdown().await;
    });
}
