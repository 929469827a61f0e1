'use strict';
// The adapter's wire encoding, without a server: each case builds the same query as the
// captures in shared docs sdk-wire-protocol.md §4.2-4.3 (made with @cloudbase/node-sdk 3.18.3,
// whose database layer is @cloudbase/database 1.4.3) and requires byte-identical
// `query` / `data` / `order` / `projection` / `stageValue` strings. Where the client differs
// from the server SDK on purpose (client limit 20, result shapes) the test says so.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { captureWx } = require('./fake-wx');

const shim = require(path.join(__dirname, '../../artifacts/js/wx-cloud-shim.js'));

const DOC1 = '{"title":"hello","n":{"$numberInt":"1"},"_id":"doc0001"}';

function reply(body) {
  switch (body.action) {
    case 'database.insertDocument':
      return { requestId: 'req-1', data: { insertedIds: ['doc0001'] } };
    case 'database.getDocument':
      return { requestId: 'req-2', data: { list: [DOC1] } };
    case 'database.calculateDocument':
      return { requestId: 'req-3', data: { total: 3 } };
    case 'database.modifyDocument':
      return { requestId: 'req-4', data: { updated: 1 } };
    case 'database.removeDocument':
      return { requestId: 'req-5', data: { deleted: 1 } };
    case 'database.aggregateDocuments':
      return { requestId: 'req-6', data: { list: ['{"_id":"hello","total":{"$numberInt":"4"}}'] } };
    default:
      return { requestId: 'req-x', data: {} };
  }
}

function setup() {
  const wx = captureWx(reply);
  shim.install({ wx, url: 'http://127.0.0.1:9999/', openid: 'oTester', appid: 'wxappid', env: 'test-env-1a2b3c' });
  const db = wx.cloud.database();
  return { wx, db, _: db.command, last: () => wx.sent[wx.sent.length - 1].body };
}

test('install is needed: requiring the module changes nothing', () => {
  const wx = { cloud: { callFunction: 'original' } };
  global.wx = wx;
  try {
    require(path.join(__dirname, '../../artifacts/js/wx-cloud-shim.js'));
    assert.equal(wx.cloud.callFunction, 'original');
    const handle = shim.install({ url: 'http://127.0.0.1:1' });
    assert.equal(typeof wx.cloud.callFunction, 'function');
    handle.uninstall();
    assert.equal(wx.cloud.callFunction, 'original');
    assert.equal(wx.cloud.database, undefined);
  } finally {
    delete global.wx;
  }
});

test('envelope: POST <url>/client with the action, env and caller headers', async () => {
  const { wx, db } = setup();
  await db.collection('todos').count();
  const req = wx.sent[0];
  assert.equal(req.url, 'http://127.0.0.1:9999/client');
  assert.equal(req.header['x-wx-openid'], 'oTester');
  assert.equal(req.header['x-wx-appid'], 'wxappid');
  assert.equal(req.header['content-type'], 'application/json');
  assert.deepEqual(req.body, {
    action: 'database.calculateDocument',
    envName: 'test-env-1a2b3c',
    collectionName: 'todos',
    queryType: 'WHERE',
  });
});

test('collection.add (capture §4.2)', async () => {
  const { db, last } = setup();
  const res = await db.collection('todos').add({
    data: {
      title: 'hello', n: 1, tags: ['a', 'b'], due: new Date('2024-01-02T03:04:05.678Z'),
      createdAt: db.serverDate(), later: db.serverDate({ offset: 60000 }), loc: new db.Geo.Point(113.3, 23.1),
      re: db.RegExp({ regexp: '^h', options: 'i' }), nested: { a: { b: null } }, big: 12345678901234, float: 1.5,
      undef: undefined,
    },
  });
  assert.deepEqual(res, { _id: 'doc0001', errMsg: 'collection.add:ok' });
  const body = last();
  assert.equal(body.action, 'database.insertDocument');
  assert.deepEqual(body.data, [
    '{"title":"hello","n":{"$numberInt":"1"},"tags":["a","b"],"due":{"$date":{"$numberLong":"1704164645678"}},"createdAt":{"$tcb_server_date":{"offset":{"$numberInt":"0"}}},"later":{"$tcb_server_date":{"offset":{"$numberInt":"60000"}}},"loc":{"type":"Point","coordinates":[{"$numberDouble":"113.3"},{"$numberDouble":"23.1"}]},"re":{"$regularExpression":{"pattern":"^h","options":"i"}},"nested":{"a":{"b":null}},"big":{"$numberLong":"12345678901234"},"float":{"$numberDouble":"1.5"}}',
  ]);
});

