#!/usr/bin/env node
// verify.js: the driver behind `migrate verify <original> <migrated>`.
//
//   node verify.js --original DIR --migrated DIR --shim URL --env ENV [--original-shim URL]
//     [--openid ID] [--appid ID] [--script FILE] [--backend ORIGIN=URL ...] [--timeout-ms N]
//
// Runs every page of a script (or of app.json) twice, in two runtimes (./index.js): the
// original app against its backend (`--backend` maps its origins to reachable URLs) and,
// with `--original-shim`, with `wx.cloud` over a local cloud of the original folder (an app
// that already uses cloud development keeps its own functions and collections), the
// migrated app with `wx.cloud` installed over a running `migrate serve` (`--shim`). Each
// recorded step's page data must be equal on both sides, except that a local asset path may
// have become a `cloud://` file ID or an HTTPS URL: then both files are read and their bytes
// must be equal. Prints one JSON report (see README.md); exits 0 when everything is equal, 1
// on a difference, 2 on a usage error or a crash, 3 when the apps cannot be compared as they
// are (TypeScript without its compiled JS and no `typescript` package to compile it with, a
// framework app not rebuilt after the apply).
//
// `runVerify(options)` is the same in-process (the tests use it); `compareData` and
// `formatPath` are exported for unit tests.
'use strict';

var fs = require('fs');
var path = require('path');
var vm = require('vm');

var createRuntime = require('./index.js').createRuntime;
var loader = require('./loader.js');
var shim = require('../wx-cloud-shim.js');

// The same clock and seeded randomness on both sides, so a page that shows the time or a
// random pick renders the same data twice. `Date` in page code reads the runtime's virtual
// clock (the one its timers run on), started at FIXED_NOW: it moves only as timers fire,
// never with real time, so a countdown reads the same on both sides however slow either
// backend answers.
var FIXED_NOW = Date.UTC(2024, 5, 10, 2, 0, 0); // 2024-06-10 10:00 in China
var RANDOM_SEED = 20240610;
var MAX_DIFFERENCES_PER_STEP = 50;
var MAX_VALUE_CHARS = 400;
var DEFAULT_OPENID = 'o-verify-user';
var DEFAULT_APPID = 'wxverify000000001';

function UsageError(message) {
  this.name = 'UsageError';
  this.message = message;
}
UsageError.prototype = Object.create(Error.prototype);

// The two apps cannot be compared as they are (TypeScript not compiled, a framework build
// not rebuilt): exit 3, the reason and what to do on stderr.
function NotComparableError(message) {
  this.name = 'NotComparableError';
  this.message = message;
}
NotComparableError.prototype = Object.create(Error.prototype);

// ---------------------------------------------------------------------------------------------
// arguments and the script

var USAGE = 'usage: node verify.js --original DIR --migrated DIR --shim URL --env ENV ' +
  '[--original-shim URL] [--openid ID] [--appid ID] [--script FILE] [--backend ORIGIN=URL ...] [--timeout-ms N]';

function parseArgs(argv) {
  var o = { backends: {} };
  var flags = { '--original': 'original', '--migrated': 'migrated', '--shim': 'shim', '--env': 'env',
    '--original-shim': 'originalShim',
    '--openid': 'openid', '--appid': 'appid', '--script': 'script', '--timeout-ms': 'timeoutMs' };
  for (var i = 0; i < argv.length; i++) {
    var a = argv[i];
    var eq = a.indexOf('=');
    var name = a.slice(0, 2) === '--' && eq > 0 ? a.slice(0, eq) : a;
    var inline = name !== a ? a.slice(eq + 1) : null;
    if (name !== '--backend' && !flags[name]) throw new UsageError('unknown argument ' + JSON.stringify(a));
    var value = inline !== null ? inline : argv[++i];
    if (value === undefined) throw new UsageError(name + ' needs a value');
    if (name === '--backend') {
      var m = /^(https?:\/\/[^=\s]+)=(https?:\/\/\S+)$/i.exec(value);
      if (!m) throw new UsageError('--backend takes ORIGIN=URL (e.g. https://api.example.com=http://127.0.0.1:8080), got ' + JSON.stringify(value));
      o.backends[m[1].replace(/\/+$/, '')] = m[2].replace(/\/+$/, '');
    } else {
      o[flags[name]] = value;
    }
  }
  ['original', 'migrated', 'shim', 'env'].forEach(function (k) {
    if (!o[k]) throw new UsageError('--' + k + ' is required');
  });
  if (o.timeoutMs !== undefined) {
    o.timeoutMs = Number(o.timeoutMs);
    if (!(o.timeoutMs > 0)) throw new UsageError('--timeout-ms takes a positive number of milliseconds');
  }
  return o;
}

