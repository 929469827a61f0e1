'use strict';
// The generated runtime under Node: the client's cloudRequest and a generated cloud function
// (on the real wx-server-sdk from tests/node) forwarding to a legacy HTTP server on loopback.
// Run by rewriter/tests/runtime.rs with RUNTIME_DIR (the generated files: routes.js,
// cloud-request.js, fn/index.js, fn/routes.json) and SDK_MODULES (tests/node/node_modules).

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.RUNTIME_DIR;
const fnDir = path.join(dir, 'fn');

function legacyServer() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url.startsWith('/api/missing')) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-trace': 't1' });
        res.end(JSON.stringify({ code: 404, msg: '没有这个商品' }));
        return;
      }
      if (req.url.startsWith('/api/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('plain words');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=1' });
      res.end(JSON.stringify({ code: 0, data: { method: req.method, url: req.url, body: body ? JSON.parse(body) : null } }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port })));
}

// The generated function's routes point at the legacy server's port, written by the test.
function writeRoutes(port) {
  const routes = JSON.parse(fs.readFileSync(path.join(fnDir, 'routes.json'), 'utf8'));
  for (const r of routes.routes) r.target = `http://127.0.0.1:${port}`;
  fs.writeFileSync(path.join(fnDir, 'routes.json'), JSON.stringify(routes));
}

function fakeWx(fn, requests) {
  return {
    request(opts) {
      requests.push(opts);
      setImmediate(() => opts.success && opts.success({ data: 'from wx.request', statusCode: 200, header: {}, errMsg: 'request:ok' }));
      return { abort() {} };
    },
    cloud: {
      callFunction({ name, data, success, fail }) {
        if (name !== 'api-shop') {
          setImmediate(() => fail({ errMsg: 'cloud.callFunction:fail function not found' }));
          return;
        }
        fn.main(JSON.parse(JSON.stringify(data)), {}).then(
          (result) => success({ result, errMsg: 'cloud.callFunction:ok' }),
          (e) => fail({ errMsg: 'cloud.callFunction:fail ' + e.message })
        );
      }
    }
  };
}

