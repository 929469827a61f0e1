'use strict';
// End to end: the wx.cloud adapter against a running shim. `shim/tests/adapter_session.rs`
// starts the shim on 127.0.0.1:0 over the project in tests/node-adapter/project (copied) and
// runs this file with SHIM_URL set; without SHIM_URL these tests are skipped.
//
// The project has a `posts` collection with preset ALL_READ_CREATOR_WRITE holding one record
// created by someone else (`p-other`), and cloud functions `whoami` and `fails`.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { httpWx } = require('./fake-wx');

const SHIM_URL = process.env.SHIM_URL;
const ENV = process.env.SHIM_ENV || '';
const skip = SHIM_URL ? false : 'SHIM_URL not set (run through shim/tests/adapter_session.rs)';
const shim = require(path.join(__dirname, '../../artifacts/js/wx-cloud-shim.js'));

function client(openid) {
  const wx = httpWx();
  shim.install({ wx, url: SHIM_URL, openid, appid: 'wxsessiontest0001', env: ENV });
  return wx;
}

test('database: add, get, where, count, update own and someone else\'s record', { skip }, async () => {
  const alice = client('o-alice');
  const bob = client('o-bob');
  const db = alice.cloud.database();
  const _ = db.command;
  const posts = db.collection('posts');

  const added = await posts.add({ data: { title: 'hello from alice', n: 1, tags: ['a'], at: new Date('2024-05-06T07:08:09.010Z') } });
  assert.equal(added.errMsg, 'collection.add:ok');
  assert.equal(typeof added._id, 'string');

  const one = await posts.doc(added._id).get();
  assert.equal(one.errMsg, 'document.get:ok');
  assert.equal(one.data.title, 'hello from alice');
  assert.equal(one.data._openid, 'o-alice', 'client creates are stamped with the caller');
  assert.ok(one.data.at instanceof Date);
  assert.equal(one.data.at.toISOString(), '2024-05-06T07:08:09.010Z');

  const found = await posts.where({ title: /^hello/, n: _.gte(1).and(_.lt(5)) }).orderBy('n', 'desc').get();
  assert.equal(found.errMsg, 'collection.get:ok');
  assert.deepEqual(found.data.map((d) => d._id), [added._id]);

  const total = await posts.count();
  assert.deepEqual(total, { total: 2, errMsg: 'collection.count:ok' });

  const mine = await posts.doc(added._id).update({ data: { n: _.inc(2), tags: _.push('b'), meta: { seen: true } } });
  assert.deepEqual(mine, { stats: { updated: 1 }, errMsg: 'document.update:ok' });
  const after = await posts.doc(added._id).get();
  assert.equal(after.data.n, 3);
  assert.deepEqual(after.data.tags, ['a', 'b']);
  assert.deepEqual(after.data.meta, { seen: true });

  // Someone else's record: the preset adds `_openid == caller`, so nothing matches.
  const theirs = await posts.doc('p-other').update({ data: { title: 'hijacked' } });
  assert.deepEqual(theirs, { stats: { updated: 0 }, errMsg: 'document.update:ok' });
  const theirsWhere = await posts.where({ _id: 'p-other' }).update({ data: { title: 'hijacked' } });
  assert.deepEqual(theirsWhere, { stats: { updated: 0 }, errMsg: 'collection.update:ok' });
  const other = await posts.doc('p-other').get();
  assert.equal(other.data.title, 'not yours');

  // Bob can read Alice's post (all read) but not change it.
  const bobPosts = bob.cloud.database().collection('posts');
  assert.equal((await bobPosts.doc(added._id).get()).data.title, 'hello from alice');
  assert.deepEqual((await bobPosts.doc(added._id).remove()).stats, { removed: 0 });

  // Callback style on the same path.
  const viaCallback = await new Promise((resolve, reject) => {
    const ret = posts.where({ _openid: 'o-alice' }).count({ success: resolve, fail: reject });
    assert.equal(ret, undefined);
  });
  assert.deepEqual(viaCallback, { total: 1, errMsg: 'collection.count:ok' });

  const removed = await posts.doc(added._id).remove();
  assert.deepEqual(removed, { stats: { removed: 1 }, errMsg: 'document.remove:ok' });

  await assert.rejects(db.collection('no_such_collection').get(), (err) => {
    assert.equal(err.errCode, -502005);
    assert.match(err.errMsg, /^collection\.get:fail -502005 database collection not exists\./);
    return true;
  });
});