// The script: given as an object, a file, or nothing (every page of app.json, lifecycle only).
function loadScript(script, appJson) {
  if (typeof script === 'string') {
    try {
      script = JSON.parse(fs.readFileSync(script, 'utf8').replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new UsageError('cannot read the script ' + script + ': ' + e.message);
    }
  }
  if (!script) return { launch: {}, storage: {}, pages: allPages(appJson).map(function (r) { return { route: r, query: {}, steps: [] }; }) };
  if (typeof script !== 'object' || Array.isArray(script)) throw new UsageError('the script must be a JSON object with "pages"');
  var pages = script.pages === undefined ? allPages(appJson).map(function (r) { return { route: r }; }) : script.pages;
  if (!Array.isArray(pages)) throw new UsageError('the script\'s "pages" must be an array');
  return {
    launch: script.launch || {},
    storage: script.storage || {},
    pages: pages.map(function (p, i) {
      if (!p || typeof p.route !== 'string') throw new UsageError('script page ' + i + ' has no "route"');
      var steps = p.steps || [];
      if (!Array.isArray(steps)) throw new UsageError('script page ' + i + ': "steps" must be an array');
      steps.forEach(function (s, j) { stepKind(s, 'script page ' + i + ' step ' + j); });
      return { route: p.route.replace(/^\/+/, ''), query: p.query || {}, steps: steps };
    })
  };
}

function allPages(appJson) {
  var out = (appJson.pages || []).slice();
  (appJson.subpackages || appJson.subPackages || []).forEach(function (sp) {
    var root = String(sp.root || '').replace(/^\/+|\/+$/g, '');
    (sp.pages || []).forEach(function (p) { out.push(root + '/' + p); });
  });
  return out;
}

var STEP_KINDS = ['tap', 'input', 'change', 'trigger', 'call', 'pullDownRefresh', 'reachBottom', 'show', 'hide', 'navigateTo'];

function stepKind(s, where) {
  var kinds = STEP_KINDS.filter(function (k) { return s && s[k] !== undefined && s[k] !== false; });
  if (kinds.length !== 1) throw new UsageError(where + ': a step names exactly one of ' + STEP_KINDS.join(', '));
  return kinds[0];
}

// One script step on the page on top of the stack (a tap may have navigated).
function runScriptStep(rt, s) {
  var page = rt.currentPage();
  var kind = stepKind(s, 'step');
  if (kind === 'navigateTo') return rt.openPage(String(s.navigateTo), s.query || {}, { push: true });
  if (!page) return Promise.reject(new Error('no page is open for the step ' + JSON.stringify(s)));
  switch (kind) {
    case 'tap': return page.tap(s.tap, s.dataset, s.detail);
    case 'input': return page.input(s.input, s.value === undefined ? '' : s.value, s.dataset);
    case 'change': return page.change(s.change, s.value, s.dataset);
    case 'trigger': return page.trigger(s.trigger, s.type || 'custom', s.detail, s.dataset);
    case 'call': return page.call.apply(page, [s.call].concat(s.args || []));
    case 'pullDownRefresh': return page.pullDownRefresh();
    case 'reachBottom': return page.reachBottom();
    case 'show': return page.show();
    default: return page.hide();
  }
}

// ---------------------------------------------------------------------------------------------
// the two runtimes

// Math.random of the run's context, seeded, before app.js loads (its Date is the runtime's
// virtual clock, started at FIXED_NOW: see startSide).
function seedRandom(context) {
  vm.runInContext('(' + function (seed) {
    var s = seed >>> 0;
    Math.random = function () {
      // mulberry32
      s = (s + 0x6d2b79f5) >>> 0;
      var t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }.toString() + ')(' + RANDOM_SEED + ')', context);
}

// The shim's requests to `migrate serve` go through the runtime's wx.request (so they are
// pending work and recorded); the action they carry is added to the URL as `?verify=…`, which
// the shim ignores, so the report can say which function or collection a request was for.
function labelledWx(wx, shimUrl) {
  var viaShim = Object.create(wx);
  viaShim.request = function (o) {
    var label = shimAction(o && o.data);
    var url = o.url;
    if (label && String(url).indexOf(shimUrl) === 0) url += (url.indexOf('?') < 0 ? '?' : '&') + 'verify=' + encodeURIComponent(label);
    return wx.request(Object.assign({}, o, { url: url }));
  };
  return viaShim;
}

function shimAction(body) {
  var b;
  try {
    b = typeof body === 'string' ? JSON.parse(body) : body;
  } catch (e) {
    return null;
  }
  if (!b || typeof b.action !== 'string') return null;
  if (b.action === 'functions.invokeFunction') {
    var d = {};
    try {
      d = JSON.parse(b.request_data || '{}') || {};
    } catch (e) {
      d = {};
    }
    var call = 'callFunction ' + b.function_name;
    if (typeof d.method === 'string' && typeof d.path === 'string') {
      var q = Object.keys(d.query || {}).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(d.query[k]); }).join('&');
      call += ' (' + d.method + ' ' + d.path + (q ? '?' + q : '') + ')';
    } else if (typeof d.collection === 'string') {
      call += ' (' + d.collection + ')';
    }
    return call;
  }
  return b.action + (b.collectionName ? ' ' + b.collectionName : '');
}

