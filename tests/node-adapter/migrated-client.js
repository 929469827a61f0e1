'use strict';
// The client side of a migrated app (tests/apply_serve.rs): the data loader `migrate apply`
// generated, in Node with the wx.cloud adapter over a running `migrate serve`, gives back the
// same values the original data modules exported, and a second load is served from the
// storage cache without a round trip. Prints `ok <step>` / `not ok <step>: <why>`.

const assert = require('node:assert/strict');
const path = require('path');
const { httpWx } = require('./fake-wx');
const { step, failures } = require('./steps');
const shim = require(path.join(__dirname, '../../artifacts/js/wx-cloud-shim.js'));

const app = process.env.APP_DIR;
const original = process.env.ORIGINAL_DIR;

async function main() {
  const wx = httpWx();
  const storage = new Map();
  wx.getStorageSync = (k) => (storage.has(k) ? JSON.parse(storage.get(k)) : '');
  wx.setStorage = ({ key, data, success }) => {
    storage.set(key, JSON.stringify(data));
    if (success) success({ errMsg: 'setStorage:ok' });
  };
  shim.install({ wx, url: process.env.SHIM_URL, openid: 'o-migrated-user', appid: 'wxmigrated0001', env: process.env.SHIM_ENV || '' });
  let calls = 0;
  const callFunction = wx.cloud.callFunction.bind(wx.cloud);
  wx.cloud.callFunction = (o) => {
    calls++;
    return callFunction(o);
  };
  const database = wx.cloud.database.bind(wx.cloud);
  wx.cloud.database = (...a) => {
    calls++;
    return database(...a);
  };
  global.wx = wx;
  const { loadData } = require(path.join(app, 'miniprogram/migrate/data-loader.js'));

  await step('a big set read through the data function equals the module', async () => {
    const cities = await loadData('cities');
    assert.deepEqual(cities, require(path.join(original, 'miniprogram/data/cities.js')));
  });

  await step('a config document read from the database equals the JSON file', async () => {
    const rules = await loadData('fare_rules');
    assert.deepEqual(rules, require(path.join(original, 'miniprogram/data/fare-rules.json')));
  });

  await step('a second load costs no round trip', async () => {
    const before = calls;
    await loadData('cities');
    await loadData('fare_rules');
    assert.equal(calls, before);
  });

  await step('an upload reaches the old endpoint as the same multipart form', async () => {
    const { cloudUploadFile } = require(path.join(app, 'miniprogram/migrate/cloud-request.js'));
    const { routes } = require(path.join(app, 'miniprogram/migrate/routes.js'));
    const route = routes.find((r) => r.fn === 'upload');
    assert.ok(route, 'the upload route is in routes.js');
    const file = path.join(require('os').tmpdir(), `feedback-${process.pid}.jpg`);
    const bytes = 'photo-bytes-'.repeat(2000);
    require('fs').writeFileSync(file, bytes);
    const progress = [];
    const res = await new Promise((resolve, reject) => {
      const task = cloudUploadFile({
        url: route.origin + route.path,
        filePath: file,
        name: 'file',
        formData: { biz: 'feedback' },
        header: { 'X-Trace': 'u1' },
        success: resolve,
        fail: reject
      });
      task.onProgressUpdate((p) => progress.push(p));
    });
    assert.equal(res.errMsg, 'uploadFile:ok');
    assert.equal(res.statusCode, 200);
    assert.equal(typeof res.data, 'string', 'wx.uploadFile gives the body as a string');
    const seen = JSON.parse(res.data);
    assert.equal(seen.url, route.path);
    assert.equal(seen.trace, 'u1');
    assert.match(seen.contentType, /^multipart\/form-data; boundary=/);
    assert.match(seen.body, /name="biz"\r\n\r\nfeedback\r\n/);
    assert.match(seen.body, new RegExp(`name="file"; filename="feedback-${process.pid}.jpg"`));
    assert.ok(seen.body.includes(bytes), 'the file bytes arrive whole');
  });

  // The routing functions' proxy mode (tests/apply_serve.rs points the routes at its loopback
  // backends: `nearby` at one that echoes, `arrivals` at a slow one, `lines` at a dead port).
  const { cloudRequest } = require(path.join(app, 'miniprogram/migrate/cloud-request.js'));
  const { routes } = require(path.join(app, 'miniprogram/migrate/routes.js'));
  const urlOf = (p) => {
    const route = routes.find((r) => r.path === p);
    assert.ok(route, `route ${p} is in routes.js`);
    return route.origin + p;
  };
  // Resolves with ['success', res] or ['fail', err], after `complete` ran.
  const call = (options) =>
    new Promise((resolve) => {
      let outcome;
      cloudRequest(
        Object.assign({}, options, {
          success: (res) => (outcome = ['success', res]),
          fail: (err) => (outcome = ['fail', err]),
          complete: () => resolve(outcome)
        })
      ).catch(() => {});
    });
  const nearby = urlOf('/v2/stations/nearby');
  const echoed = async (trace) => {
    const [how, res] = await call({ url: nearby, data: { lat: '31.2' }, header: { 'X-WX-OPENID': 'o-forged', 'X-Trace': trace } });
    assert.equal(how, 'success', JSON.stringify(res));
    assert.equal(res.errMsg, 'request:ok');
    assert.equal(res.statusCode, 200);
    assert.equal(res.data.url, '/v2/stations/nearby?lat=31.2');
    assert.equal(res.data.trace, trace);
    assert.equal(res.data.openid, 'o-migrated-user');
    assert.equal(res.header['x-legacy'], '1', 'the old backend\'s own headers come back');
  };

  await step("a proxied call carries the caller's openid, not one put in its headers", () => echoed('p1'));

  await step('an error status of the old backend reaches success, as wx.request gives it', async () => {
    const [how, res] = await call({ url: nearby + '?status=503', method: 'GET' });
    assert.equal(how, 'success', JSON.stringify(res));
    assert.equal(res.statusCode, 503);
    assert.equal(res.data.url, '/v2/stations/nearby?status=503');
  });

  await step("a slow old backend ends in fail after the function's timeout", async () => {
    const started = Date.now();
    const [how, err] = await call({ url: urlOf('/v2/stations/:id/arrivals').replace(':id', 's-42') });
    const took = Date.now() - started;
    assert.equal(how, 'fail', JSON.stringify(err));
    assert.match(err.errMsg, /^request:fail http:\/\/127\.0\.0\.1:\d+: no answer within 1000 ms$/);
    assert.ok(took >= 1000 && took < 3500, `failed after ${took} ms, not at the 1 s timeout`);
  });

  await step('an old backend nobody listens on ends in fail, saying so', async () => {
    const [how, err] = await call({ url: urlOf('/v2/lines/search'), data: { q: '71' } });
    assert.equal(how, 'fail', JSON.stringify(err));
    assert.match(err.errMsg, /^request:fail http:\/\/127\.0\.0\.1:\d+ unreachable: ECONNREFUSED$/);
  });

  await step('calls after the failures are served as before', () => echoed('p2'));

  process.exit(failures() ? 1 : 0);
}

main().catch((e) => {
  console.log(`not ok main: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
