// The virtual clock (scheduler.js, index.js): page data must depend on the app's code and the
// answers it gets, never on how long the backend took. A countdown page (setInterval + Date,
// and the bus-ride ride-code pattern: a counter that refreshes the code at 0) runs against a
// backend that answers after a random real delay, several times: every run records the same
// data. Run with `node --test artifacts/tests/mp-runtime/`.
'use strict';

var test = require('node:test');
var assert = require('node:assert/strict');
var http = require('http');

var mp = require('../../js/mp-runtime');
var Scheduler = require('../../js/mp-runtime/scheduler.js').Scheduler;
var h = require('./helpers.js');

var START = Date.UTC(2024, 5, 10, 2, 0, 0);
var ORIGIN = 'https://api.clock.example.com';

var APP_FILES = {
  'app.json': { pages: ['pages/code/code', 'pages/net/net'] },
  'app.js': 'App({})',
  'pages/code/code.js': [
    "const BASE = 'https://api.clock.example.com'",
    'Page({',
    '  data: { code: "", expireIn: 0, leftMs: null, fetchedAfter: null, ticks: [], fetches: 0, shownAt: "" },',
    '  onShow() {',
    '    this.shown = Date.now()',
    '    this.setData({ shownAt: new Date().toISOString() })',
    '    this.refresh()',
    '    this.timer = setInterval(() => this.tick(), 100)',
    '  },',
    '  onHide() { clearInterval(this.timer) },',
    '  refresh() {',
    '    const asked = Date.now()',
    "    wx.request({ url: BASE + '/code', method: 'POST', success: res => {",
    '      this.expireAt = Date.now() + res.data.expireIn * 1000',
    '      this.setData({ code: res.data.code, expireIn: res.data.expireIn, fetchedAfter: Date.now() - asked, fetches: this.data.fetches + 1 })',
    '    } })',
    '  },',
    '  tick() {',
    '    // the ride-code countdown: refresh at 0, else count down',
    '    const left = this.data.expireIn - 1',
    '    if (left <= 0) this.refresh()',
    '    else this.setData({ expireIn: left })',
    '    // and one by the clock',
    '    this.setData({',
    '      leftMs: this.expireAt ? this.expireAt - Date.now() : null,',
    '      ticks: this.data.ticks.concat(Date.now() - this.shown)',
    '    })',
    '  }',
    '})'
  ].join('\n'),
  'pages/net/net.js': [
    "const BASE = 'https://api.clock.example.com'",
    'Page({',
    '  data: {},',
    '  hang() {',
    "    const task = wx.request({ url: BASE + '/hang', fail: err => this.setData({ aborted: err.errMsg, at: Date.now() }) })",
    '    setTimeout(() => task.abort(), 20)',
    '  }',
    '})'
  ].join('\n')
};

// The backend: POST /code answers { code, expireIn: 60 } after `delay()` ms of real time;
// /hang never answers.
function startBackend(delay) {
  var server = http.createServer(function (req, res) {
    req.resume();
    req.on('end', function () {
      if (req.url === '/hang') return;
      setTimeout(function () {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ code: 'C-1', expireIn: 60 }));
      }, delay());
    });
  });
  return new Promise(function (resolve) {
    server.listen(0, '127.0.0.1', function () {
      resolve({
        base: 'http://127.0.0.1:' + server.address().port,
        close: function () {
          server.closeAllConnections();
          return new Promise(function (done) { server.close(function () { done(); }); });
        }
      });
    });
  });
}

var appDir;
var backend;
var nextDelay = 0;
test.before(function () {
  appDir = h.writeApp(APP_FILES);
  return startBackend(function () { return nextDelay; }).then(function (b) { backend = b; });
});
test.after(function () {
  h.removeApp(appDir);
  return backend.close();
});

function runtime(extra) {
  var hosts = {};
  hosts[ORIGIN] = backend.base;
  return mp.createRuntime(Object.assign({ appDir: appDir, hosts: hosts, startTime: START }, extra || {}));
}