test('the generated function and cloudRequest keep wx.request behaviour', async (t) => {
  const legacy = await legacyServer();
  t.after(() => legacy.server.close());
  writeRoutes(legacy.port);
  process.env.WX_CONTEXT_KEYS = 'WX_OPENID,WX_APPID';
  process.env.WX_OPENID = 'oUser123';
  process.env.WX_APPID = 'wxapp1';
  const fn = require(path.join(fnDir, 'index.js'));
  const requests = [];
  global.wx = fakeWx(fn, requests);
  const { cloudRequest } = require(path.join(dir, 'cloud-request.js'));

  await t.test('a GET with data becomes the query; OPENID reaches the old backend', async () => {
    const res = await new Promise((resolve, reject) => {
      cloudRequest({
        url: 'https://api.shop.example.com/api/goods/list?page=1',
        data: { size: 20, q: '苹果' },
        header: { Authorization: 'Bearer t' },
        success: resolve,
        fail: reject
      });
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.errMsg, 'request:ok');
    assert.equal(res.data.code, 0);
    const got = legacy.seen[legacy.seen.length - 1];
    assert.equal(got.method, 'GET');
    assert.equal(got.url, '/api/goods/list?page=1&size=20&q=%E8%8B%B9%E6%9E%9C');
    assert.equal(got.headers['x-wx-openid'], 'oUser123');
    assert.equal(got.headers['x-wx-appid'], 'wxapp1');
    assert.equal(got.headers.authorization, 'Bearer t');
  });

  await t.test('a POST keeps its JSON body; the returned task is a Promise too', async () => {
    const task = cloudRequest({ url: 'https://api.shop.example.com/api/cart/add', method: 'post', data: { id: 7, n: 2 } });
    assert.equal(typeof task.abort, 'function');
    const res = await task;
    assert.deepEqual(res.data.data.body, { id: 7, n: 2 });
    assert.equal(legacy.seen[legacy.seen.length - 1].headers['content-type'], 'application/json');
  });

  await t.test('a 404 is a success with its status, as wx.request does', async () => {
    let completed = 0;
    const res = await new Promise((resolve, reject) => {
      cloudRequest({
        url: 'https://api.shop.example.com/api/missing/9',
        success: resolve,
        fail: reject,
        complete: () => completed++
      });
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.data.msg, '没有这个商品');
    assert.equal(res.header['x-trace'], 't1');
    await new Promise((r) => setImmediate(r));
    assert.equal(completed, 1);
  });

  await t.test('text stays text unless it is JSON', async () => {
    const res = await cloudRequest({ url: 'https://api.shop.example.com/api/text' });
    assert.equal(res.data, 'plain words');
  });

  await t.test('an unreachable backend is a fail with request:fail', async () => {
    const routes = JSON.parse(fs.readFileSync(path.join(fnDir, 'routes.json'), 'utf8'));
    const saved = JSON.stringify(routes);
    for (const r of routes.routes) r.target = 'http://127.0.0.1:9';
    fs.writeFileSync(path.join(fnDir, 'routes.json'), JSON.stringify(routes));
    delete require.cache[require.resolve(path.join(fnDir, 'routes.json'))];
    delete require.cache[require.resolve(path.join(fnDir, 'index.js'))];
    global.wx = fakeWx(require(path.join(fnDir, 'index.js')), requests);
    const err = await new Promise((resolve) => {
      cloudRequest({ url: 'https://api.shop.example.com/api/goods/list', success: () => resolve(null), fail: resolve });
    });
    assert.match(err.errMsg, /^request:fail /);
    fs.writeFileSync(path.join(fnDir, 'routes.json'), saved);
  });

  await t.test('a URL no route matches goes to the real wx.request', async () => {
    const before = requests.length;
    const res = await new Promise((resolve) => cloudRequest({ url: 'https://cdn.other.example.com/x.json', success: resolve }));
    assert.equal(res.data, 'from wx.request');
    assert.equal(requests.length, before + 1);
  });
});

test('cloudUploadFile: a URL no route matches stays on wx.uploadFile; a failed storage upload fails like wx.uploadFile', async () => {
  const uploads = [];
  let calls = 0;
  const task = { abort() {}, onProgressUpdate() {} };
  global.wx = {
    uploadFile(opts) {
      uploads.push(opts);
      return task;
    },
    cloud: {
      uploadFile({ fail }) {
        setImmediate(() => fail({ errMsg: 'cloud.uploadFile:fail quota exceeded' }));
        return { abort() {}, onProgressUpdate() {} };
      },
      callFunction() {
        calls++;
      }
    }
  };
  const { cloudUploadFile, findRoute } = require(path.join(dir, 'cloud-request.js'));
  const other = { url: 'https://cdn.other.example.com/up', filePath: '/tmp/a.png', name: 'file' };
  assert.equal(cloudUploadFile(other), task, 'the real task comes back');
  assert.deepEqual(uploads, [other]);

  const { routes } = require(path.join(dir, 'routes.js'));
  const post = routes.find((r) => r.method === 'POST' || r.method === '*');
  assert.ok(post, 'a POST route to upload to');
  const url = post.origin + post.path.replace(/:[^/]+/g, '1').replace(/\*$/, 'x');
  assert.ok(findRoute('POST', url));
  const seen = [];
  const err = await new Promise((resolve) => {
    cloudUploadFile({
      url,
      filePath: '/tmp/a.png',
      name: 'file',
      fail: (e) => seen.push('fail') && resolve(e),
      complete: () => seen.push('complete')
    });
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(err.errMsg, 'uploadFile:fail cloud.uploadFile:fail quota exceeded');
  assert.deepEqual(seen, ['fail', 'complete']);
  assert.equal(calls, 0, 'no function call without a stored file');
  assert.equal(uploads.length, 1);
});