test('callFunction: the function sees the caller', { skip }, async () => {
  const alice = client('o-alice');
  const res = await alice.cloud.callFunction({ name: 'whoami', data: { hello: 'world' } });
  assert.equal(res.errMsg, 'cloud.callFunction:ok');
  assert.equal(typeof res.requestID, 'string');
  assert.equal(res.result.wxContext.OPENID, 'o-alice');
  assert.equal(res.result.wxContext.APPID, 'wxsessiontest0001');
  assert.equal(res.result.event.hello, 'world');
  assert.deepEqual(res.result.event.userInfo, { appId: 'wxsessiontest0001', openId: 'o-alice' });

  const bob = client('o-bob');
  const r2 = await bob.cloud.callFunction({ name: 'whoami', data: {} });
  assert.equal(r2.result.wxContext.OPENID, 'o-bob');

  await assert.rejects(alice.cloud.callFunction({ name: 'fails', data: { why: 'on purpose' } }), (err) => {
    assert.equal(err.errCode, -404011);
    assert.match(err.errMsg, /^cloud\.callFunction:fail requestID .*, cloud function service error code -504002, error message .*on purpose/);
    return true;
  });
});

test('storage: upload, temp URL, download, delete', { skip }, async () => {
  const alice = client('o-alice');
  const local = path.join(alice.tmpDir, 'note.txt');
  const content = 'hello storage ' + Date.now() + '\n';
  fs.writeFileSync(local, content);

  const up = await alice.cloud.uploadFile({ cloudPath: 'notes/note.txt', filePath: local });
  assert.equal(up.errMsg, 'cloud.uploadFile:ok');
  assert.match(up.fileID, /^cloud:\/\/.+\/notes\/note\.txt$/);

  const urls = await alice.cloud.getTempFileURL({ fileList: [up.fileID] });
  assert.equal(urls.errMsg, 'cloud.getTempFileURL:ok');
  assert.equal(urls.fileList[0].status, 0);
  assert.match(urls.fileList[0].tempFileURL, /^http:\/\//);

  const down = await alice.cloud.downloadFile({ fileID: up.fileID });
  assert.equal(down.errMsg, 'cloud.downloadFile:ok');
  assert.equal(down.statusCode, 200);
  assert.equal(fs.readFileSync(down.tempFilePath, 'utf8'), content);

  // Callback style returns a task object instead of a Promise.
  const viaCallback = await new Promise((resolve, reject) => {
    const task = alice.cloud.downloadFile({ fileID: up.fileID, success: resolve, fail: reject });
    assert.equal(typeof task.abort, 'function');
  });
  assert.equal(fs.readFileSync(viaCallback.tempFilePath, 'utf8'), content);

  const del = await alice.cloud.deleteFile({ fileList: [up.fileID] });
  assert.deepEqual(del, { fileList: [{ fileID: up.fileID, status: 0, errMsg: 'ok' }], errMsg: 'cloud.deleteFile:ok' });

  const gone = await alice.cloud.getTempFileURL({ fileList: [up.fileID] });
  assert.notEqual(gone.fileList[0].status, 0);
  await assert.rejects(alice.cloud.downloadFile({ fileID: up.fileID }), (err) => {
    assert.match(err.errMsg, /^cloud\.downloadFile:fail /);
    return true;
  });
});

test('watch: a second user sees a new post through polling', { skip }, async () => {
  const alice = client('o-alice');
  const bob = client('o-bob');
  shim.install({ wx: bob, url: SHIM_URL, openid: 'o-bob', appid: 'wxsessiontest0001', env: ENV, watchInterval: 50 });
  const seen = [];
  const watcher = bob.cloud.database().collection('posts').where({ topic: 'watch' })
    .watch({ onChange: (s) => seen.push(s), onError: (e) => seen.push(e) });
  for (let i = 0; i < 100 && !seen.length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen[0].type, 'init');
  assert.deepEqual(seen[0].docs, []);
  const { _id } = await alice.cloud.database().collection('posts').add({ data: { topic: 'watch', text: 'hi bob' } });
  for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await watcher.close();
  assert.equal(seen.length >= 2, true, 'a change snapshot arrived');
  assert.deepEqual(seen[1].docChanges.map((c) => [c.dataType, c.docId]), [['add', _id]]);
  assert.equal(seen[1].docs[0].text, 'hi bob');
  await alice.cloud.database().collection('posts').doc(_id).remove();
});
