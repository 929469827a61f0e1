// mp-runtime unit tests on small apps written to a temp folder: setData paths, module
// loading, Component/Behavior pages, timers and idle, error recording, the wx contract,
// and wx.cloud through artifacts/js/wx-cloud-shim.js.
'use strict';

var test = require('node:test');
var assert = require('node:assert/strict');
var path = require('path');

var mp = require('../../js/mp-runtime');
var dataPath = require('../../js/mp-runtime/data-path.js');
var esm = require('../../js/mp-runtime/esm.js');
var h = require('./helpers.js');

function plain(x) {
  return JSON.parse(JSON.stringify(x));
}

// ---------------------------------------------------------------------------------------------
// setData paths

test('parsePath: keys, dots and indexes; bad paths throw', function () {
  assert.deepEqual(dataPath.parsePath('a.b[2].c'), ['a', 'b', 2, 'c']);
  assert.deepEqual(dataPath.parsePath('list[0].name'), ['list', 0, 'name']);
  assert.deepEqual(dataPath.parsePath('m[1][2]'), ['m', 1, 2]);
  assert.deepEqual(dataPath.parsePath('expanded.12'), ['expanded', '12']);
  assert.throws(function () { dataPath.parsePath('a[x]'); }, /bad index/);
  assert.throws(function () { dataPath.parsePath('a..b'); }, /bad data path/);
  assert.throws(function () { dataPath.parsePath('[0]'); }, /bad data path/);
});

test('applySetData: paths create what is missing; values are JSON copies', function () {
  var data = { list: [{ name: 'a', n: 1 }], a: null };
  var src = { x: 1 };
  var changed = dataPath.applySetData(data, {
    'list[0].name': 'b',
    'a.b[2].c': 5,
    'fresh[1]': 'y',
    obj: src,
    when: new Date(0),
    fn: function () {},
    gone: undefined,
    mixed: { keep: 1, drop: undefined, f: function () {} }
  });
  assert.deepEqual(changed, ['list[0].name', 'a.b[2].c', 'fresh[1]', 'obj', 'when', 'mixed']);
  assert.deepEqual(data.list, [{ name: 'b', n: 1 }]);
  assert.equal(data.a.b.length, 3);
  assert.deepEqual(data.a.b[2], { c: 5 });
  assert.equal(data.fresh.length, 2);
  assert.equal(data.fresh[1], 'y');
  assert.deepEqual(data.obj, { x: 1 });
  src.x = 2;
  assert.equal(data.obj.x, 1, 'a copy, not the caller\'s object');
  assert.equal(data.when, '1970-01-01T00:00:00.000Z');
  assert.equal('fn' in data, false);
  assert.equal('gone' in data, false);
  assert.deepEqual(data.mixed, { keep: 1 });
});

// ---------------------------------------------------------------------------------------------
// a small app exercising the runtime

