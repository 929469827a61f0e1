// verify.js, the driver of `migrate verify`: its comparison (asset equivalence, JSON paths,
// argument and script checks) in-process, then end to end on bus-ride with the `migrate`
// binary named by MIGRATE_BIN: a faithful migration, and three broken ones that must be caught
// at the right page and path. Run with `node --test artifacts/tests/mp-runtime/`.
'use strict';

var test = require('node:test');
var assert = require('node:assert/strict');
var fs = require('fs');
var path = require('path');

var verify = require('../../js/mp-runtime/verify.js');
var h = require('./helpers.js');
var fx = require('./verify-fixture.js');

var APP = path.join(__dirname, '../../../fixtures/apps/bus-ride');
var ROOT = path.join(APP, 'miniprogram');
var SCRIPT = path.join(__dirname, 'bus-ride.verify.json');
var BIN = process.env.MIGRATE_BIN;
var E2E_SKIP = fx.skipReason();

function bytesOf(rel) {
  return fs.readFileSync(path.join(ROOT, rel));
}
function ctx(fetchMigrated, route) {
  return { originalRoot: ROOT, route: route || 'pages/index/index', fetchMigrated: fetchMigrated };
}

// ---------------------------------------------------------------------------------------------
// the comparison

test('formatPath: a.b[0].c, numeric keys as .26, other keys quoted', function () {
  assert.equal(verify.formatPath(['list', 0, 'name']), 'list[0].name');
  assert.equal(verify.formatPath(['expanded', '26']), 'expanded.26');
  assert.equal(verify.formatPath(['a', 'x y', 2]), 'a["x y"][2]');
  assert.equal(verify.formatPath([3]), '[3]');
  assert.equal(verify.formatPath([]), '');
});

test('local asset paths: rooted, relative to the page, bare; URLs and plain words are not', function () {
  ['/images/logo.png', '../../images/logo.png', './a.jpg', 'images/logo.png', '/audio/ding.mp3?v=2'].forEach(function (s) {
    assert.ok(verify.isLocalAssetPath(s), s);
  });
  ['https://x.com/a.png', 'cloud://e.b/a.png', 'wxfile://tmp/a.png', '//cdn.x.com/a.png', '1路', '', '1.90'].forEach(function (s) {
    assert.ok(!verify.isLocalAssetPath(s), s);
  });
  assert.equal(verify.resolveLocalAsset(ROOT, 'pages/index/index', '/images/logo.png'), path.join(ROOT, 'images/logo.png'));
  assert.equal(verify.resolveLocalAsset(ROOT, 'pages/index/index', '../../images/logo.png'), path.join(ROOT, 'images/logo.png'));
  assert.equal(verify.resolveLocalAsset(ROOT, 'pages/index/index', 'images/logo.png'), path.join(ROOT, 'images/logo.png'));
  assert.equal(verify.resolveLocalAsset(ROOT, 'pages/index/index', '../../../../etc/passwd.txt'), null);
  assert.equal(verify.resolveLocalAsset(ROOT, 'pages/index/index', '/images/none.png'), null);
});

test('compareData: deep equality, differences in data order with both values', function () {
  var a = { list: [{ name: 'a', n: 1 }, { name: 'b' }], flag: true, obj: { k: 1 } };
  var b = { list: [{ name: 'a', n: 2 }, { name: 'b' }, { name: 'c' }], flag: 'true', extra: 1, obj: {} };
  return verify.compareData(a, b, ctx(function () { throw new Error('no asset here'); })).then(function (d) {
    assert.deepEqual(d, [
      { path: 'list[0].n', original: 1, migrated: 2 },
      { path: 'list[2]', missing: 'original', migrated: { name: 'c' } },
      { path: 'flag', original: true, migrated: 'true' },
      { path: 'obj.k', original: 1, missing: 'migrated' },
      { path: 'extra', missing: 'original', migrated: 1 }
    ]);
    return verify.compareData(a, JSON.parse(JSON.stringify(a)), ctx(null));
  }).then(function (d) {
    assert.deepEqual(d, []);
  });
});

