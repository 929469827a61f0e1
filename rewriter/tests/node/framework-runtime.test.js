'use strict';
// The framework variant of the client runtime (cloud-request.js as `migrate apply` writes it
// into a uni-app or Taro app's sources), under Node: a routed URL goes to its cloud function
// through wx.cloud.callFunction, a URL no route takes goes to the framework's own API (uni's
// global `uni`, Taro's `@tarojs/taro` module) with its Promise, and where `wx` is not defined
// (the framework's other platforms) every call takes the framework's API. Run by
// rewriter/tests/runtime.rs with RUNTIME_DIR holding uni/ and taro/ (routes.js,
// cloud-request.js; taro/node_modules/@tarojs/taro a fake of Taro's module).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const dir = process.env.RUNTIME_DIR;

function fakeCloud(calls) {
  return {
    callFunction(o) {
      calls.push(o);
      o.success({ result: { statusCode: 200, header: { 'x-from': 'fn' }, data: { fn: o.name, route: o.data.$route } } });
    }
  };
}

function load(which) {
  const file = path.join(dir, which, 'cloud-request.js');
  delete require.cache[require.resolve(file)];
  return require(file);
}

test('uni-app: routed calls go to the function, the rest to uni.request', async () => {
  const calls = [];
  const uniCalls = [];
  global.uni = {
    request(o) {
      uniCalls.push(o);
      return Promise.resolve({ data: 'from uni.request', statusCode: 200, header: {} });
    }
  };
  global.wx = { cloud: fakeCloud(calls) };
  const { cloudRequest } = load('uni');
  const res = await new Promise((resolve, reject) =>
    cloudRequest({ url: 'https://api.example.com/v1/goods?page=2', success: resolve, fail: reject })
  );
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.data, { fn: 'goods', route: 'GET /v1/goods' });
  assert.equal(calls[0].data.query.page, '2');
  const other = await cloudRequest({ url: 'https://cdn.example.com/a.json' });
  assert.equal(other.data, 'from uni.request');
  assert.equal(uniCalls.length, 1);
  delete global.wx;
  const noWx = load('uni').cloudRequest;
  const again = await noWx({ url: 'https://api.example.com/v1/goods' });
  assert.equal(again.data, 'from uni.request', 'without wx every call takes uni.request');
  assert.equal(uniCalls.length, 2);
  delete global.uni;
});

test("Taro: routed calls go to the function, the rest to Taro.request (the module's default export)", async () => {
  const calls = [];
  global.wx = { cloud: fakeCloud(calls) };
  const taro = require(path.join(dir, 'taro', 'node_modules', '@tarojs', 'taro'));
  const { cloudRequest } = load('taro');
  const res = await cloudRequest({ url: 'https://api.example.com/v1/goods' });
  assert.deepEqual(res.data, { fn: 'goods', route: 'GET /v1/goods' });
  assert.equal(taro.default.seen.length, 0);
  const other = await cloudRequest({ url: 'https://api.example.com/v1/other', method: 'POST' });
  assert.equal(other.data, 'from Taro.request');
  assert.equal(taro.default.seen.length, 1);
  assert.equal(calls.length, 1);
  delete global.wx;
});
