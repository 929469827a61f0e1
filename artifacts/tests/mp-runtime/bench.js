'use strict';
// The figures of `migrate verify` on the largest sample app (bus-ride: 11 pages, 4 data sets,
// moved assets, 9 functions): the cold start of `migrate serve` on the applied copy (process
// start, seeds loaded and listening, then the first cloud function call answered, made by the
// index page's onLoad through the wx.cloud adapter) and the wall time of a whole
// `migrate verify` with the full script. Best and median of N runs.
//
//   MIGRATE_BIN=target/release/migrate node artifacts/tests/mp-runtime/bench.js [runs]
//
// Needs `npm ci --prefix tests/node` (wx-server-sdk for the functions).

const childProcess = require('node:child_process');
const path = require('node:path');

const fx = require('./verify-fixture.js');
const { createRuntime } = require('../../js/mp-runtime');
const shim = require('../../js/wx-cloud-shim.js');

const REPO = path.join(__dirname, '../../..');
const BIN = process.env.MIGRATE_BIN || path.join(REPO, 'target/release/migrate');
const RUNS = Number(process.argv[2] || 3);

function seconds(from) {
  return Number(process.hrtime.bigint() - from) / 1e9;
}

async function coldStart(setting, backend) {
  const t0 = process.hrtime.bigint();
  const serve = await fx.serve(BIN, setting.migrated);
  const listening = seconds(t0);
  const hosts = { [fx.ORIGIN]: backend.base };
  const rt = createRuntime({
    appDir: setting.migrated,
    hosts,
    cloud: (wx) => shim.install({ wx, url: serve.url, openid: 'o-bench', appid: 'wxbench', env: fx.ENV })
  });
  try {
    const page = await rt.openPage('pages/index/index', {});
    const stations = page.data.stations || [];
    if (!stations.length) throw new Error('the first page got no stations: ' + JSON.stringify(rt.recording().errors).slice(0, 500));
    return { listening, firstCall: seconds(t0) };
  } finally {
    rt.close();
    await serve.stop();
  }
}

// Spawned, not spawnSync: the legacy backend answers from this process's event loop.
async function verifyOnce(setting, backend) {
  const t0 = process.hrtime.bigint();
  const args = ['verify', setting.original, setting.migrated, '--env', fx.ENV,
    '--backend', fx.ORIGIN + '=' + backend.base, '--script', path.join(__dirname, 'bus-ride.verify.json'), '--format', 'json'];
  const out = await new Promise((resolve) => {
    const child = childProcess.spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const wall = seconds(t0);
  let report = null;
  try {
    report = JSON.parse(out.stdout);
  } catch (e) {
    throw new Error('verify exit ' + out.status + ': ' + out.stderr);
  }
  if (out.status !== 0) {
    const unequal = report.pages.flatMap((p) => p.steps.filter((s) => !s.equal).map((s) => ({ route: s.route || p.route, step: s.step, differences: s.differences.slice(0, 3), errors: s.errors })));
    throw new Error('verify found differences: ' + JSON.stringify(unequal).slice(0, 3000));
  }
  return { wall, pages: report.pages.length, shimReady: report.timings.shimReadyS };
}

function stats(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return { best: s[0], median: s[Math.floor(s.length / 2)] };
}

async function main() {
  const skip = fx.skipReason();
  if (skip && !/MIGRATE_BIN/.test(skip)) throw new Error(skip);
  const setting = fx.prepare(BIN);
  const backend = await fx.backend.start();
  try {
    fx.retarget(setting.migrated, backend.base);
    const cold = [];
    const verify = [];
    for (let i = 0; i < RUNS; i++) {
      cold.push(await coldStart(setting, backend));
      verify.push(await verifyOnce(setting, backend));
    }
    const l = stats(cold.map((c) => c.listening));
    const f = stats(cold.map((c) => c.firstCall));
    const v = stats(verify.map((r) => r.wall));
    const r = stats(verify.map((r) => r.shimReady));
    console.log(`binary: ${BIN}`);
    console.log(`migrate serve cold start, seeds loaded and listening: best ${l.best.toFixed(3)} s, median ${l.median.toFixed(3)} s (target < 1 s with the first call)`);
    console.log(`migrate serve cold start, first function call answered: best ${f.best.toFixed(3)} s, median ${f.median.toFixed(3)} s`);
    console.log(`migrate verify bus-ride (${verify[0].pages} pages, full script): best ${v.best.toFixed(2)} s, median ${v.median.toFixed(2)} s (target < 10 s); its in-process shim ready in ${r.median.toFixed(3)} s`);
  } finally {
    await backend.close();
    fx.remove(setting.dir);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