var APP_FILES = {
  'project.config.json': { miniprogramRoot: 'mp/', appid: 'wxtest00000000000' },
  'mp/app.json': {
    pages: ['pages/a/a', 'pages/comp/comp', 'pages/timers/timers', 'pages/errs/errs', 'pages/net/net', 'pages/cloud/cloud'],
    resolveAlias: { '~/*': 'lib/*' }
  },
  'mp/app.js': "const v = require('./lib/version'); App({ globalData: { v: v, launched: 0 }, onLaunch(o) { this.globalData.launched++; this.globalData.path = o.path } })",
  'mp/lib/version.js': 'module.exports = 3',
  'mp/lib/folder/index.js': 'exports.fromIndex = true',
  'mp/lib/esm.js': "import def, { twice as double } from './esm-dep'\nimport * as ns from './esm-dep'\nexport let counter = 0\nexport function bump() { counter++ }\nexport default { def, double, ns: Object.keys(ns).sort() }\n",
  'mp/lib/esm-dep.js': "export const twice = x => x * 2\nexport default 'dep-default'\n",
  'mp/lib/only-ts.ts': 'export const x: number = 1',
  'mp/lib/data.json': '{ "items": [1, 2] }',
  'mp/lib/count.js': 'global.loads = (global.loads || 0) + 1; module.exports = global.loads',
  'mp/miniprogram_npm/pkg-main/package.json': '{ "main": "dist/entry.js" }',
  'mp/miniprogram_npm/pkg-main/dist/entry.js': "module.exports = { name: 'pkg-main' }",
  'mp/miniprogram_npm/pkg-index/index.js': "module.exports = 'pkg-index'",
  'mp/pages/a/a.js': [
    "const esm = require('~/esm')",
    "const mod = require('../../lib/esm.js')",
    'Page({',
    "  data: { list: [{ name: 'x' }], n: 0, from: {} },",
    '  counter: 0,',
    '  onLoad(q) {',
    '    mod.bump()',
    "    const npmMain = require('pkg-main'), npmIndex = require('pkg-index')",
    "    this.setData({ q, 'from.rel': require('../../lib/version'), 'from.root': require('/lib/folder').fromIndex,",
    "      'from.npm': [npmMain.name, npmIndex], 'from.json': require('/lib/data.json').items,",
    "      'from.esm': esm.default, 'from.live': mod.counter, 'from.cache': [require('/lib/count'), require('../../lib/count.js')],",
    "      'from.app': getApp().globalData.v, 'from.pages': getCurrentPages().length })",
    '  },',
    "  rename(e) { this.setData({ ['list[' + e.currentTarget.dataset.i + '].name']: e.detail.value }, () => this.setData({ n: this.data.n + 1 })) },",
    "  loadTs() { this.setData({ 'from.ts': require('/lib/only-ts').x }) }",
    '})'
  ].join('\n'),
  'mp/behaviors/base.js': "module.exports = Behavior({ data: { base: true, shared: { a: 1 } }, methods: { hello() { return 'base' }, both() { return 'base' } }, lifetimes: { attached() { this.setData({ order: (this.data.order || []).concat('behavior.attached') }) } } })",
  'mp/pages/comp/comp.js': [
    "const base = require('../../behaviors/base')",
    'Component({',
    '  behaviors: [base],',
    '  properties: { id: Number, flag: { type: Boolean, value: false }, title: { type: String, value: "t", observer(v) { this.setData({ seenTitle: v }) } } },',
    '  data: { shared: { b: 2 }, order: [], sum: 0 },',
    "  observers: { 'list[0], sum': function (first, sum) { this.setData({ watched: [first, sum] }) } },",
    "  lifetimes: { created() { this.created = true }, attached() { this.setData({ order: this.data.order.concat('attached') }) }, ready() { this.setData({ order: this.data.order.concat('ready') }) } },",
    "  pageLifetimes: { show() { this.setData({ order: this.data.order.concat('page.show') }) } },",
    '  methods: {',
    "    onLoad(q) { this.setData({ order: this.data.order.concat('onLoad'), idType: typeof this.data.id, hello: this.hello(), both: this.both(), props: this.properties === this.data }) },",
    "    both() { return 'own' },",
    "    add(e) { this.setData({ sum: this.data.sum + e.detail.n, 'list[0]': 'first' }) },",
    "    retitle() { this.setData({ title: 'new' }) }",
    '  }',
    '})'
  ].join('\n'),
  'mp/pages/timers/timers.js': [
    'Page({',
    '  data: { log: [] },',
    '  push(x) { this.setData({ log: this.data.log.concat(x) }) },',
    '  onLoad() {',
    "    setTimeout(() => this.push('t300'), 300)",
    "    setTimeout(() => { this.push('t100'); setTimeout(() => this.push('t100+50'), 50) }, 100)",
    "    const cancelled = setTimeout(() => this.push('never'), 10); clearTimeout(cancelled)",
    "    setTimeout(() => this.push('long'), 60000)",
    "    setInterval(() => this.push('tick'), 1000)",
    "    wx.nextTick(() => this.push('nextTick'))",
    "    Promise.resolve().then(() => this.push('micro'))",
    '  },',
    '  poll() { const again = () => { this.push("p"); setTimeout(again, 10) }; again() }',
    '})'
  ].join('\n'),
  'mp/pages/errs/errs.js': [
    'Page({',
    '  data: { after: false },',
    '  onLoad() {',
    "    setTimeout(() => { null.x }, 10)",
    '    this.setData({ after: true })',
    '  },',
    "  syncThrow() { throw new Error('sync boom') },",
    "  async asyncThrow() { await null; throw new Error('async boom') },",
    "  rejectLater() { Promise.reject(new Error('nobody catches')) },",
    "  badCallback() { wx.getStorage({ key: 'k', fail() { undefinedFunction() } }) }",
    '})'
  ].join('\n'),
  'mp/pages/net/net.js': [
    "const BASE = 'https://api.test.example.com'",
    'Page({',
    '  data: {},',
    '  get(e) {',
    "    wx.request({ url: BASE + '/echo?x=1', data: { a: 1, b: 'x y', o: { k: 1 } }, success: res => this.setData({ get: res.data, status: res.statusCode, errMsg: res.errMsg, cookies: res.cookies }) })",
    '  },',
    '  post() {',
    "    wx.request({ url: BASE + '/echo', method: 'POST', data: { a: [1, 2] }, success: res => this.setData({ json: res.data }) })",
    "    wx.request({ url: BASE + '/echo', method: 'POST', header: { 'content-type': 'application/x-www-form-urlencoded' }, data: { a: 1, b: 'x&y' }, success: res => this.setData({ form: res.data }) })",
    "    wx.request({ url: BASE + '/text', dataType: 'text', success: res => this.setData({ text: res.data }) })",
    "    wx.request({ url: BASE + '/status/500', success: res => this.setData({ s500: [res.statusCode, res.data.code] }), fail: () => this.setData({ s500: 'fail' }) })",
    '  },',
    '  hang() {',
    "    const task = wx.request({ url: BASE + '/hang', fail: err => this.setData({ aborted: err.errMsg }) })",
    '    setTimeout(() => task.abort(), 20)',
    '  },',
    "  hangForever() { wx.request({ url: BASE + '/hang' }) },",
    '  async misc() {',
    "    const modal = await wx.showModal({ title: 'sure?' })",
    "    const login = await wx.login()",
    "    wx.setStorageSync('k', { v: [1] })",
    "    const got = await wx.getStorage({ key: 'k' })",
    "    let missing = null; try { await wx.getStorage({ key: 'nope' }) } catch (e) { missing = e.errMsg }",
    "    wx.startBluetoothDevicesDiscovery({ success: () => this.setData({ unknownOk: true }) })",
    "    this.setData({ modal: modal.confirm, code: login.code, got: got.data, missing, info: wx.getStorageInfoSync().keys, canIUse: [wx.canIUse('request'), wx.canIUse('noSuchApi')], hasCloud: typeof wx.cloud })",
    '  }',
    '})'
  ].join('\n'),
  'mp/pages/cloud/cloud.js': [
    'Page({',
    '  data: {},',
    "  onLoad() { wx.cloud.init({ env: 'env-1' }) },",
    "  call() { wx.cloud.callFunction({ name: 'sum', data: { a: 1, b: 2 } }).then(res => this.setData({ result: res.result })) },",
    "  query() { wx.cloud.database().collection('todos').where({ done: false }).get().then(res => this.setData({ todos: res.data })) }",
    '})'
  ].join('\n')
};

