// A session of real SDK calls against a running `migrate serve` shim.
//
// Run by shim/tests/sdk_session.rs with the shim's URL in SHIM_URL and the container env the
// SDKs read (TCB_CONTEXT_CNFG, SCF_NAMESPACE, TENCENTCLOUD_SECRETID/KEY, TENCENTCLOUD_RUNENV).
// The project it talks to is shim/tests/project (seeded `books`, `cloud/storage/images/hello.txt`,
// the `sum` function). With SHIM_SIGNED=1 the shim checks every /admin request's TC3 signature
// (`--admin-token AKIDlocalshim --admin-key localshimkey`): the same wx-server-sdk and node-sdk
// and tcb-admin-node steps must pass (all three sign with @cloudbase/signature-nodejs), and a wrong
// secretKey must be refused. Every step prints `ok <name>` or `not ok <name>: <why>`; the process exits
// non-zero if any step failed.
'use strict'

const assert = require('node:assert/strict')
const cloud = require('wx-server-sdk')
const tcb = require('@cloudbase/node-sdk')
const admin = require('tcb-admin-node')

const SHIM_URL = process.env.SHIM_URL
if (!SHIM_URL) {
  console.error('SHIM_URL is not set')
  process.exit(2)
}
const ENV = process.env.SCF_NAMESPACE || 'local-dev'
const SIGNED = process.env.SHIM_SIGNED === '1'

