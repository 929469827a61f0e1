// mp-runtime: a WeChat mini-program page runtime in Node, for `migrate verify`.
//
//   const { createRuntime } = require('./mp-runtime')
//   const rt = createRuntime({ appDir, hosts: { 'https://api.example.com': 'http://127.0.0.1:8080' } })
//   await rt.launch()                                  // app.js: App() onLaunch, onShow
//   const page = await rt.openPage('pages/index/index', { id: '1' })   // onLoad, onShow, onReady
//   await page.tap('onSelect', { id: 3 })              // a handler with a synthetic event
//   rt.recording()                                     // { app, pages: [{ route, query, steps }], errors, ... }
//   rt.close()
//
// It loads the app's JS as the client does (./loader.js: one vm context per run, CommonJS
// and ES modules, miniprogram_npm), gives it `App`/`Page`/`Component`/`Behavior`/`getApp`/
// `getCurrentPages` and a `wx` (./wx-api.js) whose network calls are real HTTP, and runs
// each step (a lifecycle hook, an event handler) until the page is idle (./scheduler.js):
// no request or other async wx call pending, no timer left. After each step the page's data
// is recorded with the requests, UI calls and navigations the step made. Errors thrown by
// app code are recorded with the file and line, never thrown out of the runtime. See
// README.md for the options and the list of what is and is not supported.
'use strict';

var fs = require('fs');
var os = require('os');
var path = require('path');
var util = require('util');
var vm = require('vm');

var Loader = require('./loader.js').Loader;
var Scheduler = require('./scheduler.js').Scheduler;
var createWx = require('./wx-api.js').createWx;
var dataPath = require('./data-path.js');
var instance = require('./instance.js');
var rejections = require('./rejections.js');

var MAX_NAVIGATIONS_PER_STEP = 10;

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
}

// The folder with app.json: `appDir` itself, or the `miniprogramRoot` (legacy: `client`) of
// its project.config.json. Returns { root, projectDir }.
function resolveRoot(appDir) {
  var dir = path.resolve(appDir);
  if (fs.existsSync(path.join(dir, 'app.json'))) {
    var parent = path.dirname(dir);
    return { root: dir, projectDir: fs.existsSync(path.join(parent, 'project.config.json')) ? parent : dir };
  }
  var pc = path.join(dir, 'project.config.json');
  if (fs.existsSync(pc)) {
    var conf = readJson(pc);
    var sub = conf.miniprogramRoot || conf.client;
    if (sub && fs.existsSync(path.join(dir, sub, 'app.json'))) return { root: path.resolve(dir, sub), projectDir: dir };
  }
  // A uni-app project (HBuilderX layout: manifest.json and pages.json at the root): the
  // mini-program is its WeChat build, the release one (`build`) or the development one
  // (`dev`), whichever was built last.
  if (fs.existsSync(path.join(dir, 'manifest.json')) && fs.existsSync(path.join(dir, 'pages.json'))) {
    var builds = ['build', 'dev'].map(function (kind) {
      return path.join(dir, 'unpackage', 'dist', kind, 'mp-weixin');
    }).filter(function (b) { return fs.existsSync(path.join(b, 'app.json')); });
    builds.sort(function (a, b) { return fs.statSync(path.join(b, 'app.json')).mtimeMs - fs.statSync(path.join(a, 'app.json')).mtimeMs; });
    if (builds.length) return { root: builds[0], projectDir: dir };
  }
  throw new Error('mp-runtime: no app.json in ' + dir + ' (nor in the miniprogramRoot of its project.config.json)');
}

// 'pages/a/b?x=1' → { route: 'pages/a/b', query: { x: '1' } }
function splitUrl(url) {
  var s = String(url || '');
  var q = s.indexOf('?');
  var query = {};
  if (q >= 0) {
    s.slice(q + 1).split('&').forEach(function (pair) {
      if (!pair) return;
      var i = pair.indexOf('=');
      var k = i < 0 ? pair : pair.slice(0, i);
      var v = i < 0 ? '' : pair.slice(i + 1);
      try {
        query[decodeURIComponent(k)] = decodeURIComponent(v);
      } catch (e) {
        query[k] = v;
      }
    });
    s = s.slice(0, q);
  }
  return { route: s.replace(/^\/+/, '').replace(/\.js$/, ''), query: query };
}