var appDir;
var server;
test.before(function () {
  appDir = h.writeApp(APP_FILES);
  return h.startServer([
    ['*', /^\/echo$/, function (r) {
      return { json: { method: r.method, query: r.query, type: r.headers['content-type'] || null, body: r.text, referer: r.headers.referer } };
    }],
    ['GET', /^\/text$/, function () { return { json: { not: 'parsed' } }; }],
    ['GET', /^\/status\/500$/, function () { return { status: 500, json: { code: 500 } }; }],
    ['GET', /^\/hang$/, function () { return 'hang'; }],
    ['POST', /^\/client$/, function (r) {
      var b = r.json;
      if (b.action === 'functions.invokeFunction') {
        var args = JSON.parse(b.request_data);
        return { json: { requestId: 'rq1', data: { response_data: JSON.stringify({ sum: args.a + args.b, openid: r.headers['x-wx-openid'] }) } } };
      }
      if (b.action === 'database.getDocument') {
        return { json: { requestId: 'rq2', data: { list: ['{"_id":"t1","title":"write tests","done":false}'], limit: 20, offset: 0 } } };
      }
      return { json: { code: 'UNKNOWN', message: 'unexpected ' + b.action } };
    }]
  ]).then(function (s) { server = s; });
});
test.after(function () {
  h.removeApp(appDir);
  return server.close();
});

