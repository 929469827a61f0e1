'use strict';
// Worker bootstrap for the shim's cloud-function runner (shim/src/functions).
//
// One Node process serves one cloud function, one call at a time, and stays warm: the
// function module is required once (on the first call) and kept in Node's module cache.
//
// Started by the runner as `node -e <this file> <function dir> <function name>` with the
// function folder as cwd, stdin = requests, fd 3 = replies. stdout and stderr are left to the
// function's own console output, which the runner forwards to its log tagged with the
// current request id: nothing the function prints can corrupt the protocol channel.
//
// Framing, both directions: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
//   request  {"type":"invoke","id":REQUEST_ID,"event":"<JSON text>","env":{NAME:VALUE|null},
//             "context":{...},"userInfo":{"appId":..,"openId":..}|null}
//            {"type":"load","id":ID}: require the function module now (a warm-up before the
//             first call); answered like a call whose result is null, or with the load error
//   reply    {"type":"result","id":REQUEST_ID,"ok":true,"result":"<JSON text>"}
//            {"type":"result","id":REQUEST_ID,"ok":false,"error":{"message":..,"stack":..,
//             "load":bool},"fatal":bool}
// `env` values of null unset the variable. `fatal:true` means the worker exits right after
// the reply (uncaught exception or unhandled rejection during the call): the runner must not
// reuse it. A worker whose process ends without a reply failed its call (crash, exit()).

var fs = require('fs');
var path = require('path');

var fnDir = process.argv[1] && process.argv[1] !== '-' ? process.argv[1] : process.cwd();
var fnName = process.argv[2] || path.basename(fnDir);
var REPLY_FD = 3;

var current = null; // {id, done}
var loaded = null; // the function module's exports

function send(msg) {
  var body = Buffer.from(JSON.stringify(msg), 'utf8');
  var head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  var buf = Buffer.concat([head, body]);
  var off = 0;
  while (off < buf.length) {
    off += fs.writeSync(REPLY_FD, buf, off, buf.length - off);
  }
}

function errorInfo(err) {
  if (err instanceof Error) {
    return { message: String(err.message), stack: String(err.stack || '') };
  }
  if (typeof err === 'string') return { message: err, stack: '' };
  var text;
  try {
    text = JSON.stringify(err);
  } catch (e) {
    text = String(err);
  }
  return { message: text === undefined ? String(err) : text, stack: '' };
}

function finish(call, ok, payload, fatal) {
  if (!call || call.done) return;
  call.done = true;
  if (current === call) current = null;
  var msg = { type: 'result', id: call.id, ok: ok };
  if (ok) msg.result = payload;
  else {
    msg.error = payload;
    msg.fatal = !!fatal;
  }
  send(msg);
}

function succeed(call, value) {
  var text;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (e) {
    finish(call, false, errorInfo(new Error('the return value is not JSON-serialisable: ' + e.message)));
    return;
  }
  finish(call, true, text === undefined ? 'null' : text);
}

function fail(call, err, fatal) {
  finish(call, false, errorInfo(err), fatal);
}

function dependencyHint(err) {
  if (!err || err.code !== 'MODULE_NOT_FOUND') return '';
  var m = /Cannot find module '([^']+)'/.exec(String(err.message));
  if (!m || m[1].charAt(0) === '.' || path.isAbsolute(m[1])) return '';
  if (fs.existsSync(path.join(fnDir, 'package.json')) && !fs.existsSync(path.join(fnDir, 'node_modules'))) {
    return ' (the function folder ' + fnDir + ' has a package.json but no node_modules: run `npm install` in ' + fnDir + ')';
  }
  return ' (install it: run `npm install` in ' + fnDir + ')';
}

function loadFunction() {
  if (loaded) return loaded;
  var entry = path.join(fnDir, 'index.js');
  try {
    loaded = require(entry);
  } catch (err) {
    var hint = dependencyHint(err);
    var e = new Error(String(err && err.message ? err.message.split('\n')[0] : err) + hint);
    e.stack = err && err.stack ? String(err.stack) : '';
    e.load = true;
    throw e;
  }
  return loaded;
}

function applyEnv(env) {
  for (var k in env) {
    if (!Object.prototype.hasOwnProperty.call(env, k)) continue;
    if (env[k] === null || env[k] === undefined) delete process.env[k];
    else process.env[k] = String(env[k]);
  }
}

function preload(req) {
  var call = { id: req.id, done: false };
  current = call;
  try {
    loadFunction();
  } catch (err) {
    // Not kept: the first call requires the module again and reports what it says then.
    finish(call, false, { message: err.message, stack: err.stack, load: true });
    return;
  }
  succeed(call, null);
}

function invoke(req) {
  var call = { id: req.id, done: false };
  current = call;
  applyEnv(req.env || {});
  var event;
  try {
    event = req.event && /\S/.test(req.event) ? JSON.parse(req.event) : {};
  } catch (e) {
    fail(call, new Error('invalid event JSON: ' + e.message));
    return;
  }
  if (req.userInfo && event !== null && typeof event === 'object' && !Array.isArray(event)) {
    event.userInfo = req.userInfo;
  }
  var mod;
  try {
    mod = loadFunction();
  } catch (err) {
    finish(call, false, { message: err.message, stack: err.stack, load: true });
    return;
  }
  var main = mod && typeof mod.main === 'function' ? mod.main : null;
  if (!main) {
    fail(call, new Error('cloud function ' + fnName + ' does not export a main function (exports.main = async (event, context) => {...})'));
    return;
  }
  var context = req.context || {};
  var callback = function (err, value) {
    if (err) fail(call, err);
    else succeed(call, value);
  };
  var ret;
  try {
    ret = main.call(mod, event, context, callback);
  } catch (err) {
    fail(call, err);
    return;
  }
  if (ret && typeof ret.then === 'function') {
    ret.then(
      function (value) {
        succeed(call, value);
      },
      function (err) {
        fail(call, err);
      }
    );
  } else if (ret !== undefined || main.length < 3) {
    succeed(call, ret);
  }
  // else: callback style, wait for the callback.
}

process.on('uncaughtException', function (err) {
  if (current) {
    fail(current, err, true);
    process.exit(70);
  } else {
    process.stderr.write('[worker] uncaught exception outside a call: ' + (err && err.stack ? err.stack : String(err)) + '\n');
  }
});
process.on('unhandledRejection', function (reason) {
  if (current) {
    fail(current, reason, true);
    process.exit(70);
  } else {
    process.stderr.write('[worker] unhandled rejection outside a call: ' + (reason && reason.stack ? reason.stack : String(reason)) + '\n');
  }
});

var pending = Buffer.alloc(0);
process.stdin.on('data', function (chunk) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  while (pending.length >= 4) {
    var len = pending.readUInt32BE(0);
    if (pending.length < 4 + len) break;
    var body = pending.subarray(4, 4 + len).toString('utf8');
    pending = pending.subarray(4 + len);
    var req;
    try {
      req = JSON.parse(body);
    } catch (e) {
      process.stderr.write('[worker] bad request frame: ' + e.message + '\n');
      process.exit(71);
    }
    if (req.type === 'invoke') invoke(req);
    else if (req.type === 'load') preload(req);
    else if (req.type === 'shutdown') process.exit(0);
  }
});
process.stdin.on('end', function () {
  process.exit(0);
});
