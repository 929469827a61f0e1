// wx-api.js: the `wx` object the app's code sees.
//
// Network calls are real: `wx.request` is an HTTP request made with Node's fetch, answered
// as the client answers (`success({ data, statusCode, header, cookies, errMsg })` for any
// HTTP status, `fail({ errMsg: 'request:fail …' })` when the server cannot be reached,
// `complete` after either), `uploadFile` sends a multipart form with the file read from disk,
// `downloadFile` writes the body to a temp file. An origin listed in `hosts` is sent to the
// mapped base URL instead; the recording keeps the URL the app asked for.
//
// Storage lives in memory for the run. UI calls (`showToast`, `showModal`, …) are recorded,
// never shown; `showModal` answers "confirm". A `wx.*` function this file does not know is
// recorded as unknown and succeeds, so a page runs on (`…Sync` ones return undefined,
// `create…`/`get…Manager` ones return an object whose methods do nothing).
//
// Async APIs follow the client's two styles: with success/fail/complete they report through
// them and return undefined; without, they return a Promise. Callbacks never run
// synchronously. `request`/`uploadFile`/`downloadFile` always return their task.
'use strict';

var fs = require('fs');
var path = require('path');

// A 1x1 transparent PNG, the "photo" chooseImage/chooseMedia hand out.
var PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

// UI and device calls: recorded, then success with this result (errMsg added).
var UI_CALLS = {
  showToast: {}, hideToast: {}, showLoading: {}, hideLoading: {},
  showModal: { confirm: true, cancel: false, content: '' },
  showActionSheet: { tapIndex: 0 },
  setNavigationBarTitle: {}, setNavigationBarColor: {}, showNavigationBarLoading: {}, hideNavigationBarLoading: {},
  setBackgroundColor: {}, setBackgroundTextStyle: {}, hideHomeButton: {},
  startPullDownRefresh: {}, stopPullDownRefresh: {}, pageScrollTo: {},
  setTabBarBadge: {}, removeTabBarBadge: {}, showTabBarRedDot: {}, hideTabBarRedDot: {},
  showTabBar: {}, hideTabBar: {}, setTabBarItem: {}, setTabBarStyle: {},
  vibrateShort: {}, vibrateLong: {}, setScreenBrightness: {}, setKeepScreenOn: {},
  previewImage: {}, previewMedia: {}, makePhoneCall: {}, setClipboardData: {}, hideKeyboard: {},
  openLocation: {}, saveImageToPhotosAlbum: {}, saveVideoToPhotosAlbum: {},
  showShareMenu: {}, hideShareMenu: {}, updateShareMenu: {},
  requestPayment: {}, requestSubscribeMessage: {}, openSetting: null, authorize: {},
  reportAnalytics: {}, reportEvent: {}, reportMonitor: {}
};

var SYSTEM_INFO = {
  brand: 'devtools', model: 'iPhone 12/13 (Pro)', pixelRatio: 3, screenWidth: 390, screenHeight: 844,
  windowWidth: 390, windowHeight: 754, statusBarHeight: 47, language: 'zh_CN', version: '8.0.5',
  system: 'iOS 10.0.1', platform: 'devtools', fontSizeSetting: 16, SDKVersion: '3.3.4',
  benchmarkLevel: 1, theme: 'light', enableDebug: false, deviceOrientation: 'portrait',
  safeArea: { top: 47, left: 0, right: 390, bottom: 810, width: 390, height: 763 },
  albumAuthorized: true, cameraAuthorized: true, locationAuthorized: true, microphoneAuthorized: true,
  notificationAuthorized: true, bluetoothEnabled: true, locationEnabled: true, wifiEnabled: true
};
var MENU_BUTTON = { width: 87, height: 32, top: 51, right: 381, bottom: 83, left: 294 };

function headerValue(header, name) {
  var lower = name.toLowerCase();
  for (var k in header) {
    if (Object.prototype.hasOwnProperty.call(header, k) && k.toLowerCase() === lower) return header[k];
  }
  return undefined;
}

