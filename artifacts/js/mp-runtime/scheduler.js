// scheduler.js: the page's timers and pending work, and "wait until idle".
//
// Pending work is every Promise handed to `track()` (wx.request/uploadFile/downloadFile, the
// other async wx.* calls, wx.cloud.*, setData callbacks). Timers run on a virtual clock,
// earliest first (ties in creation order). The clock never follows real time: while tracked
// work is pending it stands still (only timers already due run), and when nothing but timers
// is left it jumps to the next due time. So for the page every answer takes no time at all,
// a run never sleeps through a debounce or a countdown, and what a page records depends on
// its code and the answers it gets, not on how long the backend took to give them. The
// context's `Date` reads this clock too (index.js).
//
// A hanging request would stop the clock for good, so work still pending after
// `stallTimeout` ms of real time without any of it settling is taken as stalled: a note is
// recorded and the clock moves on as if it were idle (a 20 ms abort timer then fires). Only a
// backend that slow can make timers run before an answer.
//
// Limits (constructor options):
//   timerCap (5000 ms)       a setTimeout/setInterval with a longer delay is dropped (never
//                            runs) and reported; a 60 s refresh would otherwise stall a run
//                            or run at the wrong moment
//   maxIntervalTicks (3)     an interval is cleared after this many ticks, and reported
//   maxTimerFires (200)      per idle() call, against timers that re-arm themselves forever
//   stallTimeout (3000 ms)   real time pending work may take, while a timer waits, before
//                            it is taken as stalled (see above)
// The first three bound the virtual time a page that polls forever can take before it is
// idle, the same for every run.
'use strict';

function macrotask() {
  return new Promise(function (resolve) { setImmediate(resolve); });
}

function Scheduler(options) {
  options = options || {};
  this.timerCap = options.timerCap == null ? 5000 : options.timerCap;
  this.maxIntervalTicks = options.maxIntervalTicks == null ? 3 : options.maxIntervalTicks;
  this.maxTimerFires = options.maxTimerFires || 200;
  this.stallTimeout = options.stallTimeout == null ? 3000 : options.stallTimeout;
  this.onError = options.onError || function () {};   // (error, where) from timer callbacks
  this.onNotice = options.onNotice || function () {}; // ({ kind, ... }) dropped/cleared timers
  this.now = 0;       // virtual ms since the run started
  this.seq = 0;
  this.nextId = 1;
  this.timers = new Map(); // id → { id, due, seq, fn, args, delay, interval, ticks }
  this.pending = new Set(); // { label, promise }
  this.closed = false;
}

// Keep `promise` counted as pending until it settles. Returns it unchanged.
Scheduler.prototype.track = function (promise, label) {
  var self = this;
  var entry = { label: label, promise: null, stalled: false };
  var done = function () { self.pending.delete(entry); };
  entry.promise = Promise.resolve(promise).then(done, done);
  this.pending.add(entry);
  return promise;
};

Scheduler.prototype._add = function (fn, delay, args, interval) {
  delay = Number(delay) || 0;
  if (delay < 0) delay = 0;
  var id = this.nextId++;
  if (typeof fn !== 'function') return id; // setTimeout('code') is not supported on the client either
  if (this.closed) return id;
  if (delay > this.timerCap) {
    this.onNotice({ kind: interval ? 'interval' : 'timeout', delay: delay, action: 'dropped', reason: 'delay over ' + this.timerCap + ' ms' });
    return id;
  }
  this.timers.set(id, { id: id, due: this.now + delay, seq: this.seq++, fn: fn, args: args, delay: delay, interval: interval, ticks: 0 });
  return id;
};

Scheduler.prototype.setTimeout = function (fn, delay) {
  return this._add(fn, delay, Array.prototype.slice.call(arguments, 2), false);
};
Scheduler.prototype.setInterval = function (fn, delay) {
  return this._add(fn, delay, Array.prototype.slice.call(arguments, 2), true);
};
Scheduler.prototype.clearTimer = function (id) {
  this.timers.delete(id);
};

// The sandbox's timer functions (setTimeout and clearTimeout share ids, as on the client).
Scheduler.prototype.globals = function () {
  var self = this;
  return {
    setTimeout: function () { return self.setTimeout.apply(self, arguments); },
    setInterval: function () { return self.setInterval.apply(self, arguments); },
    clearTimeout: function (id) { self.clearTimer(id); },
    clearInterval: function (id) { self.clearTimer(id); }
  };
};