test('doc.get and doc.field.get (capture §4.2), result decoded', async () => {
  const { db, last } = setup();
  const res = await db.collection('todos').doc('doc0001').get();
  assert.deepEqual(res, { data: { title: 'hello', n: 1, _id: 'doc0001' }, errMsg: 'document.get:ok' });
  assert.deepEqual(last(), {
    action: 'database.getDocument', envName: 'test-env-1a2b3c',
    collectionName: 'todos', query: '{"_id":"doc0001"}', queryType: 'DOC', multi: false,
  });
  await db.collection('todos').doc('doc0001').field({ title: true, n: 1, _id: false }).get();
  assert.equal(last().projection, '{"title":{"$numberInt":"1"},"n":{"$numberInt":"1"},"_id":{"$numberInt":"0"}}');
});

test('where.orderBy.skip.limit.field.get (capture §4.2); the client caps limit at 20', async () => {
  const { db, _, last } = setup();
  const res = await db.collection('todos')
    .where({ n: _.gt(0).and(_.lte(10)), title: /^he/i, tags: _.in(['a', 'z']), 'nested.a.b': _.exists(false), done: false })
    .orderBy('n', 'desc').orderBy('title', 'asc').skip(5).limit(20).field({ title: true }).get();
  assert.equal(res.errMsg, 'collection.get:ok');
  const body = last();
  assert.equal(body.query, '{"title":{"$regularExpression":{"pattern":"^he","options":"i"}},"tags":{"$in":["a","z"]},"nested.a.b":{"$exists":false},"done":false,"$and":[{"n":{"$gt":{"$numberInt":"0"}}},{"n":{"$lte":{"$numberInt":"10"}}}]}');
  assert.equal(body.order, '{"n":{"$numberInt":"-1"},"title":{"$numberInt":"1"}}');
  assert.equal(body.offset, 5);
  assert.equal(body.limit, 20);
  assert.equal(body.projection, '{"title":{"$numberInt":"1"}}');
  assert.equal(body.queryType, 'WHERE');

  await db.collection('todos').limit(100).get();
  assert.equal(last().limit, 20, 'never more than the real client would ask for');
  await db.collection('todos').get();
  assert.equal(last().limit, 20);
  assert.equal(last().query, undefined);
  await db.collection('todos').limit(5).get();
  assert.equal(last().limit, 5);
});

test('where with or / regexp / nin, geo and dates (capture §4.2)', async () => {
  const { db, _, last } = setup();
  const c = db.collection('todos');
  await c.where(_.or([{ n: _.eq(1) }, { title: db.RegExp({ regexp: 'x', options: 'm' }) }, { n: _.nin([3, 4]) }])).get();
  assert.equal(last().query, '{"$or":[{"n":{"$eq":{"$numberInt":"1"}}},{"title":{"$regularExpression":{"pattern":"x","options":"m"}}},{"n":{"$nin":[{"$numberInt":"3"},{"$numberInt":"4"}]}}]}');

  await c.where({ loc: _.geoNear({ geometry: new db.Geo.Point(113.3, 23.1), maxDistance: 1000, minDistance: 0 }) }).get();
  assert.equal(last().query, '{"loc":{"$nearSphere":{"$geometry":{"type":"Point","coordinates":[{"$numberDouble":"113.3"},{"$numberDouble":"23.1"}]},"$maxDistance":{"$numberInt":"1000"},"$minDistance":{"$numberInt":"0"}}}}');

  const P = (x, y) => new db.Geo.Point(x, y);
  await c.where({ loc: _.geoWithin({ geometry: new db.Geo.Polygon([new db.Geo.LineString([P(0, 0), P(3, 2), P(2, 3), P(0, 0)])]) }) }).get();
  assert.equal(last().query, '{"loc":{"$geoWithin":{"$geometry":{"type":"Polygon","coordinates":[[[{"$numberInt":"0"},{"$numberInt":"0"}],[{"$numberInt":"3"},{"$numberInt":"2"}],[{"$numberInt":"2"},{"$numberInt":"3"}],[{"$numberInt":"0"},{"$numberInt":"0"}]]]}}}}');

  await c.where({ due: _.lt(new Date('2025-01-01T00:00:00Z')) }).get();
  assert.equal(last().query, '{"due":{"$lt":{"$date":{"$numberLong":"1735689600000"}}}}');
});