test('compareData: a moved asset is equal when the downloaded bytes are the same', function () {
  var seen = [];
  var fetch = function (v) {
    seen.push(v);
    return Promise.resolve(bytesOf(v.replace(/^[^/]*\/\/[^/]*\//, '')));
  };
  var a = { banners: [{ image: '/images/banner/banner-1.jpg' }, { image: '../../images/logo.png' }] };
  var b = { banners: [{ image: 'cloud://env.bucket/images/banner/banner-1.jpg' }, { image: 'https://cdn.example.com/images/logo.png' }] };
  return verify.compareData(a, b, ctx(fetch)).then(function (d) {
    assert.deepEqual(d, []);
    assert.deepEqual(seen, ['cloud://env.bucket/images/banner/banner-1.jpg', 'https://cdn.example.com/images/logo.png']);
  });
});

test('compareData: other bytes, a failed download, a missing original file are differences', function () {
  var a = { x: '/images/banner/banner-1.jpg', y: '/images/logo.png', z: '/images/gone.png', w: '/images/logo.png' };
  var b = { x: 'cloud://e.b/images/banner/banner-1.jpg', y: 'cloud://e.b/images/logo.png', z: 'cloud://e.b/images/gone.png', w: 'wxfile://tmp/1.png' };
  var fetch = function (v) {
    if (/banner-1/.test(v)) return Promise.resolve(Buffer.from('not the banner'));
    return Promise.reject(new Error('STORAGE_FILE_NONEXIST'));
  };
  return verify.compareData(a, b, ctx(fetch)).then(function (d) {
    assert.deepEqual(d.map(function (x) { return x.path; }), ['x', 'y', 'z', 'w']);
    assert.match(d[0].asset, /^different bytes: \d+ in images\/banner\/banner-1\.jpg, 14 downloaded$/);
    assert.equal(d[0].original, '/images/banner/banner-1.jpg');
    assert.equal(d[0].migrated, 'cloud://e.b/images/banner/banner-1.jpg');
    assert.equal(d[1].asset, 'download failed: STORAGE_FILE_NONEXIST');
    assert.equal(d[2].asset, 'the original path names no file of the original app');
    // a local path that became something other than cloud:// or https:// is a plain difference
    assert.deepEqual(d[3], { path: 'w', original: '/images/logo.png', migrated: 'wxfile://tmp/1.png' });
  });
});

// ---------------------------------------------------------------------------------------------
// arguments and the script

test('parseArgs: flags, repeated --backend, usage errors', function () {
  var o = verify.parseArgs(['--original', 'a', '--migrated', 'b', '--shim', 'http://127.0.0.1:1', '--env', 'e',
    '--backend', 'https://api.x.com=http://127.0.0.1:2', '--backend=https://img.x.com/=http://127.0.0.1:3/', '--timeout-ms', '500']);
  assert.deepEqual(o.backends, { 'https://api.x.com': 'http://127.0.0.1:2', 'https://img.x.com': 'http://127.0.0.1:3' });
  assert.equal(o.timeoutMs, 500);
  assert.throws(function () { verify.parseArgs(['--original', 'a']); }, /--migrated is required/);
  assert.throws(function () { verify.parseArgs(['--bogus', '1']); }, /unknown argument/);
  assert.throws(function () { verify.parseArgs(['--backend', 'api.x.com']); }, /ORIGIN=URL/);
});

test('loadScript: without one, every page of app.json (subpackages too) with an empty query', function () {
  var appJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  var s = verify.loadScript(undefined, appJson);
  assert.equal(s.pages.length, 11);
  assert.deepEqual(s.pages[0], { route: 'pages/index/index', query: {}, steps: [] });
  assert.equal(s.pages[10].route, 'subpackages/ride-history/pages/detail/detail');
  var file = verify.loadScript(SCRIPT, appJson);
  assert.equal(file.pages[3].query.id, 'L0001');
  assert.throws(function () { verify.loadScript({ pages: [{ route: 'p', steps: [{ tap: 'a', input: 'b' }] }] }, appJson); }, /exactly one of/);
  assert.throws(function () { verify.loadScript({ pages: [{}] }, appJson); }, /has no "route"/);
});

test('the CLI: exit 2 and a usage line on bad arguments', function () {
  return fx.runCli(['--original', APP]).then(function (r) {
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--migrated is required/);
    assert.match(r.stderr, /^usage: node verify\.js/m);
    assert.equal(r.stdout, '');
  });
});

// ---------------------------------------------------------------------------------------------
// the driver in-process, without the binary: the original app against itself

test('runVerify: an app compared with an unchanged copy of itself is equal', function () {
  return fx.backend.start().then(function (be) {
    var backends = {};
    backends[fx.ORIGIN] = be.base;
    return verify.runVerify({
      original: APP, migrated: APP, shim: 'http://127.0.0.1:9', env: 'e', backends: backends,
      script: { pages: [{ route: 'pages/notice/notice', steps: [{ reachBottom: true }, { tap: 'toggle', dataset: { index: 3 } }] }] }
    }).finally(be.close);
  }).then(function (report) {
    assert.equal(report.equal, true, JSON.stringify(report, null, 1).slice(0, 2000));
    assert.deepEqual(report.app.steps.map(function (s) { return s.step; }), ['onLaunch', 'onShow']);
    var steps = report.pages[0].steps;
    assert.deepEqual(steps.map(function (s) { return s.step; }), ['onLoad', 'onShow', 'onReady', 'reachBottom', 'tap toggle']);
    assert.equal(steps[3].action, 'step 0');
    assert.deepEqual(steps[3].requests.original, [fx.ORIGIN + '/v2/notice?page=2&pageSize=20&cityCode=330100'].map(function (u) { return 'GET ' + u + ' 200'; }));
    assert.deepEqual(report.packages.original, report.packages.migrated);
    assert.ok(report.packages.original.main > 0 && report.packages.original.rideHistory > 0);
  });
});

test('runVerify: a changed page in the copy is reported with its page, step and path', function () {
  var dir = h.writeApp({});
  fs.cpSync(APP, dir, { recursive: true });
  var file = path.join(dir, 'miniprogram/pages/notice/notice.js');
  // the copy's onReady renames one notice
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/Page\(\{/, "Page({\n  onReady() { this.setData({ 'list[1].title': 'changed' }) },"));
  return fx.backend.start().then(function (be) {
    var backends = {};
    backends[fx.ORIGIN] = be.base;
    return verify.runVerify({
      original: APP, migrated: dir, shim: 'http://127.0.0.1:9', env: 'e', backends: backends,
      script: { pages: [{ route: 'pages/notice/notice' }] }
    }).finally(be.close);
  }).then(function (report) {
    assert.equal(report.equal, false);
    var steps = report.pages[0].steps;
    assert.deepEqual(steps.map(function (s) { return s.equal; }), [true, true, false]);
    assert.deepEqual(steps[2].differences, [{ path: 'list[1].title', original: '公告 1-1', migrated: 'changed' }]);
  }).finally(function () { h.removeApp(dir); });
});

// ---------------------------------------------------------------------------------------------
// end to end: apply, serve, verify.js as the Rust side runs it

// A migrated bus-ride served by `migrate serve`, its functions forwarding to the loopback
// backend; `breakIt(setting)` may damage the migrated copy before serve starts.
function withMigration(breakIt, run) {
  var setting = fx.prepare(BIN);
  var servers = [];
  return fx.backend.start().then(function (be) {
    servers.push(be);
    setting.backend = be;
    fx.retarget(setting.migrated, be.base);
    return breakIt ? breakIt(setting, servers) : null;
  }).then(function () {
    return fx.serve(BIN, setting.migrated);
  }).then(function (serve) {
    setting.serve = serve;
    return run(setting);
  }).finally(function () {
    return Promise.all([setting.serve ? setting.serve.stop() : null].concat(servers.map(function (s) { return s.close(); })))
      .then(function () { fx.remove(setting.dir); });
  });
}

function cliArgs(setting, script) {
  var args = ['--original', setting.original, '--migrated', setting.migrated, '--shim', setting.serve.url, '--env', fx.ENV,
    '--backend', fx.ORIGIN + '=' + setting.backend.base];
  if (script) {
    var file = path.join(setting.dir, 'script.json');
    fs.writeFileSync(file, typeof script === 'string' ? fs.readFileSync(script) : JSON.stringify(script));
    args.push('--script', file);
  }
  return args;
}

function pageOf(report, route) {
  return report.pages.filter(function (p) { return p.route === route; })[0];
}

// Known defect of `migrate apply` (see the report of this change): a data set moved out of a
// page's `data` initialiser is loaded with `loadData(...).then(v => setData({ set: v }))` at the
// top of onLoad, but values the page derives from it synchronously in onLoad are computed
// from the still empty list and never recomputed: city-select's `hotCities` (12 cities →
// []) and faq's `filtered` (64 entries → [], until a category tap filters again).
test('bus-ride, migrated faithfully: every page and step verifies equal', { skip: E2E_SKIP }, function () {
  return withMigration(null, function (setting) {
    return fx.runCli(cliArgs(setting, SCRIPT)).then(function (r) {
      assert.ok(r.report, 'a JSON report on stdout; stderr: ' + r.stderr);
      var report = r.report;
      // (Before apply awaited a data set that onLoad itself reads, city-select's hotCities and
      // faq's filtered came out empty here: verify caught it.)
      assert.equal(r.status, 0, r.stderr + JSON.stringify(report.pages.filter(function (p) { return !p.equal; })).slice(0, 2000));
      assert.equal(report.equal, true);
      assert.deepEqual(report.errors, []);
      assert.equal(report.app.equal, true);
      report.pages.forEach(function (p) {
        p.steps.forEach(function (s) {
          assert.ok(s.equal, p.route + ' ' + (s.route || '') + ' ' + s.step + ': ' + JSON.stringify(s.differences).slice(0, 500));
          assert.deepEqual(s.errors, { original: [], migrated: [] });
        });
      });
      // the asset equivalence ran: the banners became file IDs and still verify equal
      var index = pageOf(report, 'pages/index/index');
      assert.equal(index.equal, true);
      // requests: the original's backend calls, the migrated app's cloud function calls
      var onLoad = index.steps[0];
      assert.deepEqual(onLoad.requests.original, ['GET ' + fx.ORIGIN + '/v2/stations/nearby?lat=30.274085&lng=120.15507&radius=800 200']);
      assert.deepEqual(onLoad.requests.migrated, ['cloud callFunction stations (GET /v2/stations/nearby?lat=30.274085&lng=120.15507&radius=800) 200']);
      // the package shrank: the moved assets and data left the main package
      assert.ok(report.packages.migrated.main < report.packages.original.main / 2, JSON.stringify(report.packages));
      assert.equal(report.packages.migrated.rideHistory, report.packages.original.rideHistory);
    });
  });
});

test('bus-ride without a script: every page of app.json, lifecycle only', { skip: E2E_SKIP }, function () {
  return withMigration(null, function (setting) {
    return fx.runCli(cliArgs(setting, null)).then(function (r) {
      assert.ok(r.report, r.stderr);
      assert.equal(r.report.pages.length, 11);
      var unequal = r.report.pages.filter(function (p) { return !p.equal; }).map(function (p) { return p.route; });
      assert.deepEqual(unequal, []);
      r.report.pages.forEach(function (p) {
        assert.deepEqual(p.steps.map(function (s) { return s.step; }), ['onLoad', 'onShow', 'onReady'], p.route);
      });
    });
  });
});

test('a moved asset as an HTTPS URL of the public base is downloaded from serve storage', { skip: E2E_SKIP }, function () {
  return withMigration(null, function (setting) {
    var o = { shim: setting.serve.url, env: fx.ENV, openid: 'o', appid: 'a', backends: {} };
    return verify.downloadMigrated(o, 'https://7665-verify-env.tcb.qcloud.la/images/banner/banner-1.jpg').then(function (bytes) {
      assert.equal(Buffer.compare(bytes, bytesOf('images/banner/banner-1.jpg')), 0);
      return verify.downloadMigrated(o, 'cloud://verify-env.7665-verify-env/images/guide/guide-pay.png');
    }).then(function (bytes) {
      assert.equal(Buffer.compare(bytes, bytesOf('images/guide/guide-pay.png')), 0);
      return verify.downloadMigrated(o, 'cloud://verify-env.7665-verify-env/images/none.png').then(function () {
        assert.fail('a missing object must not download');
      }, function (e) {
        assert.match(e.message, /NONEXIST|not exist|no such/i);
      });
    });
  });
});

test('broken migration (a): a record edited in a seed file', { skip: E2E_SKIP }, function () {
  return withMigration(function (setting) {
    var file = path.join(setting.migrated, 'cloud/database/fare_rules.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"label":"乘车码九折"', '"label":"乘车码八折"'));
  }, function (setting) {
    return fx.runCli(cliArgs(setting, { pages: [{ route: 'pages/ride-code/ride-code' }, { route: 'pages/notice/notice' }] })).then(function (r) {
      assert.equal(r.status, 1, r.stderr);
      var page = pageOf(r.report, 'pages/ride-code/ride-code');
      assert.equal(page.equal, false);
      assert.equal(pageOf(r.report, 'pages/notice/notice').equal, true);
      var onShow = page.steps.filter(function (s) { return s.step === 'onShow'; })[0];
      assert.deepEqual(onShow.differences, [{ path: 'discountLabel', original: '乘车码九折，最高 8 元', migrated: '乘车码八折，最高 8 元' }]);
    });
  });
});

test('broken migration (b): a moved asset swapped in cloud/storage', { skip: E2E_SKIP }, function () {
  return withMigration(function (setting) {
    // banner-2 replaced by banner-3's bytes: the file ID still resolves, the bytes differ
    fs.copyFileSync(path.join(setting.migrated, 'cloud/storage/images/banner/banner-3.jpg'), path.join(setting.migrated, 'cloud/storage/images/banner/banner-2.jpg'));
  }, function (setting) {
    return fx.runCli(cliArgs(setting, { pages: [{ route: 'pages/index/index' }] })).then(function (r) {
      assert.equal(r.status, 1, r.stderr);
      var onLoad = pageOf(r.report, 'pages/index/index').steps[0];
      assert.equal(onLoad.step, 'onLoad');
      assert.equal(onLoad.differences.length, 1);
      var d = onLoad.differences[0];
      assert.equal(d.path, 'banners[1].image');
      assert.equal(d.original, '/images/banner/banner-2.jpg');
      assert.equal(d.migrated, 'cloud://verify-env.7665-verify-env/images/banner/banner-2.jpg');
      assert.match(d.asset, /^different bytes: /);
    });
  });
});

test('broken migration (c): a route\'s target pointed at another backend', { skip: E2E_SKIP }, function () {
  return withMigration(function (setting, servers) {
    // a second backend whose notices have other titles; only the notice function goes there
    return fx.backend.start(function (routes) {
      return [['GET', /^\/v2\/notice$/, function () { return fx.backend.ok({ list: [{ id: 1, title: '别处的公告', content: '内容' }] }); }]].concat(routes);
    }).then(function (other) {
      servers.push(other);
      fx.retarget(setting.migrated, other.base, 'notice');
    });
  }, function (setting) {
    return fx.runCli(cliArgs(setting, { pages: [{ route: 'pages/notice/notice' }, { route: 'pages/mine/mine' }] })).then(function (r) {
      assert.equal(r.status, 1, r.stderr);
      assert.equal(pageOf(r.report, 'pages/mine/mine').equal, true);
      var onLoad = pageOf(r.report, 'pages/notice/notice').steps[0];
      assert.equal(onLoad.equal, false);
      assert.deepEqual(onLoad.differences[0], { path: 'list[0].id', original: 100, migrated: 1 });
      assert.deepEqual(onLoad.differences[1], { path: 'list[0].title', original: '公告 1-0', migrated: '别处的公告' });
      assert.deepEqual(onLoad.differences[2], { path: 'list[1]', original: { id: 101, title: '公告 1-1', content: '内容' }, missing: 'migrated' });
      assert.deepEqual(onLoad.differences.filter(function (d) { return d.path === 'hasMore'; }), [{ path: 'hasMore', original: true, migrated: false }]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// apps that do not run, and framework layouts

test('runVerify: pages whose app.js does not load on either side are not run, so not equal (the Taro stand-in build)', function () {
  var taro = path.join(__dirname, '../../../fixtures/apps/taro');
  return verify.runVerify({
    original: taro, migrated: taro, shim: 'http://127.0.0.1:9', env: 'e', backends: {},
    script: { pages: [{ route: 'pages/index/index' }] }
  }).then(function (report) {
    assert.equal(report.equal, false);
    assert.equal(report.pages[0].equal, false);
    assert.ok(report.pages[0].steps.every(function (s) { return s.equal; }), 'the two empty recordings alone look alike');
    assert.deepEqual(report.pages[0].notRun.filter(function (m) { return /^original: /.test(m); }),
      ["original: TypeError: Cannot set properties of undefined (setting '__taroAppConfig') (app.js:65)", 'original: app.js did not call App()']);
  });
});

test('resolveRoot: a uni-app project (manifest.json, pages.json) runs its WeChat build', function () {
  var uni = path.join(__dirname, '../../../fixtures/apps/uni-app');
  var where = require('../../js/mp-runtime').resolveRoot(uni);
  assert.equal(where.root, path.join(uni, 'unpackage/dist/dev/mp-weixin'));
  assert.equal(where.projectDir, uni);
});

test('the wx object: a bundler global read before the app sets it is absent, not a stand-in API', function () {
  var dir = h.writeApp({
    'app.json': { pages: ['pages/a/a'] },
    'app.js': 'var list = wx["webpackJsonp"] = wx["webpackJsonp"] || []; list.push(1); App({ globalData: { n: wx.webpackJsonp.length } })',
    'pages/a/a.js': 'Page({ data: { n: getApp().globalData.n } })'
  });
  var rt = require('../../js/mp-runtime').createRuntime({ appDir: dir });
  return rt.launch().then(function () { return rt.openPage('pages/a/a'); }).then(function (page) {
    assert.deepEqual(rt.recording().errors, []);
    assert.equal(page.steps[0].data.n, 1);
  }).finally(function () { rt.close(); h.removeApp(dir); });
});

// (the fixture's folders have no node_modules above them; with NODE_PATH, typescript.test.js
// and apps.test.js run such apps)
test('runVerify: TypeScript without compiled JS and no typescript package to compile it is not comparable, with the reason', function () {
  var ts = path.join(__dirname, '../../../fixtures/apps/ts-news');
  var saved = process.env.NODE_PATH;
  delete process.env.NODE_PATH;
  if (require('../../js/mp-runtime/loader.js').resolveTypescript(path.join(ts, 'miniprogram'))) {
    if (saved !== undefined) process.env.NODE_PATH = saved;
    assert.fail('a node_modules/typescript above fixtures/apps/ts-news: this test needs a checkout without one');
  }
  return verify.runVerify({ original: ts, migrated: ts, shim: 'http://127.0.0.1:9', env: 'e' }).then(function () {
    assert.fail('must not compare');
  }, function (e) {
    assert.ok(e instanceof verify.NotComparableError, String(e));
    assert.match(e.message, /^the original app is TypeScript \(\.ts files without their compiled \.js\) and the `typescript` package is not installed for it/);
    assert.match(e.message, /`npm i -D typescript`.*or compile the app to JavaScript first/);
  }).finally(function () {
    if (saved !== undefined) process.env.NODE_PATH = saved;
  });
});

// ---------------------------------------------------------------------------------------------
// a route ported from `proxy` to a handler that reads the migrated collection

// The notices of the loopback backend (page 1: 20, page 2: 5) as records of a collection
// `notices`, in the order the backend lists them.
function noticeSeeds() {
  var rows = fx.backend.notices(1, 20).concat(fx.backend.notices(2, 5));
  return rows.map(function (n, i) {
    return JSON.stringify({ _id: 'notice-' + n.id, seq: i, cityCode: '330100', id: n.id, title: n.title, content: n.content }) + '\n';
  }).join('');
}

// GET /v2/notice switched to the handler `ported/notice-list.js` (with `order` for the
// notices' sort), its collection seeded, and the route's old target made unreachable, so
// only the handler can answer.
function portNotice(setting, order) {
  var fn = path.join(setting.migrated, 'cloudfunctions/notice');
  fs.mkdirSync(path.join(fn, 'handlers'));
  var src = fs.readFileSync(path.join(__dirname, 'ported/notice-list.js'), 'utf8');
  assert.ok(src.indexOf("const ORDER = 'asc';") >= 0);
  fs.writeFileSync(path.join(fn, 'handlers/notice-list.js'), src.replace("const ORDER = 'asc';", 'const ORDER = ' + JSON.stringify(order) + ';'));
  var conf = JSON.parse(fs.readFileSync(path.join(fn, 'routes.json'), 'utf8'));
  var route = conf.routes.filter(function (r) { return r.id === 'GET /v2/notice'; })[0];
  assert.equal(route.mode, 'proxy');
  route.mode = 'handler';
  route.handler = 'notice-list';
  route.target = 'http://127.0.0.1:9';
  fs.writeFileSync(path.join(fn, 'routes.json'), JSON.stringify(conf, null, 2));
  fs.writeFileSync(path.join(setting.migrated, 'cloud/database/notices.json'), noticeSeeds());
}

var NOTICE_SCRIPT = { pages: [{ route: 'pages/notice/notice', steps: [{ reachBottom: true }, { tap: 'toggle', dataset: { index: 3 } }, { pullDownRefresh: true }] }] };

test('a route ported to a handler reading the migrated collection with wx-server-sdk still verifies equal', { skip: E2E_SKIP }, function () {
  return withMigration(function (setting) { portNotice(setting, 'asc'); }, function (setting) {
    return fx.runCli(cliArgs(setting, NOTICE_SCRIPT)).then(function (r) {
      assert.ok(r.report, r.stderr);
      var page = pageOf(r.report, 'pages/notice/notice');
      assert.equal(r.status, 0, JSON.stringify(page.steps.filter(function (s) { return !s.equal; })).slice(0, 2000));
      assert.equal(page.equal, true);
      assert.deepEqual(page.steps.map(function (s) { return s.step; }), ['onLoad', 'onShow', 'onReady', 'reachBottom', 'tap toggle', 'pullDownRefresh']);
      assert.deepEqual(page.steps[3].requests.migrated, ['cloud callFunction notice (GET /v2/notice?page=2&pageSize=20&cityCode=330100) 200']);
      // the migrated side never reached the old backend for notices: only the original did
      var hits = setting.backend.hits.filter(function (x) { return /^GET \/v2\/notice/.test(x); });
      assert.equal(hits.length, 3, JSON.stringify(hits));
    });
  });
});

test('a ported handler that returns something else (the notices in reverse) is caught', { skip: E2E_SKIP }, function () {
  return withMigration(function (setting) { portNotice(setting, 'desc'); }, function (setting) {
    return fx.runCli(cliArgs(setting, NOTICE_SCRIPT)).then(function (r) {
      assert.equal(r.status, 1, r.stderr);
      var page = pageOf(r.report, 'pages/notice/notice');
      var onLoad = page.steps[0];
      assert.equal(onLoad.equal, false);
      assert.deepEqual(onLoad.differences[0], { path: 'list[0].id', original: 100, migrated: 204 });
      assert.deepEqual(onLoad.differences[1], { path: 'list[0].title', original: '公告 1-0', migrated: '公告 2-4' });
    });
  });
});