// One run of the countdown page with the answer delayed by `delay` ms: its recorded steps.
function countdownRun(delay) {
  nextDelay = delay;
  var rt = runtime();
  return rt.openPage('pages/code/code').then(function (page) {
    return page.steps.map(function (s) { return { step: s.step, data: s.data, notes: s.notes || [], requests: s.requests }; });
  }).finally(rt.close);
}

test('virtual clock: a setInterval + Date.now countdown records the same data whatever the backend latency', function () {
  // Delays below, around and above the 100 ms interval (up to 3 ticks of it): with the clock
  // following real time while the request was in flight, the slow runs ticked before the
  // answer (the counter at 0 refreshed the code again) and recorded other data.
  var delays = [Math.random() * 20, 100 + Math.random() * 100, 230 + Math.random() * 120, Math.random() * 350];
  var runs = [];
  var chain = Promise.resolve();
  delays.forEach(function (d) {
    chain = chain.then(function () { return countdownRun(d); }).then(function (steps) { runs.push(steps); });
  });
  return chain.then(function () {
    var onShow = runs[0].filter(function (s) { return s.step === 'onShow'; })[0];
    // the answer took no virtual time; then the interval ran its 3 ticks and was cleared
    assert.deepEqual(onShow.data, {
      code: 'C-1', expireIn: 57, leftMs: 59700, fetchedAfter: 0, ticks: [100, 200, 300], fetches: 1,
      shownAt: '2024-06-10T02:00:00.000Z'
    });
    assert.deepEqual(onShow.notes, [{ kind: 'interval', delay: 100, action: 'cleared', reason: 'after 3 ticks' }]);
    runs.forEach(function (steps, i) {
      assert.deepEqual(steps, runs[0], 'run ' + i + ' (answer after ' + Math.round(delays[i]) + ' ms) recorded other data');
    });
  });
});

test('virtual clock: Date in page code starts at startTime and moves only with the timers', function () {
  nextDelay = 0;
  var rt = runtime();
  return rt.launch().then(function () {
    var Date_ = rt.context.Date;
    assert.equal(Date_.now(), START);
    assert.equal(new Date_().getTime(), START);
    assert.equal(typeof Date_(), 'string');
    assert.equal(new Date_(0).getTime(), 0, 'dates from arguments are plain dates');
    assert.equal(Date_.UTC(2024, 0, 1), Date.UTC(2024, 0, 1));
    assert.ok(new Date_() instanceof Date_);
    assert.equal(new Date_().constructor, Date_);
    // no timer ran: real time passing does not move it
    return new Promise(function (r) { setTimeout(r, 30); }).then(function () {
      assert.equal(Date_.now(), START);
    });
  }).finally(rt.close);
});

test('scheduler: awaiting tracked work does not move the clock; then it jumps to the next timer', function () {
  var s = new Scheduler();
  var seen = [];
  s.setTimeout(function () { seen.push(['t50', s.now]); }, 50);
  s.track(new Promise(function (r) { setTimeout(r, 120); }).then(function () { seen.push(['answer', s.now]); }), 'slow');
  return s.idle(5000).then(function (res) {
    assert.deepEqual(res, { idle: true });
    assert.deepEqual(seen, [['answer', 0], ['t50', 50]]);
    assert.equal(s.now, 50);
  });
});

test('scheduler: work that never settles stalls; after stallTimeout the clock moves on (abort timer)', function () {
  nextDelay = 0;
  var rt = runtime({ stallTimeout: 150 });
  var started = Date.now();
  return rt.openPage('pages/net/net').then(function (page) {
    return page.tap('hang');
  }).then(function (step) {
    assert.equal(step.data.aborted, 'request:fail abort');
    assert.equal(step.data.at, START + 20);
    assert.deepEqual(step.notes, [{ kind: 'stall', action: 'clock moved on', reason: 'no answer after 150 ms of real time', pending: ['request GET ' + ORIGIN + '/hang'] }]);
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});