test('doc.update with update commands (capture §4.2)', async () => {
  const { db, _, last } = setup();
  const res = await db.collection('todos').doc('doc0001').update({
    data: { n: _.inc(2), tags: _.push(['c']), 'nested.a.b': 'x', title: _.set('new'), gone: _.remove(), updatedAt: db.serverDate(), obj: { p: 1, q: { r: 2 } }, m: _.mul(3) },
  });
  assert.deepEqual(res, { stats: { updated: 1 }, errMsg: 'document.update:ok' });
  const body = last();
  assert.equal(body.data, '{"$inc":{"n":{"$numberInt":"2"}},"$push":{"tags":{"$each":["c"]}},"$set":{"nested.a.b":"x","title":"new","updatedAt":{"$tcb_server_date":{"offset":{"$numberInt":"0"}}},"obj.p":{"$numberInt":"1"},"obj.q.r":{"$numberInt":"2"}},"$unset":{"gone":""},"$mul":{"m":{"$numberInt":"3"}}}');
  assert.equal(body.query, '{"_id":"doc0001"}');
  assert.equal(body.queryType, 'DOC');
  assert.equal(body.multi, false);
  assert.equal(body.merge, true);
  assert.equal(body.upsert, false);
});

test('doc.set, where.update, counts and removes (capture §4.2)', async () => {
  const { db, _, last } = setup();
  const c = db.collection('todos');
  const set = await c.doc('doc0002').set({ data: { title: 'replaced', n: 9 } });
  assert.equal(set.errMsg, 'document.set:ok');
  assert.deepEqual(set.stats, { updated: 1, created: 0 });
  let b = last();
  assert.equal(b.data, '{"title":"replaced","n":{"$numberInt":"9"}}');
  assert.equal(b.query, '{"_id":"doc0002"}');
  assert.deepEqual([b.queryType, b.multi, b.merge, b.upsert], ['DOC', false, false, true]);

  const upd = await c.where({ n: _.gte(1) }).update({
    data: { done: true, n: _.inc(-1), arr: _.pull(1), arr2: _.addToSet('x'), arr3: _.pop(), arr4: _.shift(), arr5: _.unshift([0]) },
  });
  assert.deepEqual(upd, { stats: { updated: 1 }, errMsg: 'collection.update:ok' });
  b = last();
  assert.equal(b.data, '{"$set":{"done":true},"$inc":{"n":{"$numberInt":"-1"}},"$pull":{"arr":{"$numberInt":"1"}},"$addToSet":{"arr2":"x"},"$pop":{"arr3":{"$numberInt":"1"},"arr4":{"$numberInt":"-1"}},"$push":{"arr5":{"$each":[{"$numberInt":"0"}],"$position":{"$numberInt":"0"}}}}');
  assert.equal(b.query, '{"n":{"$gte":{"$numberInt":"1"}}}');
  assert.deepEqual([b.queryType, b.multi, b.merge, b.upsert], ['WHERE', true, true, false]);

  assert.deepEqual(await c.where({ done: true }).count(), { total: 3, errMsg: 'collection.count:ok' });
  assert.equal(last().query, '{"done":true}');

  assert.deepEqual(await c.doc('doc0002').remove(), { stats: { removed: 1 }, errMsg: 'document.remove:ok' });
  b = last();
  assert.deepEqual([b.query, b.queryType, b.multi], ['{"_id":"doc0002"}', 'DOC', false]);
  assert.deepEqual(await c.where({ n: _.lt(0) }).remove(), { stats: { removed: 1 }, errMsg: 'collection.remove:ok' });
  b = last();
  assert.deepEqual([b.query, b.queryType, b.multi], ['{"n":{"$lt":{"$numberInt":"0"}}}', 'WHERE', true]);
});