function runtime(extra) {
  return mp.createRuntime(Object.assign({ appDir: appDir, hosts: { 'https://api.test.example.com': server.base } }, extra || {}));
}

test('the project folder resolves to its miniprogramRoot; app.js runs once with launch options', function () {
  var rt = runtime();
  assert.equal(rt.root, path.join(appDir, 'mp'));
  return rt.launch({ from: 'test' }).then(function () { return rt.launch(); }).then(function (app) {
    assert.deepEqual(app.steps.map(function (s) { return s.step; }), ['onLaunch', 'onShow']);
    assert.deepEqual(app.steps[1].data, { v: 3, launched: 1, path: 'pages/a/a' });
  }).finally(rt.close);
});

test('require: relative, rooted, alias, folder index, miniprogram_npm, JSON, ES modules, cache', function () {
  var rt = runtime();
  return rt.openPage('pages/a/a', { k: 'v' }).then(function (page) {
    assert.deepEqual(page.data.q, { k: 'v' });
    assert.deepEqual(page.data.from, {
      rel: 3, root: true, npm: ['pkg-main', 'pkg-index'], json: [1, 2],
      esm: { def: 'dep-default', ns: ['default', 'twice'] }, // `double`, a function, is dropped by setData
      live: 1, cache: [1, 1], app: 3, pages: 1
    });
    assert.deepEqual(rt.recording().errors, []);
    // a module that exists only as .ts is compiled on load (typescript.test.js has the rest);
    // NODE_PATH names the typescript of tests/node, wherever the temp folder is
    var saved = process.env.NODE_PATH;
    process.env.NODE_PATH = path.join(__dirname, '../../../tests/node/node_modules');
    return page.tap('loadTs').finally(function () {
      if (saved === undefined) delete process.env.NODE_PATH;
      else process.env.NODE_PATH = saved;
    });
  }).then(function (step) {
    assert.deepEqual(rt.recording().errors, []);
    assert.equal(step.data.from.ts, 1);
  }).finally(rt.close);
});

test('setData through a page: a path from a handler, then the callback after it', function () {
  var rt = runtime();
  return rt.openPage('pages/a/a').then(function (page) {
    return page.input('rename', 'renamed', { i: 0 });
  }).then(function (step) {
    assert.equal(step.step, 'input');
    assert.equal(step.handler, 'rename');
    assert.deepEqual(step.data.list, [{ name: 'renamed' }]);
    assert.equal(step.data.n, 1, 'the setData callback ran within the step');
  }).finally(rt.close);
});

