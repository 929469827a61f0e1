'use strict';
// The wx.cloud adapter against a shim in sign-in mode. Run by shim/tests/sign_in.rs with the
// shim's URL in SHIM_URL; the shim's code-to-session stand-in signs `code-<name>` in as
// `o-<name>` and refuses `code-used`. Session tokens live SESSION_TTL seconds. The project has
// `c_readonly` (ALL_READ_CREATOR_WRITE) and `c_private` (CREATOR_READ_WRITE), each with `d1`
// created by o-alice. Every step prints `ok <name>` or `not ok <name>: <why>`.

const assert = require('node:assert/strict');
const path = require('path');
const { httpWx } = require('./fake-wx');
const { step, failures } = require('./steps');
const shim = require(path.join(__dirname, '../../artifacts/js/wx-cloud-shim.js'));

const SHIM_URL = process.env.SHIM_URL;
const TTL = Number(process.env.SESSION_TTL || '2');

// A user's mini-program: wx.login gives `code`; counts its calls. The adapter is configured with
// a development-mode openid it may not use.
function user(code, opts) {
  const wx = httpWx();
  wx.logins = 0;
  wx.login = (o) => {
    wx.logins++;
    setImmediate(() => o.success({ code, errMsg: 'login:ok' }));
  };
  shim.install(Object.assign({ wx, url: SHIM_URL, openid: 'o-mallory', appid: 'wxsignintest0001' }, opts || {}));
  return wx;
}


async function main() {
  const alice = user('code-alice');
  const adb = alice.cloud.database();

  await step('public reads need no sign-in', async () => {
    const r = await adb.collection('c_readonly').get();
    assert.equal(r.data.length, 1);
    assert.equal(alice.logins, 0);
  });

  await step('a write signs in with wx.login, then goes through as the signed-in user', async () => {
    const added = await adb.collection('c_private').add({ data: { note: 'mine' } });
    assert.equal(added.errMsg, 'collection.add:ok');
    assert.equal(alice.logins, 1);
    const mine = await adb.collection('c_private').doc(added._id).get();
    assert.equal(mine.data._openid, 'o-alice', 'not the openid the adapter was configured with');
    const all = await adb.collection('c_private').get();
    assert.deepEqual(all.data.map((d) => d._openid).sort(), ['o-alice', 'o-alice']);
    assert.equal(alice.logins, 1, 'the token is kept');
  });

  await step('concurrent refusals share one sign-in', async () => {
    const bob = user('code-bob');
    const c = bob.cloud.database().collection('c_private');
    const rs = await Promise.all([c.count(), c.get(), c.add({ data: { by: 'bob' } })]);
    assert.equal(rs[0].total, 0, "bob does not see alice's records");
    assert.equal(rs[1].data.length, 0);
    assert.equal(bob.logins, 1);
  });

  await step('an expired session signs in again', async () => {
    await new Promise((r) => setTimeout(r, (TTL + 1.2) * 1000));
    const r = await adb.collection('c_private').count();
    assert.equal(r.total, 2);
    assert.equal(alice.logins, 2);
  });

  await step('a refused code fails the call once, with the reason', async () => {
    const used = user('code-used');
    let err;
    try {
      await used.cloud.database().collection('c_private').count();
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'the call must fail');
    assert.match(err.errMsg, /sign-in failed.*40163/);
    assert.equal(used.logins, 1, 'no retry loop');
  });

  await step('signIn: false reports the 401 as it is', async () => {
    const plain = user('code-carol', { signIn: false });
    let err;
    try {
      await plain.cloud.database().collection('c_private').count();
    } catch (e) {
      err = e;
    }
    assert.ok(err && /UNAUTHENTICATED|sign in first/.test(err.errMsg), String(err && err.errMsg));
    assert.equal(plain.logins, 0);
  });

  process.exit(failures() === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`not ok crashed: ${e && (e.stack || e)}`);
  process.exit(1);
});