test('aggregate stages (capture §4.2), result under `list`', async () => {
  const { db, _, last } = setup();
  const $ = _.aggregate;
  const res = await db.collection('todos').aggregate()
    .match({ n: _.gt(1) }).group({ _id: '$title', total: $.sum('$n') }).sort({ total: -1 }).limit(3).end();
  assert.deepEqual(res, { list: [{ _id: 'hello', total: 4 }], errMsg: 'collection.aggregate:ok' });
  assert.deepEqual(last().stages, [
    { stageKey: '$match', stageValue: '{"n":{"$gt":{"$numberInt":"1"}}}' },
    { stageKey: '$group', stageValue: '{"_id":"$title","total":{"$sum":"$n"}}' },
    { stageKey: '$sort', stageValue: '{"total":{"$numberInt":"-1"}}' },
    { stageKey: '$limit', stageValue: '3' },
  ]);
});

test('every operator encodes as captured (§4.3)', async () => {
  const { db, _, last } = setup();
  const c = db.collection('c');
  const q = async (cond) => {
    await c.where(cond).get();
    return last().query;
  };
  assert.equal(await q({ arr: [1, 2], nul: null, a: { b: 1, c: { d: 'x' } } }),
    '{"arr":[{"$numberInt":"1"},{"$numberInt":"2"}],"nul":null,"a.b":{"$numberInt":"1"},"a.c.d":"x"}');
  assert.equal(await q({ a: _.neq(1), b: _.exists(true), c: _.size(3), d: _.all([1, 2]) }),
    '{"a":{"$ne":{"$numberInt":"1"}},"b":{"$exists":true},"c":{"$size":{"$numberInt":"3"}},"d":{"$all":[{"$numberInt":"1"},{"$numberInt":"2"}]}}');
  assert.equal(await q({ a: _.elemMatch({ x: _.gt(1) }), b: _.mod(3, 1), c: _.not(_.eq(2)) }),
    '{"a":{"$elemMatch":{"x":{"$gt":{"$numberInt":"1"}}}},"b":{"$mod":[{"$numberInt":"3"},{"$numberInt":"1"}]},"c":{"$not":{"$eq":{"$numberInt":"2"}}}}');
  assert.equal(await q(_.and([{ a: 1 }, _.or([{ b: _.lt(2) }, { c: _.in([1]) }])])),
    '{"$and":[{"a":{"$numberInt":"1"}},{"$or":[{"b":{"$lt":{"$numberInt":"2"}}},{"c":{"$in":[{"$numberInt":"1"}]}}]}]}');
  assert.equal(await q(_.nor([{ a: 1 }, { b: 2 }])), '{"$nor":[{"a":{"$numberInt":"1"}},{"b":{"$numberInt":"2"}}]}');
  assert.equal(await q({ a: _.gt(1).or(_.lt(-1)) }), '{"$or":[{"a":{"$gt":{"$numberInt":"1"}}},{"a":{"$lt":{"$numberInt":"-1"}}}]}');
  assert.equal(await q(_.expr(_.aggregate.eq(['$a', '$b']))), '{"$expr":{"$eq":["$a","$b"]}}');
  assert.equal(await q({ loc: _.geoIntersects({ geometry: new db.Geo.Point(1, 2) }) }),
    '{"loc":{"$geoIntersects":{"$geometry":{"type":"Point","coordinates":[{"$numberInt":"1"},{"$numberInt":"2"}]}}}}');
  assert.equal(await q({ _id: db.ObjectId({ id: '5f2b8f8e8f1b2c3d4e5f6a7b' }), t: new Date(0) }),
    '{"_id":{"$oid":"5f2b8f8e8f1b2c3d4e5f6a7b"},"t":{"$date":{"$numberLong":"0"}}}');

  await c.field({ arr: _.project.slice([1, 2]), items: _.project.elemMatch({ x: 1 }), a: true }).get();
  assert.equal(last().projection, '{"arr":{"$slice":[{"$numberInt":"1"},{"$numberInt":"2"}]},"items":{"$elemMatch":{"x":{"$numberInt":"1"}}},"a":{"$numberInt":"1"}}');

  const u = async (data) => {
    await c.where({ k: 1 }).update({ data });
    assert.equal(last().query, '{"k":{"$numberInt":"1"}}');
    assert.equal(last().multi, true);
    return last().data;
  };
  assert.equal(await u({ o: _.set({ x: 1 }), p: { q: 1 } }), '{"$set":{"o":{"x":{"$numberInt":"1"}},"p.q":{"$numberInt":"1"}}}');
  assert.equal(await u({ a: _.rename('b'), n: _.min(0), m: _.max(9) }),
    '{"$rename":{"a":"b"},"$min":{"n":{"$numberInt":"0"}},"$max":{"m":{"$numberInt":"9"}}}');
  assert.equal(await u({ arr: _.push({ each: [1, 2], position: 0, sort: -1, slice: 5 }), arr2: _.pullAll([1, 2]), arr3: _.pull(_.gt(3)) }),
    '{"$push":{"arr":{"$each":[{"$numberInt":"1"},{"$numberInt":"2"}],"$position":{"$numberInt":"0"},"$sort":{"$numberInt":"-1"},"$slice":{"$numberInt":"5"}}},"$pullAll":{"arr2":[{"$numberInt":"1"},{"$numberInt":"2"}]},"$pull":{"arr3":{"$gt":{"$numberInt":"3"}}}}');
  assert.equal(await u({ t: db.serverDate({ offset: -1000 }), d: new Date(5), g: new db.Geo.Point(1, 2) }),
    '{"$set":{"t":{"$tcb_server_date":{"offset":{"$numberInt":"-1000"}}},"d":{"$date":{"$numberLong":"5"}},"g":{"type":"Point","coordinates":[{"$numberInt":"1"},{"$numberInt":"2"}]}}}');

  await c.orderBy('a.b', 'asc').skip(3).get();
  assert.equal(last().order, '{"a.b":{"$numberInt":"1"}}');
  assert.equal(last().offset, 3);
});