function hostClone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

// Where an error comes from: the first stack frame in one of the app's files (for a .ts
// module, the line of its source, through `sourceLine(file, line)`).
function errorOrigin(e, files, sourceLine) {
  var stack = e && typeof e.stack === 'string' ? e.stack : '';
  var re = /([^\s()]+\.(?:js(?:on)?|ts)):(\d+):(\d+)/g;
  var m;
  while ((m = re.exec(stack))) {
    if (files[m[1]]) {
      var line = Number(m[2]);
      if (sourceLine && /\.ts$/.test(m[1])) return { file: m[1], line: sourceLine(m[1], line), column: null };
      return { file: m[1], line: line, column: Number(m[3]) };
    }
  }
  return { file: null, line: null, column: null };
}

function errorMessage(e) {
  if (e && typeof e.message === 'string') return (e.name && e.name !== 'Error' ? e.name + ': ' : '') + e.message;
  if (e && typeof e.errMsg === 'string') return e.errMsg;
  try {
    return typeof e === 'string' ? e : JSON.stringify(e);
  } catch (x) {
    return String(e);
  }
}

// `Date` of the context on a clock of our own: `now()` gives epoch ms. `new Date()`,
// `Date()` and `Date.now()` read it; dates built from arguments, `Date.parse`, `Date.UTC`,
// the prototype and `instanceof Date` are the context's own.
function installClock(context, now) {
  var install = vm.runInContext('(' + function () {
    return function (clock) {
      var RealDate = Date;
      function Date_(a, b, c, d, e, f, g) { // eslint-disable-line no-unused-vars
        if (!new.target) return new RealDate(clock()).toString();
        var args = Array.prototype.slice.call(arguments);
        return Reflect.construct(RealDate, args.length ? args : [clock()], new.target);
      }
      Object.defineProperty(Date_, 'name', { value: 'Date' });
      Object.setPrototypeOf(Date_, RealDate);
      Date_.prototype = RealDate.prototype;
      Date_.now = function now() { return clock(); };
      Object.defineProperty(RealDate.prototype, 'constructor', { value: Date_, writable: true, configurable: true, enumerable: false });
      Object.defineProperty(globalThis, 'Date', { value: Date_, writable: true, configurable: true, enumerable: false });
    };
  }.toString() + ')()', context);
  install(now);
}