function startSide(side, o, script) {
  var opts = {
    appDir: side === 'original' ? o.original : o.migrated,
    hosts: o.backends,
    storage: script.storage,
    login: function () { return 'verify-code'; },
    startTime: FIXED_NOW,
    idleTimeout: o.timeoutMs
  };
  var cloudUrl = side === 'migrated' ? o.shim : o.originalShim;
  if (cloudUrl) {
    opts.cloud = function (wx) {
      if (!wx.cloud) wx.cloud = {};
      shim.install({ wx: labelledWx(wx, cloudUrl), url: cloudUrl, openid: o.openid, appid: o.appid, env: o.env });
    };
  }
  var rt = createRuntime(opts);
  seedRandom(rt.context);
  return rt;
}

// The steps recorded since `seen` (entry index → steps already taken), as a flat list.
function newSteps(rec, seen) {
  var out = [];
  rec.pages.forEach(function (entry, i) {
    var from = seen[i] || 0;
    entry.steps.slice(from).forEach(function (s) { out.push({ route: entry.route, step: s }); });
    seen[i] = entry.steps.length;
  });
  return out;
}

// Run one script page on one side: a fresh runtime (same start state for every page), launch,
// open the page, then the steps. Returns [{ action, steps: [{ route, step }] }] plus the
// app's launch steps and what failed outside the app's code.
function runPage(side, o, script, page) {
  var rt = startSide(side, o, script);
  var seen = {};
  var actions = [];
  var failures = [];
  function take(label) {
    actions.push({ action: label, steps: newSteps(rt.recording(), seen) });
  }
  function attempt(label, fn) {
    return Promise.resolve().then(fn).then(function () { take(label); }, function (e) {
      failures.push(label + ': ' + (e && e.message ? e.message : String(e)));
      take(label);
    });
  }
  var chain = rt.launch(script.launch.query || {}).then(function () {
    return attempt('open', function () { return rt.openPage(page.route, page.query); });
  });
  page.steps.forEach(function (s, i) {
    chain = chain.then(function () { return attempt('step ' + i, function () { return runScriptStep(rt, s); }); });
  });
  return chain.then(function () {
    var rec = rt.recording();
    return { app: rec.app.steps, actions: actions, failures: failures, errors: rec.errors };
  }).finally(function () { rt.close(); });
}

// ---------------------------------------------------------------------------------------------
// comparing data