test('numbers follow canonical EJSON (int32, int64, double)', () => {
  const { stringifyByEJSON } = shim._internal;
  assert.equal(stringifyByEJSON({ a: 2147483647, b: 2147483648, c: -1.25, d: 0.1, e: 1e21, f: -0 }),
    '{"a":{"$numberInt":"2147483647"},"b":{"$numberLong":"2147483648"},"c":{"$numberDouble":"-1.25"},"d":{"$numberDouble":"0.1"},"e":{"$numberDouble":"1e+21"},"f":{"$numberInt":"0"}}');
});

test('results decode EJSON: dates, numbers, geo points', async () => {
  const wx = captureWx(() => ({
    requestId: 'r',
    data: { list: ['{"_id":"x","d":{"$date":{"$numberLong":"1704164645678"}},"n":{"$numberLong":"12345678901234"},"f":{"$numberDouble":"1.5"},"loc":{"type":"Point","coordinates":[{"$numberDouble":"113.3"},{"$numberDouble":"23.1"}]},"arr":[{"$numberInt":"1"}]}'] },
  }));
  shim.install({ wx, url: 'http://x', openid: 'o', env: 'e' });
  const db = wx.cloud.database();
  const { data } = await db.collection('c').get();
  assert.ok(data[0].d instanceof Date);
  assert.equal(data[0].d.toISOString(), '2024-01-02T03:04:05.678Z');
  assert.equal(data[0].n, 12345678901234);
  assert.equal(data[0].f, 1.5);
  assert.ok(data[0].loc instanceof db.Geo.Point);
  assert.deepEqual([data[0].loc.longitude, data[0].loc.latitude], [113.3, 23.1]);
  assert.deepEqual(data[0].arr, [1]);
});

