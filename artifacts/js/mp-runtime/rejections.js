// rejections.js: unhandled promise rejections of app code, routed to the run they belong to.
//
// A page that does `api().then(...)` without a catch leaves an unhandled rejection when the
// call fails; the client only logs it, so the runtime records it as an error of the run
// instead of letting Node treat it as fatal (or a test runner as a failure). While at least
// one runtime is open this module is the process's only 'unhandledRejection' listener: a
// rejection of a Promise from a run's vm context goes to that run, any other one goes to
// the listeners that were there before (or, with none, is thrown as Node would).
'use strict';

var runs = new Set(); // { owns(promise) → bool, record(reason) }
var saved = null;     // listeners removed while runs are open

function dispatch(reason, promise) {
  var owner = null;
  runs.forEach(function (r) { if (!owner && r.owns(promise)) owner = r; });
  if (owner) {
    owner.record(reason);
    return;
  }
  if (saved && saved.length) {
    saved.forEach(function (fn) { fn.call(process, reason, promise); });
  } else {
    process.nextTick(function () { throw reason; });
  }
}

function register(run) {
  if (!runs.size) {
    saved = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', dispatch);
  }
  runs.add(run);
  return function unregister() {
    if (!runs.delete(run) || runs.size) return;
    process.removeListener('unhandledRejection', dispatch);
    (saved || []).forEach(function (fn) {
      if (process.listeners('unhandledRejection').indexOf(fn) < 0) process.on('unhandledRejection', fn);
    });
    saved = null;
  };
}

module.exports = { register: register };
