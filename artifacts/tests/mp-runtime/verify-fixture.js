// The end-to-end setting of verify.test.js: bus-ride copied twice (original, migrated),
// `migrate apply` on the migrated copy, the loopback legacy backend, the migrated functions
// pointed at it, `migrate serve` on the migrated copy. `MIGRATE_BIN` names the binary.
'use strict';

var childProcess = require('child_process');
var fs = require('fs');
var os = require('os');
var path = require('path');

var backend = require('./bus-ride-backend.js');

var REPO = path.join(__dirname, '../../..');
var FIXTURE = path.join(REPO, 'fixtures/apps/bus-ride');
var NODE_MODULES = path.join(REPO, 'tests/node/node_modules'); // wx-server-sdk for the functions
var ENV = 'verify-env';

function copyDir(from, to) {
  fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

// Two copies of a sample app (bus-ride unless `app` names another under fixtures/apps) in a
// temp folder, the second one migrated. `options.before(copy)` runs on both copies before
// the apply (e.g. the cloud collections an app already has, as exported seeds);
// `options.env` is the env id to apply with (default ENV). → { dir, original, migrated, apply }
// (`apply`: apply's output).
function prepare(bin, app, options) {
  options = options || {};
  var fixture = app ? path.join(REPO, 'fixtures/apps', app) : FIXTURE;
  var dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-verify-'));
  var original = path.join(dir, 'original');
  var migrated = path.join(dir, 'migrated');
  copyDir(fixture, original);
  copyDir(fixture, migrated);
  if (options.before) [original, migrated].forEach(options.before);
  // The generated functions require wx-server-sdk: found from the copies' parent folder.
  if (fs.existsSync(NODE_MODULES)) fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  var out = childProcess.spawnSync(bin, ['apply', migrated, '--yes', '--unsafe', '--allow-dirty', '--env', options.env || ENV], { encoding: 'utf8' });
  if (out.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error('migrate apply failed: ' + out.stderr + out.stdout);
  }
  return { dir: dir, original: original, migrated: migrated, apply: out.stdout + out.stderr };
}

// Point every route of the migrated functions at `target`, or, with `only`, the routes of the
// function named `only`.
function retarget(migrated, target, only) {
  var fns = path.join(migrated, 'cloudfunctions');
  if (!fs.existsSync(fns)) return;
  fs.readdirSync(fns).forEach(function (name) {
    var file = path.join(fns, name, 'routes.json');
    if (!fs.existsSync(file) || (only && name !== only)) return;
    var conf = JSON.parse(fs.readFileSync(file, 'utf8'));
    conf.routes.forEach(function (r) { r.target = target; });
    fs.writeFileSync(file, JSON.stringify(conf, null, 2));
  });
}

// `migrate serve` on the migrated copy. → Promise of { url, stop() }
function serve(bin, migrated) {
  var child = childProcess.spawn(bin, ['serve', migrated, '--port', '0', '--env', ENV], {
    env: Object.assign({}, process.env, { RUST_LOG: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe']
  });
  var stderr = '';
  child.stderr.on('data', function (c) { stderr += c; });
  return new Promise(function (resolve, reject) {
    var out = '';
    var done = false;
    child.stdout.on('data', function (c) {
      out += c;
      var m = /migrate serve: listening on (?:.*from this machine: )?(http:\/\/\S+)/.exec(out);
      if (m && !done) {
        done = true;
        resolve({
          url: m[1],
          stop: function () {
            return new Promise(function (r) {
              if (child.exitCode !== null) return r();
              child.once('exit', function () { r(); });
              child.kill();
            });
          }
        });
      }
    });
    child.once('exit', function (code) {
      if (!done) reject(new Error('migrate serve exited (' + code + '): ' + stderr));
    });
  });
}

// Run verify.js as the Rust side will. → Promise of { status, report, stderr }
function runCli(args) {
  return new Promise(function (resolve) {
    var child = childProcess.spawn(process.execPath, [path.join(REPO, 'artifacts/js/mp-runtime/verify.js')].concat(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    var out = '';
    var err = '';
    child.stdout.on('data', function (c) { out += c; });
    child.stderr.on('data', function (c) { err += c; });
    child.on('close', function (status) {
      var report = null;
      try {
        report = JSON.parse(out);
      } catch (e) {
        report = null;
      }
      resolve({ status: status, report: report, stdout: out, stderr: err });
    });
  });
}

// Why the end-to-end tests cannot run here (no binary named by MIGRATE_BIN, no wx-server-sdk
// for the functions), or false.
function skipReason() {
  if (!process.env.MIGRATE_BIN) {
    return 'MIGRATE_BIN is not set: the end-to-end verify tests need the migrate binary (e.g. MIGRATE_BIN=target/debug/migrate)';
  }
  if (!fs.existsSync(path.join(NODE_MODULES, 'wx-server-sdk'))) {
    return 'tests/node/node_modules has no wx-server-sdk: run `npm ci --prefix tests/node` first';
  }
  return false;
}

function remove(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
}

module.exports = { skipReason: skipReason, ENV: ENV, ORIGIN: backend.ORIGIN, prepare: prepare, retarget: retarget, serve: serve, runCli: runCli, remove: remove, backend: backend };