test('callbacks: success/complete and no Promise returned; errors carry errCode + errMsg', async () => {
  const wx = captureWx((body) => (body.collectionName === 'nope'
    ? { code: 'DATABASE_COLLECTION_NOT_EXIST', message: 'Db or Table not exist: nope', requestId: 'r9' }
    : { requestId: 'r1', data: { total: 2 } }));
  shim.install({ wx, url: 'http://x', openid: 'o', env: 'e' });
  const db = wx.cloud.database();
  const viaCallbacks = await new Promise((resolve) => {
    const calls = [];
    const ret = db.collection('todos').count({
      success: (r) => calls.push(['success', r]),
      complete: (r) => {
        calls.push(['complete', r]);
        resolve({ ret, calls });
      },
    });
  });
  assert.equal(viaCallbacks.ret, undefined);
  assert.deepEqual(viaCallbacks.calls.map((c) => c[0]), ['success', 'complete']);
  assert.deepEqual(viaCallbacks.calls[0][1], { total: 2, errMsg: 'collection.count:ok' });

  await assert.rejects(db.collection('nope').get(), (err) => {
    assert.equal(err.errCode, -502005);
    assert.equal(err.errMsg, 'collection.get:fail -502005 database collection not exists. Db or Table not exist: nope');
    return true;
  });
  const failed = await new Promise((resolve) => db.collection('nope').add({ data: { a: 1 }, fail: resolve }));
  assert.equal(failed.errMsg, 'collection.add:fail -502005 database collection not exists. Db or Table not exist: nope');

  // Argument errors fail the call (through the same channel), they do not throw.
  await assert.rejects(db.collection('todos').doc('x').set({ data: { n: db.command.inc(1) } }), /document\.set:fail update operator complicit/);
  await assert.rejects(db.collection('todos').doc('x').update({}), /document\.update:fail data should be a non-empty object/);
});

test('callFunction request and result shapes', async () => {
  const wx = captureWx((body) => (body.function_name === 'bad'
    ? { code: 'FUNCTIONS_EXECUTE_FAIL', message: 'boom: bad input', requestId: 'rq-bad' }
    : { requestId: 'rq-1', data: { response_data: '{"echo":{"a":1}}' } }));
  shim.install({ wx, url: 'http://x', openid: 'o', env: 'e' });
  const res = await wx.cloud.callFunction({ name: 'echo', data: { a: 1 } });
  assert.deepEqual(res, { result: { echo: { a: 1 } }, requestID: 'rq-1', errMsg: 'cloud.callFunction:ok' });
  assert.deepEqual(wx.sent[0].body, { action: 'functions.invokeFunction', envName: 'e', function_name: 'echo', request_data: '{"a":1}' });
  await assert.rejects(wx.cloud.callFunction({ name: 'bad' }), (err) => {
    assert.equal(err.errCode, -404011);
    assert.equal(err.errMsg, 'cloud.callFunction:fail requestID rq-bad, cloud function service error code -504002, error message boom: bad input');
    return true;
  });
  assert.equal(wx.sent[1].body.request_data, '');
});

test('storage requests: getTempFileURL / deleteFile shapes and the 50-file limit', async () => {
  const wx = captureWx((body) => {
    if (body.action === 'storage.batchGetDownloadUrl') {
      return { requestId: 'r', data: { download_list: body.file_list.map((f) => (f.fileid.endsWith('missing')
        ? { fileID: f.fileid, tempFileURL: '', code: 'STORAGE_FILE_NONEXIST' }
        : { fileID: f.fileid, tempFileURL: 'http://x/f', code: 'SUCCESS', maxAge: f.max_age })) } };
    }
    return { requestId: 'r', data: { delete_list: body.fileid_list.map((id) => ({ fileID: id, code: 'SUCCESS' })) } };
  });
  shim.install({ wx, url: 'http://x', openid: 'o', env: 'e' });
  const res = await wx.cloud.getTempFileURL({ fileList: ['cloud://e.bucket/a.txt', { fileID: 'cloud://e.bucket/missing', maxAge: 120 }] });
  assert.equal(res.errMsg, 'cloud.getTempFileURL:ok');
  assert.deepEqual(res.fileList[0], { fileID: 'cloud://e.bucket/a.txt', tempFileURL: 'http://x/f', status: 0, errMsg: 'ok' });
  assert.equal(res.fileList[1].status, -503003);
  assert.deepEqual(wx.sent[0].body.file_list, [{ fileid: 'cloud://e.bucket/a.txt' }, { fileid: 'cloud://e.bucket/missing', max_age: 120 }]);
  const del = await wx.cloud.deleteFile({ fileList: ['cloud://e.bucket/a.txt'] });
  assert.deepEqual(del, { fileList: [{ fileID: 'cloud://e.bucket/a.txt', status: 0, errMsg: 'ok' }], errMsg: 'cloud.deleteFile:ok' });
  const many = Array.from({ length: 51 }, (_, i) => `cloud://e.bucket/${i}`);
  await assert.rejects(wx.cloud.getTempFileURL({ fileList: many }), /must not exceed 50/);
  assert.equal(wx.sent.length, 2, 'nothing sent for an over-long list');
});