// `{ a: 1, b: 'x y' }` → `a=1&b=x%20y` (objects as JSON, undefined skipped).
function toQuery(data) {
  return Object.keys(data).filter(function (k) { return data[k] !== undefined; }).map(function (k) {
    var v = data[k];
    return encodeURIComponent(k) + '=' + encodeURIComponent(v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));
  }).join('&');
}

function appendQuery(url, query) {
  if (!query) return url;
  var hash = url.indexOf('#');
  var tail = hash < 0 ? '' : url.slice(hash);
  var head = hash < 0 ? url : url.slice(0, hash);
  return head + (head.indexOf('?') < 0 ? '?' : (/[?&]$/.test(head) ? '' : '&')) + query + tail;
}

function isBinary(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x) ||
    Object.prototype.toString.call(x) === '[object ArrayBuffer]';
}

function toBuffer(x) {
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  return Buffer.from(new Uint8Array(x));
}

// ctx: { scheduler, rec, JSON (the context's), Promise (the context's), root, tmpDir, hosts,
// login, appid, envVersion, location, systemInfo, networkTimeout, launchOptions, navigate,
// getCurrentRoute }. `rec` records: request(entry) → entry, ui(api, options), unknown(api),
// error(e, where), note(obj), cloud(entry).
function createWx(ctx) {
  var scheduler = ctx.scheduler;
  var rec = ctx.rec;
  var CJSON = ctx.JSON;
  var CPromise = ctx.Promise;
  var storage = ctx.storage;
  var hosts = {};
  Object.keys(ctx.hosts || {}).forEach(function (origin) {
    hosts[origin.toLowerCase().replace(/\/+$/, '')] = String(ctx.hosts[origin]).replace(/\/+$/, '');
  });
  var tmpCount = 0;
  var timeouts = ctx.networkTimeout || {};

  // A plain value, rebuilt in the page's realm.
  function toCtx(value) {
    return value === undefined ? undefined : CJSON.parse(JSON.stringify(value));
  }

  function safeCall(fn, arg, where) {
    if (typeof fn !== 'function') return;
    try {
      var r = fn(arg);
      if (r && typeof r.then === 'function') r.then(null, function (e) { rec.error(e, where); });
    } catch (e) {
      rec.error(e, where);
    }
  }

  function hasCallbacks(o) {
    return !!o && (typeof o.success === 'function' || typeof o.fail === 'function' || typeof o.complete === 'function');
  }

  // The client's async contract. `exec()` returns (a Promise of) the result, or throws /
  // rejects with `{ errMsg }`; `api` names the call for errMsg strings and the recording.
  function callAsync(api, options, exec) {
    options = options || {};
    var result = Promise.resolve().then(exec).then(function (res) {
      res = res || {};
      if (res.errMsg === undefined) res.errMsg = api + ':ok';
      return res;
    }, function (err) {
      if (!err || typeof err.errMsg !== 'string') err = { errMsg: api + ':fail ' + (err && err.message ? err.message : String(err)) };
      throw err;
    });
    if (hasCallbacks(options)) {
      scheduler.track(result.then(function (res) {
        safeCall(options.success, res, 'wx.' + api + ' success callback');
        safeCall(options.complete, res, 'wx.' + api + ' complete callback');
      }, function (err) {
        safeCall(options.fail, err, 'wx.' + api + ' fail callback');
        safeCall(options.complete, err, 'wx.' + api + ' complete callback');
      }), 'wx.' + api);
      return undefined;
    }
    var out = new CPromise(function (resolve, reject) { result.then(resolve, reject); });
    scheduler.track(result, 'wx.' + api);
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // files: temp paths the runtime hands out, and app files

  function tempPath(ext) {
    tmpCount++;
    var name = 'tmp_' + String(tmpCount).padStart(4, '0') + (ext || '');
    return { virtual: 'wxfile://tmp/' + name, real: path.join(ctx.tmpDir, name) };
  }

  // A file path as page code has it → a real path on disk.
  function localFile(p) {
    p = String(p || '');
    var m = /^(?:wxfile|http):\/\/(tmp|usr)\/(.*)$/.exec(p);
    if (m) return path.join(ctx.tmpDir, m[1] === 'usr' ? 'usr' : '', m[2]);
    if (path.isAbsolute(p) && fs.existsSync(p) && !fs.existsSync(path.join(ctx.root, p))) return p;
    return path.join(ctx.root, p.replace(/^\/+/, ''));
  }

  function mapUrl(url) {
    var m = /^(https?:\/\/[^/?#]+)(.*)$/i.exec(url);
    if (!m) return url;
    var base = hosts[m[1].toLowerCase()];
    return base ? base + m[2] : url;
  }

  function withTimeout(ms) {
    var ac = new AbortController();
    var timer = setTimeout(function () { ac.abort(new Error('timeout')); }, ms);
    return { signal: ac.signal, controller: ac, done: function () { clearTimeout(timer); } };
  }

  function failMessage(e, aborted) {
    if (aborted) return 'abort';
    if (e && e.name === 'AbortError') return 'timeout';
    if (e && e.cause && e.cause.message === 'timeout') return 'timeout';
    if (e && e.message === 'timeout') return 'timeout';
    var cause = e && e.cause;
    return (cause && (cause.code || cause.message)) || (e && e.message) || String(e);
  }

  function plainHeaders(headers) {
    var out = {};
    headers.forEach(function (v, k) { out[k] = v; });
    return out;
  }
  function setCookies(headers) {
    if (typeof headers.getSetCookie === 'function') return headers.getSetCookie();
    var v = headers.get('set-cookie');
    return v ? [v] : [];
  }

  function baseHeaders(header, withContentType) {
    var out = {};
    Object.keys(header || {}).forEach(function (k) {
      var v = header[k];
      if (v === undefined || v === null) return;
      out[k] = String(v);
    });
    if (withContentType && headerValue(out, 'content-type') === undefined) out['content-type'] = 'application/json';
    if (headerValue(out, 'referer') === undefined) out.Referer = 'https://servicewechat.com/' + (ctx.appid || 'touristappid') + '/devtools/page-frame.html';
    return out;
  }

  // A task object: `abort` plus the listener methods of RequestTask/UploadTask/DownloadTask.
  function makeTask(extra) {
    var listeners = { headers: [], progress: [] };
    var task = {
      _aborted: false,
      _controller: null,
      abort: function () {
        task._aborted = true;
        if (task._controller) task._controller.abort(new Error('abort'));
      },
      onHeadersReceived: function (cb) { listeners.headers.push(cb); },
      offHeadersReceived: function (cb) { listeners.headers = listeners.headers.filter(function (x) { return x !== cb; }); },
      onChunkReceived: function () {},
      offChunkReceived: function () {},
      _headers: function (h) { listeners.headers.forEach(function (cb) { safeCall(cb, toCtx({ header: h }), 'task.onHeadersReceived'); }); },
      _progress: function (p) { listeners.progress.forEach(function (cb) { safeCall(cb, toCtx(p), 'task.onProgressUpdate'); }); }
    };
    if (extra) {
      task.onProgressUpdate = function (cb) { listeners.progress.push(cb); };
      task.offProgressUpdate = function (cb) { listeners.progress = listeners.progress.filter(function (x) { return x !== cb; }); };
    }
    return task;
  }

  // Run a fetch for an API that reports through callbacks only (request/uploadFile/...).
  function network(api, options, task, entry, run) {
    options = options || {};
    var t = withTimeout(Number(options.timeout) || timeouts[api] || 60000);
    task._controller = t.controller;
    var p = Promise.resolve().then(function () {
      if (task._aborted) throw new Error('abort');
      return run(t.signal);
    }).then(function (res) {
      t.done();
      entry.status = res.statusCode;
      res.errMsg = api + ':ok';
      return res;
    }, function (e) {
      t.done();
      var msg = api + ':fail ' + failMessage(e, task._aborted);
      entry.status = null;
      entry.error = msg;
      throw { errMsg: msg };
    });
    scheduler.track(p.then(function (res) {
      safeCall(options.success, res, 'wx.' + api + ' success callback');
      safeCall(options.complete, res, 'wx.' + api + ' complete callback');
    }, function (err) {
      var e = toCtx(err);
      safeCall(options.fail, e, 'wx.' + api + ' fail callback');
      safeCall(options.complete, e, 'wx.' + api + ' complete callback');
    }), api + ' ' + entry.method + ' ' + entry.url);
    return task;
  }

  // ---------------------------------------------------------------------------------------
  // request / uploadFile / downloadFile

  function request(options) {
    options = options || {};
    var method = String(options.method || 'GET').toUpperCase();
    var url = String(options.url || '');
    var header = baseHeaders(options.header, true);
    var data = options.data;
    var body;
    if (method === 'GET' || method === 'HEAD') {
      if (data !== null && typeof data === 'object' && !isBinary(data)) url = appendQuery(url, toQuery(data));
      else if (typeof data === 'string' && data) url = appendQuery(url, data);
    } else if (data !== undefined && data !== null) {
      var ct = String(headerValue(header, 'content-type') || '');
      if (typeof data === 'string') body = data;
      else if (isBinary(data)) body = toBuffer(data);
      else if (/application\/x-www-form-urlencoded/i.test(ct) && typeof data === 'object') body = toQuery(data);
      else body = JSON.stringify(data);
    }
    var entry = rec.request({ api: 'request', method: method, url: url, status: null });
    var task = makeTask(false);
    return network('request', options, task, entry, function (signal) {
      if (!/^https?:\/\//i.test(url)) throw new Error('invalid url "' + url + '"');
      return fetch(mapUrl(url), { method: method, headers: header, body: body, signal: signal, redirect: 'follow' }).then(function (res) {
        var h = plainHeaders(res.headers);
        task._headers(h);
        var reader = options.responseType === 'arraybuffer' ? res.arrayBuffer() : res.text();
        return reader.then(function (payload) {
          var out = toCtx({ statusCode: res.status, header: h, cookies: setCookies(res.headers) });
          if (typeof payload === 'string') {
            var text = payload.replace(/^\uFEFF/, '');
            var parsed = text;
            if ((options.dataType === undefined || options.dataType === 'json') && text) {
              try {
                parsed = CJSON.parse(text);
              } catch (e) {
                parsed = text; // the client leaves text that is not JSON as a string
              }
            }
            out.data = parsed;
          } else {
            out.data = payload;
          }
          return out;
        });
      });
    });
  }

  function uploadFile(options) {
    options = options || {};
    var url = String(options.url || '');
    var entry = rec.request({ api: 'uploadFile', method: 'POST', url: url, status: null });
    var task = makeTask(true);
    return network('uploadFile', options, task, entry, function (signal) {
      var file = localFile(options.filePath);
      var bytes;
      try {
        bytes = fs.readFileSync(file);
      } catch (e) {
        throw new Error('file not found: ' + options.filePath);
      }
      var form = new FormData();
      var fields = options.formData || {};
      Object.keys(fields).forEach(function (k) {
        if (fields[k] !== undefined) form.append(k, typeof fields[k] === 'object' ? JSON.stringify(fields[k]) : String(fields[k]));
      });
      form.append(options.name || 'file', new Blob([bytes]), path.basename(file));
      var header = baseHeaders(options.header, false);
      Object.keys(header).forEach(function (k) { if (k.toLowerCase() === 'content-type') delete header[k]; });
      return fetch(mapUrl(url), { method: 'POST', headers: header, body: form, signal: signal }).then(function (res) {
        task._headers(plainHeaders(res.headers));
        return res.text().then(function (text) {
          task._progress({ progress: 100, totalBytesSent: bytes.length, totalBytesExpectedToSend: bytes.length });
          return toCtx({ data: text, statusCode: res.status });
        });
      });
    });
  }

  function downloadFile(options) {
    options = options || {};
    var url = String(options.url || '');
    var entry = rec.request({ api: 'downloadFile', method: 'GET', url: url, status: null });
    var task = makeTask(true);
    return network('downloadFile', options, task, entry, function (signal) {
      return fetch(mapUrl(url), { headers: baseHeaders(options.header, false), signal: signal }).then(function (res) {
        task._headers(plainHeaders(res.headers));
        return res.arrayBuffer().then(function (buf) {
          var bytes = Buffer.from(buf);
          task._progress({ progress: 100, totalBytesWritten: bytes.length, totalBytesExpectedToWrite: bytes.length });
          var ext = path.extname(url.split(/[?#]/)[0]).slice(0, 8);
          if (options.filePath) {
            var real = localFile(options.filePath);
            fs.mkdirSync(path.dirname(real), { recursive: true });
            fs.writeFileSync(real, bytes);
            return toCtx({ filePath: options.filePath, statusCode: res.status });
          }
          var tmp = tempPath(ext);
          fs.writeFileSync(tmp.real, bytes);
          return toCtx({ tempFilePath: tmp.virtual, statusCode: res.status });
        });
      });
    });
  }

  // ---------------------------------------------------------------------------------------
  // storage (in memory; values kept as JSON text, so every read is a copy)

  function checkKey(api, key) {
    if (typeof key !== 'string' || !key) throw new Error(api + ':fail parameter error: parameter.key should be String instead of ' + typeof key + ';');
  }
  function storageInfo() {
    var size = 0;
    storage.forEach(function (v, k) { size += k.length + v.length; });
    return { keys: Array.from(storage.keys()), currentSize: Math.ceil(size / 1024), limitSize: 10240 };
  }
  function setItem(key, data) {
    var text = JSON.stringify(data);
    if (text === undefined) storage.delete(key);
    else storage.set(key, text);
  }
  function getItem(key) {
    return storage.has(key) ? CJSON.parse(storage.get(key)) : undefined;
  }

  // ---------------------------------------------------------------------------------------
  // stubs: objects whose methods do nothing

  function stubObject(kind, props) {
    var target = props || {};
    var proxy = new Proxy(target, {
      get: function (t, prop) {
        if (prop in t) return t[prop];
        if (typeof prop === 'symbol' || prop === 'then' || prop === 'toJSON') return undefined;
        return function () { return proxy; };
      }
    });
    return proxy;
  }

  function selectorQuery() {
    var fields = 0;
    var q = {};
    var nodes = {
      boundingClientRect: function () { fields++; return q; },
      scrollOffset: function () { fields++; return q; },
      fields: function () { fields++; return q; },
      node: function () { fields++; return q; },
      context: function () { fields++; return q; }
    };
    q.in = function () { return q; };
    q.select = function () { return nodes; };
    q.selectAll = function () { return nodes; };
    q.selectViewport = function () { return nodes; };
    q.exec = function (cb) {
      var n = fields;
      fields = 0;
      if (typeof cb === 'function') scheduler.setTimeout(function () { safeCall(cb, toCtx(new Array(n).fill(null)), 'SelectorQuery.exec callback'); }, 0);
      return q;
    };
    return q;
  }

  function socketTask(options) {
    rec.note({ api: 'connectSocket', url: options && options.url, action: 'not connected', reason: 'WebSocket is not supported by the runtime' });
    return stubObject('SocketTask', {
      send: function (o) { if (o && typeof o.fail === 'function') scheduler.track(Promise.resolve().then(function () { safeCall(o.fail, toCtx({ errMsg: 'sendSocketMessage:fail socket not connected' }), 'SocketTask.send fail'); }), 'SocketTask.send'); },
      close: function () {}
    });
  }

  // ---------------------------------------------------------------------------------------
  // the object

  var launch = ctx.launchOptions || { path: '', query: {}, scene: 1001, referrerInfo: {} };
  var sys = Object.assign({}, SYSTEM_INFO, ctx.systemInfo || {});

  var wx = {
    env: { USER_DATA_PATH: 'wxfile://usr' },
    request: request,
    uploadFile: uploadFile,
    downloadFile: downloadFile,

    setStorageSync: function (key, data) { checkKey('setStorageSync', key); setItem(key, data); },
    getStorageSync: function (key) { checkKey('getStorageSync', key); var v = getItem(key); return v === undefined ? '' : v; },
    removeStorageSync: function (key) { checkKey('removeStorageSync', key); storage.delete(key); },
    clearStorageSync: function () { storage.clear(); },
    getStorageInfoSync: function () { return toCtx(storageInfo()); },
    setStorage: function (o) {
      return callAsync('setStorage', o, function () { checkKey('setStorage', o && o.key); setItem(o.key, o.data); });
    },
    getStorage: function (o) {
      return callAsync('getStorage', o, function () {
        checkKey('getStorage', o && o.key);
        if (!storage.has(o.key)) throw { errMsg: 'getStorage:fail data not found' };
        return { data: getItem(o.key) };
      });
    },
    removeStorage: function (o) { return callAsync('removeStorage', o, function () { storage.delete(o && o.key); }); },
    clearStorage: function (o) { return callAsync('clearStorage', o, function () { storage.clear(); }); },
    getStorageInfo: function (o) { return callAsync('getStorageInfo', o, function () { return toCtx(storageInfo()); }); },

    login: function (o) {
      return callAsync('login', o, function () {
        return Promise.resolve(ctx.login ? ctx.login() : 'verify-code').then(function (code) { return { code: String(code) }; });
      });
    },
    checkSession: function (o) { return callAsync('checkSession', o, function () {}); },
    getUserProfile: function (o) { return callAsync('getUserProfile', o, function () { return toCtx({ userInfo: { nickName: '微信用户', avatarUrl: '', gender: 0, country: '', province: '', city: '', language: 'zh_CN' } }); }); },
    getUserInfo: function (o) { return callAsync('getUserInfo', o, function () { return toCtx({ userInfo: { nickName: '微信用户', avatarUrl: '', gender: 0, country: '', province: '', city: '', language: 'zh_CN' } }); }); },
    getSetting: function (o) { return callAsync('getSetting', o, function () { return toCtx({ authSetting: ctx.location ? { 'scope.userLocation': true } : {} }); }); },
    getLocation: function (o) {
      return callAsync('getLocation', o, function () {
        if (!ctx.location) throw { errMsg: 'getLocation:fail auth deny' };
        return toCtx({ latitude: ctx.location.latitude, longitude: ctx.location.longitude, speed: -1, accuracy: 65, altitude: 0, verticalAccuracy: 65, horizontalAccuracy: 65 });
      });
    },
    getNetworkType: function (o) { return callAsync('getNetworkType', o, function () { return toCtx({ networkType: 'wifi', signalStrength: 0 }); }); },
    chooseImage: function (o) {
      return callAsync('chooseImage', o, function () {
        var t = tempPath('.png');
        fs.writeFileSync(t.real, PIXEL_PNG);
        rec.ui('chooseImage', o);
        return toCtx({ tempFilePaths: [t.virtual], tempFiles: [{ path: t.virtual, size: PIXEL_PNG.length }] });
      });
    },
    chooseMedia: function (o) {
      return callAsync('chooseMedia', o, function () {
        var t = tempPath('.png');
        fs.writeFileSync(t.real, PIXEL_PNG);
        rec.ui('chooseMedia', o);
        return toCtx({ type: 'image', tempFiles: [{ tempFilePath: t.virtual, size: PIXEL_PNG.length, fileType: 'image', width: 1, height: 1 }] });
      });
    },

    getSystemInfoSync: function () { return toCtx(sys); },
    getSystemInfo: function (o) { return callAsync('getSystemInfo', o, function () { return toCtx(sys); }); },
    getWindowInfo: function () {
      return toCtx({ pixelRatio: sys.pixelRatio, screenWidth: sys.screenWidth, screenHeight: sys.screenHeight, windowWidth: sys.windowWidth, windowHeight: sys.windowHeight, statusBarHeight: sys.statusBarHeight, safeArea: sys.safeArea, screenTop: 0 });
    },
    getDeviceInfo: function () { return toCtx({ brand: sys.brand, model: sys.model, system: sys.system, platform: sys.platform, benchmarkLevel: sys.benchmarkLevel }); },
    getAppBaseInfo: function () { return toCtx({ SDKVersion: sys.SDKVersion, enableDebug: false, language: sys.language, version: sys.version, theme: sys.theme }); },
    getMenuButtonBoundingClientRect: function () { return toCtx(MENU_BUTTON); },
    getAccountInfoSync: function () { return toCtx({ miniProgram: { appId: ctx.appid || '', envVersion: ctx.envVersion || 'release', version: '' }, plugin: {} }); },
    getExtConfigSync: function () { return toCtx(ctx.extConfig || {}); },
    getExtConfig: function (o) { return callAsync('getExtConfig', o, function () { return toCtx({ extConfig: ctx.extConfig || {} }); }); },
    getLaunchOptionsSync: function () { return toCtx(launch); },
    getEnterOptionsSync: function () { return toCtx(launch); },
    canIUse: function (schema) {
      var name = String(schema || '').split('.')[0];
      if (/[-]/.test(name) || String(schema).indexOf('.') > 0) return true; // component / parameter schemas
      return Object.prototype.hasOwnProperty.call(wx, name) || Object.prototype.hasOwnProperty.call(UI_CALLS, name);
    },
    // After the current microtasks, before later timers: a 0 ms timer.
    nextTick: function (fn) {
      if (typeof fn === 'function') scheduler.setTimeout(function () { safeCall(fn, undefined, 'wx.nextTick callback'); }, 0);
    },
    arrayBufferToBase64: function (buf) { return toBuffer(buf).toString('base64'); },
    base64ToArrayBuffer: function (b64) {
      var b = Buffer.from(String(b64), 'base64');
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    },

    getUpdateManager: function () {
      return stubObject('UpdateManager', { onCheckForUpdate: function () {}, onUpdateReady: function () {}, onUpdateFailed: function () {}, applyUpdate: function () {} });
    },
    createInnerAudioContext: function () { return stubObject('InnerAudioContext', { src: '', paused: true, duration: 0, currentTime: 0 }); },
    createSelectorQuery: selectorQuery,
    createIntersectionObserver: function () { return stubObject('IntersectionObserver'); },
    createAnimation: function () { return stubObject('Animation', { export: function () { return toCtx({ actions: [] }); } }); },
    getRealtimeLogManager: function () { return stubObject('RealtimeLogManager'); },
    getLogManager: function () { return stubObject('LogManager'); },
    connectSocket: socketTask
  };

  Object.keys(UI_CALLS).forEach(function (api) {
    wx[api] = function (o) {
      rec.ui(api, o);
      return callAsync(api, o, function () {
        if (api === 'openSetting') return toCtx({ authSetting: ctx.location ? { 'scope.userLocation': true } : {} });
        return toCtx(UI_CALLS[api]);
      });
    };
  });

  ['navigateTo', 'redirectTo', 'navigateBack', 'switchTab', 'reLaunch'].forEach(function (api) {
    wx[api] = function (o) {
      o = o || {};
      return callAsync(api, o, function () { return ctx.navigate(api, o); });
    };
  });

  // Unknown names: recorded, then a harmless stand-in.
  var made = Object.create(null);
  function standIn(name) {
    if (/^(on|off)[A-Z]/.test(name)) return function () {};
    if (/Sync$/.test(name)) return function () { rec.unknown(name); return undefined; };
    if (/^create[A-Z]/.test(name) || /^get\w*Manager$/.test(name)) return function () { rec.unknown(name); return stubObject(name); };
    return function (o) { rec.unknown(name); return callAsync(name, o, function () { return {}; }); };
  }
  return new Proxy(wx, {
    get: function (target, prop) {
      if (prop in target) return target[prop];
      if (typeof prop !== 'string' || !/^[a-z][A-Za-z0-9]*$/.test(prop) || prop === 'cloud' || prop === 'then') return undefined;
      // A bundler's global, read before it is set (Taro's `wx["webpackJsonp"] = wx["webpackJsonp"] || []`):
      // no wx API, so absent until the app sets it.
      if (/^webpack/.test(prop)) return undefined;
      if (!made[prop]) made[prop] = standIn(prop);
      return made[prop];
    }
  });
}

module.exports = { createWx: createWx, toQuery: toQuery, appendQuery: appendQuery };