test('Component as a page: Behavior merge, properties from the query, lifetimes order, observers', function () {
  var rt = runtime();
  return rt.openPage('pages/comp/comp', { id: '42', title: 'hello' }).then(function (page) {
    var d = page.data;
    assert.equal(d.id, 42);
    assert.equal(d.idType, 'number');
    assert.equal(d.flag, false);
    assert.equal(d.title, 'hello');
    assert.deepEqual(d.order, ['behavior.attached', 'attached', 'onLoad', 'page.show', 'ready']);
    assert.equal(d.base, true);
    assert.deepEqual(d.shared, { a: 1, b: 2 });
    assert.equal(d.hello, 'base');
    assert.equal(d.both, 'own');
    assert.equal(d.props, true);
    assert.equal(page.instance.created, true);
    assert.equal(d.watched, undefined, 'observers do not run for the initial values');
    return page.tap('add', {}, { n: 5 });
  }).then(function (step) {
    assert.deepEqual(step.data.watched, ['first', 5]);
    return rt.currentPage().tap('retitle');
  }).then(function (step) {
    assert.equal(step.data.seenTitle, 'new');
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('idle: timers run in due order on a virtual clock; long ones dropped, intervals cleared', function () {
  var rt = runtime();
  var started = Date.now();
  return rt.openPage('pages/timers/timers').then(function (page) {
    var onLoad = page.steps[0];
    assert.deepEqual(onLoad.data.log, ['micro', 'nextTick', 't100', 't100+50', 't300', 'tick', 'tick', 'tick']);
    assert.deepEqual(onLoad.notes, [
      { kind: 'timeout', delay: 60000, action: 'dropped', reason: 'delay over 5000 ms' },
      { kind: 'interval', delay: 1000, action: 'cleared', reason: 'after 3 ticks' }
    ]);
    assert.ok(Date.now() - started < 2000, 'no real sleeping');
    return page.tap('poll');
  }).then(function (step) {
    // a timer that re-arms itself forever is cut off
    assert.equal(step.data.log.filter(function (x) { return x === 'p'; }).length, 201);
    assert.equal(step.notes[0].action, 'dropped');
  }).finally(rt.close);
});

test('idle: the overall timeout reports what is still pending', function () {
  var rt = runtime({ idleTimeout: 300 });
  return rt.openPage('pages/net/net').then(function (page) {
    return page.tap('hangForever');
  }).then(function (step) {
    assert.deepEqual(step.pending, ['request GET https://api.test.example.com/hang']);
    assert.match(rt.recording().errors[0].message, /^not idle after 300 ms; still pending: request GET/);
  }).finally(rt.close);
});

test('errors: sync, async, timer callback, wx callback and unhandled rejections are recorded', function () {
  var rt = runtime();
  return rt.openPage('pages/errs/errs').then(function (page) {
    assert.equal(page.data.after, true);
    return page.tap('syncThrow')
      .then(function () { return page.tap('asyncThrow'); })
      .then(function () { return page.tap('rejectLater'); })
      .then(function () { return page.tap('badCallback'); })
      .then(function () { return page.tap('noSuchHandler'); });
  }).then(function () {
    var errors = rt.recording().errors.map(function (e) { return [e.step, e.file, e.line, e.message, e.where]; });
    assert.deepEqual(errors, [
      ['onLoad', 'pages/errs/errs.js', 4, "TypeError: Cannot read properties of null (reading 'x')", 'setTimeout callback'],
      ['tap', 'pages/errs/errs.js', 7, 'sync boom', 'tap of pages/errs/errs'],
      ['tap', 'pages/errs/errs.js', 8, 'async boom', 'tap of pages/errs/errs'],
      ['tap', 'pages/errs/errs.js', 9, 'nobody catches', 'unhandled promise rejection'],
      ['tap', 'pages/errs/errs.js', 10, 'ReferenceError: undefinedFunction is not defined', 'wx.getStorage fail callback'],
      ['tap', null, null, 'no handler "noSuchHandler" on pages/errs/errs', 'tap']
    ]);
  }).finally(rt.close);
});

test('wx.request: query strings, JSON and form bodies, dataType, any HTTP status, abort', function () {
  var rt = runtime();
  var page;
  return rt.openPage('pages/net/net').then(function (p) {
    page = p;
    return page.tap('get');
  }).then(function (step) {
    assert.deepEqual(step.data.get.query, { x: '1', a: '1', b: 'x y', o: '{"k":1}' });
    assert.equal(step.data.get.referer, 'https://servicewechat.com/wxtest00000000000/devtools/page-frame.html');
    assert.equal(step.data.status, 200);
    assert.equal(step.data.errMsg, 'request:ok');
    assert.deepEqual(step.data.cookies, []);
    assert.equal(step.requests[0].url, 'https://api.test.example.com/echo?x=1&a=1&b=x%20y&o=%7B%22k%22%3A1%7D');
    return page.tap('post');
  }).then(function (step) {
    assert.deepEqual([step.data.json.type, step.data.json.body], ['application/json', '{"a":[1,2]}']);
    assert.deepEqual([step.data.form.type, step.data.form.body], ['application/x-www-form-urlencoded', 'a=1&b=x%26y']);
    assert.equal(step.data.text, '{"not":"parsed"}');
    assert.deepEqual(step.data.s500, [500, 500]);
    assert.deepEqual(step.requests.map(function (r) { return r.status; }), [200, 200, 200, 500]);
    return page.tap('hang');
  }).then(function (step) {
    assert.equal(step.data.aborted, 'request:fail abort');
    assert.equal(step.requests[0].error, 'request:fail abort');
  }).finally(rt.close);
});

test('wx: promise style, storage copies, login option, unknown APIs recorded, no wx.cloud by default', function () {
  var rt = runtime({ login: function () { return Promise.resolve('code-from-test'); } });
  return rt.openPage('pages/net/net').then(function (page) {
    return page.tap('misc');
  }).then(function (step) {
    assert.deepEqual(step.data, {
      modal: true, code: 'code-from-test', got: { v: [1] }, missing: 'getStorage:fail data not found',
      unknownOk: true, info: ['k'], canIUse: [true, false], hasCloud: 'undefined'
    });
    assert.deepEqual(step.ui, [{ api: 'showModal', title: 'sure?' }]);
    assert.deepEqual(step.unknown, ['startBluetoothDevicesDiscovery']);
    assert.deepEqual(rt.recording().unknownApis, ['startBluetoothDevicesDiscovery']);
  }).finally(rt.close);
});

test('wx.cloud through wx-cloud-shim.js: calls go over HTTP to the shim and are awaited', function () {
  var shim = require('../../js/wx-cloud-shim.js');
  var rt = runtime({
    cloud: function (wx) { shim.install({ wx: wx, url: server.base, openid: 'oTest', appid: 'wxtest00000000000', env: 'env-1' }); }
  });
  var page;
  return rt.openPage('pages/cloud/cloud').then(function (p) {
    page = p;
    return page.tap('call');
  }).then(function (step) {
    assert.deepEqual(step.data.result, { sum: 3, openid: 'oTest' });
    assert.deepEqual(step.cloud, [{ api: 'cloud.callFunction', name: 'sum', ok: true }]);
    assert.deepEqual(step.requests, [{ api: 'request', method: 'POST', url: server.base + '/client', status: 200 }]);
    return page.tap('query');
  }).then(function (step) {
    assert.deepEqual(step.data.todos, [{ _id: 't1', title: 'write tests', done: false }]);
    assert.deepEqual(rt.recording().errors, []);
  }).finally(rt.close);
});

test('esm.transform leaves strings, templates, comments and property names alone', function () {
  var src = [
    "const s = 'import x from \"y\"'",
    'const t = `${a} export default ${`import z from "q"`}`',
    '// import nope from "nope"',
    'obj.import = 1; obj.export = 2',
    'const r = /export default/.test(s)',
    'import("dynamic")'
  ].join('\n');
  assert.deepEqual(esm.findStatements(src), []);
  var out = esm.transform('export default function named() {}\nexport { named as alias }\n');
  assert.equal(out.esm, true);
  assert.equal(out.code.split('\n').length, 3, 'line count kept');
});

// A module whose text cannot be turned into CommonJS (here an import specifier the ES module
// rewrite does not take) must fail every require, as one whose evaluation throws does; it
// used to stay registered with empty exports, so a second require returned `{}` silently.
test('require: a module the ES module rewrite rejects is not left in the cache with empty exports', function () {
  var dir = h.writeApp({
    'app.json': { pages: ['pages/a/a'] },
    'app.js': 'App({})',
    'lib/bad.js': "const a = 1\nexport { a as 'quoted name' }",
    'pages/a/a.js': [
      'const tries = []',
      'for (let i = 0; i < 2; i++) {',
      "  try { tries.push(typeof require('../../lib/bad.js')) } catch (e) { tries.push('error: ' + e.message) }",
      '}',
      'Page({ data: { tries } })'
    ].join('\n')
  });
  var rt = require('../../js/mp-runtime').createRuntime({ appDir: dir });
  return rt.openPage('pages/a/a').then(function (page) {
    assert.deepEqual(plain(page.data.tries), ["error: unsupported import/export specifier: a as 'quoted name'", "error: unsupported import/export specifier: a as 'quoted name'"]);
  }).finally(function () {
    rt.close();
    h.removeApp(dir);
  });
});