test('aggregate lookup with a sub-pipeline (output of @cloudbase/database 1.4.3 for the same call)', async () => {
  const { db, _, last } = setup();
  const $ = _.aggregate;
  await db.collection('authors').aggregate()
    .lookup({ from: 'books', let: { aid: '$_id' }, pipeline: $.pipeline().match({ n: _.gt(1) }).project({ _id: 0 }).done(), as: 'books' })
    .end();
  assert.deepEqual(last().stages, [{
    stageKey: '$lookup',
    stageValue: '{"from":"books","let":{"aid":"$_id"},"pipeline":[{"$match":{"n":{"$gt":{"$numberInt":"1"}}}},{"$project":{"_id":{"$numberInt":"0"}}}],"as":"books"}',
  }]);
});

test('the adapter stays plain ES5 + CommonJS with no Node APIs (it ships inside the mini-program)', () => {
  const fs = require('fs');
  const src = fs.readFileSync(path.join(__dirname, '../../artifacts/js/wx-cloud-shim.js'), 'utf8');
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  for (const [what, re] of [['arrow function', /=>/], ['const', /\bconst\s/], ['let', /\blet\s/],
    ['template literal', /`/], ['class', /\bclass\s+\w/], ['spread', /\.\.\.\w/], ['require', /\brequire\s*\(/],
    ['process', /\bprocess\./], ['Buffer', /\bBuffer\b/]]) {
    assert.ok(!re.test(code), `found ${what} in wx-cloud-shim.js`);
  }
});

test('watch() polls and reports init, add, update and remove snapshots until closed', async () => {
  let docs = [{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }];
  const wx = captureWx((body) => ({ requestId: 'r', data: { list: docs.map((d) => JSON.stringify(d)) } }));
  shim.install({ wx, url: 'http://x', openid: 'o', env: 'e', watchInterval: 15 });
  const db = wx.cloud.database();
  const snapshots = [];
  const waitFor = async (n) => {
    for (let i = 0; i < 200 && snapshots.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(snapshots.length >= n, `expected ${n} snapshots, got ${snapshots.length}`);
  };
  const watcher = db.collection('c').where({ n: db.command.gt(0) }).watch({ onChange: (s) => snapshots.push(s), onError: (e) => { throw e; } });
  await waitFor(1);
  assert.equal(snapshots[0].type, 'init');
  assert.deepEqual(snapshots[0].docChanges.map((c) => [c.dataType, c.queueType, c.docId]), [['init', 'init', 'a'], ['init', 'init', 'b']]);
  assert.equal(wx.sent[0].body.query, '{"n":{"$gt":{"$numberInt":"0"}}}');

  docs = [{ _id: 'a', n: 5 }, { _id: 'c', n: 3 }];
  await waitFor(2);
  const changes = snapshots[1].docChanges.map((c) => [c.dataType, c.docId]);
  assert.deepEqual(changes, [['update', 'a'], ['add', 'c'], ['remove', 'b']]);
  assert.equal(snapshots[1].type, undefined);
  assert.deepEqual(snapshots[1].docs, docs);
  assert.ok(snapshots[1].docChanges.every((c) => c.id === snapshots[1].id));

  await watcher.close();
  const sent = wx.sent.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.ok(wx.sent.length <= sent + 1, 'polling stops after close()');

  const docSnaps = [];
  const w2 = db.collection('c').doc('a').watch({ onChange: (s) => docSnaps.push(s) });
  for (let i = 0; i < 100 && !docSnaps.length; i++) await new Promise((r) => setTimeout(r, 5));
  await w2.close();
  assert.equal(wx.sent[wx.sent.length - 1].body.query, '{"_id":"a"}');
});