let passed = 0
let failed = 0
async function step (name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok ${name}`)
  } catch (e) {
    failed++
    const detail = e && (e.stack || e.message || JSON.stringify(e))
    console.log(`not ok ${name}: ${String(detail).split('\n').slice(0, 4).join(' | ')}`)
  }
}

async function rejects (promise) {
  try {
    await promise
  } catch (e) {
    return e
  }
  throw new Error('expected the call to fail')
}

async function main () {
  // wx-server-sdk, pointed at the shim only through TCB_CONTEXT_CNFG (no code change).
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV })
  const db = cloud.database()
  const _ = db.command
  const $ = db.command.aggregate

  await step('seeded collection readable', async () => {
    const r = await db.collection('books').orderBy('year', 'asc').get()
    assert.deepEqual(r.data.map(b => b._id), ['book-3', 'book-2', 'book-1'])
    assert.equal(r.data[2].price, 35.5)
  })

  await step('createCollection', async () => {
    await db.createCollection('todos')
  })

  const ids = []
  await step('add', async () => {
    for (let i = 1; i <= 6; i++) {
      const r = await db.collection('todos').add({
        data: {
          title: `task ${i}`,
          n: i,
          tags: i % 2 ? ['odd', 'x'] : ['even'],
          nested: { level: i * 10, flag: i > 3 },
          due: new Date(Date.UTC(2024, 0, i)),
          createdAt: db.serverDate()
        }
      })
      assert.equal(typeof r._id, 'string')
      ids.push(r._id)
    }
  })

  await step('doc.get', async () => {
    const r = await db.collection('todos').doc(ids[0]).get()
    assert.equal(r.data.title, 'task 1')
    assert.equal(r.data.n, 1)
    assert.ok(r.data.due instanceof Date)
    assert.equal(r.data.due.toISOString(), '2024-01-01T00:00:00.000Z')
    assert.ok(r.data.createdAt instanceof Date, 'serverDate resolved to a date')
    assert.ok(Math.abs(r.data.createdAt.getTime() - Date.now()) < 60000)
  })

  await step('where.orderBy.skip.limit', async () => {
    const r = await db.collection('todos').where({ n: _.gte(2) }).orderBy('n', 'desc').skip(1).limit(2).get()
    assert.deepEqual(r.data.map(d => d.n), [5, 4])
  })

  const q = async (where) => (await db.collection('todos').where(where).orderBy('n', 'asc').get()).data.map(d => d.n)
  await step('query commands', async () => {
    assert.deepEqual(await q({ n: _.eq(3) }), [3])
    assert.deepEqual(await q({ n: _.neq(3) }), [1, 2, 4, 5, 6])
    assert.deepEqual(await q({ n: _.lt(3) }), [1, 2])
    assert.deepEqual(await q({ n: _.lte(3) }), [1, 2, 3])
    assert.deepEqual(await q({ n: _.gt(4) }), [5, 6])
    assert.deepEqual(await q({ n: _.in([1, 6, 9]) }), [1, 6])
    assert.deepEqual(await q({ n: _.nin([1, 6]) }), [2, 3, 4, 5])
    assert.deepEqual(await q({ n: _.gt(1).and(_.lt(4)) }), [2, 3])
    assert.deepEqual(await q(_.or([{ n: 1 }, { n: 6 }])), [1, 6])
    assert.deepEqual(await q({ n: _.lt(2).or(_.gt(5)) }), [1, 6])
    assert.deepEqual(await q(_.and([{ n: _.gt(1) }, { n: _.lt(3) }])), [2])
    assert.deepEqual(await q({ tags: 'even' }), [2, 4, 6])
    assert.deepEqual(await q({ tags: _.all(['odd', 'x']) }), [1, 3, 5])
    assert.deepEqual(await q({ tags: _.size(1) }), [2, 4, 6])
    assert.deepEqual(await q({ n: _.mod([3, 0]) }), [3, 6])
    assert.deepEqual(await q({ nested: { flag: true } }), [4, 5, 6])
    assert.deepEqual(await q({ 'nested.level': _.gte(50) }), [5, 6])
    assert.deepEqual(await q({ missing: _.exists(false), n: _.lt(2) }), [1])
    assert.deepEqual(await q({ title: db.RegExp({ regexp: '^TASK [12]$', options: 'i' }) }), [1, 2])
    assert.deepEqual(await q({ due: _.lt(new Date(Date.UTC(2024, 0, 3))) }), [1, 2])
  })

  await step('count', async () => {
    assert.equal((await db.collection('todos').count()).total, 6)
    assert.equal((await db.collection('todos').where({ n: _.gt(4) }).count()).total, 2)
  })

  await step('projection', async () => {
    const r = await db.collection('todos').doc(ids[1]).field({ title: true, _id: false }).get()
    assert.deepEqual(r.data, { title: 'task 2' })
    const w = await db.collection('todos').where({ n: 1 }).field({ nested: true }).get()
    assert.deepEqual(Object.keys(w.data[0]).sort(), ['_id', 'nested'])
  })

  await step('update commands', async () => {
    const doc = db.collection('todos').doc(ids[0])
    let r = await doc.update({
      data: {
        n: _.inc(10),
        'nested.level': _.mul(3),
        title: _.set('renamed'),
        due: _.remove(),
        tags: _.push(['pushed']),
        note: 'plain set',
        obj: { p: 1 }
      }
    })
    assert.equal(r.stats.updated, 1)
    let d = (await doc.get()).data
    assert.equal(d.n, 11)
    assert.equal(d.nested.level, 30)
    assert.equal(d.nested.flag, false, 'sibling kept by dot-path update')
    assert.equal(d.title, 'renamed')
    assert.equal(d.due, undefined)
    assert.deepEqual(d.tags, ['odd', 'x', 'pushed'])
    assert.equal(d.note, 'plain set')
    assert.deepEqual(d.obj, { p: 1 })

    await doc.update({ data: { tags: _.pop() } })
    await doc.update({ data: { tags: _.shift() } })
    await doc.update({ data: { tags: _.unshift(['first']) } })
    d = (await doc.get()).data
    assert.deepEqual(d.tags, ['first', 'x'])

    await doc.update({ data: { tags: _.addToSet('x') } })
    await doc.update({ data: { tags: _.addToSet('y') } })
    await doc.update({ data: { tags: _.pull('first') } })
    d = (await doc.get()).data
    assert.deepEqual(d.tags, ['x', 'y'])
    await doc.update({ data: { tags: _.pullAll(['x', 'y']) } })
    await doc.update({ data: { n: _.min(5) } })
    await doc.update({ data: { 'nested.level': _.max(100) } })
    await doc.update({ data: { note: _.rename('memo') } })
    d = (await doc.get()).data
    assert.deepEqual(d.tags, [])
    assert.equal(d.n, 5)
    assert.equal(d.nested.level, 100)
    assert.equal(d.note, undefined)
    assert.equal(d.memo, 'plain set')
  })

  await step('doc.set', async () => {
    const r = await db.collection('todos').doc(ids[1]).set({ data: { title: 'replaced', n: 2 } })
    assert.equal(r.stats.updated, 1)
    const d = (await db.collection('todos').doc(ids[1]).get()).data
    assert.deepEqual(d, { _id: ids[1], title: 'replaced', n: 2 })
    const created = await db.collection('todos').doc('made-by-set').set({ data: { n: 100 } })
    assert.equal(created._id, 'made-by-set')
    assert.equal((await db.collection('todos').doc('made-by-set').get()).data.n, 100)
  })

  await step('where.update (multi)', async () => {
    // n is now 5, 2, 3, 4, 5, 6 and 100 (made-by-set): six match.
    const r = await db.collection('todos').where({ n: _.gte(3) }).update({ data: { done: true } })
    assert.equal(r.stats.updated, 6)
    assert.equal((await db.collection('todos').where({ done: true }).count()).total, 6)
  })

  await step('aggregate', async () => {
    const r = await db.collection('books').aggregate()
      .match({ year: _.gt(0) })
      .group({ _id: null, total: $.sum('$price'), n: $.sum(1) })
      .end()
    assert.equal(r.list.length, 1)
    assert.equal(r.list[0].total, 64.5)
    assert.equal(r.list[0].n, 2)
    const s = await db.collection('todos').aggregate()
      .match({ done: true })
      .sort({ n: -1 })
      .limit(2)
      .project({ n: 1, _id: 0 })
      .end()
    assert.deepEqual(s.list, [{ n: 100 }, { n: 6 }])
  })

  await step('where.remove (multi)', async () => {
    const r = await db.collection('todos').where({ done: true }).remove()
    assert.equal(r.stats.removed, 6)
    assert.equal((await db.collection('todos').count()).total, 1)
  })

  await step('doc.remove', async () => {
    const r = await db.collection('todos').doc(ids[1]).remove()
    assert.equal(r.stats.removed, 1)
  })

  await step('missing collection -> -502005', async () => {
    const e = await rejects(db.collection('no_such_collection').get())
    assert.equal(e.errCode, -502005, String(e.errMsg || e.message))
  })

  await step('doc.get of a missing id fails', async () => {
    const e = await rejects(db.collection('todos').doc('no-such-id').get())
    assert.ok(e.errMsg || e.message)
  })

  await step('callFunction (function uses wx-server-sdk)', async () => {
    const r = await cloud.callFunction({ name: 'sum', data: { a: 2, b: 40 } })
    assert.equal(r.result.sum, 42)
    assert.equal(r.result.books, 3, 'the function read the seeded collection through the shim')
    const call = await db.collection('calls').doc(r.result.callId).get()
    assert.equal(call.data.b, 40)
  })

  await step('callFunction of a missing function fails', async () => {
    const e = await rejects(cloud.callFunction({ name: 'no_such_function', data: {} }))
    assert.ok(e.errCode < 0, String(e.errMsg))
  })

  let fileID
  const content = Buffer.from('uploaded through wx-server-sdk\n')
  await step('uploadFile', async () => {
    const r = await cloud.uploadFile({ cloudPath: 'docs/note.txt', fileContent: content })
    fileID = r.fileID
    assert.match(fileID, /^cloud:\/\/[^/]+\/docs\/note\.txt$/)
  })

  await step('downloadFile', async () => {
    const r = await cloud.downloadFile({ fileID })
    assert.equal(Buffer.from(r.fileContent).toString(), content.toString())
  })

  await step('downloadFile of a seeded cloud/storage file', async () => {
    const seeded = fileID.replace('docs/note.txt', 'images/hello.txt')
    const r = await cloud.downloadFile({ fileID: seeded })
    assert.equal(Buffer.from(r.fileContent).toString(), 'hello from cloud/storage\n')
  })

  await step('getTempFileURL and fetch it', async () => {
    const r = await cloud.getTempFileURL({ fileList: [{ fileID, maxAge: 120 }] })
    const item = r.fileList[0]
    assert.equal(item.status, 0, JSON.stringify(item))
    assert.ok(item.tempFileURL.startsWith(SHIM_URL), item.tempFileURL)
    const res = await fetch(item.tempFileURL)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain')
    assert.equal(await res.text(), content.toString())
    const etag = res.headers.get('etag')
    const again = await fetch(item.tempFileURL, { headers: { 'if-none-match': etag } })
    assert.equal(again.status, 304)
    const part = await fetch(item.tempFileURL, { headers: { range: 'bytes=0-7' } })
    assert.equal(part.status, 206)
    assert.equal(await part.text(), 'uploaded')
    const forged = await fetch(item.tempFileURL.replace(/sign=[0-9a-f]+/, 'sign=' + '0'.repeat(32)))
    assert.equal(forged.status, 403)
  })

  await step('deleteFile', async () => {
    const r = await cloud.deleteFile({ fileList: [fileID] })
    assert.equal(r.fileList[0].status, 0, JSON.stringify(r.fileList[0]))
    const after = await cloud.getTempFileURL({ fileList: [fileID] })
    assert.notEqual(after.fileList[0].status, 0)
  })

  await step('downloadFile of a deleted file fails', async () => {
    const e = await rejects(cloud.downloadFile({ fileID }))
    assert.ok(e.errCode < 0 || e.code, JSON.stringify(e))
  })

  // @cloudbase/node-sdk with an explicit serviceUrl.
  const app = tcb.init({
    env: ENV,
    secretId: 'AKIDlocalshim',
    secretKey: 'localshimkey',
    serviceUrl: `${SHIM_URL}/admin`,
    timeout: 15000
  })
  const adb = app.database()
  const ac = adb.command

  await step('node-sdk: add / get / update / count / remove', async () => {
    const coll = adb.collection('nodesdk')
    await adb.createCollection('nodesdk')
    const a = await coll.add([{ k: 1 }, { k: 2 }, { k: 3 }])
    assert.equal(a.ids.length, 3)
    const g = await coll.where({ k: ac.gte(2) }).orderBy('k', 'asc').get()
    assert.deepEqual(g.data.map(d => d.k), [2, 3])
    const u = await coll.where({ k: ac.gte(2) }).update({ k: ac.inc(10) })
    assert.equal(u.updated, 2)
    assert.equal((await coll.where({ k: ac.gt(10) }).count()).total, 2)
    const rm = await coll.where({ k: ac.gt(0) }).remove()
    assert.equal(rm.deleted, 3)
  })

  await step('node-sdk: runTransaction commits', async () => {
    await adb.createCollection('acct')
    await adb.collection('acct').add({ _id: 'alice', bal: 10 })
    const result = await adb.runTransaction(async (t) => {
      const alice = await t.collection('acct').doc('alice').get()
      await t.collection('acct').doc('alice').update({ bal: ac.inc(-1) })
      await t.collection('acct').add({ _id: 'bob', bal: 1 })
      return alice.data.bal
    })
    assert.equal(result, 10)
    assert.equal((await adb.collection('acct').doc('alice').get()).data[0].bal, 9)
    assert.equal((await adb.collection('acct').doc('bob').get()).data[0].bal, 1)
  })

  await step('node-sdk: startTransaction + rollback', async () => {
    const t = await adb.startTransaction()
    await t.collection('acct').doc('alice').set({ bal: 0 })
    await t.collection('acct').doc('bob').remove()
    await t.rollback()
    assert.equal((await adb.collection('acct').doc('alice').get()).data[0].bal, 9)
    assert.equal((await adb.collection('acct').doc('bob').get()).data[0].bal, 1)
  })

  await step('node-sdk: missing collection error code', async () => {
    const e = await rejects(adb.collection('no_such_collection').get())
    assert.equal(e.code, 'DATABASE_COLLECTION_NOT_EXIST', String(e.message))
  })

  await step('node-sdk: callFunction', async () => {
    const r = await app.callFunction({ name: 'sum', data: { a: 1, b: 2 } })
    assert.equal(r.result.sum, 3)
  })

  await step('node-sdk: uploadFile / getTempFileURL / downloadFile / deleteFile', async () => {
    const up = await app.uploadFile({ cloudPath: 'nodesdk/数据 file.bin', fileContent: Buffer.from([0, 1, 2, 255]) })
    const dl = await app.downloadFile({ fileID: up.fileID })
    assert.deepEqual([...dl.fileContent], [0, 1, 2, 255])
    const t = await app.getTempFileURL({ fileList: [up.fileID] })
    assert.equal(t.fileList[0].code, 'SUCCESS')
    const res = await fetch(t.fileList[0].tempFileURL)
    assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [0, 1, 2, 255])
    const del = await app.deleteFile({ fileList: [up.fileID] })
    assert.equal(del.fileList[0].code, 'SUCCESS')
  })

  await step('node-sdk: copyFile', async () => {
    const up = await app.uploadFile({ cloudPath: 'copy/src/same.txt', fileContent: Buffer.from('copy me') })
    const dst = up.fileID.replace('copy/src/', 'copy/dst/')
    const c = await app.copyFile({ fileList: [{ srcPath: up.fileID, dstPath: dst, removeOriginal: true }] })
    assert.equal(c.fileList[0].code, 'SUCCESS', JSON.stringify(c))
    assert.equal(c.fileList[0].fileId, dst)
    const dl = await app.downloadFile({ fileID: dst })
    assert.equal(dl.fileContent.toString(), 'copy me')
    const gone = await app.getTempFileURL({ fileList: [up.fileID] })
    assert.equal(gone.fileList[0].code, 'STORAGE_FILE_NONEXIST')
  })

  if (SIGNED) {
    await step('node-sdk: a wrong secretKey is refused', async () => {
      const forged = tcb.init({ env: ENV, secretId: 'AKIDlocalshim', secretKey: 'not-the-key', serviceUrl: `${SHIM_URL}/admin`, timeout: 15000 })
      const e = await rejects(forged.database().collection('books').count())
      assert.match(String(e && (e.message || e.code || JSON.stringify(e))), /PERMISSION_DENIED|signature|403/i, String(e))
      // A request signed with the right key but altered on the way: another host.
      const res = await fetch(`${SHIM_URL}/admin?env=${ENV}&seqId=x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'TC3-HMAC-SHA256 Credential=AKIDlocalshim/2026-01-01/tcb/tc3_request, SignedParams=action, SignedHeaders=content-type;host, Signature=00' },
        body: JSON.stringify({ action: 'database.calculateDocument', collectionName: 'books', query: '{}', queryType: 'WHERE' })
      })
      assert.equal(res.status, 403)
    })
    await step('tcb-admin-node: its default v2 signature is refused, saying what to do', async () => {
      // (Not through tcb-admin-node itself: it throws an uncaught error on any non-200 answer.)
      const res = await fetch(`${SHIM_URL}/admin?env=${ENV}&seqId=y`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'database.calculateDocument', collectionName: 'books', query: '{}', queryType: 'WHERE', authorization: 'q-sign-algorithm=sha1' })
      })
      assert.match((await res.json()).message, /signMethod: 'v3'/)
    })
  }

  // tcb-admin-node 1.x: the legacy plain-JSON database dialect and multipart POST uploads.
  // Its default `v2` signature (in the body) is not one the shim checks; `v3` is TC3.
  const legacySign = SIGNED ? { signMethod: 'v3' } : {}
  const legacy = admin.init({
    env: ENV,
    secretId: 'AKIDlocalshim',
    secretKey: 'localshimkey',
    serviceUrl: `${SHIM_URL}/admin`,
    timeout: 15000,
    ...legacySign
  })
  const ldb = legacy.database()
  const lc = ldb.command

  await step('tcb-admin-node: add / get / update / count / remove', async () => {
    const coll = ldb.collection('legacy')
    await ldb.createCollection('legacy')
    const a = await coll.add({ name: 'a', n: 1, at: new Date(Date.UTC(2024, 1, 2)), made: ldb.serverDate() })
    assert.equal(typeof a.id, 'string', JSON.stringify(a))
    await coll.add({ name: 'b', n: 2 })
    const g = await coll.where({ n: lc.gte(1) }).orderBy('n', 'desc').get()
    assert.deepEqual(g.data.map(d => d.name), ['b', 'a'])
    const one = await coll.doc(a.id).get()
    assert.ok(one.data[0].at instanceof Date, JSON.stringify(one.data[0]))
    assert.equal(one.data[0].at.toISOString(), '2024-02-02T00:00:00.000Z')
    const u = await coll.doc(a.id).update({ n: lc.inc(10) })
    assert.equal(u.updated, 1, JSON.stringify(u))
    assert.equal((await coll.where({ n: lc.gt(5) }).count()).total, 1)
    const r = await coll.doc(a.id).remove()
    assert.equal(r.deleted, 1, JSON.stringify(r))
  })

  await step('tcb-admin-node: callFunction', async () => {
    const r = await legacy.callFunction({ name: 'sum', data: { a: 20, b: 22 } })
    assert.equal(r.result.sum, 42)
  })

  await step('tcb-admin-node: uploadFile (multipart POST) / getTempFileURL / deleteFile', async () => {
    const up = await legacy.uploadFile({ cloudPath: 'legacy/up.txt', fileContent: Buffer.from('multipart upload') })
    assert.match(up.fileID, /legacy\/up\.txt$/)
    const t = await legacy.getTempFileURL({ fileList: [up.fileID] })
    const res = await fetch(t.fileList[0].tempFileURL)
    assert.equal(await res.text(), 'multipart upload')
    const del = await legacy.deleteFile({ fileList: [up.fileID] })
    assert.equal(del.fileList[0].code, 'SUCCESS')
  })

  await step('tcb-admin-node: SCF mode through HTTP_PROXY (absolute-form requests)', async () => {
    // No serviceUrl: in SCF mode the SDK posts to http://tcb-admin.tencentyun.com/admin, and
    // `request` sends it to the proxy as an absolute-form request target.
    process.env.HTTP_PROXY = SHIM_URL
    try {
      const viaProxy = admin.init({ env: ENV, secretId: 'AKIDlocalshim', secretKey: 'localshimkey', timeout: 15000, ...legacySign })
      const r = await viaProxy.database().collection('books').where({ year: viaProxy.database().command.gt(1700) }).get()
      assert.deepEqual(r.data.map(b => b._id), ['book-1'])
    } finally {
      delete process.env.HTTP_PROXY
    }
  })

  console.log(`session: ${passed} steps ok, ${failed} failed`)
  process.exit(failed === 0 ? 0 : 1)
}

main().catch(e => {
  console.log(`not ok session crashed: ${e && (e.stack || e.message)}`)
  process.exit(1)
})