Scheduler.prototype._earliest = function () {
  var best = null;
  this.timers.forEach(function (t) {
    if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
  });
  return best;
};

Scheduler.prototype._fire = function (t) {
  this.now = Math.max(this.now, t.due);
  if (t.interval) {
    t.ticks++;
    if (t.ticks >= this.maxIntervalTicks) {
      this.timers.delete(t.id);
      this.onNotice({ kind: 'interval', delay: t.delay, action: 'cleared', reason: 'after ' + t.ticks + ' ticks' });
    } else {
      t.due = this.now + Math.max(t.delay, 1);
      t.seq = this.seq++;
    }
  } else {
    this.timers.delete(t.id);
  }
  try {
    t.fn.apply(undefined, t.args);
  } catch (e) {
    this.onError(e, t.interval ? 'setInterval callback' : 'setTimeout callback');
  }
};

// What is still waiting, for timeout reports.
Scheduler.prototype.describe = function () {
  var out = [];
  this.pending.forEach(function (p) { out.push(p.label); });
  this.timers.forEach(function (t) { out.push((t.interval ? 'setInterval ' : 'setTimeout ') + t.delay + ' ms'); });
  return out;
};

// Resolve with `{ idle: true }` once nothing is pending and no timer is left for a whole
// macrotask, or with `{ idle: false, pending: [...] }` after `timeout` ms of real time.
//
// Waiting for tracked work never moves the clock: a timer that is not due yet waits until
// the work has settled (and any callbacks it ran), then the clock jumps to it. Work that
// has not settled after `stallTimeout` ms of real time (while a timer is waiting) is marked
// stalled and no longer holds the clock back; work tracked later is waited for again.
Scheduler.prototype.idle = function (timeout) {
  var self = this;
  var deadline = Date.now() + (timeout || 10000);
  var fires = 0;
  var SLEPT = {};
  function fire(t) {
    if (++fires > self.maxTimerFires) {
      self.onNotice({ kind: 'timers', action: 'dropped', reason: 'more than ' + self.maxTimerFires + ' timer callbacks in one step', count: self.timers.size });
      self.timers.clear();
      return;
    }
    self._fire(t);
  }
  function waiting() {
    var live = [];
    self.pending.forEach(function (p) { if (!p.stalled) live.push(p); });
    return live;
  }
  function loop() {
    return macrotask().then(function () {
      if (self.closed) return { idle: true };
      var left = deadline - Date.now();
      if (left <= 0) return { idle: false, pending: self.describe() };
      var t = self._earliest();
      if (t && t.due <= self.now) {
        fire(t);
        return loop();
      }
      var live = waiting();
      if (live.length || (self.pending.size && !t)) {
        // The clock stands still while we wait: for any tracked work to settle, for the
        // overall deadline, or (when a timer is waiting) for the stall timeout.
        var waits = [];
        self.pending.forEach(function (p) { waits.push(p.promise); });
        var stallable = !!t && live.length > 0 && self.stallTimeout < left;
        var timer;
        var sleep = new Promise(function (resolve) {
          timer = setTimeout(function () { resolve(SLEPT); }, stallable ? self.stallTimeout : left);
        });
        return Promise.race(waits.concat([sleep])).then(function (won) {
          clearTimeout(timer);
          if (won === SLEPT && stallable) {
            var labels = [];
            self.pending.forEach(function (p) {
              if (!p.stalled) labels.push(p.label);
              p.stalled = true;
            });
            if (labels.length) {
              self.onNotice({ kind: 'stall', action: 'clock moved on', reason: 'no answer after ' + self.stallTimeout + ' ms of real time', pending: labels });
            }
          }
          return loop();
        });
      }
      if (t) {
        // Idle but for timers (and stalled work): jump to the next one.
        fire(t);
        return loop();
      }
      // Nothing now: one more macrotask, in case a callback queued more work.
      return macrotask().then(function () {
        if (self.pending.size || self.timers.size) return loop();
        return { idle: true };
      });
    });
  }
  return loop();
};

Scheduler.prototype.close = function () {
  this.closed = true;
  this.timers.clear();
};

module.exports = { Scheduler: Scheduler };
