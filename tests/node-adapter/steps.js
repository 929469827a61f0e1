'use strict';
// Steps of the Node scripts the Rust tests run and read: each prints `ok <name>` or
// `not ok <name>: <why>`; `failures()` counts the failed ones for the exit code.

let failed = 0;

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok ${name}: ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 6).join(' | ')}`);
  }
}

function failures() {
  return failed;
}

module.exports = { step, failures };