function createRuntime(options) {
  options = options || {};
  if (!options.appDir) throw new Error('mp-runtime: appDir is required');
  var where = resolveRoot(options.appDir);
  var root = where.root;
  var appJson = readJson(path.join(root, 'app.json'));
  var project = {};
  try {
    project = readJson(path.join(where.projectDir, 'project.config.json'));
  } catch (e) {
    project = {};
  }
  var settleEachHook = options.settleEachHook !== false;
  var idleTimeout = options.idleTimeout || 10000;
  var log = typeof options.log === 'function' ? options.log : function () {};
  // ext.json `ext` (third-party platform apps), for wx.getExtConfigSync.
  function readExt() {
    try {
      var ext = readJson(path.join(root, 'ext.json'));
      return ext.extEnable === false ? {} : (ext.ext || {});
    } catch (e) {
      return {};
    }
  }
  var tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-runtime-'));
  fs.mkdirSync(path.join(tmpDir, 'usr'));

  // Pages the app declares: main package and subpackages.
  var declared = {};
  (appJson.pages || []).forEach(function (p) { declared[p] = 'main'; });
  (appJson.subpackages || appJson.subPackages || []).forEach(function (sp) {
    var r = String(sp.root || '').replace(/^\/+|\/+$/g, '');
    (sp.pages || []).forEach(function (p) { declared[r + '/' + p] = sp.name || r; });
  });
  var tabPages = ((appJson.tabBar && appJson.tabBar.list) || []).map(function (t) { return String(t.pagePath).replace(/^\/+/, ''); });

  // ---------------------------------------------------------------------------------------
  // recording

  var rec = { app: { steps: [] }, pages: [], errors: [], console: [], unknownApis: [] };
  var currentStep = null;
  var currentRoute = null;

  function beginStep(target, name, extra) {
    var step = Object.assign({ step: name }, extra || {}, { data: null, requests: [], ui: [] });
    target.steps.push(step);
    currentStep = step;
    return step;
  }
  function stepList(key) {
    var s = currentStep || beginStep(rec.app, 'script');
    if (!s[key]) s[key] = [];
    return s[key];
  }
  var loader; // set below; errors need its file list
  function recordError(e, whereText) {
    var origin = errorOrigin(e, loader ? loader.files : {}, loader ? loader.sourceLine.bind(loader) : null);
    var entry = {
      message: errorMessage(e),
      file: origin.file,
      line: origin.line,
      where: whereText || null,
      route: currentRoute,
      step: currentStep ? currentStep.step : null
    };
    rec.errors.push(entry);
    if (currentStep) (currentStep.errors = currentStep.errors || []).push(entry.message);
    log('error', '[mp-runtime] ' + (entry.file ? entry.file + ':' + entry.line + ' ' : '') + entry.message);
  }
  var recorder = {
    request: function (entry) { stepList('requests').push(entry); return entry; },
    ui: function (api, o) {
      var args = {};
      Object.keys(o || {}).forEach(function (k) { if (typeof o[k] !== 'function') args[k] = o[k]; });
      stepList('ui').push(Object.assign({ api: api }, hostClone(args)));
    },
    unknown: function (api) {
      var list = stepList('unknown');
      if (list.indexOf(api) < 0) list.push(api);
      if (rec.unknownApis.indexOf(api) < 0) rec.unknownApis.push(api);
    },
    note: function (n) { stepList('notes').push(hostClone(n)); },
    cloud: function (entry) { stepList('cloud').push(entry); return entry; },
    error: recordError
  };

  // ---------------------------------------------------------------------------------------
  // the context

  var scheduler = new Scheduler({
    timerCap: options.timerCap,
    maxIntervalTicks: options.maxIntervalTicks,
    stallTimeout: options.stallTimeout,
    onError: function (e, w) { recordError(e, w); },
    onNotice: function (n) { recorder.note(n); }
  });
  var context = vm.createContext({});
  // The run's clock: `Date` in the context reads the scheduler's virtual clock, counted
  // from `startTime` (default: the real time the runtime was made).
  var startTime = options.startTime == null ? Date.now() : Number(options.startTime);
  installClock(context, function () { return startTime + scheduler.now; });
  var CJSON = vm.runInContext('JSON', context);
  var CPromise = vm.runInContext('Promise', context);
  var storage = new Map();
  Object.keys(options.storage || {}).forEach(function (k) { storage.set(k, JSON.stringify(options.storage[k])); });

  var consoleObj = {};
  ['log', 'info', 'warn', 'error', 'debug', 'trace'].forEach(function (level) {
    consoleObj[level] = function () {
      var text = util.format.apply(null, arguments);
      rec.console.push({ level: level === 'trace' ? 'debug' : level, text: text, route: currentRoute });
      log(level, text);
    };
  });
  ['group', 'groupCollapsed', 'groupEnd', 'time', 'timeEnd', 'table', 'assert', 'count', 'dir'].forEach(function (k) {
    consoleObj[k] = function () {};
  });

  var appInstance = null;
  var launched = false;
  var launchOptions = null;
  var stack = [];          // open pages: { inst, entry, route, query, handle }
  var pageDefs = {};       // route → { kind, def }
  var registering = null;  // { file, route, result } while a page file runs
  var navQueue = [];

  function App(def) {
    if (appInstance) {
      recordError(new Error('App() called more than once'), 'App');
      return;
    }
    appInstance = def || {};
  }
  function Page(def) {
    if (registering && loader.current() === registering.file) registering.result = { kind: 'page', def: def || {} };
    else recordError(new Error('Page() called outside a page file (' + (loader.current() ? loader.relative(loader.current()) : 'no file') + ')'), 'Page');
  }
  function Component(def) {
    // A component loaded as a page registers it; components of the page's WXML are not
    // instantiated (there is no view layer), so other calls only check the definition.
    if (registering && loader.current() === registering.file) registering.result = { kind: 'component', def: def || {} };
  }
  function getApp() {
    return appInstance || undefined;
  }
  function getCurrentPages() {
    return stack.map(function (p) { return p.inst; });
  }

  var wx = createWx({
    scheduler: scheduler,
    rec: recorder,
    JSON: CJSON,
    Promise: CPromise,
    storage: storage,
    root: root,
    tmpDir: tmpDir,
    hosts: options.hosts,
    login: options.login,
    appid: project.appid,
    envVersion: options.envVersion,
    extConfig: readExt(),
    location: options.location === undefined ? { latitude: 30.274085, longitude: 120.15507 } : options.location,
    systemInfo: options.systemInfo,
    networkTimeout: appJson.networkTimeout,
    get launchOptions() { return launchOptions; },
    navigate: function (kind, o) { return queueNavigation(kind, o); }
  });

  var timers = scheduler.globals();
  var g = {
    console: consoleObj,
    setTimeout: timers.setTimeout,
    setInterval: timers.setInterval,
    clearTimeout: timers.clearTimeout,
    clearInterval: timers.clearInterval,
    queueMicrotask: function (fn) { CPromise.resolve().then(fn); },
    wx: wx,
    App: App,
    Page: Page,
    Component: Component,
    Behavior: instance.Behavior,
    getApp: getApp,
    getCurrentPages: getCurrentPages,
    requirePlugin: function (name) { throw new Error('requirePlugin("' + name + '"): plugins are not supported by the runtime'); },
    __wxConfig: hostClone(Object.assign({}, appJson, { envVersion: options.envVersion || 'release' }))
  };
  Object.keys(g).forEach(function (k) { context[k] = g[k]; });
  context.global = context;

  loader = new Loader({
    root: root,
    context: context,
    resolveAlias: appJson.resolveAlias,
    host: { JSON: CJSON }
  });

  if (typeof options.cloud === 'function') {
    options.cloud(wx);
    wrapCloud();
  }

  // wx.cloud.* calls: recorded per step, and pending until they settle. What they return
  // comes from the host realm (the adapter is loaded by Node, not in the run's context), so
  // Promises are handed over as the context's Promises and objects with methods (database,
  // collection, query, ...) behind a Proxy that does the same for what their methods return:
  // an unhandled failure in page code is then recognised as the app's.
  function wrapCloud() {
    var cloud = wx.cloud;
    if (!cloud) return;
    var targets = new WeakMap(); // proxy → the adapter's object
    var proxies = new WeakMap(); // the adapter's object → proxy
    function unwrap(x) {
      return (x && targets.has(x)) ? targets.get(x) : x;
    }
    function toCtx(v) {
      if (v && typeof v.then === 'function' && !(v instanceof CPromise)) {
        return new CPromise(function (resolve, reject) { v.then(resolve, reject); });
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
      var proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) return v; // plain data
      if (proxies.has(v)) return proxies.get(v);
      var p = new Proxy(v, {
        get: function (t, k) {
          var x = Reflect.get(t, k, t);
          if (typeof x !== 'function' || k === 'constructor') return toCtx(x);
          return function () {
            var args = Array.prototype.map.call(arguments, unwrap);
            return toCtx(x.apply(unwrap(this), args));
          };
        }
      });
      proxies.set(v, p);
      targets.set(p, v);
      return p;
    }
    Object.keys(cloud).forEach(function (name) {
      var orig = cloud[name];
      if (typeof orig !== 'function') return;
      cloud[name] = function (o) {
        if (name === 'init' || name === 'database') return toCtx(orig.apply(cloud, arguments));
        var entry = recorder.cloud({ api: 'cloud.' + name });
        if (o && typeof o.name === 'string') entry.name = o.name;
        var r = orig.apply(cloud, arguments);
        if (r && typeof r.then === 'function') {
          scheduler.track(r.then(function () { entry.ok = true; }, function (e) { entry.ok = false; entry.error = errorMessage(e); }), 'cloud.' + name);
        }
        return toCtx(r);
      };
    });
  }

  // Rejections of the app's promises nobody handled: recorded (the client logs them).
  var unregister = rejections.register({
    owns: function (promise) { return promise instanceof CPromise; },
    record: function (reason) { recordError(reason, 'unhandled promise rejection'); }
  });

  // ---------------------------------------------------------------------------------------
  // running app code

  function invoke(fn, self, args, whereText) {
    try {
      var r = fn.apply(self, args || []);
      if (r && typeof r.then === 'function') r.then(null, function (e) { recordError(e, whereText); });
      return r;
    } catch (e) {
      recordError(e, whereText);
      return undefined;
    }
  }

  function settle(step) {
    return scheduler.idle(idleTimeout).then(function (res) {
      if (!res.idle) {
        step.pending = res.pending;
        recordError(new Error('not idle after ' + idleTimeout + ' ms; still pending: ' + res.pending.join(', ')), 'idle');
      }
    });
  }

  // One step on a page: call `fns`, wait for idle (unless `settle` is false), record data.
  function runStep(p, name, fns, args, extra, doSettle, existing) {
    currentRoute = p.route;
    var step = existing || beginStep(p.entry, name, extra);
    currentStep = step;
    fns.forEach(function (fn) { invoke(fn, p.inst, args, name + ' of ' + p.route); });
    var wait = doSettle === false ? Promise.resolve() : settle(step);
    return wait.then(function () {
      step.data = hostClone(p.inst.data);
      return doSettle === false ? null : runNavigations(0);
    }).then(function () { return hostClone(step); });
  }

  function setDataOf(inst, patch, cb) {
    if (patch === null || typeof patch !== 'object') {
      recordError(new Error('setData: the argument must be an object'), 'setData');
      return;
    }
    var oldValues = {};
    if (inst.__mp.kind === 'component') Object.keys(inst.__mp.properties).forEach(function (k) { oldValues[k] = inst.data[k]; });
    var changed;
    try {
      changed = dataPath.applySetData(inst.data, patch, CJSON);
    } catch (e) {
      recordError(e, 'setData');
      return;
    }
    instance.triggeredObservers(inst, changed, oldValues).forEach(function (c) {
      invoke(c.fn, inst, c.args, 'observer');
    });
    if (typeof cb === 'function') {
      scheduler.track(new Promise(function (resolve) { setImmediate(resolve); }).then(function () {
        invoke(cb, inst, [], 'setData callback');
      }), 'setData callback');
    }
  }

  var proto = {
    setData: function (patch, cb) { setDataOf(this, patch, cb); },
    selectComponent: function () { return null; },
    selectAllComponents: function () { return []; },
    createSelectorQuery: function () { return wx.createSelectorQuery(); },
    createIntersectionObserver: function () { return wx.createIntersectionObserver(); },
    getTabBar: function () { return null; },
    getPageId: function () { return 'pageId:' + this.route; },
    triggerEvent: function (name, detail) { recorder.note({ api: 'triggerEvent', name: name, detail: hostClone(detail) }); },
    getOpenerEventChannel: function () {
      return { emit: function () {}, on: function () {}, once: function () {}, off: function () {} };
    },
    animate: function () {},
    clearAnimation: function () {}
  };

  // `name`.js under the root, else `name`.ts (an app DevTools compiles on build), else null.
  function scriptFile(name) {
    var js = path.join(root, name + '.js');
    if (fs.existsSync(js)) return js;
    var ts = path.join(root, name + '.ts');
    return fs.existsSync(ts) ? ts : null;
  }

  function pageJson(route) {
    try {
      return readJson(path.join(root, route + '.json'));
    } catch (e) {
      return {};
    }
  }

  function loadPageDef(route) {
    if (pageDefs[route]) return pageDefs[route];
    // The page's script: route.js, or route.ts compiled on load (./loader.js).
    var file = scriptFile(route);
    if (!file) throw new Error('mp-runtime: no ' + route + '.js (nor ' + route + '.ts)');
    registering = { file: file, route: route, result: null };
    currentRoute = route;
    try {
      loader.load(file);
    } catch (e) {
      recordError(e, 'loading ' + route + '.js');
    }
    var result = registering.result;
    registering = null;
    if (!result) {
      recordError(new Error(route + '.js did not call Page() or Component()'), 'loading ' + route + '.js');
      result = { kind: 'page', def: {} };
    }
    pageDefs[route] = result;
    return result;
  }

  // ---------------------------------------------------------------------------------------
  // pages and navigation

  function PageHandle(p) {
    this._p = p;
    this.route = p.route;
    this.query = hostClone(p.query);
  }
  Object.defineProperty(PageHandle.prototype, 'data', { get: function () { return hostClone(this._p.inst.data); } });
  Object.defineProperty(PageHandle.prototype, 'instance', { get: function () { return this._p.inst; } });
  Object.defineProperty(PageHandle.prototype, 'steps', { get: function () { return hostClone(this._p.entry.steps); } });
  Object.defineProperty(PageHandle.prototype, 'open', { get: function () { return stack.indexOf(this._p) >= 0; } });

  function eventObject(type, dataset, detail) {
    var target = { id: '', dataset: dataset || {}, offsetLeft: 0, offsetTop: 0 };
    return CJSON.parse(JSON.stringify({
      type: type, timeStamp: scheduler.now, target: target, currentTarget: target,
      detail: detail === undefined ? {} : detail, mark: {}, touches: [], changedTouches: []
    }));
  }

  // `handler`: a method name or a function (called with this = the page).
  PageHandle.prototype.trigger = function (handler, type, detail, dataset) {
    var p = this._p;
    var name = typeof handler === 'function' ? (handler.name || 'handler') : String(handler);
    var fn = typeof handler === 'function' ? handler : p.inst[name];
    var extra = { handler: name };
    if (dataset && Object.keys(dataset).length) extra.dataset = hostClone(dataset);
    if (typeof fn !== 'function') {
      recordError(new Error('no handler "' + name + '" on ' + p.route), type);
      return runStep(p, type, [], [], extra);
    }
    return runStep(p, type, [fn], [eventObject(type, dataset, detail)], extra);
  };
  PageHandle.prototype.tap = function (handler, dataset, detail) {
    return this.trigger(handler, 'tap', detail === undefined ? { x: 0, y: 0 } : detail, dataset);
  };
  PageHandle.prototype.input = function (handler, value, dataset) {
    var v = String(value);
    return this.trigger(handler, 'input', { value: v, cursor: v.length, keyCode: 0 }, dataset);
  };
  PageHandle.prototype.change = function (handler, value, dataset) {
    return this.trigger(handler, 'change', { value: value }, dataset);
  };
  // Call a page method with arguments of your own, as one step.
  PageHandle.prototype.call = function (method) {
    var args = Array.prototype.slice.call(arguments, 1);
    var p = this._p;
    var fn = p.inst[method];
    if (typeof fn !== 'function') {
      recordError(new Error('no method "' + method + '" on ' + p.route), 'call');
      return runStep(p, 'call', [], [], { handler: method });
    }
    return runStep(p, 'call', [fn], CJSON.parse(JSON.stringify(args)), { handler: method });
  };
  PageHandle.prototype.pullDownRefresh = function () {
    var p = this._p;
    var json = pageJson(p.route);
    var enabled = json.enablePullDownRefresh !== undefined ? json.enablePullDownRefresh : (appJson.window || {}).enablePullDownRefresh;
    var extra = enabled ? {} : { notes: [{ api: 'onPullDownRefresh', action: 'called anyway', reason: 'enablePullDownRefresh is not set for the page' }] };
    return runStep(p, 'pullDownRefresh', instance.hookFunctions(p.inst, 'onPullDownRefresh'), [], extra);
  };
  PageHandle.prototype.reachBottom = function () {
    return runStep(this._p, 'reachBottom', instance.hookFunctions(this._p.inst, 'onReachBottom'), []);
  };
  PageHandle.prototype.show = function () {
    return runStep(this._p, 'onShow', instance.hookFunctions(this._p.inst, 'onShow'), []);
  };
  PageHandle.prototype.hide = function () {
    return runStep(this._p, 'onHide', instance.hookFunctions(this._p.inst, 'onHide'), []);
  };
  PageHandle.prototype.unload = function () {
    var p = this._p;
    var i = stack.indexOf(p);
    if (i >= 0) stack.splice(i, 1);
    return runStep(p, 'onUnload', instance.hookFunctions(p.inst, 'onUnload'), []);
  };

  function openNew(route, query) {
    // The onLoad step starts before the page's file runs, so what its top level does (and
    // a load error) belongs to it.
    var entry = { route: route, query: hostClone(query), steps: [] };
    rec.pages.push(entry);
    var loadStep = beginStep(entry, 'onLoad');
    var def = loadPageDef(route);
    var inst = instance.createInstance(def.kind, def.def, route, query, { JSON: CJSON, proto: proto });
    var p = { inst: inst, entry: entry, route: route, query: query, handle: null };
    p.handle = new PageHandle(p);
    stack.push(p);
    var q = CJSON.parse(JSON.stringify(query || {}));
    var hooks = ['onLoad', 'onShow', 'onReady'];
    var chainP = Promise.resolve();
    hooks.forEach(function (h, i) {
      chainP = chainP.then(function () {
        var last = i === hooks.length - 1;
        return runStep(p, h, instance.hookFunctions(inst, h), h === 'onLoad' ? [q] : [], null, settleEachHook || last, h === 'onLoad' ? loadStep : null);
      });
    });
    return chainP.then(function () { return p.handle; });
  }

  function unloadTop() {
    var p = stack.pop();
    return runStep(p, 'onUnload', instance.hookFunctions(p.inst, 'onUnload'), []);
  }
  function unloadAll() {
    var chainP = Promise.resolve();
    var n = stack.length;
    for (var i = 0; i < n; i++) chainP = chainP.then(unloadTop);
    return chainP;
  }

  // The route a navigation URL names, relative to the current page for relative URLs.
  function resolveRoute(url) {
    var s = splitUrl(url);
    var raw = String(url || '').split('?')[0];
    var route = s.route;
    if (raw.charAt(0) !== '/' && stack.length) {
      var base = path.posix.dirname(stack[stack.length - 1].route);
      route = path.posix.normalize(path.posix.join(base, raw)).replace(/^\/+/, '');
    }
    return { route: route, query: s.query };
  }

  // wx.navigateTo and friends: checked now, run after the current step is idle.
  function queueNavigation(kind, o) {
    var nav = { type: kind };
    if (kind === 'navigateBack') nav.delta = o.delta || 1;
    else nav.url = o.url;
    stepList('navigation').push(hostClone(nav));
    if (kind !== 'navigateBack') {
      var target = resolveRoute(o.url);
      if (!declared[target.route]) throw { errMsg: kind + ':fail page "' + target.route + '" is not found' };
      var isTab = tabPages.indexOf(target.route) >= 0;
      if (kind === 'switchTab' && !isTab) throw { errMsg: 'switchTab:fail can not switch to no-tabBar page' };
      if ((kind === 'navigateTo' || kind === 'redirectTo') && isTab) throw { errMsg: kind + ':fail can not ' + kind + ' a tabbar page' };
      nav.route = target.route;
      nav.query = target.query;
    }
    navQueue.push(nav);
  }

  function runNavigations(depth) {
    if (!navQueue.length) return Promise.resolve();
    if (depth >= MAX_NAVIGATIONS_PER_STEP) {
      recordError(new Error('more than ' + MAX_NAVIGATIONS_PER_STEP + ' navigations in a row; stopped'), 'navigation');
      navQueue = [];
      return Promise.resolve();
    }
    var nav = navQueue.shift();
    var run;
    if (nav.type === 'navigateTo') {
      var top = stack[stack.length - 1];
      run = (top ? runStep(top, 'onHide', instance.hookFunctions(top.inst, 'onHide'), []) : Promise.resolve())
        .then(function () { return openNew(nav.route, nav.query); });
    } else if (nav.type === 'redirectTo') {
      run = (stack.length ? unloadTop() : Promise.resolve()).then(function () { return openNew(nav.route, nav.query); });
    } else if (nav.type === 'reLaunch' || nav.type === 'switchTab') {
      run = unloadAll().then(function () { return openNew(nav.route, nav.query); });
    } else {
      var delta = Math.min(nav.delta, Math.max(stack.length - 1, 0));
      run = Promise.resolve();
      for (var i = 0; i < delta; i++) run = run.then(unloadTop);
      if (delta > 0) {
        run = run.then(function () {
          var back = stack[stack.length - 1];
          return runStep(back, 'onShow', instance.hookFunctions(back.inst, 'onShow'), []);
        });
      }
    }
    return run.then(function () { return runNavigations(depth + 1); });
  }

  // ---------------------------------------------------------------------------------------
  // the runtime object

  var runtime = {
    root: root,
    appJson: appJson,
    wx: wx,
    context: context,

    // app.js: App(), then onLaunch(options), onShow(options); each step waits for idle.
    launch: function (query) {
      if (launched) return Promise.resolve(hostClone(rec.app));
      launched = true;
      var first = (appJson.entryPagePath || (appJson.pages || [])[0] || '').replace(/^\/+/, '');
      launchOptions = { path: first, query: query || {}, scene: 1001, referrerInfo: {}, apiCategory: 'default' };
      var step = beginStep(rec.app, 'onLaunch');
      try {
        loader.load(scriptFile('app') || path.join(root, 'app.js'));
      } catch (e) {
        recordError(e, 'loading app.js');
      }
      if (!appInstance) {
        recordError(new Error('app.js did not call App()'), 'loading app.js');
        appInstance = {};
      }
      var opts = CJSON.parse(JSON.stringify(launchOptions));
      if (typeof appInstance.onLaunch === 'function') invoke(appInstance.onLaunch, appInstance, [opts], 'App onLaunch');
      return settle(step).then(function () {
        step.data = hostClone(appInstance.globalData || {});
        var show = beginStep(rec.app, 'onShow');
        if (typeof appInstance.onShow === 'function') invoke(appInstance.onShow, appInstance, [CJSON.parse(JSON.stringify(launchOptions))], 'App onShow');
        return settle(show).then(function () { show.data = hostClone(appInstance.globalData || {}); });
      }).then(function () { return hostClone(rec.app); });
    },

    // Open a page: by default as reLaunch does (the pages open before are unloaded); with
    // { push: true } as navigateTo does. Resolves with the page handle after onReady.
    openPage: function (route, query, how) {
      var s = splitUrl(route);
      var q = Object.assign({}, s.query, query || {});
      Object.keys(q).forEach(function (k) { q[k] = String(q[k]); });
      return this.launch().then(function () {
        if (!declared[s.route]) log('warn', '[mp-runtime] ' + s.route + ' is not listed in app.json');
        var before = how && how.push && stack.length
          ? runStep(stack[stack.length - 1], 'onHide', instance.hookFunctions(stack[stack.length - 1].inst, 'onHide'), [])
          : unloadAll();
        return before.then(function () { return openNew(s.route, q); });
      });
    },

    // The page on top of the stack (after navigations), or null.
    currentPage: function () {
      return stack.length ? stack[stack.length - 1].handle : null;
    },
    pageStack: function () {
      return stack.map(function (p) { return p.handle; });
    },
    getApp: getApp,
    // Load a module of the app (root-relative or '/'-rooted), in the run's context.
    require: function (spec) {
      return loader.require(spec.charAt(0) === '.' ? spec : '/' + spec.replace(/^\/+/, ''), null);
    },
    idle: function () {
      var step = currentStep || beginStep(rec.app, 'idle');
      return settle(step);
    },
    storage: storage,
    recording: function () {
      return hostClone(rec);
    },
    close: function () {
      scheduler.close();
      unregister();
      try {
        fs.rmSync(tmpDir, { recursive: true, force: true });
      } catch (e) {
        // a temp dir left behind is harmless
      }
    }
  };
  return runtime;
}

module.exports = { createRuntime: createRuntime, resolveRoot: resolveRoot, splitUrl: splitUrl, dataPath: dataPath };