// ['list', 0, 'name'] → 'list[0].name'; keys that are not names are quoted: a["x y"].
function formatPath(segs) {
  var out = '';
  segs.forEach(function (s) {
    if (typeof s === 'number') out += '[' + s + ']';
    else if (/^[A-Za-z_$][\w$]*$|^\d+$/.test(s)) out += (out ? '.' : '') + s;
    else out += '[' + JSON.stringify(s) + ']';
  });
  return out;
}

function kindOf(x) {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  return typeof x;
}

// A string that names a file of the app: `/images/a.png`, `../../images/a.png`, `images/a.png`.
function isLocalAssetPath(s) {
  if (typeof s !== 'string' || !s || s.length > 1024) return false;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s) || s.slice(0, 2) === '//') return false;
  return /\.[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$/.test(s.split(/[?#]/)[0]);
}

function isCloudAsset(s) {
  return typeof s === 'string' && /^(cloud:\/\/|https:\/\/)/i.test(s);
}

// The file a local asset path names, as the client resolves it: `/`-rooted from the app's
// root, otherwise relative to the page (falling back to the root, as WXML paths written
// without `./` are often meant). Null when no such file exists inside the root.
function resolveLocalAsset(root, route, s) {
  var p = s.split(/[?#]/)[0];
  var candidates = p.charAt(0) === '/'
    ? [p.slice(1)]
    : [path.posix.join(path.posix.dirname(route || ''), p), p];
  for (var i = 0; i < candidates.length; i++) {
    var rel = path.posix.normalize(candidates[i]);
    if (rel.slice(0, 3) === '../' || rel === '..') continue;
    var file = path.join(root, rel);
    try {
      if (fs.statSync(file).isFile()) return file;
    } catch (e) {
      // try the next reading
    }
  }
  return null;
}

// Compare two data trees. Collects the differences in the order of the data; an asset pair
// (a local path against a cloud:// or https:// value) goes in as `{ asset: pair }`, to be
// checked by its bytes afterwards.
function diffTree(a, b, segs, out) {
  var ka = kindOf(a);
  var kb = kindOf(b);
  if (ka === 'string' && kb === 'string' && a !== b && isLocalAssetPath(a) && isCloudAsset(b)) {
    out.push({ asset: { path: formatPath(segs), original: a, migrated: b } });
    return;
  }
  if (ka !== kb || (ka !== 'object' && ka !== 'array')) {
    if (a !== b) out.push({ path: formatPath(segs), original: a, migrated: b });
    return;
  }
  if (ka === 'array') {
    var n = Math.max(a.length, b.length);
    for (var i = 0; i < n; i++) {
      if (i >= a.length) out.push({ path: formatPath(segs.concat(i)), missing: 'original', migrated: b[i] });
      else if (i >= b.length) out.push({ path: formatPath(segs.concat(i)), original: a[i], missing: 'migrated' });
      else diffTree(a[i], b[i], segs.concat(i), out);
    }
    return;
  }
  var keys = Object.keys(a);
  Object.keys(b).forEach(function (k) { if (!Object.prototype.hasOwnProperty.call(a, k)) keys.push(k); });
  keys.forEach(function (k) {
    var inA = Object.prototype.hasOwnProperty.call(a, k);
    var inB = Object.prototype.hasOwnProperty.call(b, k);
    if (!inB) out.push({ path: formatPath(segs.concat(k)), original: a[k], missing: 'migrated' });
    else if (!inA) out.push({ path: formatPath(segs.concat(k)), missing: 'original', migrated: b[k] });
    else diffTree(a[k], b[k], segs.concat(k), out);
  });
}

// Differences between the original's and the migrated app's data of one step, assets checked
// by their bytes. `ctx`: { originalRoot, route, fetchMigrated(value) → Promise<Buffer> }.
function compareData(original, migrated, ctx) {
  var found = [];
  diffTree(original, migrated, [], found);
  return Promise.all(found.map(function (d) {
    return d.asset ? assetDifference(d.asset, ctx) : d;
  })).then(function (list) {
    return list.filter(Boolean);
  });
}

function assetDifference(pair, ctx) {
  var file = resolveLocalAsset(ctx.originalRoot, ctx.route, pair.original);
  if (!file) return Promise.resolve(Object.assign({ asset: 'the original path names no file of the original app' }, pair));
  var mine = fs.readFileSync(file);
  return Promise.resolve().then(function () { return ctx.fetchMigrated(pair.migrated); }).then(function (bytes) {
    if (Buffer.compare(mine, bytes) === 0) return null;
    return Object.assign({ asset: 'different bytes: ' + mine.length + ' in ' + path.relative(ctx.originalRoot, file) + ', ' + bytes.length + ' downloaded' }, pair);
  }, function (e) {
    return Object.assign({ asset: 'download failed: ' + (e && e.message ? e.message : String(e)) }, pair);
  });
}

// ---------------------------------------------------------------------------------------------
// downloading what the migrated app points at

function postShim(o, body) {
  var header = { 'content-type': 'application/json', 'x-wx-openid': o.openid, 'x-wx-appid': o.appid, 'x-wx-env': o.env };
  return fetch(o.shim.replace(/\/+$/, '') + '/client', { method: 'POST', headers: header, body: JSON.stringify(Object.assign({ envName: o.env }, body)) })
    .then(function (res) { return res.json(); });
}

function fetchBytes(url) {
  return fetch(url).then(function (res) {
    if (!res.ok) throw new Error('HTTP ' + res.status + ' for ' + url);
    return res.arrayBuffer();
  }).then(function (ab) { return Buffer.from(ab); });
}

// A file ID's bytes, through the download URL the shim hands out (as wx.cloud.downloadFile
// gets them).
function fetchFileId(o, fileID) {
  return postShim(o, { action: 'storage.batchGetDownloadUrl', file_list: [{ fileid: fileID, max_age: 600 }] }).then(function (res) {
    if (res && res.code) throw new Error(res.code + ' ' + (res.message || ''));
    var item = ((res && res.data && res.data.download_list) || [])[0];
    if (!item || (item.code && item.code !== 'SUCCESS')) throw new Error((item && (item.message || item.code)) || 'no download URL for ' + fileID);
    return fetchBytes(item.tempFileURL || item.download_url);
  });
}

// An HTTPS URL of a public base: through a --backend mapping of its origin when there is one;
// otherwise it names a stored object by its path (the base may add leading folders), found
// in the shim's storage by the longest path suffix that exists.
function fetchHttps(o, url) {
  var u = new URL(url);
  var mapped = o.backends[u.origin];
  if (mapped) return fetchBytes(mapped + u.pathname + u.search);
  var parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  function attempt(i, lastError) {
    if (i >= parts.length) return Promise.reject(lastError || new Error('no path in ' + url));
    return fetchFileId(o, 'cloud://' + o.env + '.verify/' + parts.slice(i).join('/')).catch(function (e) {
      return attempt(i + 1, lastError || e);
    });
  }
  return attempt(0, null);
}

function migratedFetcher(o) {
  var cache = {};
  return function (value) {
    if (!cache[value]) cache[value] = /^cloud:\/\//i.test(value) ? fetchFileId(o, value) : fetchHttps(o, value);
    return cache[value];
  };
}

// ---------------------------------------------------------------------------------------------
// the report

function requestLines(step, shimUrl) {
  var lines = [];
  (step.requests || []).forEach(function (r) {
    var status = r.status === null || r.status === undefined ? (r.error || 'failed') : r.status;
    var m = shimUrl ? /[?&]verify=([^&]*)/.exec(r.url) : null;
    if (m && r.url.indexOf(shimUrl) === 0) lines.push('cloud ' + decodeURIComponent(m[1]) + ' ' + status);
    else lines.push((r.api === 'request' ? '' : r.api + ' ') + r.method + ' ' + r.url + ' ' + status);
  });
  return lines;
}

// Values in a difference are shown whole unless they are big (a 2600-row list).
function abbreviate(v) {
  if (v === undefined) return v;
  var text = JSON.stringify(v);
  if (text === undefined || text.length <= MAX_VALUE_CHARS) return v;
  return { $abbreviated: kindOf(v) === 'array' ? 'array of ' + v.length : kindOf(v) === 'object' ? 'object with ' + Object.keys(v).length + ' keys' : text.slice(0, MAX_VALUE_CHARS) + '…' };
}

function stepLabel(s) {
  return s ? s.step.step + (s.step.handler ? ' ' + s.step.handler : '') : null;
}

// Pair the steps each side recorded for one action; compare data, list requests and errors.
function compareSteps(orig, migr, o, fetcher, page) {
  var n = Math.max(orig.length, migr.length);
  var out = [];
  var chain = Promise.resolve();
  for (var i = 0; i < n; i++) {
    (function (a, b) {
      chain = chain.then(function () {
        var entry = { step: stepLabel(a) || stepLabel(b) };
        var route = (a || b).route;
        if (route !== page.route) entry.route = route;
        var differences;
        var wait;
        if (!a || !b || stepLabel(a) !== stepLabel(b) || a.route !== b.route) {
          differences = [{ path: '(step)', original: a ? a.route + ' ' + stepLabel(a) : null, migrated: b ? b.route + ' ' + stepLabel(b) : null }];
          wait = Promise.resolve(differences);
        } else {
          wait = compareData(a.step.data, b.step.data, { originalRoot: o.originalRoot, route: route, fetchMigrated: fetcher });
        }
        return wait.then(function (diffs) {
          var ea = (a && a.step.errors) || [];
          var eb = (b && b.step.errors) || [];
          // An error only the migrated side hit is a difference even when the data agrees
          // (the page may just not show what failed).
          if (eb.length > ea.length) diffs.push({ path: '(errors)', original: ea, migrated: eb });
          entry.equal = diffs.length === 0;
          entry.differences = diffs.slice(0, MAX_DIFFERENCES_PER_STEP).map(function (d) {
            var x = Object.assign({}, d);
            if ('original' in x) x.original = abbreviate(x.original);
            if ('migrated' in x) x.migrated = abbreviate(x.migrated);
            return x;
          });
          if (diffs.length > MAX_DIFFERENCES_PER_STEP) entry.truncated = diffs.length - MAX_DIFFERENCES_PER_STEP;
          entry.requests = { original: a ? requestLines(a.step, o.originalShim) : [], migrated: b ? requestLines(b.step, o.shim) : [] };
          entry.errors = { original: ea, migrated: eb };
          var pa = a && a.step.pending;
          var pb = b && b.step.pending;
          if (pa || pb) entry.pending = { original: pa || [], migrated: pb || [] };
          out.push(entry);
        });
      });
    })(orig[i], migr[i]);
  }
  return chain.then(function () { return out; });
}

// Bytes per package: the main package and each subpackage (files under its root), hidden
// files left out, as the client package is built from the mini-program root.
function packageSizes(appDir) {
  var root = require('./index.js').resolveRoot(appDir).root;
  var appJson = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8').replace(/^\uFEFF/, ''));
  var subs = (appJson.subpackages || appJson.subPackages || []).map(function (sp) {
    return { name: sp.name || String(sp.root).replace(/^\/+|\/+$/g, ''), root: String(sp.root || '').replace(/^\/+|\/+$/g, '') + '/' };
  });
  var sizes = { main: 0 };
  subs.forEach(function (s) { sizes[s.name] = 0; });
  (function walk(dir, rel) {
    fs.readdirSync(dir, { withFileTypes: true }).forEach(function (d) {
      if (d.name.charAt(0) === '.') return;
      var r = rel ? rel + '/' + d.name : d.name;
      var full = path.join(dir, d.name);
      if (d.isDirectory()) return walk(full, r);
      if (!d.isFile()) return;
      var sub = subs.filter(function (s) { return (r + '/').indexOf(s.root) === 0; })[0];
      sizes[sub ? sub.name : 'main'] += fs.statSync(full).size;
    });
  })(root, '');
  var total = 0;
  Object.keys(sizes).forEach(function (k) { total += sizes[k]; });
  sizes.total = total;
  return sizes;
}

// ---------------------------------------------------------------------------------------------
// the run

function normalize(options) {
  var o = Object.assign({}, options);
  ['original', 'migrated', 'shim', 'env'].forEach(function (k) {
    if (!o[k]) throw new UsageError(k + ' is required');
  });
  o.backends = Object.assign({}, o.backends || {});
  o.shim = String(o.shim).replace(/\/+$/, '');
  o.originalShim = o.originalShim ? String(o.originalShim).replace(/\/+$/, '') : null;
  o.openid = o.openid || DEFAULT_OPENID;
  o.appid = o.appid || DEFAULT_APPID;
  o.originalRoot = require('./index.js').resolveRoot(o.original).root;
  return o;
}

// Every file under `dir` (hidden folders and node_modules left out) → its bytes' digest,
// by path relative to `dir`; `skip(rel)` leaves a folder or file out.
function treeDigest(dir, skip) {
  var crypto = require('crypto');
  var out = {};
  (function walk(d, rel) {
    fs.readdirSync(d, { withFileTypes: true }).forEach(function (e) {
      if (e.name.charAt(0) === '.' || e.name === 'node_modules') return;
      var r = rel ? rel + '/' + e.name : e.name;
      if (skip && skip(r)) return;
      var full = path.join(d, e.name);
      if (e.isDirectory()) return walk(full, r);
      if (e.isFile()) out[r] = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    });
  })(dir, '');
  return out;
}

function sameDigest(a, b) {
  var ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every(function (k) { return a[k] === b[k]; });
}

// Why the two apps cannot be compared as they are, or null: TypeScript sources without the
// compiled JavaScript and no `typescript` package for the project to compile them on load
// with, or a framework app (Taro, uni-app) whose
// built mini-program is byte for byte the original's while its sources changed (apply
// rewrites the sources; the build only changes when the app is built again).
function notComparable(o) {
  var sides = [['original', o.original], ['migrated', o.migrated]];
  for (var i = 0; i < sides.length; i++) {
    var root = require('./index.js').resolveRoot(sides[i][1]).root;
    // TypeScript without its compiled JS is compiled on load (./loader.js), with the
    // `typescript` package the project has installed (or one in NODE_PATH).
    if (!fs.existsSync(path.join(root, 'app.js')) && fs.existsSync(path.join(root, 'app.ts')) && !loader.resolveTypescript(root)) {
      return loader.typescriptMissing(root, sides[i][0]);
    }
  }
  var origRoot = o.originalRoot;
  var migrRoot = require('./index.js').resolveRoot(o.migrated).root;
  var origProject = path.resolve(o.original);
  var migrProject = path.resolve(o.migrated);
  var relRoot = path.relative(origProject, origRoot);
  if (!relRoot || relRoot.slice(0, 2) === '..' || relRoot !== path.relative(migrProject, migrRoot)) return null;
  if (!sameDigest(treeDigest(origRoot), treeDigest(migrRoot))) return null;
  var rootRel = relRoot.split(path.sep).join('/');
  var outside = function (rel) { return rel === rootRel || rel === 'cloudfunctions' || rel === 'cloud'; };
  if (sameDigest(treeDigest(origProject, outside), treeDigest(migrProject, outside))) return null;
  return 'the migrated app\'s mini-program (' + rootRel + '/) is byte for byte the original\'s, but its sources changed: ' +
    '`migrate apply` rewrites a framework app\'s sources (Taro src/, uni-app pages and common/), and the built mini-program ' +
    'only changes when it is built again. Build the migrated copy for WeChat (Taro: `npm run build:weapp`; uni-app: ' +
    'HBuilderX or `npm run build:mp-weixin`) and verify again';
}

// → Promise of the report ({ equal, app, pages, packages, errors }).
function runVerify(options) {
  var o;
  var script;
  try {
    o = normalize(options);
    var why = notComparable(o);
    if (why) throw new NotComparableError(why);
    var appJson = JSON.parse(fs.readFileSync(path.join(o.originalRoot, 'app.json'), 'utf8').replace(/^\uFEFF/, ''));
    script = loadScript(o.script, appJson);
  } catch (e) {
    return Promise.reject(e);
  }
  var fetcher = migratedFetcher(o);
  var report = { equal: true, app: null, pages: [], packages: { original: packageSizes(o.original), migrated: packageSizes(o.migrated) }, errors: [] };
  var chain = Promise.resolve();
  script.pages.forEach(function (page) {
    chain = chain.then(function () {
      return runPage('original', o, script, page).then(function (a) {
        return runPage('migrated', o, script, page).then(function (b) { return comparePage(page, a, b, o, fetcher); });
      }).then(function (res) {
        // Every page starts with its own launch; the first is the report's `app`, a later one
        // that differs is shown among its page's steps.
        if (!report.app) report.app = res.app;
        else if (!res.app.equal) {
          res.page.steps = res.app.steps.concat(res.page.steps);
          res.page.equal = false;
        }
        report.pages.push(res.page);
        res.errors.forEach(function (e) { report.errors.push(e); });
      });
    });
  });
  return chain.then(function () {
    report.equal = report.pages.every(function (p) { return p.equal; }) && (!report.app || report.app.equal);
    return report;
  });
}

function comparePage(page, a, b, o, fetcher) {
  var result = { route: page.route, query: page.query, equal: true, steps: [] };
  var errors = [];
  a.failures.forEach(function (f) { errors.push({ side: 'original', route: page.route, message: f }); });
  b.failures.forEach(function (f) { errors.push({ side: 'migrated', route: page.route, message: f }); });
  a.errors.forEach(function (e) { errors.push(Object.assign({ side: 'original' }, e)); });
  b.errors.forEach(function (e) { errors.push(Object.assign({ side: 'migrated' }, e)); });
  var appResult;
  var chain = compareSteps(wrapApp(a.app), wrapApp(b.app), o, fetcher, { route: null }).then(function (steps) {
    appResult = { equal: steps.every(function (s) { return s.equal; }), steps: steps };
  });
  var n = Math.max(a.actions.length, b.actions.length);
  for (var i = 0; i < n; i++) {
    (function (x, y) {
      chain = chain.then(function () {
        return compareSteps(x ? x.steps : [], y ? y.steps : [], o, fetcher, page).then(function (steps) {
          var label = (x || y).action;
          steps.forEach(function (s) {
            if (label !== 'open') s.action = label;
            result.steps.push(s);
          });
        });
      });
    })(a.actions[i], b.actions[i]);
  }
  return chain.then(function () {
    // A page whose code (or app.js) did not load on either side was not compared at all,
    // however alike the two empty recordings look.
    var notRun = [];
    [['original', a], ['migrated', b]].forEach(function (side) {
      side[1].errors.forEach(function (e) {
        if (/^loading /.test(e.where || '')) notRun.push(side[0] + ': ' + e.message + (e.file ? ' (' + e.file + ':' + e.line + ')' : ''));
      });
    });
    if (notRun.length) result.notRun = notRun;
    result.equal = result.steps.every(function (s) { return s.equal; }) && !a.failures.length && !b.failures.length && !notRun.length;
    return { page: result, app: appResult, errors: errors };
  });
}

function wrapApp(steps) {
  return (steps || []).map(function (s) { return { route: '(app)', step: s }; });
}

// ---------------------------------------------------------------------------------------------
// CLI

function main(argv) {
  var options;
  try {
    options = parseArgs(argv);
  } catch (e) {
    process.stderr.write('verify: ' + e.message + '\n' + USAGE + '\n');
    process.exitCode = 2;
    return Promise.resolve();
  }
  return runVerify(options).then(function (report) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    process.exitCode = report.equal ? 0 : 1;
  }, function (e) {
    if (e instanceof NotComparableError) {
      process.stderr.write('verify: ' + e.message + '\n');
      process.exitCode = 3;
      return;
    }
    process.stderr.write('verify: ' + (e instanceof UsageError ? e.message + '\n' + USAGE : (e && e.stack) || String(e)) + '\n');
    process.exitCode = 2;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(function () {
    // A page may leave sockets or timers of its own behind: do not wait for them.
    process.exit(process.exitCode || 0);
  });
}

module.exports = {
  runVerify: runVerify,
  parseArgs: parseArgs,
  loadScript: loadScript,
  compareData: compareData,
  formatPath: formatPath,
  isLocalAssetPath: isLocalAssetPath,
  resolveLocalAsset: resolveLocalAsset,
  packageSizes: packageSizes,
  // The bytes a migrated asset value (cloud:// file ID or https:// URL) names, fetched as the
  // comparison does; `options` as runVerify's (shim, env, openid, appid, backends).
  downloadMigrated: function (options, value) { return migratedFetcher(Object.assign({ backends: {} }, options))(value); },
  UsageError: UsageError,
  NotComparableError: NotComparableError
};
